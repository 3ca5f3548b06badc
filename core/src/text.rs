//! Text services that the engine may take from the program embedding it: parsing a float
//! literal, and Unicode case mapping.
//!
//! std's implementations carry large tables (the powers of five that make float parsing exact,
//! and Unicode's case mappings): about 30 KB of a gzipped wasm bundle, for a formula's float
//! literals and a `toUpperCase()` of a non-ASCII string. A browser already has both, as exact:
//! ECMAScript's `parseFloat` rounds correctly, and `toUpperCase`/`toLowerCase` are Unicode's
//! default full case mappings, as `str::to_uppercase` is. So the feature `std-text` (on by
//! default) uses std's, and a build without it (the page's wasm package) uses what its host
//! installs with [`install`]. ASCII text never leaves the engine.
//!
//! Without `std-text` and without a host, a formula that needs one is refused when it is
//! compiled ([`require`]), never evaluated to a wrong value.

use std::sync::OnceLock;

/// Float parsing and case mapping, as the host does them.
#[derive(Debug, Clone, Copy)]
pub struct TextHost {
    /// A float literal (digits, an optional fraction and exponent) to the nearest `f64`.
    pub parse_f64: fn(&str) -> Option<f64>,
    pub to_uppercase: fn(&str) -> String,
    pub to_lowercase: fn(&str) -> String,
}

static HOST: OnceLock<TextHost> = OnceLock::new();

/// Installs the host's text services, once; `false` if some were installed already.
pub fn install(host: TextHost) -> bool {
    HOST.set(host).is_ok()
}

#[cfg(feature = "std-text")]
static STD: TextHost = TextHost {
    parse_f64: |s| s.parse().ok(),
    to_uppercase: str::to_uppercase,
    to_lowercase: str::to_lowercase,
};

fn host() -> Option<&'static TextHost> {
    #[cfg(feature = "std-text")]
    return Some(HOST.get().unwrap_or(&STD));
    #[cfg(not(feature = "std-text"))]
    return HOST.get();
}

/// Whether text services are available, for the compiler to refuse a formula that needs them.
pub(crate) fn require(what: &str) -> Result<(), String> {
    match host() {
        Some(_) => Ok(()),
        None => Err(format!(
            "{what} needs text services this build of the engine lacks \
             (build it with the feature std-text, or install a host's with text::install)"
        )),
    }
}

/// A float literal's value; `None` if it is not one (or no host parses it).
pub(crate) fn parse_f64(literal: &str) -> Option<f64> {
    host().and_then(|h| (h.parse_f64)(literal))
}

pub(crate) fn to_uppercase(s: &str) -> Option<String> {
    match s.is_ascii() {
        true => Some(s.to_ascii_uppercase()),
        false => host().map(|h| (h.to_uppercase)(s)),
    }
}

pub(crate) fn to_lowercase(s: &str) -> Option<String> {
    match s.is_ascii() {
        true => Some(s.to_ascii_lowercase()),
        false => host().map(|h| (h.to_lowercase)(s)),
    }
}

#[cfg(all(test, feature = "std-text"))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The ASCII path is std's, exactly.
        #[test]
        fn case_mapping_is_stds(s in "\\PC{0,12}") {
            prop_assert_eq!(to_uppercase(&s), Some(s.to_uppercase()));
            prop_assert_eq!(to_lowercase(&s), Some(s.to_lowercase()));
        }

        #[test]
        fn float_literals_are_stds(mantissa in any::<u64>(), scale in -30i32..30, exp in -320i32..320) {
            let text = format!("{}e{exp}", mantissa as f64 * 10f64.powi(scale));
            prop_assert_eq!(parse_f64(&text), text.parse().ok());
        }
    }

    #[test]
    fn non_ascii_goes_to_the_host() {
        assert_eq!(to_uppercase("straße").as_deref(), Some("STRASSE"));
        assert_eq!(to_lowercase("ΟΔΟΣ").as_deref(), Some("οδος"));
        assert!(require("a float literal").is_ok());
    }
}
