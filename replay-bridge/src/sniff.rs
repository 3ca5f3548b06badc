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

/// The bytes of a sampled key or value kept, at most: a longer one is cut to this prefix (and
/// known to be cut), so that sampling a topic of large records holds little.
pub const SAMPLE_PREFIX: usize = 4 << 10;

/// A sampled key or value, cut to [`SAMPLE_PREFIX`] bytes: `whole` when nothing was cut.
pub fn prefix(mut bytes: Vec<u8>) -> (Vec<u8>, bool) {
    let whole = bytes.len() <= SAMPLE_PREFIX;
    if !whole {
        bytes.truncate(SAMPLE_PREFIX);
        bytes.shrink_to_fit();
    }
    (bytes, whole)
}

/// The format of samples seen one at a time, holding only what the guess needs (not the
/// samples), so that a topic's samples can be dropped as each probe ends.
#[derive(Debug, Clone)]
pub struct Sniffer {
    seen: usize,
    present: usize,
    confluent: bool,
    json: bool,
    text: bool,
    /// The schema ids seen, ascending, without repeats.
    ids: Vec<u32>,
    /// The length every present sample has, while they all have the same whole one.
    width: Option<usize>,
    same_width: bool,
}

impl Default for Sniffer {
    fn default() -> Self {
        Self {
            seen: 0,
            present: 0,
            confluent: true,
            json: true,
            text: true,
            ids: Vec::new(),
            width: None,
            same_width: true,
        }
    }
}

impl Sniffer {
    /// Samples seen so far.
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// One more sample (`None`: a null): its bytes, `whole` unless cut to a prefix.
    pub fn add(&mut self, sample: Option<&[u8]>, whole: bool) {
        self.seen += 1;
        let Some(bytes) = sample else { return };
        self.present += 1;
        match confluent_id(bytes) {
            Some(id) => {
                if let Err(at) = self.ids.binary_search(&id) {
                    self.ids.insert(at, id);
                }
            }
            None => self.confluent = false,
        }
        self.json = self.json && is_json_document(bytes, whole);
        self.text = self.text && is_text(bytes, whole);
        let width = whole.then_some(bytes.len());
        if self.present == 1 {
            self.width = width;
        } else if self.width != width {
            self.same_width = false;
        }
    }

    /// The format every sample seen is in.
    pub fn finish(self) -> Sniffed {
        if self.seen == 0 {
            return Sniffed::Unknown;
        }
        if self.present == 0 {
            return Sniffed::Null;
        }
        let width = self.width.filter(|w| self.same_width && matches!(w, 4 | 8));
        // Eight bytes each, starting with 0: far likelier big-endian longs (epoch milliseconds,
        // counters) than framed records of three payload bytes.
        if self.confluent && width != Some(8) {
            return Sniffed::Confluent(self.ids);
        }
        if self.json {
            return Sniffed::Json;
        }
        if self.text {
            return Sniffed::String;
        }
        Sniffed::Binary { width }
    }
}

/// The format every one of `samples` (`None`: a null; each whole) is in.
pub fn sniff<'a>(samples: impl IntoIterator<Item = Option<&'a [u8]>>) -> Sniffed {
    let mut sniffer = Sniffer::default();
    for sample in samples {
        sniffer.add(sample, true);
    }
    sniffer.finish()
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
/// number is valid UTF-8 when its bytes are small, but no one writes NUL in text). A prefix
/// (`whole` false) may end within a character.
fn is_text(bytes: &[u8], whole: bool) -> bool {
    let valid = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        // Only a character cut at the end.
        Err(e) if !whole && e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !valid
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Whether `bytes` is one JSON object or array (whitespace around it allowed); of a prefix
/// (`whole` false), whether it is the start of one: it parses up to its end and no further.
fn is_json_document(bytes: &[u8], whole: bool) -> bool {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if !matches!(first, Some(b'{' | b'[')) {
        return false;
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Ok(_) => true,
        Err(e) => !whole && e.is_eof(),
    }
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
    fn eight_byte_longs_starting_with_zero_are_not_taken_for_framing() {
        // Epoch milliseconds as big-endian longs: 0, then a nonzero "id".
        let ms = 1_767_623_400_123i64.to_be_bytes();
        let later = 1_767_623_401_000i64.to_be_bytes();
        assert_eq!(ms[0], 0);
        assert_eq!(
            of(&[Some(&ms), None, Some(&later)]),
            Sniffed::Binary { width: Some(8) }
        );
        // Framed records of other lengths are still framing, with an 8-byte one among them.
        let framed: &[u8] = &[0, 0, 0, 0, 7, 2, 4, 6, 8];
        let short: &[u8] = &[0, 0, 0, 0, 7, 2, 4, 6];
        assert_eq!(
            of(&[Some(framed), Some(short)]),
            Sniffed::Confluent(vec![7])
        );
    }

    #[test]
    fn prefixes_of_long_records_are_judged_as_prefixes() {
        let long_json = format!("{{\"a\": \"{}\"}}", "é".repeat(SAMPLE_PREFIX));
        let (cut, whole) = prefix(long_json.clone().into_bytes());
        assert!(!whole && cut.len() == SAMPLE_PREFIX);
        let mut sniffer = Sniffer::default();
        sniffer.add(Some(&cut), whole);
        assert_eq!(
            sniffer.finish(),
            Sniffed::Json,
            "the start of a JSON object"
        );
        // The same bytes taken as whole are neither JSON nor text: a character cut in two at
        // the end is allowed only in a prefix.
        let mut sniffer = Sniffer::default();
        sniffer.add(Some(&cut), true);
        assert_eq!(sniffer.finish(), Sniffed::Binary { width: None });
        // A prefix that goes wrong before its end is not JSON.
        let (cut, whole) =
            prefix(format!("{{\"a\": 1}} x{}", " ".repeat(SAMPLE_PREFIX)).into_bytes());
        let mut sniffer = Sniffer::default();
        sniffer.add(Some(&cut), whole);
        assert_eq!(sniffer.finish(), Sniffed::String);
        let (short, whole) = prefix(b"short".to_vec());
        assert!(whole && short == b"short");
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
