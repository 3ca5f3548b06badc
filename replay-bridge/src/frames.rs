//! Records into protocol frames, encoded straight into the frame's bytes.
//!
//! A [`FrameBuilder`] writes the postcard encoding of a `ServerMessage::Records` by hand: each
//! record is appended to the body as it comes (one copy of its key and value, the only one), and
//! the header (version byte, variant, subscription, partition, high watermark, record count) is
//! put in front when the frame is finished. The tests check every frame against
//! [`streamglass_core::protocol::decode`].
//!
//! Invariant: a frame holds records of one partition in the order pushed, and its exact length is
//! known before it is finished ([`FrameBuilder::frame_len`]), so credit can be taken for it.

use streamglass_core::protocol::{self, PROTOCOL_VERSION, ServerMessage, SubscriptionId};

use crate::Result;

/// Key and value bytes per frame, at most (unless one record alone is larger).
pub const MAX_FRAME_PAYLOAD: usize = 1 << 20;

/// Body capacity a builder keeps between frames, at most.
const RETAINED_BODY: usize = 16 << 10;

/// `ServerMessage::Records`'s variant index in postcard.
const RECORDS_VARIANT: u32 = 1;

/// Builds `Records` frames of one partition of one subscription.
#[derive(Debug)]
pub struct FrameBuilder {
    subscription: SubscriptionId,
    partition: i32,
    body: Vec<u8>,
    records: u64,
    payload: usize,
    last_offset: Option<i64>,
}

impl FrameBuilder {
    pub fn new(subscription: SubscriptionId, partition: i32) -> Self {
        Self {
            subscription,
            partition,
            body: Vec::new(),
            records: 0,
            payload: 0,
            last_offset: None,
        }
    }

    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// Records pushed since the last finish.
    pub fn records(&self) -> u64 {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Key and value bytes pushed since the last finish.
    pub fn payload(&self) -> usize {
        self.payload
    }

    /// The offset of the last record pushed, ever.
    pub fn last_offset(&self) -> Option<i64> {
        self.last_offset
    }

    /// Appends one record.
    pub fn push(
        &mut self,
        offset: i64,
        timestamp_ms: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) {
        let b = &mut self.body;
        put_varint(b, zigzag(offset));
        put_varint(b, zigzag(timestamp_ms));
        for bytes in [key, value] {
            match bytes {
                None => b.push(0),
                Some(bytes) => {
                    b.push(1);
                    put_varint(b, bytes.len() as u64);
                    b.extend_from_slice(bytes);
                }
            }
        }
        self.records += 1;
        self.payload += key.map_or(0, <[u8]>::len) + value.map_or(0, <[u8]>::len);
        self.last_offset = Some(offset);
    }

    /// The bytes one record adds to a frame.
    pub fn record_len(
        offset: i64,
        timestamp_ms: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) -> usize {
        let bytes = |b: Option<&[u8]>| b.map_or(1, |b| 1 + varint_len(b.len() as u64) + b.len());
        varint_len(zigzag(offset)) + varint_len(zigzag(timestamp_ms)) + bytes(key) + bytes(value)
    }

    /// The exact length of the frame [`finish`](Self::finish) would return.
    pub fn frame_len(&self, high_watermark: i64) -> usize {
        self.header_len(high_watermark) + self.body.len()
    }

    fn header_len(&self, high_watermark: i64) -> usize {
        1 + varint_len(u64::from(RECORDS_VARIANT))
            + varint_len(u64::from(self.subscription))
            + varint_len(zigzag(i64::from(self.partition)))
            + varint_len(zigzag(high_watermark))
            + varint_len(self.records)
    }

    /// The frame of every record pushed since the last finish; the builder starts over.
    pub fn finish(&mut self, high_watermark: i64) -> Vec<u8> {
        let mut frame = Vec::with_capacity(self.frame_len(high_watermark));
        frame.push(PROTOCOL_VERSION);
        put_varint(&mut frame, u64::from(RECORDS_VARIANT));
        put_varint(&mut frame, u64::from(self.subscription));
        put_varint(&mut frame, zigzag(i64::from(self.partition)));
        put_varint(&mut frame, zigzag(high_watermark));
        put_varint(&mut frame, self.records);
        frame.extend_from_slice(&self.body);
        // An idle subscription keeps no large buffer: a frame's worth is given back.
        if self.body.capacity() > RETAINED_BODY {
            self.body = Vec::new();
        } else {
            self.body.clear();
        }
        self.records = 0;
        self.payload = 0;
        frame
    }
}

/// Encodes any other server message.
pub fn encode(message: &ServerMessage<'_>) -> Result<Vec<u8>> {
    Ok(protocol::encode(message)?)
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn varint_len(n: u64) -> usize {
    (64 - (n | 1).leading_zeros() as usize).div_ceil(7)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use streamglass_core::protocol::{Record, RecordBatch};

    type Raw = (i64, i64, Option<Vec<u8>>, Option<Vec<u8>>);

    fn raw() -> impl Strategy<Value = Raw> {
        (
            any::<i64>(),
            any::<i64>(),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
        )
    }

    proptest! {
        /// A built frame is exactly what the core's encoder makes of the same batch, and its
        /// length was known beforehand.
        #[test]
        fn frames_equal_the_core_encoding(
            subscription in any::<u32>(),
            partition in any::<i32>(),
            high_watermark in any::<i64>(),
            records in proptest::collection::vec(raw(), 0..30),
        ) {
            let mut builder = FrameBuilder::new(subscription, partition);
            let mut expected_body = 0;
            for (o, t, k, v) in &records {
                expected_body += FrameBuilder::record_len(*o, *t, k.as_deref(), v.as_deref());
                builder.push(*o, *t, k.as_deref(), v.as_deref());
            }
            let len = builder.frame_len(high_watermark);
            let frame = builder.finish(high_watermark);
            prop_assert_eq!(frame.len(), len);
            prop_assert!(len >= expected_body);
            let batch = RecordBatch {
                subscription,
                partition,
                high_watermark,
                records: records
                    .iter()
                    .map(|(o, t, k, v)| Record { offset: *o, timestamp_ms: *t, key: k.as_deref(), value: v.as_deref() })
                    .collect(),
            };
            let core = protocol::encode(&ServerMessage::Records(batch.clone())).unwrap();
            prop_assert_eq!(&frame, &core);
            prop_assert_eq!(protocol::decode(&frame).unwrap(), ServerMessage::Records(batch));
            prop_assert!(builder.is_empty());
        }
    }

    #[test]
    fn varint_lengths() {
        for (n, len) in [
            (0u64, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::MAX, 10),
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, n);
            assert_eq!((out.len(), varint_len(n)), (len, len), "{n}");
        }
    }
}
