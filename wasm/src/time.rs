//! The browser's time zone database for the engine (see `streamglass_core::time::zone`): a
//! zone's UTC offset at a second, read from `Intl.DateTimeFormat` (the ICU data every browser
//! ships, kept current by browser updates). The package is built without core's `tzdb`, whose
//! bundled database would add to the gzipped bundle (BENCHMARKS.md has both sizes).
//!
//! One `DateTimeFormat` is made per zone (a 24-hour clock, every field numeric, `en-US`) and
//! kept; an offset is the zone's wall clock (from `formatToParts`) minus the instant. The core
//! calls this only to fill its per-zone cache of transitions, never per row.

use std::cell::RefCell;

use js_sys::{Array, Object, Reflect};
use streamglass_core::time::calendar::days_from_civil;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Intl, js_name = DateTimeFormat)]
    type ZoneFormat;

    /// Throws a RangeError for a zone the browser does not know: caught, so a bad zone is a
    /// formula error, not an exception through the engine.
    #[wasm_bindgen(constructor, js_namespace = Intl, js_class = "DateTimeFormat", catch)]
    fn new(locale: &str, options: &Object) -> Result<ZoneFormat, JsValue>;

    #[wasm_bindgen(method, js_class = "DateTimeFormat", js_name = formatToParts)]
    fn format_to_parts(this: &ZoneFormat, epoch_millis: f64) -> Array;
}

thread_local! {
    static FORMATS: RefCell<Vec<(String, Option<ZoneFormat>)>> = const { RefCell::new(Vec::new()) };
}

fn format_for(id: &str) -> Option<ZoneFormat> {
    let options = Object::new();
    let set = |k: &str, v: &str| Reflect::set(&options, &k.into(), &v.into()).is_ok();
    let ok = set("timeZone", id)
        && set("hourCycle", "h23")
        && set("era", "short")
        && ["year", "month", "day", "hour", "minute", "second"]
            .iter()
            .all(|k| set(k, "numeric"));
    if !ok {
        return None;
    }
    ZoneFormat::new("en-US", &options).ok()
}

/// The wall clock of `format` at `epoch_second`, as seconds since the local epoch.
fn wall_clock(format: &ZoneFormat, epoch_second: i64) -> Option<i64> {
    let parts = format.format_to_parts(epoch_second as f64 * 1000.0);
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut bc) = (None, None, None, 0, 0, 0, false);
    for part in parts.iter() {
        let kind = Reflect::get(&part, &"type".into()).ok()?.as_string()?;
        let value = Reflect::get(&part, &"value".into()).ok()?.as_string()?;
        let number = || value.parse::<i64>().ok();
        match kind.as_str() {
            "year" => y = number(),
            "month" => mo = number(),
            "day" => d = number(),
            "hour" => h = number()?,
            "minute" => mi = number()?,
            "second" => s = number()?,
            "era" => bc = value.starts_with('B'),
            _ => {}
        }
    }
    let year = if bc { 1 - y? } else { y? };
    let days = days_from_civil(year, u32::try_from(mo?).ok()?, u32::try_from(d?).ok()?);
    Some(days * 86_400 + (h % 24) * 3600 + mi * 60 + s)
}

fn offset(id: &str, epoch_second: i64) -> Option<i32> {
    FORMATS.with(|formats| {
        let mut formats = formats.borrow_mut();
        let at = match formats.iter().position(|(z, _)| z == id) {
            Some(i) => i,
            None => {
                formats.push((id.to_owned(), format_for(id)));
                formats.len() - 1
            }
        };
        let format = formats[at].1.as_ref()?;
        let local = wall_clock(format, epoch_second)?;
        i32::try_from(local - epoch_second).ok()
    })
}

/// Installs it (once; later calls change nothing).
pub(crate) fn install() {
    streamglass_core::time::zone::install(streamglass_core::time::zone::ZoneHost { offset });
}
