"""An independent producer of Protobuf values for Streamglass's tests: a .proto compiled by
grpcio-tools (protoc), messages built with the protobuf package's generated class, framed and
registered by confluent-kafka's ProtobufSerializer against a schema registry.

Writes COUNT trades (tests/proto/trade_vN.proto, `--proto`) to TOPIC, subject `<topic>-value`
(the serializer registers the schema: a second version registers a second id). Values carry a
Timestamp, a nested message, an enum, repeated doubles and strings, an int64 beyond 32 bits, a
sint32, fields left at their defaults, and with version 2 an `optional` field set on every other
record. Prints one JSON object: the records as the broker acknowledged them,
`[partition, offset, value]` each, the value as a JSON object of what was set (the Timestamp as
nanoseconds since the epoch, the enum by name).
"""

import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

EXCHANGES = ["binance", "coinbase-pro", "kraken", "bitstämp"]
INSTRUMENTS = ["BTC/USD", "ETH/USD", "ETH/BTC", "LTC/USD"]


def compile_proto(path: str):
    """The module protoc (grpcio-tools) generates for `path`, copied as trade.proto."""
    from grpc_tools import protoc

    out = tempfile.mkdtemp()
    shutil.copy(path, os.path.join(out, "trade.proto"))
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    code = protoc.main(["protoc", f"-I{out}", f"-I{include}", f"--python_out={out}", "trade.proto"])
    if code != 0:
        raise SystemExit(f"protoc failed: {code}")
    sys.path.insert(0, out)
    return importlib.import_module("trade_pb2")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--proto", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--first", type=int, default=0, help="the first record's number")
    args = parser.parse_args()
    pb = compile_proto(args.proto)
    has_trader = "trader" in pb.Trade.DESCRIPTOR.fields_by_name
    registry = SchemaRegistryClient({"url": args.registry})
    serializer = ProtobufSerializer(pb.Trade, registry)
    ctx = SerializationContext(args.topic, MessageField.VALUE)
    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": 5})
    acked = {}
    errors = []
    for n in range(args.first, args.first + args.count):
        t = pb.Trade()
        expected = {}
        if n % 7 != 3:  # else left at its default, ""
            t.id = str(300_000_000 + 3 * n)
            expected["id"] = t.id
        if n % 9 != 5:  # else absent: null
            seconds, nanos = 1_767_632_400 + n, (n * 123_456_789) % 1_000_000_000
            t.timestamp.seconds = seconds
            t.timestamp.nanos = nanos
            expected["timestamp"] = seconds * 1_000_000_000 + nanos
        if n % 5 != 2:  # else absent: its fields null
            t.venue.exchange = EXCHANGES[n % len(EXCHANGES)]
            t.venue.lat = n / 8 - 30.5
            expected["venue"] = {"exchange": t.venue.exchange, "lat": t.venue.lat}
        t.instrument = INSTRUMENTS[n % len(INSTRUMENTS)]
        t.type = [pb.Trade.BID, pb.Trade.ASK, pb.Trade.SIDE_UNSPECIFIED][n % 3]
        t.price = 100 + n * 1.25
        t.size = n / 7
        t.seq = (1 << 40) + n
        t.fills.extend([n / 3, -n / 5][: n % 3])
        t.tags.extend([f"t{n % 4}", "ü"][: n % 3])
        t.ok = n % 2 == 0
        t.delta = -n if n % 2 else n
        expected.update(
            instrument=t.instrument,
            type=pb.Trade.Side.Name(t.type),
            price=t.price,
            size=t.size,
            seq=t.seq,
            fills=list(t.fills),
            tags=list(t.tags),
            ok=t.ok,
            delta=t.delta,
        )
        if has_trader and n % 2 == 0:
            t.trader = f"trader-{n}"
            expected["trader"] = t.trader

        def delivered(err, msg, expected=expected):
            if err is not None:
                errors.append(str(err))
            else:
                acked[(msg.partition(), msg.offset())] = expected

        producer.produce(args.topic, value=serializer(t, ctx), on_delivery=delivered)
        producer.poll(0)
    producer.flush(30)
    if errors or len(acked) != args.count:
        print(f"{len(acked)} of {args.count} acknowledged; errors: {errors[:5]}", file=sys.stderr)
        return 1
    records = [[p, o, v] for (p, o), v in sorted(acked.items())]
    print(json.dumps({"records": records}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
