//! The `UpdateBy` namespace of the JavaScript API (Deephaven's `UpdateByOperation` factory, in the
//! shape of `Agg`): each helper makes a plain object `{op, pairs, window?, weight?, delta?,
//! control?}` that `table.updateBy(ops, keys)` reads back with [`update_by_from_js`].
//!
//! Windows: `{revTicks, fwdTicks?}` or `{timestampCol, revTime, fwdTime?}` (rolling),
//! `{ticks}` or `{timestampCol, time}` (exponential); durations are `'PT1m'`-style strings (Java's
//! `Duration.parse`, as formulas take them), or nanoseconds as a `Number` or a `BigInt`.

use js_sys::{Array, BigInt, Object, Reflect};
use streamglass_core::time::literal::{Literal, parse};
use streamglass_core::{
    BadData, DeltaControl, OperationControl, UpdateBy as Op, UpdateByKind, UpdateByWindow,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::convert::strings;

/// Operations for `updateBy`, as Deephaven's `UpdateByOperation` names them.
#[wasm_bindgen]
pub struct UpdateBy;

fn op(name: &str, pairs: JsValue, fields: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &"op".into(), &name.into());
    let _ = Reflect::set(&object, &"pairs".into(), &pairs);
    for (k, v) in fields {
        let _ = Reflect::set(&object, &(*k).into(), v);
    }
    object.into()
}

#[wasm_bindgen]
impl UpdateBy {
    /// `UpdateBy.cumSum(["Total = Size"])`: the sum of the group's values so far.
    #[wasm_bindgen(js_name = cumSum)]
    pub fn cum_sum(pairs: JsValue) -> JsValue {
        op("cumSum", pairs, &[])
    }
    /// `UpdateBy.cumProd(pairs)`.
    #[wasm_bindgen(js_name = cumProd)]
    pub fn cum_prod(pairs: JsValue) -> JsValue {
        op("cumProd", pairs, &[])
    }
    /// `UpdateBy.cumMin(pairs)`.
    #[wasm_bindgen(js_name = cumMin)]
    pub fn cum_min(pairs: JsValue) -> JsValue {
        op("cumMin", pairs, &[])
    }
    /// `UpdateBy.cumMax(pairs)`.
    #[wasm_bindgen(js_name = cumMax)]
    pub fn cum_max(pairs: JsValue) -> JsValue {
        op("cumMax", pairs, &[])
    }
    /// `UpdateBy.delta(pairs, "NULL_DOMINATES" | "VALUE_DOMINATES" | "ZERO_DOMINATES")`: the
    /// value minus the previous row's.
    pub fn delta(pairs: JsValue, control: JsValue) -> JsValue {
        op("delta", pairs, &[("delta", control)])
    }
    /// `UpdateBy.forwardFill(pairs)`: the last non-null value so far.
    #[wasm_bindgen(js_name = forwardFill)]
    pub fn forward_fill(pairs: JsValue) -> JsValue {
        op("forwardFill", pairs, &[])
    }
    /// `UpdateBy.rollingSum({revTicks: 100}, pairs)` or `({timestampCol, revTime: 'PT1m'}, pairs)`.
    #[wasm_bindgen(js_name = rollingSum)]
    pub fn rolling_sum(window: JsValue, pairs: JsValue) -> JsValue {
        op("rollingSum", pairs, &[("window", window)])
    }
    /// `UpdateBy.rollingAvg(window, pairs)`.
    #[wasm_bindgen(js_name = rollingAvg)]
    pub fn rolling_avg(window: JsValue, pairs: JsValue) -> JsValue {
        op("rollingAvg", pairs, &[("window", window)])
    }
    /// `UpdateBy.rollingMin(window, pairs)`.
    #[wasm_bindgen(js_name = rollingMin)]
    pub fn rolling_min(window: JsValue, pairs: JsValue) -> JsValue {
        op("rollingMin", pairs, &[("window", window)])
    }
    /// `UpdateBy.rollingMax(window, pairs)`.
    #[wasm_bindgen(js_name = rollingMax)]
    pub fn rolling_max(window: JsValue, pairs: JsValue) -> JsValue {
        op("rollingMax", pairs, &[("window", window)])
    }
    /// `UpdateBy.rollingProduct(window, pairs)`: a double.
    #[wasm_bindgen(js_name = rollingProduct)]
    pub fn rolling_product(window: JsValue, pairs: JsValue) -> JsValue {
        op("rollingProduct", pairs, &[("window", window)])
    }
    /// `UpdateBy.rollingCount(window, pairs)`: the non-null values.
    #[wasm_bindgen(js_name = rollingCount)]
    pub fn rolling_count(window: JsValue, pairs: JsValue) -> JsValue {
        op("rollingCount", pairs, &[("window", window)])
    }
    /// `UpdateBy.rollingStd(window, pairs)`: the sample standard deviation.
    #[wasm_bindgen(js_name = rollingStd)]
    pub fn rolling_std(window: JsValue, pairs: JsValue) -> JsValue {
        op("rollingStd", pairs, &[("window", window)])
    }
    /// `UpdateBy.rollingWAvg(window, "Size", ["VWAP = Price"])`.
    #[wasm_bindgen(js_name = rollingWAvg)]
    pub fn rolling_wavg(window: JsValue, weight: &str, pairs: JsValue) -> JsValue {
        op(
            "rollingWAvg",
            pairs,
            &[("window", window), ("weight", weight.into())],
        )
    }
    /// `UpdateBy.rollingGroup(window, pairs)`: the window's values as an array.
    #[wasm_bindgen(js_name = rollingGroup)]
    pub fn rolling_group(window: JsValue, pairs: JsValue) -> JsValue {
        op("rollingGroup", pairs, &[("window", window)])
    }
    /// `UpdateBy.ema({ticks: 10} | {timestampCol, time: 'PT10s'}, pairs, control?)`.
    pub fn ema(decay: JsValue, pairs: JsValue, control: JsValue) -> JsValue {
        op("ema", pairs, &[("window", decay), ("control", control)])
    }
    /// `UpdateBy.ems(decay, pairs, control?)`: the exponential moving sum.
    pub fn ems(decay: JsValue, pairs: JsValue, control: JsValue) -> JsValue {
        op("ems", pairs, &[("window", decay), ("control", control)])
    }
    /// `UpdateBy.emMin(decay, pairs, control?)`.
    #[wasm_bindgen(js_name = emMin)]
    pub fn em_min(decay: JsValue, pairs: JsValue, control: JsValue) -> JsValue {
        op("emMin", pairs, &[("window", decay), ("control", control)])
    }
    /// `UpdateBy.emMax(decay, pairs, control?)`.
    #[wasm_bindgen(js_name = emMax)]
    pub fn em_max(decay: JsValue, pairs: JsValue, control: JsValue) -> JsValue {
        op("emMax", pairs, &[("window", decay), ("control", control)])
    }
    /// `UpdateBy.emStd(decay, pairs, control?)`.
    #[wasm_bindgen(js_name = emStd)]
    pub fn em_std(decay: JsValue, pairs: JsValue, control: JsValue) -> JsValue {
        op("emStd", pairs, &[("window", decay), ("control", control)])
    }
}

fn get(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

fn absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// A whole number of ticks or nanoseconds: a `Number` or a `BigInt`.
fn integer(v: &JsValue, what: &str) -> Result<i64, JsError> {
    if let Some(n) = v.as_f64()
        && n.fract() == 0.0
        && n.abs() <= 9_007_199_254_740_991.0
    {
        return Ok(n as i64);
    }
    if let Some(big) = v.dyn_ref::<BigInt>()
        && let Ok(n) = i64::try_from(big.clone())
    {
        return Ok(n);
    }
    if v.as_f64().is_some_and(|n| n.fract() == 0.0) {
        return Err(JsError::new(&format!(
            "{what} is past 2^53, where a Number loses digits: give it as a BigInt (123n)"
        )));
    }
    Err(JsError::new(&format!("{what} is a whole number")))
}

/// A duration: `'PT1m'`-style text, or nanoseconds.
fn duration(v: &JsValue, what: &str) -> Result<i64, JsError> {
    if let Some(text) = v.as_string() {
        return match parse(&text) {
            Ok(Literal::Duration(nanos)) => Ok(nanos),
            Ok(_) => Err(JsError::new(&format!(
                "{what} {text:?} is not a duration ('PT1m', 'PT0.5s', or nanoseconds)"
            ))),
            Err(e) => Err(JsError::new(&format!("{what}: {e}"))),
        };
    }
    integer(v, what).map_err(|_| {
        JsError::new(&format!(
            "{what} is a duration: 'PT1m'-style text or a whole number of nanoseconds"
        ))
    })
}

/// A rolling window: `{revTicks, fwdTicks?}` or `{timestampCol, revTime, fwdTime?}`.
fn rolling_window(w: &JsValue, name: &str) -> Result<UpdateByWindow, JsError> {
    if !w.is_object() {
        return Err(JsError::new(&format!(
            "UpdateBy.{name}(window, pairs): the window is {{revTicks, fwdTicks}} or \
             {{timestampCol, revTime, fwdTime}}"
        )));
    }
    if let Some(column) = get(w, "timestampCol").as_string() {
        let rev = duration(&get(w, "revTime"), "revTime")?;
        let fwd = match get(w, "fwdTime") {
            v if absent(&v) => 0,
            v => duration(&v, "fwdTime")?,
        };
        return Ok(UpdateByWindow::time(&column, rev, fwd));
    }
    let rev = integer(&get(w, "revTicks"), "revTicks")?;
    let fwd = match get(w, "fwdTicks") {
        v if absent(&v) => 0,
        v => integer(&v, "fwdTicks")?,
    };
    Ok(UpdateByWindow::ticks(rev, fwd))
}

/// An exponential decay: `{ticks}` or `{timestampCol, time}`.
fn decay(w: &JsValue, name: &str) -> Result<UpdateByWindow, JsError> {
    if let Some(column) = get(w, "timestampCol").as_string() {
        return Ok(UpdateByWindow::DecayTime {
            column,
            time: duration(&get(w, "time"), "time")?,
        });
    }
    match get(w, "ticks").as_f64() {
        Some(ticks) => Ok(UpdateByWindow::DecayTicks { ticks }),
        None => Err(JsError::new(&format!(
            "UpdateBy.{name}(decay, pairs): the decay is {{ticks}} or {{timestampCol, time}}"
        ))),
    }
}

fn bad_data(v: &JsValue, what: &str, default: BadData) -> Result<BadData, JsError> {
    if absent(v) {
        return Ok(default);
    }
    match v.as_string().map(|s| s.to_ascii_uppercase()).as_deref() {
        Some("DEFAULT") => Ok(default),
        Some("SKIP") => Ok(BadData::Skip),
        Some("RESET") => Ok(BadData::Reset),
        Some("THROW") => Ok(BadData::Throw),
        Some("POISON") => Ok(BadData::Poison),
        _ => Err(JsError::new(&format!(
            "{what} is \"DEFAULT\", \"SKIP\", \"RESET\", \"THROW\" or \"POISON\""
        ))),
    }
}

/// Deephaven's `OperationControl` from `{onNullValue, onNanValue, onNullTime,
/// onNegativeDeltaTime, onZeroDeltaTime}` (each optional).
fn control(v: &JsValue) -> Result<OperationControl, JsError> {
    let d = OperationControl::default();
    if absent(v) {
        return Ok(d);
    }
    Ok(OperationControl {
        on_null_value: bad_data(&get(v, "onNullValue"), "onNullValue", d.on_null_value)?,
        on_nan_value: bad_data(&get(v, "onNanValue"), "onNanValue", d.on_nan_value)?,
        on_null_time: bad_data(&get(v, "onNullTime"), "onNullTime", d.on_null_time)?,
        on_negative_delta_time: bad_data(
            &get(v, "onNegativeDeltaTime"),
            "onNegativeDeltaTime",
            d.on_negative_delta_time,
        )?,
        on_zero_delta_time: bad_data(
            &get(v, "onZeroDeltaTime"),
            "onZeroDeltaTime",
            d.on_zero_delta_time,
        )?,
    })
}

fn delta_control(v: &JsValue) -> Result<DeltaControl, JsError> {
    let v = if v.is_object() {
        get(v, "nullBehavior")
    } else {
        v.clone()
    };
    if absent(&v) {
        return Ok(DeltaControl::default());
    }
    match v.as_string().map(|s| s.to_ascii_uppercase()).as_deref() {
        Some("NULL_DOMINATES") | Some("DEFAULT") => Ok(DeltaControl::NullDominates),
        Some("VALUE_DOMINATES") => Ok(DeltaControl::ValueDominates),
        Some("ZERO_DOMINATES") => Ok(DeltaControl::ZeroDominates),
        _ => Err(JsError::new(
            "delta's control is \"NULL_DOMINATES\", \"VALUE_DOMINATES\" or \"ZERO_DOMINATES\"",
        )),
    }
}

/// An operation as the `UpdateBy` helpers make it.
pub(crate) fn update_by_from_js(value: &JsValue) -> Result<Op, JsError> {
    let Some(name) = get(value, "op").as_string() else {
        return Err(JsError::new(
            "an updateBy operation is made by UpdateBy.cumSum(...), UpdateBy.rollingAvg(...), ...",
        ));
    };
    let pairs = strings(&get(value, "pairs"), "pairs")?;
    let pairs: Vec<&str> = pairs.iter().map(String::as_str).collect();
    let window = get(value, "window");
    let rolling = |kind| -> Result<Op, JsError> {
        Ok(Op::rolling(kind, rolling_window(&window, &name)?, &pairs))
    };
    let exponential = |kind| -> Result<Op, JsError> {
        Ok(Op::exponential(
            kind,
            decay(&window, &name)?,
            &pairs,
            control(&get(value, "control"))?,
        ))
    };
    match name.as_str() {
        "cumSum" => Ok(Op::cum_sum(&pairs)),
        "cumProd" => Ok(Op::cum_prod(&pairs)),
        "cumMin" => Ok(Op::cum_min(&pairs)),
        "cumMax" => Ok(Op::cum_max(&pairs)),
        "delta" => Ok(Op::delta(&pairs, delta_control(&get(value, "delta"))?)),
        "forwardFill" => Ok(Op::forward_fill(&pairs)),
        "rollingSum" => rolling(UpdateByKind::Sum),
        "rollingAvg" => rolling(UpdateByKind::Avg),
        "rollingMin" => rolling(UpdateByKind::Min),
        "rollingMax" => rolling(UpdateByKind::Max),
        "rollingProduct" => rolling(UpdateByKind::Product),
        "rollingCount" => rolling(UpdateByKind::Count),
        "rollingStd" => rolling(UpdateByKind::Std),
        "rollingGroup" => rolling(UpdateByKind::Group),
        "rollingWAvg" => {
            let weight = get(value, "weight").as_string().ok_or_else(|| {
                JsError::new("UpdateBy.rollingWAvg(window, weightCol, pairs) needs a weight column")
            })?;
            Ok(Op::rolling_wavg(
                rolling_window(&window, &name)?,
                &weight,
                &pairs,
            ))
        }
        "ema" => exponential(UpdateByKind::Ema),
        "ems" => exponential(UpdateByKind::Ems),
        "emMin" => exponential(UpdateByKind::EmMin),
        "emMax" => exponential(UpdateByKind::EmMax),
        "emStd" => exponential(UpdateByKind::EmStd),
        other => Err(JsError::new(&format!(
            "{other:?} is not an updateBy operation"
        ))),
    }
}

/// The operations of `updateBy(ops, keys)`: one operation or an array of them.
pub(crate) fn update_bys_from_js(ops: &JsValue) -> Result<Vec<Op>, JsError> {
    if Array::is_array(ops) {
        Array::from(ops)
            .iter()
            .map(|o| update_by_from_js(&o))
            .collect()
    } else {
        Ok(vec![update_by_from_js(ops)?])
    }
}
