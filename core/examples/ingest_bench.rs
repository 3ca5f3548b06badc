//! The seed's ingest path as the page's worker runs it, timed without criterion so it also runs
//! as wasm32 under Node: 1M Confluent-framed Trade values decoded once per frame of 4,096 records
//! (a bridge frame), each batch queued on an append table and a stream table (one shared feed),
//! a cycle every 25 frames (about 100k records), and the notebook's tables over them: aggBy,
//! sort and formatColumnWhere on both, the two countBy (one after dropStream), their merge, and
//! the naturalJoin of the aggregations with its differences. The first run also grows the memory,
//! as a page's session does (in wasm32 with std's allocator, not the page's: see
//! `wasm/src/heap.rs`).
//!
//! ```sh
//! cargo build --profile wasm-release --target wasm32-unknown-unknown -p streamglass-core --example ingest_bench
//! node core/benches/run-chromium.mjs target/wasm32-unknown-unknown/wasm-release/examples/ingest_bench.wasm [aggby] [per-record] [wire|snappy]
//! node core/benches/run-wasi.mjs target/wasm32-unknown-unknown/wasm-release/examples/ingest_bench.wasm [aggby] ...
//! ```
//! (`wasm-release` is the page's profile; the first runs it in Chromium's V8, the second in
//! Node's. `--target wasm32-wasip1`, where installed, runs with the same two commands: the
//! clock, output and arguments are WASI's instead of the runner's, see `examples/host/mod.rs`.)
//! (also natively: `cargo run --release -p streamglass-core --example ingest_bench -- [aggby]
//! [per-record]`).
//!
//! With `aggby`, only what issue #6 names: decode, append table, stream table, and
//! `aggBy([Count, Sum], "Exchange", "Instrument")` on both, with the same frames and cycles. With
//! `per-record`, frames are decoded record by record (`RecordDecoder::decode`) instead of as a
//! batch (`avro::decode_batch`, as the page does): the decoder before batches.
//!
//! The frames start as records already read from the bridge's frames. With `wire`, they start as
//! the bridge's frames (`protocol::encode`), which each call parses first (`protocol::decode`);
//! with `snappy`, as its compressed frames, which each call also inflates (`protocol::inflate`):
//! the page's worker does both before decoding, so these give the whole path from the socket.

#[path = "host/mod.rs"]
mod host;
#[path = "../benches/trade_frames.rs"]
mod trade_frames;

use host::{Instant, outln};
use streamglass_core::avro::{self, RecordDecoder};
use streamglass_core::protocol::{self, RecordBatch, ServerMessage};
use streamglass_core::{Agg, Engine, Table};
use trade_frames::{FRAMES, decoder, frames, records};

const FRAME_RECORDS: usize = 4_096;
const FRAMES_PER_CYCLE: usize = 25;

fn main() {
    host::init();
    let args = host::args();
    let aggby_only = args.iter().any(|a| a == "aggby");
    let per_record = args.iter().any(|a| a == "per-record");
    let snappy = args.iter().any(|a| a == "snappy");
    let wire = snappy || args.iter().any(|a| a == "wire");
    let frames = frames(FRAMES);
    let records = records(&frames);
    let batches: Vec<RecordBatch<'_>> = records
        .chunks(FRAME_RECORDS)
        .map(|frame| RecordBatch {
            subscription: 1,
            partition: 0,
            high_watermark: FRAMES as i64,
            records: frame.to_vec(),
        })
        .collect();
    let on_wire: Vec<Vec<u8>> = batches
        .iter()
        .map(|batch| {
            let frame = protocol::encode(&ServerMessage::Records(batch.clone())).expect("encodes");
            match snappy {
                true => protocol::compress(batch.subscription, &frame).expect("compresses"),
                false => frame,
            }
        })
        .collect();
    let mut inflated = Vec::new();
    let (mut best, mut first) = (f64::MAX, None);
    // The decoding's share of the best run.
    let mut best_decoding = 0.0;
    for _ in 0..10 {
        let started = Instant::now();
        let mut decoded = 0.0;
        let engine = Engine::new();
        let mut decoder = decoder();
        let schema = decoder.schema().clone();
        let append = engine.append_table(schema.clone());
        let stream = engine.stream_table(schema);
        // The tables over the two sources, kept alive while the frames go in.
        let (aggs, _rest) = if aggby_only {
            seed_graph(&append, &stream)
        } else {
            notebook(&append, &stream)
        };
        for (i, (batch, frame)) in batches.iter().zip(&on_wire).enumerate() {
            let input = match wire {
                true => Input::Frame(frame, &mut inflated),
                false => Input::Batch(batch),
            };
            decoded += ingest(&mut decoder, input, [&stream, &append], per_record);
            if (i + 1) % FRAMES_PER_CYCLE == 0 {
                engine.run_cycle().expect("cycle");
            }
        }
        engine.run_cycle().expect("cycle");
        assert_eq!(append.size(), FRAMES);
        assert_eq!(aggs[0].size(), aggs[1].size());
        let took = started.elapsed().as_secs_f64();
        if took < best {
            best = took;
            best_decoding = decoded;
        }
        first.get_or_insert(took);
    }
    let what = if aggby_only {
        "aggBy(Count, Sum) by Exchange, Instrument on both"
    } else {
        "the notebook's tables"
    };
    let how = match (per_record, wire, snappy) {
        (true, ..) => ", decoded record by record",
        (_, _, true) => ", from snappy-compressed frames",
        (_, true, _) => ", from the bridge's frames",
        _ => "",
    };
    outln!(
        "decode → append + stream → {what} (frames of {FRAME_RECORDS}, a cycle every {FRAMES_PER_CYCLE}{how}): {:.2}M records/s (best of 10, {:.0} ms, of which decoding {:.0} ms); the first run, which grows the memory: {:.1}M records/s",
        FRAMES as f64 / best / 1e6,
        best * 1e3,
        best_decoding * 1e3,
        FRAMES as f64 / first.unwrap_or(best) / 1e6
    );
}

/// Issue #6's graph: the seed's aggregation on both tables, nothing else. The two aggregations,
/// and no other table.
fn seed_graph(append: &Table, stream: &Table) -> ([Table; 2], Vec<Table>) {
    let seed = |t: &Table| {
        t.agg_by(
            &[Agg::count("Trade_Count"), Agg::sum("Total_Size = Size")],
            &["Exchange", "Instrument"],
        )
        .expect("aggBy")
    };
    ([seed(append), seed(stream)], Vec::new())
}

/// The notebook's tables, cell by cell: the two sorted and formatted aggregations, and the other
/// tables.
fn notebook(append: &Table, stream: &Table) -> ([Table; 2], Vec<Table>) {
    let agg = |t: &Table| {
        t.agg_by(
            &[Agg::count("Trade_Count"), Agg::sum("Total_Size = Size")],
            &["Exchange", "Instrument"],
        )
        .and_then(|a| a.sort(&["Exchange", "Instrument"]))
        .and_then(|a| a.format_column_where("Instrument", "Instrument.startsWith(`BTC`)", "IVORY"))
        .expect("aggBy")
    };
    let aggs = [agg(append), agg(stream)];
    let row_count_append = append
        .count_by("RowCount", &[])
        .and_then(|t| t.update_view(&["Table_Type = `append`"]))
        .expect("countBy");
    let row_count_stream = stream
        .drop_stream()
        .and_then(|t| t.count_by("RowCount", &[]))
        .and_then(|t| t.update_view(&["Table_Type = `stream`"]))
        .expect("countBy");
    let merged = row_count_append.merge(&[&row_count_stream]).expect("merge");
    let diff = aggs[0]
        .natural_join(
            &aggs[1],
            &["Exchange", "Instrument"],
            &[
                "Trade_Count_Stream = Trade_Count",
                "Total_Size_Stream = Total_Size",
            ],
        )
        .and_then(|t| {
            t.update_view(&[
                "Diff_Count = Trade_Count - Trade_Count_Stream",
                "Diff_Size = Total_Size - Total_Size_Stream",
            ])
        })
        .expect("diff");
    (aggs, vec![row_count_append, row_count_stream, merged, diff])
}

/// A frame's records: already read, or a frame as the bridge sends it (with a buffer to inflate
/// a compressed one into).
enum Input<'a, 'b> {
    Batch(&'a RecordBatch<'a>),
    Frame(&'a [u8], &'b mut Vec<u8>),
}

/// One bridge frame, as the page's worker takes it (`wasm/src/api/connection.rs`): read (from a
/// frame: inflated if compressed, then parsed), decoded once through the function the page calls,
/// and the batch queued on both tables. Returns the seconds spent before the tables.
///
/// Not inlined: in the page each frame is a call from JavaScript, and V8 first runs a function
/// with its baseline compiler (Liftoff), then swaps in the optimised code for later calls. Wasm
/// has no on-stack replacement, so a loop inlined into `main`, called once, would stay baseline.
#[inline(never)]
fn ingest(
    decoder: &mut RecordDecoder,
    input: Input<'_, '_>,
    tables: [&Table; 2],
    per_record: bool,
) -> f64 {
    let decoding = Instant::now();
    let parsed;
    let frame = match input {
        Input::Batch(batch) => batch,
        Input::Frame(mut frame, inflated) => {
            if protocol::is_compressed(frame) {
                let Ok(ServerMessage::Compressed {
                    subscription,
                    frame: packed,
                }) = protocol::decode(frame)
                else {
                    panic!("a compressed frame");
                };
                protocol::inflate(subscription, packed, usize::MAX, inflated).expect("inflates");
                frame = inflated;
            }
            let Ok(ServerMessage::Records(batch)) = protocol::decode(frame) else {
                panic!("a records frame");
            };
            parsed = batch;
            &parsed
        }
    };
    if per_record {
        for r in &frame.records {
            decoder.decode(frame.partition, r).expect("decodes");
        }
    } else {
        avro::decode_batch(decoder, frame, &mut |e| panic!("{e}"));
    }
    let decoded = decoding.elapsed().as_secs_f64();
    let batch = decoder.take_batch().expect("a batch");
    tables[0].add(batch.clone()).expect("add");
    tables[1].add(batch).expect("add");
    decoded
}
