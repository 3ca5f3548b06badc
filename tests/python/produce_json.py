"""An independent producer of JSON values for Streamglass's tests: Python's own `json.dumps`
through confluent-kafka (librdkafka), with no schema.

Writes COUNT trades to TOPIC as JSON objects with the demo's fields and a few more kinds: a nested
object (`Venue.Name`, `Venue.Lat`), an array (`Tags`), an integer beyond 32 bits (`Seq`), a boolean,
an ISO-8601 time (`Timestamp`, microseconds, `Z`), members in a shuffled order, `null`s, and
strings with escapes and non-ASCII text. Every eleventh value is a Kafka null (a tombstone). Keys
are `json.dumps({"K": i})`. Prints one JSON object: the records as the broker acknowledged them,
`[partition, offset, key document, value document]` each (the documents as Python objects).

With `--vary-after N`, values from the Nth on also carry a new member `Late`, and every seventh
of them a `Seq` with a fraction (wider than the integers before).

With `--registry URL`, values are written by confluent-kafka's `JSONSerializer` instead, in
Confluent's wire format (magic byte, schema id, document), validated against the latest version
of `<topic>-value` that the registry holds (`use.latest.version`; the tests' registry has
`tests/python/trade.schema.json` there). Keys stay `json.dumps` documents with no framing.
"""

import argparse
import datetime
import json
import random
import sys

from confluent_kafka import Producer

EXCHANGES = ["binance", "coinbase-pro", "kraken", "bitstämp", 'ge"mini\\', "okex"]
INSTRUMENTS = ["BTC/USD", "ETH/USD", "ETH/BTC", "LTC/USD"]


def trade(i: int, rng: random.Random) -> dict:
    t = datetime.datetime(2026, 1, 5, 17, 0, tzinfo=datetime.timezone.utc) + datetime.timedelta(
        microseconds=i * 1_234_567
    )
    doc = {
        "Id": None if i % 5 == 0 else str(300_000_000 + 3 * i),
        "Timestamp": t.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "Exchange": EXCHANGES[i % len(EXCHANGES)],
        "Instrument": INSTRUMENTS[rng.randrange(len(INSTRUMENTS))],
        "Type": ["BID", "ASK"][i % 2],
        "Price": round(rng.uniform(100, 70_000), 2),
        "Size": rng.random() / 7,
        "Seq": (1 << 40) + i,
        "Ok": i % 3 == 0,
        "Venue": {"Name": f"v{i % 4}", "Lat": i / 8 - 30.5},
        "Tags": [i, "x", None],
    }
    items = list(doc.items())
    rng.shuffle(items)
    return dict(items)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--vary-after", type=int, default=None)
    parser.add_argument("--registry", default=None)
    args = parser.parse_args()
    serialize = None
    if args.registry is not None:
        from confluent_kafka.schema_registry import SchemaRegistryClient
        from confluent_kafka.schema_registry.json_schema import JSONSerializer
        from confluent_kafka.serialization import MessageField, SerializationContext

        client = SchemaRegistryClient({"url": args.registry})
        serializer = JSONSerializer(
            None, client, conf={"auto.register.schemas": False, "use.latest.version": True}
        )
        context = SerializationContext(args.topic, MessageField.VALUE)

        def serialize(value):
            return serializer(value, context)

    rng = random.Random(17)
    acked = {}
    errors = []
    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": 5})
    for i in range(args.count):
        key = {"K": i}
        value = None if i % 11 == 4 else trade(i, rng)
        if value is not None and args.vary_after is not None and i >= args.vary_after:
            value["Late"] = i
            if i % 7 == 0:
                value["Seq"] = i + 0.5

        def delivered(err, msg, key=key, value=value):
            if err is not None:
                errors.append(str(err))
            else:
                acked[(msg.partition(), msg.offset())] = (key, value)

        if value is None:
            payload = None
        elif serialize is not None:
            payload = serialize(value)
        else:
            payload = json.dumps(value, ensure_ascii=i % 2 == 0).encode()
        producer.produce(args.topic, key=json.dumps(key).encode(), value=payload, on_delivery=delivered)
        producer.poll(0)
    producer.flush(30)
    if errors or len(acked) != args.count:
        print(f"{len(acked)} of {args.count} acknowledged; errors: {errors[:5]}", file=sys.stderr)
        return 1
    records = [[p, o, k, v] for (p, o), (k, v) in sorted(acked.items())]
    print(json.dumps({"records": records}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
