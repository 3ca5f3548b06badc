//! Doubles as text, in std's own formats (`{}` and `{:?}` of an `f64`), written from the shortest
//! digits that read back as the same double (ryu's, the `small` tables).
//!
//! std's float formatting carries Grisu with a Dragon4 fallback, big-number arithmetic and an
//! exact-precision path: about 20 KB of the wasm bundle, for formulas' string conversion and
//! Avro values shown as JSON. ryu finds the same shortest digits (both are the shortest that
//! round-trip, the closest to the exact value when several are as short) in a few KB; the layout
//! is ours. The invariant: every function here writes exactly the text std's formatting writes
//! for the same value (its `tests` module checks it on the edges and on random doubles).

/// A finite, nonzero double's magnitude as `0.d₁d₂…dₙ × 10^point`: the shortest digits that
/// round-trip, `d₁` and `dₙ` nonzero.
struct Digits {
    digits: [u8; 17],
    len: usize,
    point: i32,
}

impl Digits {
    fn of(v: f64) -> Self {
        let mut buffer = ryu::Buffer::new();
        // ryu writes `123.45`, `0.00012`, `1e21` or `1.5e-7`: digits, a point, an exponent.
        let text = buffer.format_finite(v.abs());
        let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
        let mut d = Self {
            digits: [0; 17],
            len: 0,
            point: exponent_value(exponent),
        };
        let mut after_point = false;
        for &b in mantissa.as_bytes() {
            match b {
                b'.' => after_point = true,
                b'0' if d.len == 0 => d.point -= i32::from(after_point),
                _ => {
                    if d.len < d.digits.len() {
                        d.digits[d.len] = b;
                        d.len += 1;
                    }
                    d.point += i32::from(!after_point);
                }
            }
        }
        while d.len > 1 && d.digits[d.len - 1] == b'0' {
            d.len -= 1;
        }
        if d.is_below_tie(v) {
            // ryu breaks an exact tie to the even digit, std away from zero (Dragon4's round
            // half up): `…5` then has two shortest candidates, and std's is the upper one. ryu's
            // choice is even, so its last digit is below 9 and no carry can follow.
            d.digits[d.len - 1] += 1;
        }
        d
    }

    /// Whether `|v|` is exactly halfway between these digits and the next ones up:
    /// `|v| = (D + ½) × 10^k`, `D` the digits as an integer and `k` the scale of the last one.
    fn is_below_tie(&self, v: f64) -> bool {
        let bits = v.to_bits();
        let (biased, fraction) = ((bits >> 52) & 0x7ff, bits & ((1 << 52) - 1));
        let (mut m, mut e) = match biased {
            0 => (fraction, -1074),
            _ => (fraction | 1 << 52, biased as i32 - 1075),
        };
        if m == 0 {
            return false;
        }
        e += m.trailing_zeros() as i32;
        m >>= m.trailing_zeros();
        // |v| = m × 2^e with m odd, and 2|v| = (2D + 1) × 5^k × 2^k with 2D + 1 odd: equal
        // exactly when k = e + 1 and the odd parts agree.
        let k = self.point - self.len as i32;
        if k != e + 1 {
            return false;
        }
        let odd = self
            .text()
            .bytes()
            .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'))
            * 2
            + 1;
        let (small, large) = if k >= 0 { (odd, m) } else { (m, odd) };
        let five_power = (0..k.unsigned_abs()).try_fold(small, |n, _| n.checked_mul(5));
        five_power == Some(large)
    }

    fn text(&self) -> &str {
        // ASCII digits only.
        std::str::from_utf8(&self.digits[..self.len]).unwrap_or_default()
    }

    /// Plain decimal notation (std's `{}`): `0.000123`, `12.5`, `1000`.
    fn push_decimal(&self, out: &mut String) {
        let digits = self.text();
        if self.point <= 0 {
            out.push_str("0.");
            push_zeros(out, -self.point);
            out.push_str(digits);
        } else if (self.point as usize) < self.len {
            let (int, frac) = digits.split_at(self.point as usize);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        } else {
            out.push_str(digits);
            push_zeros(out, self.point - self.len as i32);
        }
    }

    /// Scientific notation: `d₁.d₂…dₙ` (or `d₁` alone, or `d₁.0` with `always_fraction`), then
    /// `exponent_mark` and the exponent (`e-7`, `E21`: no `+`, no leading zeros).
    fn push_scientific(&self, out: &mut String, always_fraction: bool, exponent_mark: char) {
        let (first, rest) = self.text().split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        } else if always_fraction {
            out.push_str(".0");
        }
        out.push(exponent_mark);
        push_int(out, self.point - 1);
    }
}

/// ryu's exponent: an optional `-` and decimal digits.
fn exponent_value(text: &str) -> i32 {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, text),
    };
    let magnitude = digits
        .bytes()
        .fold(0i32, |n, b| n * 10 + i32::from(b.wrapping_sub(b'0')));
    if negative { -magnitude } else { magnitude }
}

fn push_zeros(out: &mut String, n: i32) {
    out.extend(std::iter::repeat_n('0', n.max(0) as usize));
}

fn push_int(out: &mut String, n: i32) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    out.extend(digits[i..].iter().map(|&b| char::from(b)));
}

/// NaN, the infinities and zeros, as std writes them (`NaN` without a sign; `-` before a
/// negative number, `-0` included); `None` for a finite nonzero number, after its sign.
fn push_special(out: &mut String, v: f64, zero: &str) -> Option<()> {
    if v.is_nan() {
        out.push_str("NaN");
        return Some(());
    }
    if v.is_sign_negative() {
        out.push('-');
    }
    if v.is_infinite() {
        out.push_str("inf");
        return Some(());
    }
    (v == 0.0).then(|| out.push_str(zero))
}

/// `v` as `format!("{v}")` writes it: plain decimals, never an exponent (`1e21` is
/// `1000000000000000000000`, `1e-7` is `0.0000001`), `1` for 1.0, `-0`, `NaN`, `inf`.
pub fn push_display(out: &mut String, v: f64) {
    if push_special(out, v, "0").is_none() {
        Digits::of(v).push_decimal(out);
    }
}

/// [`push_display`] to a new string.
pub fn display(v: f64) -> String {
    let mut out = String::new();
    push_display(&mut out, v);
    out
}

/// `v` as `format!("{v:?}")` writes it: as [`push_display`] with a fraction always (`1.0`,
/// `-0.0`), but in scientific notation below 1e-4 and from 1e16 on (`1e-7`, `1.5e16`).
pub fn push_debug(out: &mut String, v: f64) {
    if push_special(out, v, "0.0").is_some() {
        return;
    }
    let d = Digits::of(v);
    let magnitude = v.abs();
    if !(1e-4..1e16).contains(&magnitude) {
        d.push_scientific(out, false, 'e');
    } else {
        d.push_decimal(out);
        if d.point >= d.len as i32 {
            out.push_str(".0");
        }
    }
}

/// A double whose `Display` and `Debug` are [`push_display`] and [`push_debug`] (without std's
/// padding and precision options), for error messages and derived-looking `Debug` output.
#[derive(Clone, Copy, PartialEq)]
pub struct Float(pub f64);

impl std::fmt::Display for Float {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&display(self.0))
    }
}

impl std::fmt::Debug for Float {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        push_debug(&mut out, self.0);
        f.write_str(&out)
    }
}

/// `v` (finite, nonzero) in Java's scientific shape with the shortest digits: `1.0E7`,
/// `1.234E-5` (what `Double.toString` writes outside [1e-3, 1e7)).
pub(crate) fn push_java_scientific(out: &mut String, v: f64) {
    if v.is_sign_negative() {
        out.push('-');
    }
    Digits::of(v).push_scientific(out, true, 'E');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn debug(v: f64) -> String {
        let mut out = String::new();
        push_debug(&mut out, v);
        out
    }

    /// The edges, spelled out: what the page shows must not depend on std's version.
    #[test]
    fn edges() {
        // 309 digits; 307 and 323 zeros after the point.
        let max = format!("17976931348623157{}", "0".repeat(292));
        let min_normal = format!("0.{}22250738585072014", "0".repeat(307));
        let min_subnormal = format!("0.{}5", "0".repeat(323));
        let cases: [(f64, &str, &str); 27] = [
            (0.0, "0", "0.0"),
            (-0.0, "-0", "-0.0"),
            (1.0, "1", "1.0"),
            (-2.5, "-2.5", "-2.5"),
            (100.0, "100", "100.0"),
            (0.1, "0.1", "0.1"),
            (0.3, "0.3", "0.3"),
            (0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"),
            (1e-4, "0.0001", "0.0001"),
            (1e-7, "0.0000001", "1e-7"),
            (-1.5e-7, "-0.00000015", "-1.5e-7"),
            (123456.789, "123456.789", "123456.789"),
            (9007199254740993.0, "9007199254740992", "9007199254740992.0"),
            (1e15, "1000000000000000", "1000000000000000.0"),
            (1e16, "10000000000000000", "1e16"),
            (1.25e16, "12500000000000000", "1.25e16"),
            (1e21, "1000000000000000000000", "1e21"),
            (f64::MAX, &max, "1.7976931348623157e308"),
            (f64::MIN_POSITIVE, &min_normal, "2.2250738585072014e-308"),
            (5e-324, &min_subnormal, "5e-324"),
            (
                f64::from(0.1f32),
                "0.10000000149011612",
                "0.10000000149011612",
            ),
            (f64::from(16777217f32), "16777216", "16777216.0"),
            // An exact tie between two shortest candidates (the double is -10.6199493408203125):
            // std takes the upper one, ryu the even one.
            (
                f64::from(f32::from_bits(0xc129_eb50)),
                "-10.619949340820313",
                "-10.619949340820313",
            ),
            (f64::NAN, "NaN", "NaN"),
            (-f64::NAN, "NaN", "NaN"),
            (f64::INFINITY, "inf", "inf"),
            (f64::NEG_INFINITY, "-inf", "-inf"),
        ];
        for (v, shown, debugged) in cases {
            assert_eq!(display(v), shown, "{{}} of {v:e}");
            assert_eq!(debug(v), debugged, "{{:?}} of {v:e}");
            // std, for the record.
            assert_eq!(format!("{v}"), shown);
            assert_eq!(format!("{v:?}"), debugged);
        }
    }

    /// Java's shape with Rust's shortest digits (Java itself writes `4.9E-324` for the last one).
    #[test]
    fn java_scientific() {
        for (v, text) in [
            (1e7, "1.0E7"),
            (1.234e-5, "1.234E-5"),
            (-1e21, "-1.0E21"),
            (1.7976931348623157e308, "1.7976931348623157E308"),
            (5e-324, "5.0E-324"),
        ] {
            let mut out = String::new();
            push_java_scientific(&mut out, v);
            assert_eq!(out, text);
        }
    }

    proptest! {
        /// Any double, from its bits: std's text exactly.
        #[test]
        fn any_double_is_written_as_std_writes_it(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assert_eq!(display(v), format!("{v}"));
            prop_assert_eq!(debug(v), format!("{v:?}"));
        }

        /// Short decimals (what data and formulas mostly hold), and floats widened to doubles.
        #[test]
        fn short_decimals_and_floats(m in -1_000_000i64..1_000_000, e in -30i32..30, f in any::<u32>()) {
            let v = m as f64 * 10f64.powi(e);
            prop_assert_eq!(display(v), format!("{v}"));
            prop_assert_eq!(debug(v), format!("{v:?}"));
            let w = f64::from(f32::from_bits(f));
            prop_assert_eq!(display(w), format!("{w}"));
            prop_assert_eq!(debug(w), format!("{w:?}"));
        }
    }
}
