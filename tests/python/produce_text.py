"""An independent producer of text values for Streamglass's topic tests: confluent-kafka (librdkafka)
with its own `StringSerializer` for keys and values.

Writes COUNT records to TOPIC, each key `k<i>`, each value as KIND says: `string`, a line of text
(`trade <i> on <exchange>: <price>`, UTF-8, some with accents), or `json`, a JSON object written by
`json.dumps` with no schema (`{"Id": ..., "Exchange": ..., "Price": ..., "Size": ..., "Tags": [...]}`).
Prints one JSON object: the records as the broker acknowledged them, `[partition, offset, key,
value]` each, the value as the text sent.
"""

import argparse
import json
import random
import sys

from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext, StringSerializer

EXCHANGES = ["binance", "coinbase-pro", "kraken", "bitstamp", "gemini", "okex", "bourse-été"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--kind", choices=["string", "json"], required=True)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    text = StringSerializer("utf_8")
    key_ctx = SerializationContext(args.topic, MessageField.KEY)
    value_ctx = SerializationContext(args.topic, MessageField.VALUE)
    sent = {}
    errors = []
    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": 5})
    for i in range(args.count):
        exchange = rng.choice(EXCHANGES)
        price = round(rng.uniform(100, 70_000), 2)
        if args.kind == "string":
            value = f"trade {i} on {exchange}: {price}"
        else:
            value = json.dumps(
                {"Id": f"j-{i}", "Exchange": exchange, "Price": price, "Size": rng.randint(1, 500), "Tags": ["a", "b"][: i % 3]}
            )
        key = f"k{i}"

        def delivered(err, msg, key=key, value=value):
            if err is not None:
                errors.append(str(err))
            else:
                sent[(msg.partition(), msg.offset())] = (key, value)

        producer.produce(
            args.topic, key=text(key, key_ctx), value=text(value, value_ctx), on_delivery=delivered
        )
        producer.poll(0)
    producer.flush(30)
    if errors or len(sent) != args.count:
        print(f"{len(sent)} of {args.count} acknowledged; errors: {errors[:5]}", file=sys.stderr)
        return 1
    records = [[p, o, k, v] for (p, o), (k, v) in sorted(sent.items())]
    print(json.dumps({"records": records}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
