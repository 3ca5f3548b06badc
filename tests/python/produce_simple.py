"""An independent producer of plain keys and values for Streamglass's tests: confluent-kafka's own
serializers (librdkafka underneath).

Writes COUNT records to TOPIC, each key `k<i>` by `StringSerializer` (UTF-8), each value as VALUE
says: `int` (`IntegerSerializer`: 4 bytes, big-endian), `double`
(`DoubleSerializer`: 8 bytes, big-endian IEEE 754) or `long` (confluent-kafka has no long
serializer: Kafka's `LongSerializer` writes 8 bytes big-endian, as `struct.pack(">q")` does). Every
seventh value is null (a tombstone). Prints one JSON object: the records as the broker
acknowledged them, `[partition, offset, key, value]` each.
"""

import argparse
import json
import struct
import sys

from confluent_kafka import Producer
from confluent_kafka.serialization import (
    DoubleSerializer,
    IntegerSerializer,
    MessageField,
    SerializationContext,
    StringSerializer,
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--value", choices=["int", "long", "double"], required=True)
    args = parser.parse_args()

    keys = StringSerializer("utf_8")
    key_ctx = SerializationContext(args.topic, MessageField.KEY)
    value_ctx = SerializationContext(args.topic, MessageField.VALUE)
    if args.value == "int":
        number = lambda i: (-1) ** i * i * 1_000  # noqa: E731
        serialize = lambda v: IntegerSerializer()(v, value_ctx)  # noqa: E731
    elif args.value == "double":
        number = lambda i: i / 8 - 3.25  # noqa: E731
        serialize = lambda v: DoubleSerializer()(v, value_ctx)  # noqa: E731
    else:
        number = lambda i: (-1) ** i * (i << 40)  # noqa: E731
        serialize = lambda v: struct.pack(">q", v)  # noqa: E731

    acked = []
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            acked.append([msg.partition(), msg.offset()])

    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": 5})
    sent = {}
    for i in range(args.count):
        key = f"k{i}"
        value = None if i % 7 == 3 else number(i)
        payload = None if value is None else serialize(value)

        def delivered(err, msg, key=key, value=value):
            on_delivery(err, msg)
            if err is None:
                sent[(msg.partition(), msg.offset())] = (key, value)

        producer.produce(args.topic, key=keys(key, key_ctx), value=payload, on_delivery=delivered)
        producer.poll(0)
    producer.flush(30)
    if errors or len(sent) != args.count:
        print(f"{len(sent)} of {args.count} acknowledged; errors: {errors[:5]}", file=sys.stderr)
        return 1
    records = [[p, o, k, v] for (p, o), (k, v) in sorted(sent.items())]
    print(json.dumps({"records": records}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
