# Runs a wasm32-wasip1 benchmark program under wasmtime with fuel metering, the WASI clock
# replaced by the fuel used: the program's own timings then count wasm operators executed
# (1 "ns" = FUEL_SCALE operators, 1000 by default), the same whatever the machine's load.
#
#   pip install wasmtime==51.0.0
#   python core/benches/run-fuel.py target/wasm32-wasip1/wasm-release/examples/ingest_bench.wasm aggby
#   FUEL_ENV="AVRO_BENCH_PLAN_ONLY=1,AVRO_BENCH_BATCHES_ONLY=1,AVRO_BENCH_REPS=1" python core/benches/run-fuel.py .../avro_bench.wasm
#
# A rate of R "M records/s" is 1e6 / R operators a record (at the default scale). The total fuel
# and every interval between two clock reads (in operators) go to stderr.
import ctypes
import os
import sys

import wasmtime
from wasmtime import _ffi as ffi

path, args = sys.argv[1], sys.argv[2:]
TOTAL = 10**15
SCALE = int(os.environ.get("FUEL_SCALE", "1000"))
config = wasmtime.Config()
config.consume_fuel = True
engine = wasmtime.Engine(config)
store = wasmtime.Store(engine)
store.set_fuel(TOTAL)
wasi = wasmtime.WasiConfig()
wasi.argv = [path] + args
wasi.inherit_stdout()
wasi.inherit_stderr()
wasi.env = [tuple(kv.split("=", 1)) for kv in os.environ.get("FUEL_ENV", "").split(",") if kv]
store.set_wasi(wasi)
linker = wasmtime.Linker(engine)
linker.define_wasi()
linker.allow_shadowing = True
reads = []


def clock(caller, _clock_id, _precision, ptr):
    left = ctypes.c_uint64()
    ffi.wasmtime_context_get_fuel(caller._context(), ctypes.byref(left))
    used = TOTAL - left.value
    reads.append(used)
    caller["memory"].write(caller, (used // SCALE).to_bytes(8, "little"), ptr)
    return 0


i32, i64 = wasmtime.ValType.i32(), wasmtime.ValType.i64()
linker.define_func(
    "wasi_snapshot_preview1",
    "clock_time_get",
    wasmtime.FuncType([i32, i64, i32], [i32]),
    clock,
    access_caller=True,
)
instance = linker.instantiate(store, wasmtime.Module.from_file(engine, path))
try:
    instance.exports(store)["_start"](store)
except wasmtime.ExitTrap:
    pass
print("fuel", TOTAL - store.get_fuel(), file=sys.stderr)
print("intervals", " ".join(str(b - a) for a, b in zip(reads, reads[1:])), file=sys.stderr)
