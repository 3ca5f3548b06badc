//! Stored records into protocol frames.
//!
//! Invariant: each frame holds records of one partition in the order given, and at most
//! [`MAX_FRAME_PAYLOAD`] bytes of keys and values (a single larger record gets a frame of its own).

use streamglass_core::protocol::{self, Record, RecordBatch, ServerMessage};

use crate::Result;
use crate::recording::StoredRecord;

/// Key and value bytes per frame, at most (unless one record alone is larger).
pub const MAX_FRAME_PAYLOAD: usize = 1 << 20;

/// Encodes records of one partition as one or more `Records` frames.
pub fn record_frames(
    partition: i32,
    high_watermark: i64,
    records: &[StoredRecord],
) -> Result<Vec<Vec<u8>>> {
    let mut frames = Vec::new();
    let mut start = 0;
    while start < records.len() {
        let mut end = start;
        let mut payload = 0;
        while end < records.len() {
            let size = payload_len(&records[end]);
            if end > start && payload + size > MAX_FRAME_PAYLOAD {
                break;
            }
            payload += size;
            end += 1;
        }
        let batch = RecordBatch {
            partition,
            high_watermark,
            records: records[start..end]
                .iter()
                .map(|r| Record {
                    offset: r.offset,
                    timestamp_ms: r.timestamp_ms,
                    key: r.key.as_deref(),
                    value: r.value.as_deref(),
                })
                .collect(),
        };
        frames.push(protocol::encode(&ServerMessage::Records(batch))?);
        start = end;
    }
    Ok(frames)
}

fn payload_len(r: &StoredRecord) -> usize {
    r.key.as_ref().map_or(0, Vec::len) + r.value.as_ref().map_or(0, Vec::len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(offset: i64, size: usize) -> StoredRecord {
        StoredRecord {
            partition: 0,
            offset,
            timestamp_ms: offset,
            key: None,
            value: Some(vec![1; size]),
            headers: vec![],
        }
    }

    #[test]
    fn splits_large_batches_and_keeps_every_record_in_order() {
        let records: Vec<_> = (0..100).map(|o| record(o, 50_000)).collect();
        let frames = record_frames(0, 100, &records).unwrap();
        assert!(frames.len() >= 5);
        let mut offsets = vec![];
        for f in &frames {
            let ServerMessage::Records(b) = protocol::decode(f).unwrap() else {
                panic!()
            };
            assert!(b.records.iter().map(|r| r.payload_len()).sum::<usize>() <= MAX_FRAME_PAYLOAD);
            offsets.extend(b.records.iter().map(|r| r.offset));
        }
        assert_eq!(offsets, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn an_oversized_record_gets_its_own_frame() {
        let records = vec![
            record(0, 10),
            record(1, MAX_FRAME_PAYLOAD + 1),
            record(2, 10),
        ];
        assert_eq!(record_frames(0, 3, &records).unwrap().len(), 3);
        assert!(record_frames(0, 0, &[]).unwrap().is_empty());
    }
}
