//! JSON values, for the little JSON the engine reads whole: Avro schema texts and their field
//! defaults. Records are never decoded through this tree.
//!
//! A small parser of RFC 8259 (no extensions: no comments, no trailing commas, no `NaN`) and a
//! compact writer. It exists so that the page's wasm bundle carries neither serde_json nor
//! apache-avro (their code was ~45 KB of the bundle gzipped).
//!
//! Numbers keep their literal text, so a value is written back as it was read; [`Json::as_i64`]
//! and [`Json::as_f64`] read it on demand (floats through [`crate::text`], as the formula
//! parser's literals are). Objects keep their keys in order; a repeated key keeps its last value,
//! as serde_json does.
//!
//! Invariant: a parsed tree nests at most [`MAX_DEPTH`] arrays and objects deep, so walking it
//! recursively cannot exhaust the stack whatever the input.

use rustc_hash::FxHashMap;
use std::fmt;

/// The deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 128;

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// A number, as its literal text (valid by JSON's grammar).
    Number(Box<str>),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses a whole JSON text (surrounding whitespace allowed).
    pub fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            at: 0,
        };
        let value = p.value(0)?;
        p.space();
        if p.at < p.s.len() {
            return Err(p.error("unexpected text after the value"));
        }
        Ok(value)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(members) => Some(members),
            _ => None,
        }
    }

    /// An object's member.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.as_object()?
            .iter()
            .find_map(|(k, v)| (k == key).then_some(v))
    }

    /// An integer literal (no fraction, no exponent) that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Number(n) if !n.contains(['.', 'e', 'E']) => n.parse().ok(),
            _ => None,
        }
    }

    /// Compact text for a message: cut after 200 characters (a schema's text comes from
    /// outside, and may be megabytes).
    pub fn shown(&self) -> String {
        const MAX: usize = 200;
        let text = self.to_string();
        match text.char_indices().nth(MAX) {
            Some((at, _)) => format!("{}…", &text[..at]),
            None => text,
        }
    }

    /// A number as the nearest `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        let Json::Number(n) = self else {
            return None;
        };
        if let Some(i) = self.as_i64() {
            // `-0` is negative zero, as a float literal.
            return Some(if i == 0 && n.starts_with('-') {
                -0.0
            } else {
                i as f64
            });
        }
        let (negative, digits) = match n.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, &**n),
        };
        let v = crate::text::parse_f64(digits)?;
        Some(if negative { -v } else { v })
    }
}

/// Compact JSON text: no spaces, numbers as read, strings escaped as JSON requires.
impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Number(n) => f.write_str(n),
            Json::String(s) => write_string(f, s),
            Json::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Json::Object(members) => {
                f.write_str("{")?;
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write_string(f, k)?;
                    write!(f, ":{v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// A JSON string literal of `s`.
pub fn write_string(out: &mut impl fmt::Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            '\u{8}' => out.write_str("\\b")?,
            '\u{c}' => out.write_str("\\f")?,
            c if u32::from(c) < 0x20 => write!(out, "\\u{:04x}", u32::from(c))?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.at)
    }

    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.s[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        self.space();
        match self.peek() {
            None => Err(self.error("the text ends where a value was expected")),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(open @ (b'[' | b'{')) => {
                if depth >= MAX_DEPTH {
                    return Err(self.error(&format!("nested deeper than {MAX_DEPTH} levels")));
                }
                self.at += 1;
                if open == b'[' {
                    self.array(depth + 1)
                } else {
                    self.object(depth + 1)
                }
            }
            Some(_) => Err(self.error("expected a JSON value")),
        }
    }

    /// After `[`: the items and the closing `]`.
    fn array(&mut self, depth: usize) -> Result<Json, String> {
        let mut items = Vec::new();
        self.space();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    /// After `{`: the members and the closing `}`.
    fn object(&mut self, depth: usize) -> Result<Json, String> {
        let mut members: Vec<(String, Json)> = Vec::new();
        // Positions by key, once an object is large enough that a scan would cost.
        // (Positions as `u32`: `FxHashMap<String, u32>` is a type the bundle has already.)
        let mut index: Option<FxHashMap<String, u32>> = None;
        self.space();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.space();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a member name (a string)"));
            }
            let key = self.string()?;
            self.space();
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:`"));
            }
            self.at += 1;
            let value = self.value(depth)?;
            let found = match &mut index {
                None if members.len() < 16 => members.iter().position(|(k, _)| *k == key),
                index => index
                    .get_or_insert_with(|| {
                        let keys = members.iter().enumerate();
                        keys.map(|(i, (k, _))| (k.clone(), i as u32)).collect()
                    })
                    .get(&key)
                    .map(|&i| i as usize),
            };
            match found {
                Some(i) => members[i].1 = value,
                None => {
                    if let Some(index) = &mut index {
                        index.insert(key.clone(), members.len() as u32);
                    }
                    members.push((key, value));
                }
            }
            self.space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(self.error("expected a digit after `.`"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("expected a digit in the exponent"));
            }
        }
        // The grammar admits only ASCII here.
        let text = String::from_utf8_lossy(&self.s[start..self.at]);
        Ok(Json::Number(text.into()))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .s
            .get(self.at..self.at + 4)
            .ok_or_else(|| self.error("a \\u escape needs four hex digits"))?;
        let mut v = 0;
        for &d in digits {
            let d = char::from(d)
                .to_digit(16)
                .ok_or_else(|| self.error("a \\u escape needs four hex digits"))?;
            v = v * 16 + d;
        }
        self.at += 4;
        Ok(v)
    }

    /// At `"`: the string's value.
    fn string(&mut self) -> Result<String, String> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error("the text ends inside a string"));
            };
            self.at += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.error("the text ends inside a string"));
                    };
                    self.at += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.error("an unknown escape in a string")),
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..0x20 => return Err(self.error("a control character in a string")),
                b => out.push(b),
            }
        }
        String::from_utf8(out).map_err(|_| self.error("a string is not valid UTF-8"))
    }

    /// After `\u`: one character, from one escape or a surrogate pair of two.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..0xDC00 => {
                if !self.s[self.at..].starts_with(b"\\u") {
                    return Err(self.error("a lone surrogate in a \\u escape"));
                }
                self.at += 2;
                let second = self.hex4()?;
                if !(0xDC00..0xE000).contains(&second) {
                    return Err(self.error("a lone surrogate in a \\u escape"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..0xE000 => return Err(self.error("a lone surrogate in a \\u escape")),
            c => c,
        };
        char::from_u32(code).ok_or_else(|| self.error("an invalid \\u escape"))
    }
}

#[cfg(all(test, feature = "std-text"))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_every_kind_of_value() {
        let j = Json::parse(r#" {"a": [1, -2.5e3, true, false, null], "b": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "c": {}} "#)
            .unwrap();
        assert_eq!(
            j.get("a").and_then(|a| a.as_array()).map(<[_]>::len),
            Some(5)
        );
        let a = j.get("a").unwrap().as_array().unwrap();
        assert_eq!(a[0].as_i64(), Some(1));
        assert_eq!(a[1].as_i64(), None);
        assert_eq!(a[1].as_f64(), Some(-2500.0));
        assert_eq!(a[2].as_bool(), Some(true));
        assert!(a[4].is_null());
        assert_eq!(
            j.get("b").unwrap().as_str(),
            Some("x\"\\/\u{8}\u{c}\n\r\té😀")
        );
        assert_eq!(j.get("c").unwrap().as_object().map(<[_]>::len), Some(0));
        assert_eq!(j.get("d"), None);
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value() {
        let j = Json::parse(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(j.to_string(), r#"{"a":3,"b":2}"#);
        // In a large object too, where keys are found through an index.
        let mut text: Vec<String> = (0..100).map(|i| format!(r#""k{i}":{i}"#)).collect();
        text.push(r#""k3":"again""#.into());
        text.push(r#""k99":"last""#.into());
        text.push(r#""new":0"#.into());
        let j = Json::parse(&format!("{{{}}}", text.join(","))).unwrap();
        let members = j.as_object().unwrap();
        assert_eq!(members.len(), 101);
        assert_eq!(members[3], ("k3".into(), Json::String("again".into())));
        assert_eq!(members[99], ("k99".into(), Json::String("last".into())));
        assert_eq!(members[100].0, "new");
    }

    #[test]
    fn minus_zero_is_negative_and_long_text_is_cut_in_messages() {
        let z = Json::parse("-0").unwrap().as_f64().unwrap();
        assert!(z == 0.0 && z.is_sign_negative());
        let long = Json::String("é".repeat(1000));
        let shown = long.shown();
        assert_eq!(shown.chars().count(), 201);
        assert!(shown.ends_with('…'));
        assert_eq!(Json::Bool(true).shown(), "true");
    }

    #[test]
    fn refuses_what_json_does_not_allow() {
        for bad in [
            "",
            " ",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "NaN",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{a:1}",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "\"a",
            "tru",
            "nul",
            "[",
            "{\"a\"}",
            "1 2",
            "\"\u{1}\"",
            "// c\n1",
        ] {
            assert!(Json::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn refuses_nesting_too_deep_without_overflowing_the_stack() {
        let deep = "[".repeat(100_000);
        let e = Json::parse(&deep).unwrap_err();
        assert!(e.contains("nested deeper than 128"), "{e}");
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(Json::parse(&ok).is_ok());
    }

    #[test]
    fn integers_beyond_i64_are_floats() {
        let j = Json::parse("18446744073709551616").unwrap();
        assert_eq!(j.as_i64(), None);
        assert_eq!(j.as_f64(), Some(18446744073709551616.0));
        assert_eq!(
            Json::parse("-9223372036854775808").unwrap().as_i64(),
            Some(i64::MIN)
        );
    }

    fn value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value as V;
        let leaf = prop_oneof![
            Just(V::Null),
            any::<bool>().prop_map(V::Bool),
            any::<i64>().prop_map(V::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(V::from),
            any::<String>().prop_map(V::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(V::Array),
                prop::collection::vec((any::<String>(), inner), 0..6)
                    .prop_map(|m| V::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Ours and serde_json's trees agree, member by member and number by number.
    fn same(ours: &Json, theirs: &serde_json::Value) -> bool {
        use serde_json::Value as V;
        match (ours, theirs) {
            (Json::Null, V::Null) => true,
            (Json::Bool(a), V::Bool(b)) => a == b,
            (Json::Number(_), V::Number(n)) => match n.as_i64() {
                Some(i) => ours.as_i64() == Some(i),
                None => ours.as_f64() == n.as_f64(),
            },
            (Json::String(a), V::String(b)) => a == b,
            (Json::Array(a), V::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
            }
            (Json::Object(a), V::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
            }
            _ => false,
        }
    }

    proptest! {
        /// serde_json writes it (compact and pretty); ours reads the same tree and writes text
        /// that serde_json reads back to it.
        #[test]
        fn agrees_with_serde_json(v in value(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            let ours = Json::parse(&text).unwrap();
            prop_assert!(same(&ours, &v), "{text}");
            let back: serde_json::Value = serde_json::from_str(&ours.to_string()).unwrap();
            prop_assert_eq!(back, v);
        }

        /// Any text: ours accepts exactly what serde_json accepts, and never panics.
        #[test]
        fn accepts_what_serde_json_accepts(text in "[\\[\\]{}\",:0-9eE.+\\- a-z\\\\]{0,24}") {
            let theirs = serde_json::from_str::<serde_json::Value>(&text);
            let ours = Json::parse(&text);
            match (&ours, &theirs) {
                (Ok(_), Ok(_)) | (Err(_), Err(_)) => {}
                // serde_json refuses a float beyond f64's range; ours keeps its text.
                (Ok(_), Err(e)) if e.to_string().contains("number out of range") => {}
                _ => prop_assert!(false, "{:?}: ours {:?}, serde_json {:?}", text, ours, theirs),
            }
        }
    }
}
