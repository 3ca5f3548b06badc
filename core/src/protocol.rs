//! The bridge ↔ browser WebSocket protocol, defined once for both sides.
//!
//! Every WebSocket *binary* message is one frame: a single version byte ([`PROTOCOL_VERSION`]),
//! then one [postcard](https://docs.rs/postcard)-encoded message. Postcard is serde's compact
//! binary format: varint integers, length-prefixed byte strings, no field names. Decoding borrows
//! key and value bytes straight from the frame, so a batch of records costs no copies.
//!
//! The browser speaks first: a [`ClientMessage::Subscribe`] per subscription (its own id, topic,
//! [`SeekSpec`], optional exact resume offsets and an initial byte credit), then
//! [`ClientMessage::Credit`] grants as it consumes, and [`ClientMessage::Unsubscribe`]. The bridge
//! answers each subscription with a [`Hello`] (partitions with watermarks and start offsets,
//! schemas by id), then [`RecordBatch`]es, a [`ServerMessage::CaughtUp`] per partition once it
//! reaches the high watermark it saw at subscribe time, and a [`ServerMessage::Error`] when
//! something fails. Every server message but a connection-wide error names its subscription.
//!
//! Invariants: within one subscription, the records of a partition arrive in strictly increasing
//! offset order; the bytes of `Records` frames sent to a subscription never exceed the credit its
//! client granted (see `docs/PROTOCOL.md`).

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::seek::SeekSpec;
use crate::{Error, Result};

/// The version byte that starts every frame. Bump it on any incompatible change.
/// Version 2: client messages (subscribe, credit, unsubscribe) and subscription ids.
/// Version 3: a subscription may ask for its records compressed ([`Compression`]).
/// Version 4: a hello's schemas carry their kind ([`SchemaType`]): JSON Schemas reach the page.
/// Version 5: a Protobuf schema carries its compiled descriptors ([`SchemaInfo::descriptors`]).
pub const PROTOCOL_VERSION: u8 = 5;

/// The largest frame a [`ServerMessage::Compressed`] may expand to, whatever a client allows:
/// a bound on what hostile bytes can make a client allocate.
pub const MAX_INFLATED_FRAME: usize = 256 << 20;

/// A subscription's id, chosen by the client, unique within its connection.
pub type SubscriptionId = u32;

/// A message from the browser to the bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientMessage {
    /// Starts a subscription. The bridge answers with a `Hello` or an `Error`.
    Subscribe(Subscribe),
    /// Grants the subscription this many more bytes of `Records` frames.
    Credit {
        subscription: SubscriptionId,
        bytes: u64,
    },
    /// Ends a subscription; frames already sent may still arrive.
    Unsubscribe { subscription: SubscriptionId },
}

/// What a subscription asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscribe {
    pub subscription: SubscriptionId,
    /// The topic; `None` is the bridge's first (or only) topic.
    pub topic: Option<String>,
    /// Where each partition starts.
    pub seek: SeekSpec,
    /// Exact resume points, `partition → next offset`, overriding `seek` for those partitions.
    /// An offset outside the partition's watermarks is an error, never silently moved.
    pub resume: Option<BTreeMap<i32, i64>>,
    /// Bytes of `Records` frames the bridge may send before the next `Credit`.
    pub credit: u64,
    /// How the bridge may compress the subscription's `Records` frames.
    pub compression: Compression,
}

/// How a subscription's `Records` frames cross the socket.
///
/// A Trade record is about 70 bytes, of which the repeated exchange and instrument names,
/// schema ids and near-equal offsets and timestamps compress well: snappy (Kafka's own record
/// batch codec, fast both ways) makes a frame about 2.3 times smaller. A browser's WebSocket
/// moves bytes through its network process at a bounded rate, so the records arrive sooner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compression {
    /// Every `Records` frame as it is.
    #[default]
    None,
    /// Each `Records` frame in snappy's raw block format, inside a
    /// [`ServerMessage::Compressed`]. Credit still counts the frame's own (uncompressed)
    /// length: what the client holds once it has inflated the frame.
    Snappy,
}

/// A message from the bridge to the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ServerMessage<'a> {
    /// The first message of every subscription.
    Hello(Hello),
    /// Records of one partition, in offset order.
    #[serde(borrow)]
    Records(RecordBatch<'a>),
    /// The partition has reached the high watermark it had when the subscription started.
    CaughtUp {
        subscription: SubscriptionId,
        partition: i32,
        next_offset: i64,
    },
    /// Something failed; the message says why. `subscription` is `None` for a connection-wide
    /// problem (a malformed client message). A failed subscription sends nothing more; the
    /// connection and its other subscriptions go on.
    Error {
        subscription: Option<SubscriptionId>,
        message: String,
    },
    /// A finite source (a recording) has sent every record of every partition.
    End { subscription: SubscriptionId },
    /// A recording replayed as a live feed (`serve --live-from`) has run out: the live edge passed
    /// its last record, and every record was sent. Nothing more will come. It takes the place of
    /// `End` for such a recording. `last_timestamp_ms` is the record time of the recording's last
    /// record (`None` for an empty one); `message` says so in words the page can show.
    Exhausted {
        subscription: SubscriptionId,
        last_timestamp_ms: Option<i64>,
        message: String,
    },
    /// A `Records` frame of a subscription that asked for [`Compression::Snappy`]: the whole
    /// frame (version byte included), in snappy's raw block format. [`inflate`] restores it.
    Compressed {
        subscription: SubscriptionId,
        #[serde(borrow, with = "serde_bytes")]
        frame: &'a [u8],
    },
}

impl ServerMessage<'_> {
    /// The subscription the message belongs to (`None`: the whole connection).
    pub fn subscription(&self) -> Option<SubscriptionId> {
        match self {
            Self::Hello(h) => Some(h.subscription),
            Self::Records(b) => Some(b.subscription),
            Self::CaughtUp { subscription, .. }
            | Self::End { subscription }
            | Self::Exhausted { subscription, .. }
            | Self::Compressed { subscription, .. } => Some(*subscription),
            Self::Error { subscription, .. } => *subscription,
        }
    }
}

/// What the browser needs to know before the first record of a subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub subscription: SubscriptionId,
    /// The Kafka topic (or the recorded topic) being streamed.
    pub topic: String,
    /// A human-readable description of the source, e.g. `recording demo.sgrec` or `kafka 127.0.0.1:9092`.
    pub source: String,
    /// Every partition of the topic, in partition order.
    pub partitions: Vec<PartitionInfo>,
    /// The Avro schemas the values may reference, by Confluent schema id.
    pub schemas: Vec<SchemaInfo>,
}

/// A partition's offsets when the connection started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionInfo {
    pub partition: i32,
    /// The first offset still stored.
    pub low_watermark: i64,
    /// One past the last offset written.
    pub high_watermark: i64,
    /// The offset streaming starts from (the seek spec or resume point, resolved).
    pub start_offset: i64,
}

/// A schema as a Confluent-compatible registry knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaInfo {
    /// The registry id that framed values carry in bytes 1..5.
    pub id: u32,
    /// The subject it is registered under, when known.
    pub subject: Option<String>,
    /// The version within the subject, when known.
    pub version: Option<i32>,
    /// The schema's text (JSON for Avro and JSON Schema, `.proto` for Protobuf).
    pub schema: String,
    /// Its kind: the registry's `schemaType` (absent, as in a recording made before it was
    /// kept: Avro).
    #[serde(default)]
    pub schema_type: SchemaType,
    /// A Protobuf schema compiled by the bridge: a serialized `google.protobuf.FileDescriptorSet`
    /// of the schema and its references, the schema's own file last (absent for other kinds, and
    /// in recordings made before it was kept).
    #[serde(default, with = "serde_bytes")]
    pub descriptors: Option<Vec<u8>>,
}

/// The kind of a registry schema (Confluent's `schemaType`: `AVRO` when absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SchemaType {
    #[default]
    Avro,
    Json,
    Protobuf,
}

impl SchemaType {
    /// The registry's name for it (`AVRO`, `JSON`, `PROTOBUF`), if it is one of these.
    pub fn from_registry(name: &str) -> Option<Self> {
        match name {
            "AVRO" => Some(Self::Avro),
            "JSON" => Some(Self::Json),
            "PROTOBUF" => Some(Self::Protobuf),
            _ => None,
        }
    }
}

/// Records of one partition, in increasing offset order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordBatch<'a> {
    pub subscription: SubscriptionId,
    pub partition: i32,
    /// The partition's high watermark as last seen by the bridge.
    pub high_watermark: i64,
    #[serde(borrow)]
    pub records: Vec<Record<'a>>,
}

/// One Kafka record, with its key and value bytes exactly as the broker stored them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record<'a> {
    pub offset: i64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    #[serde(borrow, with = "serde_bytes")]
    pub key: Option<&'a [u8]>,
    #[serde(borrow, with = "serde_bytes")]
    pub value: Option<&'a [u8]>,
}

impl Record<'_> {
    /// Key plus value bytes: what the feed counts as the record's payload.
    pub fn payload_len(&self) -> usize {
        self.key.map_or(0, <[u8]>::len) + self.value.map_or(0, <[u8]>::len)
    }
}

/// Encodes a message as one frame: the version byte, then the postcard body.
pub fn encode(message: &ServerMessage<'_>) -> Result<Vec<u8>> {
    postcard::to_extend(message, vec![PROTOCOL_VERSION]).map_err(|e| Error::Encode(e.to_string()))
}

/// A `Records` frame (from [`encode`] or the bridge's frame builder) as a
/// [`ServerMessage::Compressed`] frame of the same subscription.
pub fn compress(subscription: SubscriptionId, frame: &[u8]) -> Result<Vec<u8>> {
    let packed = snap::raw::Encoder::new()
        .compress_vec(frame)
        .map_err(|e| Error::Encode(e.to_string()))?;
    encode(&ServerMessage::Compressed {
        subscription,
        frame: &packed,
    })
}

/// The most a snappy block can expand: a 3-byte copy element writes 64 bytes.
const SNAPPY_MAX_RATIO: usize = 22;

/// The frame a [`ServerMessage::Compressed`] of `subscription` holds, written into `out` (whose
/// storage is reused): it must be a `Records` frame of that same subscription. Refuses, before
/// allocating, a frame that would expand past `max_len` bytes (at most [`MAX_INFLATED_FRAME`]) or
/// past what snappy can make of `packed`; refuses corrupt snappy data, and anything but a
/// `Records` frame of `subscription` inside (another compressed frame among them).
pub fn inflate(
    subscription: SubscriptionId,
    packed: &[u8],
    max_len: usize,
    out: &mut Vec<u8>,
) -> Result<()> {
    let malformed = |why: String| Error::MalformedMessage(format!("a compressed frame {why}"));
    let len = snap::raw::decompress_len(packed).map_err(|e| malformed(e.to_string()))?;
    let max_len = max_len
        .min(MAX_INFLATED_FRAME)
        .min(packed.len().saturating_mul(SNAPPY_MAX_RATIO));
    if len > max_len {
        return Err(malformed(format!(
            "would expand to {len} bytes, more than the {max_len} allowed"
        )));
    }
    out.clear();
    out.resize(len, 0);
    let n = snap::raw::Decoder::new()
        .decompress(packed, out)
        .map_err(|e| malformed(e.to_string()))?;
    out.truncate(n);
    match records_credit(out) {
        Some((inner, _)) if inner == subscription => Ok(()),
        _ => {
            out.clear();
            Err(malformed(format!(
                "must hold a Records frame of subscription {subscription}"
            )))
        }
    }
}

/// Whether `frame` is a [`ServerMessage::Compressed`], from its header alone.
pub fn is_compressed(frame: &[u8]) -> bool {
    // Version byte, then the variant index as postcard writes it (6: one byte).
    matches!(frame, [PROTOCOL_VERSION, 6, ..])
}

/// For a `Records` frame, its subscription and its length: the credit it used, which a client
/// grants back once it has consumed the frame. `None` for any other frame. Reads only the header.
pub fn records_credit(frame: &[u8]) -> Option<(SubscriptionId, u64)> {
    // Version byte, then the variant index (Records = 1, one varint byte), then the subscription.
    let [version, 1, rest @ ..] = frame else {
        return None;
    };
    if *version != PROTOCOL_VERSION {
        return None;
    }
    let mut subscription: u64 = 0;
    for (i, byte) in rest.iter().take(5).enumerate() {
        subscription |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((u32::try_from(subscription).ok()?, frame.len() as u64));
        }
    }
    None
}

/// Encodes a client message as one frame.
pub fn encode_client(message: &ClientMessage) -> Result<Vec<u8>> {
    postcard::to_extend(message, vec![PROTOCOL_VERSION]).map_err(|e| Error::Encode(e.to_string()))
}

/// Decodes one client frame. Never panics, whatever the bytes.
pub fn decode_client(frame: &[u8]) -> Result<ClientMessage> {
    decode_body(frame)
}

/// Decodes one frame, borrowing record bytes from it.
pub fn decode(frame: &[u8]) -> Result<ServerMessage<'_>> {
    decode_body(frame)
}

fn decode_body<'a, T: Deserialize<'a>>(frame: &'a [u8]) -> Result<T> {
    let (&version, body) = frame.split_first().ok_or(Error::EmptyMessage)?;
    if version != PROTOCOL_VERSION {
        return Err(Error::UnsupportedVersion {
            found: version,
            expected: PROTOCOL_VERSION,
        });
    }
    let (message, rest) =
        postcard::take_from_bytes(body).map_err(|e| Error::MalformedMessage(e.to_string()))?;
    if !rest.is_empty() {
        return Err(Error::MalformedMessage(format!(
            "{} trailing bytes after the message",
            rest.len()
        )));
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hello() -> ServerMessage<'static> {
        ServerMessage::Hello(Hello {
            subscription: 3,
            topic: "io.deephaven.crypto.kafka.TradesTopic".into(),
            source: "test".into(),
            partitions: vec![PartitionInfo {
                partition: 0,
                low_watermark: 0,
                high_watermark: 10,
                start_offset: 0,
            }],
            schemas: vec![SchemaInfo {
                id: 1,
                subject: Some("s".into()),
                version: Some(1),
                schema: "\"string\"".into(),
                schema_type: Default::default(),
                descriptors: None,
            }],
        })
    }

    #[test]
    fn hello_round_trips() {
        let frame = encode(&hello()).unwrap();
        assert_eq!(frame[0], PROTOCOL_VERSION);
        assert_eq!(decode(&frame).unwrap(), hello());
    }

    #[test]
    fn record_bytes_are_borrowed_from_the_frame() {
        let value = [0u8, 0, 0, 0, 1, 42];
        let msg = ServerMessage::Records(RecordBatch {
            subscription: 0,
            partition: 2,
            high_watermark: 8,
            records: vec![Record {
                offset: 7,
                timestamp_ms: 1_700_000_000_000,
                key: None,
                value: Some(&value),
            }],
        });
        let frame = encode(&msg).unwrap();
        let ServerMessage::Records(batch) = decode(&frame).unwrap() else {
            panic!("expected records");
        };
        let got = batch.records[0].value.unwrap();
        assert_eq!(got, value);
        let range = frame.as_ptr_range();
        assert!(
            range.contains(&got.as_ptr()),
            "value must point into the frame"
        );
    }

    #[test]
    fn records_credit_reads_the_header_only() {
        let batch = |subscription| {
            encode(&ServerMessage::Records(RecordBatch {
                subscription,
                partition: 1,
                high_watermark: 5,
                records: vec![],
            }))
            .unwrap()
        };
        for id in [0, 1, 127, 128, 300_000, u32::MAX] {
            let frame = batch(id);
            assert_eq!(records_credit(&frame), Some((id, frame.len() as u64)));
        }
        assert_eq!(records_credit(&encode(&hello()).unwrap()), None);
        assert_eq!(records_credit(&[]), None);
        assert_eq!(records_credit(&[PROTOCOL_VERSION, 1, 0x80]), None);
    }

    #[test]
    fn every_message_names_its_subscription() {
        assert_eq!(hello().subscription(), Some(3));
        let error = ServerMessage::Error {
            subscription: None,
            message: "bad".into(),
        };
        assert_eq!(error.subscription(), None);
        assert_eq!(
            ServerMessage::End { subscription: 9 }.subscription(),
            Some(9)
        );
    }

    #[test]
    fn exhausted_round_trips_after_the_existing_variants() {
        let message = ServerMessage::Exhausted {
            subscription: 4,
            last_timestamp_ms: Some(1_767_623_400_000),
            message: "the recording ran out".into(),
        };
        assert_eq!(message.subscription(), Some(4));
        let frame = encode(&message).unwrap();
        // A new variant index: every existing message keeps its encoding.
        assert_eq!(frame[1], 5);
        assert_eq!(decode(&frame).unwrap(), message);
    }

    #[test]
    fn rejects_empty_wrong_version_truncated_and_trailing() {
        assert!(matches!(decode(&[]), Err(Error::EmptyMessage)));
        let mut frame = encode(&hello()).unwrap();
        frame[0] = 99;
        assert!(matches!(
            decode(&frame),
            Err(Error::UnsupportedVersion { found: 99, .. })
        ));
        let frame = encode(&hello()).unwrap();
        assert!(matches!(
            decode(&frame[..frame.len() - 1]),
            Err(Error::MalformedMessage(_))
        ));
        let mut frame = encode(&hello()).unwrap();
        frame.push(0);
        assert!(matches!(decode(&frame), Err(Error::MalformedMessage(_))));
    }

    fn records_frame(subscription: SubscriptionId, n: i64) -> Vec<u8> {
        let value = [0u8, 0, 0, 0, 1, 6, b'B', b'T', b'C', 2, 0x40];
        let records = (0..n)
            .map(|i| Record {
                offset: 1_000 + i,
                timestamp_ms: 1_700_000_000_000 + i,
                key: None,
                value: Some(&value),
            })
            .collect();
        encode(&ServerMessage::Records(RecordBatch {
            subscription,
            partition: 1,
            high_watermark: 5_000,
            records,
        }))
        .unwrap()
    }

    #[test]
    fn a_compressed_frame_inflates_to_the_records_frame() {
        let frame = records_frame(7, 500);
        let packed = compress(7, &frame).unwrap();
        assert!(
            packed.len() * 3 < frame.len(),
            "{} → {}",
            frame.len(),
            packed.len()
        );
        let ServerMessage::Compressed {
            subscription,
            frame: inner,
        } = decode(&packed).unwrap()
        else {
            panic!("expected a compressed frame");
        };
        assert_eq!(subscription, 7);
        // The wrapper uses no credit; the frame inside does, at its own length.
        assert_eq!(records_credit(&packed), None);
        assert!(is_compressed(&packed) && !is_compressed(&frame));
        let mut out = vec![1, 2, 3];
        inflate(7, inner, frame.len(), &mut out).unwrap();
        assert_eq!(out, frame);
        assert_eq!(records_credit(&out), Some((7, frame.len() as u64)));
    }

    #[test]
    fn inflate_refuses_oversized_corrupt_nested_and_foreign_frames() {
        let frame = records_frame(1, 100);
        let packed = snap::raw::Encoder::new().compress_vec(&frame).unwrap();
        let mut out = Vec::new();
        // Refused from the length header, before anything is allocated.
        assert!(matches!(
            inflate(1, &packed, frame.len() - 1, &mut out),
            Err(Error::MalformedMessage(m)) if m.contains("more than")
        ));
        assert!(out.capacity() < frame.len());
        // A 5-byte header claiming 4 GiB, and one claiming 1 MiB: more than snappy can make of
        // the bytes that follow, whatever the caller allows.
        assert!(inflate(1, &[0xff, 0xff, 0xff, 0xff, 0x0f], usize::MAX, &mut out).is_err());
        assert!(inflate(1, &[0x80, 0x80, 0x40, 0, 0], usize::MAX, &mut out).is_err());
        assert!(out.capacity() < 1 << 20);
        assert!(inflate(1, &packed[..packed.len() / 2], usize::MAX, &mut out).is_err());
        // Inside: only a Records frame of the same subscription.
        assert!(inflate(2, &packed, usize::MAX, &mut out).is_err());
        let nested = snap::raw::Encoder::new()
            .compress_vec(&compress(1, &frame).unwrap())
            .unwrap();
        assert!(inflate(1, &nested, usize::MAX, &mut out).is_err());
        // Variant 6 written as an overlong varint (0x86 0x00), which postcard reads as 6 too.
        let mut overlong = compress(1, &frame).unwrap();
        overlong.splice(1..2, [0x86, 0x00]);
        assert!(matches!(
            decode(&overlong),
            Ok(ServerMessage::Compressed { .. })
        ));
        let overlong = snap::raw::Encoder::new().compress_vec(&overlong).unwrap();
        assert!(inflate(1, &overlong, usize::MAX, &mut out).is_err());
        let hello = snap::raw::Encoder::new()
            .compress_vec(&encode(&hello()).unwrap())
            .unwrap();
        assert!(inflate(3, &hello, usize::MAX, &mut out).is_err());
        inflate(1, &packed, usize::MAX, &mut out).unwrap();
        assert_eq!(out, frame);
    }

    fn arb_record() -> impl Strategy<Value = (i64, i64, Option<Vec<u8>>, Option<Vec<u8>>)> {
        (
            any::<i64>(),
            any::<i64>(),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..256)),
        )
    }

    proptest! {
        #[test]
        fn record_batches_round_trip(
            partition in any::<i32>(),
            hw in any::<i64>(),
            raw in proptest::collection::vec(arb_record(), 0..20),
        ) {
            let records: Vec<Record<'_>> = raw
                .iter()
                .map(|(o, t, k, v)| Record {
                    offset: *o,
                    timestamp_ms: *t,
                    key: k.as_deref(),
                    value: v.as_deref(),
                })
                .collect();
            let msg = ServerMessage::Records(RecordBatch { subscription: 1, partition, high_watermark: hw, records });
            let frame = encode(&msg).unwrap();
            prop_assert_eq!(decode(&frame).unwrap(), msg);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
            let _ = decode_client(&bytes);
            let _ = inflate(0, &bytes, 1 << 20, &mut Vec::new());
        }

        #[test]
        fn compressed_records_round_trip(
            subscription in any::<u32>(),
            raw in proptest::collection::vec(arb_record(), 0..20),
        ) {
            let records: Vec<Record<'_>> = raw
                .iter()
                .map(|(o, t, k, v)| Record { offset: *o, timestamp_ms: *t, key: k.as_deref(), value: v.as_deref() })
                .collect();
            let msg = ServerMessage::Records(RecordBatch { subscription, partition: 0, high_watermark: 1, records });
            let frame = encode(&msg).unwrap();
            let packed = compress(subscription, &frame).unwrap();
            let ServerMessage::Compressed { frame: inner, .. } = decode(&packed).unwrap() else {
                panic!("expected a compressed frame");
            };
            let mut out = Vec::new();
            inflate(subscription, inner, frame.len(), &mut out).unwrap();
            prop_assert_eq!(decode(&out).unwrap(), msg);
        }

        /// Client bytes after a valid version byte: decoded or refused, never a panic.
        #[test]
        fn client_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut frame = vec![PROTOCOL_VERSION];
            frame.extend(bytes);
            let _ = decode_client(&frame);
        }

        #[test]
        fn client_messages_round_trip(
            subscription in any::<u32>(),
            credit in any::<u64>(),
            resume in proptest::option::of(proptest::collection::btree_map(any::<i32>(), any::<i64>(), 0..5)),
            topic in proptest::option::of(".{0,12}"),
            seek_text in prop_oneof![Just("beginning"), Just("end"), Just("42"), Just("-7"), Just("each:-3"), Just("s@17"), Just("{0: 1, 2: end}")],
        ) {
            let seek: SeekSpec = seek_text.parse().unwrap();
            for message in [
                ClientMessage::Subscribe(Subscribe { subscription, topic: topic.clone(), seek: seek.clone(), resume: resume.clone(), credit, compression: if credit % 2 == 0 { Compression::Snappy } else { Compression::None } }),
                ClientMessage::Credit { subscription, bytes: credit },
                ClientMessage::Unsubscribe { subscription },
            ] {
                let frame = encode_client(&message).unwrap();
                prop_assert_eq!(decode_client(&frame).unwrap(), message);
            }
        }
    }
}
