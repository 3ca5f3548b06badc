"""An independent producer for Streamglass's tests: librdkafka (confluent-kafka) + fastavro.

Writes COUNT synthetic trades to TOPIC as Confluent-framed Avro values (magic byte 0, the schema id
as 4 big-endian bytes, the fastavro-encoded body) with null keys, batched the way real producers
batch (linger.ms, batch.num.messages), and lets librdkafka's partitioner spread them, a random
partition per record. Prints one JSON object: per partition, how many records the broker
acknowledged and their offset range; with --records FILE, writes every trade to FILE as well.
"""

import argparse
import io
import json
import random
import struct
import sys

import fastavro
from confluent_kafka import Producer

EXCHANGES = ["binance", "coinbase-pro", "kraken", "bitstamp", "gemini", "okex"]
INSTRUMENTS = {"BTC/USD": 61250.0, "ETH/USD": 4120.0, "ETH/BTC": 0.0673, "LTC/USD": 212.4}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--schema", required=True, help="the .avsc file")
    parser.add_argument("--schema-id", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--records",
        help="also write each trade as the broker acknowledged it to this file: one JSON array "
        "[partition, offset, trade] a line",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        help="KEY=VALUE: a librdkafka setting (security.protocol, ssl.ca.location, sasl.*)",
    )
    args = parser.parse_args()

    with open(args.schema, encoding="utf-8") as f:
        schema = fastavro.parse_schema(json.load(f))
    header = b"\x00" + struct.pack(">I", args.schema_id)
    rng = random.Random(args.seed)

    acked: dict[int, list[int]] = {}
    errors: list[str] = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            acked.setdefault(msg.partition(), []).append(msg.offset())

    sent = []

    def delivered(err, msg, trade):
        on_delivery(err, msg)
        if err is None and args.records:
            sent.append([msg.partition(), msg.offset(), trade])

    settings = dict(c.split("=", 1) for c in args.config)
    producer = Producer(
        settings
        | {
            "bootstrap.servers": args.bootstrap,
            "linger.ms": 20,
            "batch.num.messages": 500,
            "enable.idempotence": False,
            "acks": "all",
            "partitioner": "consistent_random",
            # Null keys go to a random partition each, not to one partition per sticky window:
            # the tests need every partition to get records (sticky windows once left one with a
            # single record of 4,500).
            "sticky.partitioning.linger.ms": 0,
        }
    )
    micros = 1_767_623_400_000_000
    for i in range(args.count):
        micros += rng.randint(1, 20_000)
        instrument = rng.choice(list(INSTRUMENTS))
        trade = {
            "Id": f"py-{i}",
            "Timestamp": micros,
            "Exchange": rng.choice(EXCHANGES),
            "Instrument": instrument,
            "Type": rng.choice(["BID", "ASK", "EXIT_ASK", "EXIT_BID"]),
            "Price": INSTRUMENTS[instrument] * (1 + rng.uniform(-0.001, 0.001)),
            "Size": rng.lognormvariate(0, 1.5),
        }
        body = io.BytesIO()
        fastavro.schemaless_writer(body, schema, trade)
        while True:
            try:
                producer.produce(
                    args.topic,
                    value=header + body.getvalue(),
                    key=None,
                    on_delivery=lambda err, msg, trade=trade: delivered(err, msg, trade),
                )
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    remaining = producer.flush(60)
    if remaining or errors:
        print(f"not delivered: {remaining}, errors: {errors[:5]}", file=sys.stderr)
        return 1
    if args.records:
        with open(args.records, "w", encoding="utf-8") as f:
            for line in sorted(sent, key=lambda r: (r[0], r[1])):
                f.write(json.dumps(line) + "\n")
    report = {
        str(p): {"count": len(offsets), "first": min(offsets), "last": max(offsets)}
        for p, offsets in sorted(acked.items())
    }
    print(json.dumps({"total": sum(len(o) for o in acked.values()), "partitions": report}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
