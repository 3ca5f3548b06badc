//! The browser's text services for the engine (see `streamglass_core::text`): JavaScript's
//! `parseFloat` for formulas' float literals (ECMAScript rounds to the nearest double, as std's
//! parser does) and `String.prototype.toUpperCase`/`toLowerCase` (Unicode's default full case
//! mappings, as std's). The package is built without core's `std-text`, whose tables would add
//! about 30 KB to the gzipped bundle.

use js_sys::JsString;

fn parse_f64(literal: &str) -> Option<f64> {
    let value = js_sys::Number::parse_float(literal);
    (!value.is_nan()).then_some(value)
}

fn to_uppercase(s: &str) -> String {
    JsString::from(s).to_upper_case().into()
}

fn to_lowercase(s: &str) -> String {
    JsString::from(s).to_lower_case().into()
}

/// Installs them (once; later calls change nothing).
pub(crate) fn install() {
    streamglass_core::text::install(streamglass_core::text::TextHost {
        parse_f64,
        to_uppercase,
        to_lowercase,
    });
}
