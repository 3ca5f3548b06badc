//! What format a topic's keys or values are in, guessed from a few of its newest records when no
//! registry subject says: the Confluent wire format (magic byte 0, then a 4-byte schema id), a
//! JSON object or array, UTF-8 text (with no control characters but tabs and line ends), or
//! bytes.
//!
//! A guess holds for every sampled record, never for most: one value that is not JSON makes the
//! topic's values text (if all are UTF-8) or bytes. Null keys or values (tombstones) are passed
//! over. Pure functions of the bytes, so they are tested here without a broker.

/// A side's (keys' or values') format, as the sampled records show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// No record was sampled: the topic is empty.
    Unknown,
    /// Every sampled record had no key (or no value).
    Null,
    /// Every one is Confluent-framed; the schema ids seen, ascending.
    Confluent(Vec<u32>),
    /// Every one is a JSON object or array.
    Json,
    /// Every one is UTF-8 text.
    String,
    /// Anything else; `width` when every one has the same length of 4 or 8 bytes (perhaps an
    /// int or a long, as Kafka's serializers write them; nothing says so).
    Binary { width: Option<usize> },
}

/// The format every one of `samples` (`None`: a null) is in.
pub fn sniff<'a>(samples: impl IntoIterator<Item = Option<&'a [u8]>>) -> Sniffed {
    let (mut seen, mut present) = (0usize, 0usize);
    let (mut confluent, mut json, mut text) = (true, true, true);
    let mut ids = Vec::new();
    let mut widths = Vec::new();
    for sample in samples {
        seen += 1;
        let Some(bytes) = sample else { continue };
        present += 1;
        match confluent_id(bytes) {
            Some(id) => ids.push(id),
            None => confluent = false,
        }
        json = json && is_json_document(bytes);
        text = text && is_text(bytes);
        widths.push(bytes.len());
    }
    if seen == 0 {
        return Sniffed::Unknown;
    }
    if present == 0 {
        return Sniffed::Null;
    }
    if confluent {
        ids.sort_unstable();
        ids.dedup();
        return Sniffed::Confluent(ids);
    }
    if json {
        return Sniffed::Json;
    }
    if text {
        return Sniffed::String;
    }
    let width = widths
        .first()
        .copied()
        .filter(|w| matches!(w, 4 | 8) && widths.iter().all(|x| x == w));
    Sniffed::Binary { width }
}

/// The schema id of a Confluent-framed payload: magic byte 0, then the id as 4 big-endian bytes
/// (what follows may be empty: an Avro record of no fields). Registries number schemas from 1, so
/// id 0 is not framing (a small big-endian long starts with five zero bytes).
fn confluent_id(bytes: &[u8]) -> Option<u32> {
    match bytes {
        [0, a, b, c, d, ..] => Some(u32::from_be_bytes([*a, *b, *c, *d])).filter(|&id| id > 0),
        _ => None,
    }
}

/// Whether `bytes` is UTF-8 text: no control characters but tabs and line ends (a big-endian
/// number is valid UTF-8 when its bytes are small, but no one writes NUL in text).
fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    })
}

/// Whether `bytes` is one JSON object or array (whitespace around it allowed).
fn is_json_document(bytes: &[u8]) -> bool {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    matches!(first, Some(b'{' | b'['))
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(samples: &[Option<&[u8]>]) -> Sniffed {
        sniff(samples.iter().copied())
    }

    #[test]
    fn no_records_and_only_nulls() {
        assert_eq!(of(&[]), Sniffed::Unknown);
        assert_eq!(of(&[None, None]), Sniffed::Null);
    }

    #[test]
    fn confluent_framing_with_its_ids() {
        let a: &[u8] = &[0, 0, 0, 0, 7, 2, 4];
        let empty_record: &[u8] = &[0, 0, 0, 0, 7];
        let b: &[u8] = &[0, 0, 0, 1, 0];
        assert_eq!(
            of(&[Some(a), None, Some(b), Some(empty_record)]),
            Sniffed::Confluent(vec![7, 256])
        );
    }

    #[test]
    fn json_documents_text_and_bytes() {
        let obj: &[u8] = br#" {"Price": 1.5, "Tags": ["a"]} "#;
        let arr: &[u8] = b"[1, 2]";
        assert_eq!(of(&[Some(obj), Some(arr)]), Sniffed::Json);
        // A bare JSON string or number is text, and so is a broken object among good ones.
        assert_eq!(of(&[Some(b"\"x\""), Some(b"12")]), Sniffed::String);
        assert_eq!(of(&[Some(obj), Some(b"{\"a\": ")]), Sniffed::String);
        assert_eq!(of(&[Some("héllo".as_bytes())]), Sniffed::String);
        assert_eq!(
            of(&[Some(&[0xff, 0xfe]), Some(b"ok")]),
            Sniffed::Binary { width: None }
        );
    }

    #[test]
    fn fixed_widths_of_four_or_eight_bytes_are_hinted() {
        let long = 42i64.to_be_bytes();
        let int = 0x8000_0001u32.to_be_bytes();
        assert_eq!(
            of(&[Some(&long), Some(&long)]),
            Sniffed::Binary { width: Some(8) }
        );
        let zero_id: &[u8] = &[0, 0, 0, 0, 0, 1];
        assert_eq!(of(&[Some(zero_id)]), Sniffed::Binary { width: None });
        assert_eq!(of(&[Some(&int)]), Sniffed::Binary { width: Some(4) });
        assert_eq!(
            of(&[Some(&int), Some(&long)]),
            Sniffed::Binary { width: None }
        );
        // Small big-endian numbers start with 0: framing needs 5 bytes at least.
        assert_eq!(
            of(&[Some(&[0, 0, 0, 9])]),
            Sniffed::Binary { width: Some(4) }
        );
    }
}
