//! [`Scanner`]: a JSON document read once, left to right, token by token, with no value tree.
//!
//! The document is checked as UTF-8 once, up front ([`Scanner::new`]); every string handed out is
//! then a slice of it (cut at a quote, so at a character boundary) or its unescaped copy. Numbers
//! are read as their digits ([`Number`]): an integer exactly, a float exactly where `f64` can
//! hold the digits and the power of ten (Clinger's fast path), else through [`crate::text`]'s
//! correctly rounded parser (the browser's `parseFloat` in the page). [`Scanner::skip`] walks a
//! value it does not keep, with an explicit stack, so no input can exhaust the call stack.
//!
//! Invariant: every method either leaves the scanner just past what it read, or fails with a
//! [`DecodeReason::BadJson`] naming the byte; it accepts exactly RFC 8259's grammar (no
//! comments, trailing commas, `NaN`, or leading zeros), as serde_json does.

use crate::DecodeReason;

/// The deepest nesting of arrays and objects a document may have (as [`crate::json::MAX_DEPTH`]).
pub const MAX_DEPTH: usize = crate::json::MAX_DEPTH;

/// A number's literal, read: its digits as an integer (while they fit), and a power of ten.
#[derive(Debug, Clone, Copy)]
pub struct Number {
    /// The literal's bytes in the document.
    pub start: usize,
    pub end: usize,
    pub negative: bool,
    /// No fraction and no exponent.
    pub integer: bool,
    /// The significant digits, when there are at most 19 of them.
    pub digits: u64,
    /// More digits than `digits` holds.
    pub long: bool,
    /// The value is `digits × 10^exponent` (when not `long`).
    pub exponent: i32,
}

/// Powers of ten that `f64` holds exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

impl Number {
    /// The value as an `i64`, if it is an integer literal within range.
    #[inline(always)]
    pub fn as_i64(&self) -> Option<i64> {
        if !self.integer || self.long {
            return None;
        }
        if self.negative {
            if self.digits <= 1 << 63 {
                Some((self.digits as i64).wrapping_neg())
            } else {
                None
            }
        } else {
            i64::try_from(self.digits).ok()
        }
    }

    /// The value as an `i64` if it is integral and within range, whatever its literal: `1.0`,
    /// `1e3` and `2.50e2` are 1, 1000 and 250 (as JSON Schema's `integer` counts them); `1.5` is
    /// none. A literal with more than 19 significant digits counts only as an integer literal.
    #[cfg_attr(streamglass_site, optimize(speed))]
    pub fn as_integral_i64(&self) -> Option<i64> {
        if self.integer || self.long {
            return self.as_i64();
        }
        let magnitude = if self.exponent >= 0 {
            10u64
                .checked_pow(self.exponent.unsigned_abs())?
                .checked_mul(self.digits)?
        } else {
            match 10u64.checked_pow(self.exponent.unsigned_abs()) {
                Some(p) if self.digits.is_multiple_of(p) => self.digits / p,
                Some(_) => return None,
                None if self.digits == 0 => 0,
                None => return None,
            }
        };
        if self.negative {
            if magnitude <= 1 << 63 {
                Some((magnitude as i64).wrapping_neg())
            } else {
                None
            }
        } else {
            i64::try_from(magnitude).ok()
        }
    }

    /// The value as the nearest `f64`; `None` beyond `f64`'s range (or with no float parser).
    #[inline(always)]
    pub fn as_f64(&self, text: &[u8]) -> Option<f64> {
        let v = if !self.long && self.digits < 1 << 53 && (-22..=22).contains(&self.exponent) {
            let m = self.digits as f64;
            let p = POW10[self.exponent.unsigned_abs() as usize];
            if self.exponent >= 0 { m * p } else { m / p }
        } else {
            self.parse_f64(text)?
        };
        Some(if self.negative { -v } else { v })
    }

    /// The literal's magnitude through the text host's correctly rounded parser.
    #[cold]
    #[inline(never)]
    fn parse_f64(&self, text: &[u8]) -> Option<f64> {
        let start = self.start + usize::from(self.negative);
        let digits = std::str::from_utf8(text.get(start..self.end)?).ok()?;
        crate::text::parse_f64(digits).filter(|v| v.is_finite())
    }
}

/// The high bit of each byte of `w` that may be a quote, a backslash or a control character
/// (the lowest set bit is exact; bits above it may be false hits).
#[inline(always)]
fn special(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    zero(w ^ (ONES * u64::from(b'"')))
        | zero(w ^ (ONES * u64::from(b'\\')))
        | (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
}

/// A reader over one document.
pub struct Scanner<'a> {
    pub text: &'a str,
    bytes: &'a [u8],
    pub at: usize,
}

#[cold]
#[inline(never)]
pub fn bad(at: usize, what: &'static str) -> DecodeReason {
    DecodeReason::BadJson { at, what }
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `doc`, which must be UTF-8.
    #[inline]
    pub fn new(doc: &'a [u8]) -> Result<Self, DecodeReason> {
        let text = std::str::from_utf8(doc)
            .map_err(|e| bad(e.valid_up_to(), "the document is not valid UTF-8"))?;
        Ok(Self {
            text,
            bytes: doc,
            at: 0,
        })
    }

    #[inline(always)]
    pub fn ws(&mut self) {
        self.at = ws(self.bytes, self.at);
    }

    #[inline(always)]
    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Whitespace, then `byte`.
    #[inline(always)]
    pub fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), DecodeReason> {
        self.ws();
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    #[cold]
    pub fn error(&self, what: &'static str) -> DecodeReason {
        bad(
            self.at,
            if self.at >= self.bytes.len() {
                "the document ends too early"
            } else {
                what
            },
        )
    }

    /// Whether the rest is whitespace.
    pub fn at_end(&mut self) -> bool {
        self.ws();
        self.at == self.bytes.len()
    }

    /// At `word` (`true`, `false`, `null`): reads it.
    #[inline]
    pub fn literal(&mut self, word: &'static str) -> Result<(), DecodeReason> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(())
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    /// At `"`: the string's raw text between its quotes, and whether it has escapes.
    #[inline]
    pub fn string(&mut self) -> Result<(&'a str, bool), DecodeReason> {
        let start = self.at + 1;
        let (end, escaped) = string_end(self.bytes, start)?;
        self.at = end + 1;
        let raw = self
            .text
            .get(start..end)
            .ok_or_else(|| bad(start, "the document ends inside a string"))?;
        Ok((raw, escaped))
    }

    /// The document's bytes.
    #[inline(always)]
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// At `"`: a string not kept, its escapes checked.
    fn checked_string(&mut self) -> Result<(), DecodeReason> {
        let at = self.at + 1;
        if let (raw, true) = self.string()? {
            Self::unescape(raw, at, &mut String::new())?;
        }
        Ok(())
    }

    /// A string's raw text (from [`Scanner::string`]) with its escapes resolved, into `out`.
    /// `at` is where the raw text starts, for errors.
    pub fn unescape(raw: &str, at: usize, out: &mut String) -> Result<(), DecodeReason> {
        out.clear();
        let mut rest = raw;
        while let Some(i) = rest.find('\\') {
            out.push_str(&rest[..i]);
            let err = |what| bad(at + (raw.len() - rest.len()) + i, what);
            let e = rest.as_bytes().get(i + 1).copied();
            rest = rest.get(i + 2..).unwrap_or_default();
            let c = match e {
                Some(b'"') => '"',
                Some(b'\\') => '\\',
                Some(b'/') => '/',
                Some(b'b') => '\u{8}',
                Some(b'f') => '\u{c}',
                Some(b'n') => '\n',
                Some(b'r') => '\r',
                Some(b't') => '\t',
                Some(b'u') => {
                    let hex = |s: &str| -> Option<u32> {
                        let h = s.get(..4)?;
                        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return None;
                        }
                        u32::from_str_radix(h, 16).ok()
                    };
                    let first =
                        hex(rest).ok_or_else(|| err("a \\u escape needs four hex digits"))?;
                    rest = &rest[4..];
                    let code = match first {
                        0xD800..0xDC00 => {
                            let second = rest
                                .strip_prefix("\\u")
                                .and_then(hex)
                                .filter(|s| (0xDC00..0xE000).contains(s))
                                .ok_or_else(|| err("a lone surrogate in a \\u escape"))?;
                            rest = &rest[6..];
                            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                        }
                        0xDC00..0xE000 => return Err(err("a lone surrogate in a \\u escape")),
                        c => c,
                    };
                    char::from_u32(code).ok_or_else(|| err("an invalid \\u escape"))?
                }
                _ => return Err(err("an unknown escape in a string")),
            };
            out.push(c);
        }
        out.push_str(rest);
        Ok(())
    }

    /// At `-` or a digit: a number.
    #[inline(always)]
    pub fn number(&mut self) -> Result<Number, DecodeReason> {
        let (n, end) = number(self.bytes, self.at)?;
        self.at = end;
        Ok(n)
    }

    /// Skips one value (after whitespace) found inside `outer` open arrays and objects,
    /// checking its grammar; appends its compact text (no whitespace outside strings) to `copy`
    /// if given.
    pub fn skip(
        &mut self,
        outer: usize,
        mut copy: Option<&mut Vec<u8>>,
    ) -> Result<(), DecodeReason> {
        // Bit `d` of `objects` says whether level `d` is an object (else an array).
        let mut objects: u128 = 0;
        let mut depth = 0usize;
        let text = self.text;
        macro_rules! out {
            ($s:expr) => {
                if let Some(c) = copy.as_deref_mut() {
                    c.extend_from_slice($s.as_bytes());
                }
            };
        }
        'value: loop {
            self.ws();
            let start = self.at;
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    if outer + depth >= MAX_DEPTH {
                        return Err(bad(start, "nested deeper than 128 levels"));
                    }
                    self.at += 1;
                    self.ws();
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.at += 1;
                        out!(if open == b'{' { "{}" } else { "[]" });
                    } else {
                        if open == b'{' {
                            objects |= 1 << depth;
                            out!("{");
                            self.member_name(&mut copy)?;
                        } else {
                            objects &= !(1 << depth);
                            out!("[");
                        }
                        depth += 1;
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    self.checked_string()?;
                    out!(&text[start..self.at]);
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                    out!(&text[start..self.at]);
                }
                Some(b't') => {
                    self.literal("true")?;
                    out!("true");
                }
                Some(b'f') => {
                    self.literal("false")?;
                    out!("false");
                }
                Some(b'n') => {
                    self.literal("null")?;
                    out!("null");
                }
                _ => return Err(self.error("expected a JSON value")),
            }
            // After a value: close containers, or go on to the next item.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let object = objects & (1 << (depth - 1)) != 0;
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        out!(",");
                        if object {
                            self.member_name(&mut copy)?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if object => {
                        self.at += 1;
                        out!("}");
                        depth -= 1;
                    }
                    Some(b']') if !object => {
                        self.at += 1;
                        out!("]");
                        depth -= 1;
                    }
                    _ => {
                        return Err(self.error(if object {
                            "expected `,` or `}`"
                        } else {
                            "expected `,` or `]`"
                        }));
                    }
                }
            }
        }
    }

    /// A member's name and its `:`, copied.
    fn member_name(&mut self, copy: &mut Option<&mut Vec<u8>>) -> Result<(), DecodeReason> {
        self.ws();
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a member name (a string)"));
        }
        let start = self.at;
        self.checked_string()?;
        if let Some(c) = copy.as_deref_mut() {
            c.extend_from_slice(self.text.as_bytes().get(start..self.at).unwrap_or_default());
            c.push(b':');
        }
        self.expect(b':', "expected `:`")
    }
}

// The scanner's steps as functions of a position passed by value and handed back, so that a
// caller keeps its position in a local (in wasm32, a scanner passed by reference to a call lives
// in memory, and every step is a store and a load).

/// The position after any whitespace from `at`: inline, one compare when there is none (a
/// producer's compact JSON), the rest out of line.
#[inline(always)]
pub fn ws(bytes: &[u8], at: usize) -> usize {
    match bytes.get(at) {
        Some(&c) if c <= b' ' => ws_run(bytes, at),
        _ => at,
    }
}

#[inline(never)]
#[cfg_attr(streamglass_site, optimize(speed))]
fn ws_run(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// An error at `at`, or "ends too early" past the end.
#[cold]
#[inline(never)]
fn bad_at(bytes: &[u8], at: usize, what: &'static str) -> DecodeReason {
    bad(
        at,
        if at >= bytes.len() {
            "the document ends too early"
        } else {
            what
        },
    )
}

/// The string whose raw text starts at `start` (just past its `"`): where its closing quote is,
/// and whether it has escapes (not checked). Out of line, as [`number`].
#[inline(never)]
#[cfg_attr(streamglass_site, optimize(speed))]
pub fn string_end(bytes: &[u8], start: usize) -> Result<(usize, bool), DecodeReason> {
    let mut i = start;
    let mut escaped = false;
    loop {
        // Eight bytes at a time while none is a quote, a backslash or a control character.
        if let Some(word) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
            let hits = special(u64::from_le_bytes(*word));
            if hits == 0 {
                i += 8;
                continue;
            }
            i += (hits.trailing_zeros() / 8) as usize;
        }
        match bytes.get(i) {
            Some(b'"') => return Ok((i, escaped)),
            Some(b'\\') => {
                escaped = true;
                i += 2;
            }
            Some(0..0x20) => return Err(bad(i, "a control character in a string")),
            Some(_) => i += 1,
            None => return Err(bad(bytes.len(), "the document ends inside a string")),
        }
    }
}

/// The digits from `at` into `n` (a fraction's lower its exponent): where they end.
#[inline(always)]
fn digits(bytes: &[u8], mut at: usize, n: &mut Number, fraction: bool) -> usize {
    while let Some(&d @ b'0'..=b'9') = bytes.get(at) {
        at += 1;
        if n.digits < 1_000_000_000_000_000_000 {
            n.digits = n.digits * 10 + u64::from(d - b'0');
            if fraction {
                n.exponent -= 1;
            }
        } else if !fraction {
            // A digit beyond 19 in the integer part: the value is `long`, its text kept.
            n.long = true;
            n.exponent = n.exponent.saturating_add(1);
        } else if d != b'0' {
            n.long = true;
        }
    }
    at
}

/// At `-` or a digit (at `at`): a number, and where it ends. Out of line: one copy for the
/// one-pass form and the scanner (the page is built for size).
#[inline(never)]
#[cfg_attr(streamglass_site, optimize(speed))]
pub fn number(bytes: &[u8], mut at: usize) -> Result<(Number, usize), DecodeReason> {
    let mut n = Number {
        start: at,
        end: at,
        negative: false,
        integer: true,
        digits: 0,
        long: false,
        exponent: 0,
    };
    if bytes.get(at) == Some(&b'-') {
        n.negative = true;
        at += 1;
    }
    match bytes.get(at) {
        Some(b'0') => {
            at += 1;
            if let Some(b'0'..=b'9') = bytes.get(at) {
                return Err(bad_at(bytes, at, "a number with a leading zero"));
            }
        }
        Some(b'1'..=b'9') => at = digits(bytes, at, &mut n, false),
        _ => return Err(bad_at(bytes, at, "expected a digit")),
    }
    if bytes.get(at) == Some(&b'.') {
        n.integer = false;
        let after = digits(bytes, at + 1, &mut n, true);
        if after == at + 1 {
            return Err(bad_at(bytes, after, "expected a digit after `.`"));
        }
        at = after;
    }
    if let Some(b'e' | b'E') = bytes.get(at) {
        n.integer = false;
        at += 1;
        let negative = match bytes.get(at) {
            Some(b'-') => {
                at += 1;
                true
            }
            Some(b'+') => {
                at += 1;
                false
            }
            _ => false,
        };
        let mut e: i32 = 0;
        let start = at;
        while let Some(&d @ b'0'..=b'9') = bytes.get(at) {
            at += 1;
            e = e.saturating_mul(10).saturating_add(i32::from(d - b'0'));
        }
        if at == start {
            return Err(bad_at(bytes, at, "expected a digit in the exponent"));
        }
        n.exponent = n
            .exponent
            .saturating_add(if negative { e.saturating_neg() } else { e });
    }
    n.end = at;
    Ok((n, at))
}
