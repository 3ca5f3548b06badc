//! Conversions between JavaScript values and the engine's: cell values, column types, table
//! kinds, aggregation specs and formula variables. Every conversion of user input returns an
//! error that says what was expected, never panics.
//!
//! Cells reach JavaScript as: `null`; booleans; `int` and `double` as `Number`; `long` as a
//! `Number` when it is a safe integer (|v| ≤ 2^53 − 1) and as a `BigInt` beyond; `timestamp` as a
//! `BigInt` of nanoseconds since the epoch (a `Number` cannot hold today's nanoseconds exactly);
//! `date` as a `Number` of days since the epoch, `time` as a `BigInt` of nanoseconds since
//! midnight; strings as strings; arrays (`groupBy`'s columns) as JavaScript arrays of their
//! elements, a null array as `null`.

use js_sys::{Array, BigInt, Object, Reflect};
use streamglass_core::formula::Variables;
use streamglass_core::{Agg, AggKind, ColumnType, Value};
use wasm_bindgen::prelude::*;

/// The largest integer a `Number` holds exactly.
const MAX_SAFE: i64 = (1 << 53) - 1;

pub(crate) fn value_to_js(value: &Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::I32(v) | Value::Date(v) => JsValue::from_f64(f64::from(*v)),
        Value::I64(v) if (-MAX_SAFE..=MAX_SAFE).contains(v) => JsValue::from_f64(*v as f64),
        Value::I64(v) | Value::Timestamp(v) | Value::Time(v) => BigInt::from(*v).into(),
        Value::F64(v) => JsValue::from_f64(*v),
        Value::String(s) => JsValue::from_str(s),
        Value::Binary(b) => js_sys::Uint8Array::from(b.as_slice()).into(),
        Value::Array(values) => values.iter().map(value_to_js).collect::<Array>().into(),
    }
}

/// A JavaScript value as a cell of a column of type `ty`; `null` and `undefined` are null.
pub(crate) fn value_from_js(
    value: &JsValue,
    ty: ColumnType,
    column: &str,
) -> Result<Value, JsError> {
    if value.is_null() || value.is_undefined() {
        return Ok(Value::Null);
    }
    let wrong = || JsError::new(&format!("column {column} is {ty}; {value:?} is not"));
    let integer = |v: &JsValue| -> Option<i64> {
        if let Some(n) = v.as_f64() {
            return (n.fract() == 0.0 && n.abs() <= MAX_SAFE as f64).then_some(n as i64);
        }
        let big = v.dyn_ref::<BigInt>()?;
        i64::try_from(big.clone()).ok()
    };
    Ok(match ty {
        ColumnType::Bool => Value::Bool(value.as_bool().ok_or_else(wrong)?),
        ColumnType::I32 => Value::I32(
            integer(value)
                .and_then(|v| i32::try_from(v).ok())
                .ok_or_else(wrong)?,
        ),
        ColumnType::I64 => Value::I64(integer(value).ok_or_else(wrong)?),
        ColumnType::Timestamp => Value::Timestamp(integer(value).ok_or_else(wrong)?),
        ColumnType::F64 => Value::F64(value.as_f64().ok_or_else(wrong)?),
        ColumnType::String => Value::String(value.as_string().ok_or_else(wrong)?),
        ColumnType::Date => Value::Date(
            integer(value)
                .and_then(|v| i32::try_from(v).ok())
                .ok_or_else(wrong)?,
        ),
        ColumnType::Time => Value::Time(integer(value).ok_or_else(wrong)?),
        ColumnType::Binary => Value::Binary(
            value
                .dyn_ref::<js_sys::Uint8Array>()
                .ok_or_else(wrong)?
                .to_vec(),
        ),
        ColumnType::Array(element) => {
            if !Array::is_array(value) {
                return Err(wrong());
            }
            Value::Array(
                Array::from(value)
                    .iter()
                    .map(|v| {
                        value_from_js(&v, *element, column).map_err(|_| {
                            JsError::new(&format!(
                                "column {column} is {ty}; its element {v:?} is not a {element}"
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
    })
}

/// A column type by the name Deephaven users write (`double`, `long`, `int`, `bool`/`boolean`,
/// `timestamp`/`Instant`, `date`/`LocalDate`, `time`/`LocalTime`, `string`/`String`), or an
/// array of one (`double[]`, `String[]`).
pub(crate) fn column_type(name: &str) -> Result<ColumnType, JsError> {
    if let Some(element) = name.strip_suffix("[]") {
        return column_type(element.trim())?
            .array_of()
            .ok_or_else(|| JsError::new(&format!("{name:?}: arrays of arrays are not supported")));
    }
    Ok(match name {
        "bool" | "boolean" | "Boolean" => ColumnType::Bool,
        "int" | "Integer" => ColumnType::I32,
        "long" | "Long" => ColumnType::I64,
        "double" | "Double" => ColumnType::F64,
        "timestamp" | "Instant" => ColumnType::Timestamp,
        "string" | "String" => ColumnType::String,
        // Days since the epoch and nanoseconds since midnight, as the Avro decoder makes them.
        "date" | "LocalDate" => ColumnType::Date,
        "time" | "LocalTime" => ColumnType::Time,
        other => {
            return Err(JsError::new(&format!(
                "{other:?} is not a column type (bool, int, long, double, timestamp, date, time, \
                 string, or an array of one: double[], ...)"
            )));
        }
    })
}

/// How a source table keeps rows: `"append"`, `"stream"` or `{ring: N}`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TableKind {
    Append,
    Stream,
    Ring(usize),
}

pub(crate) fn table_kind(value: &JsValue) -> Result<TableKind, JsError> {
    let bad = || JsError::new("tableType is \"append\", \"stream\" or {ring: N}");
    if value.is_undefined() || value.is_null() {
        return Ok(TableKind::Append);
    }
    if let Some(s) = value.as_string() {
        return match s.as_str() {
            "append" => Ok(TableKind::Append),
            "stream" | "blink" => Ok(TableKind::Stream),
            _ => Err(bad()),
        };
    }
    let ring = Reflect::get(value, &"ring".into()).map_err(|_| bad())?;
    let n = ring
        .as_f64()
        .filter(|n| *n >= 1.0 && n.fract() == 0.0)
        .ok_or_else(bad)?;
    Ok(TableKind::Ring(n as usize))
}

/// An aggregation as a plain object `{kind, spec, weight?}`, which the `Agg` helpers make.
pub(crate) fn agg_from_js(value: &JsValue) -> Result<Agg, JsError> {
    let field = |name: &str| {
        Reflect::get(value, &name.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    let (Some(kind), Some(spec)) = (field("kind"), field("spec")) else {
        return Err(JsError::new(
            "an aggregation is made by Agg.count(...), Agg.sum(...), ...",
        ));
    };
    let kind = match kind.as_str() {
        "count" => AggKind::Count,
        "sum" => AggKind::Sum,
        "min" => AggKind::Min,
        "max" => AggKind::Max,
        "avg" => AggKind::Avg,
        "first" => AggKind::First,
        "last" => AggKind::Last,
        "countDistinct" => AggKind::CountDistinct,
        "var" => AggKind::Var,
        "std" => AggKind::Std,
        "wavg" => {
            let weight = field("weight")
                .ok_or_else(|| JsError::new("Agg.wavg(weight, spec) needs a weight column"))?;
            return Ok(Agg::wavg(&weight, &spec));
        }
        "absSum" => AggKind::AbsSum,
        "group" => AggKind::Group,
        "distinct" => {
            let include_nulls = Reflect::get(value, &"includeNulls".into())
                .ok()
                .and_then(|v| v.as_bool());
            return Ok(if include_nulls == Some(true) {
                Agg::distinct_with_nulls(&spec)
            } else {
                Agg::distinct(&spec)
            });
        }
        other => return reducer_agg_from_js(value, other, &spec),
    };
    Ok(Agg::of(kind, &spec))
}

/// The aggregations with options (`Agg.median`, `Agg.pct`, `Agg.unique`, `Agg.sortedFirst`,
/// `Agg.sortedLast`, `Agg.countWhere`).
fn reducer_agg_from_js(value: &JsValue, kind: &str, spec: &str) -> Result<Agg, JsError> {
    let get = |name: &str| Reflect::get(value, &name.into()).unwrap_or(JsValue::UNDEFINED);
    let flag = |name: &str| get(name).as_bool().unwrap_or(false);
    Ok(match kind {
        "median" => {
            Agg::median(spec).average_evenly_divided(get("average").as_bool().unwrap_or(true))
        }
        "pct" => {
            let p = get("percentile").as_f64().ok_or_else(|| {
                JsError::new("Agg.pct(percentile, spec): the percentile is a number in [0, 1]")
            })?;
            Agg::pct(p, spec).average_evenly_divided(flag("average"))
        }
        "unique" => {
            let agg = Agg::unique(spec).include_nulls(flag("includeNulls"));
            match sentinel_from_js(&get("sentinel"))? {
                Some(s) => agg.non_unique_sentinel(s),
                None => agg,
            }
        }
        "sortedFirst" | "sortedLast" => {
            let sort_by = get("sortBy").as_string().ok_or_else(|| {
                JsError::new(&format!("Agg.{kind}(sortColumn, spec) needs a column name"))
            })?;
            if kind == "sortedFirst" {
                Agg::sorted_first(&sort_by, spec)
            } else {
                Agg::sorted_last(&sort_by, spec)
            }
        }
        "countWhere" => {
            let filters = strings(&get("filters"), "filters")?;
            let refs: Vec<&str> = filters.iter().map(String::as_str).collect();
            Agg::count_where(spec, &refs)
        }
        other => return Err(JsError::new(&format!("{other:?} is not an aggregation"))),
    })
}

/// A non-unique sentinel: a number (an integer as a long, which fits any numeric column), a
/// BigInt, a string or a boolean; `null` or `undefined` for none.
fn sentinel_from_js(value: &JsValue) -> Result<Option<Value>, JsError> {
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    if let Some(n) = value.as_f64() {
        return Ok(Some(if n.fract() == 0.0 && n.abs() <= MAX_SAFE as f64 {
            Value::I64(n as i64)
        } else {
            Value::F64(n)
        }));
    }
    if let Some(big) = value.dyn_ref::<BigInt>() {
        return i64::try_from(big.clone())
            .map(|v| Some(Value::I64(v)))
            .map_err(|_| JsError::new("the non-unique sentinel is beyond a long"));
    }
    if let Some(s) = value.as_string() {
        return Ok(Some(Value::String(s)));
    }
    if let Some(b) = value.as_bool() {
        return Ok(Some(Value::Bool(b)));
    }
    Err(JsError::new(
        "the non-unique sentinel is a number, a BigInt, a string or a boolean",
    ))
}

/// Formula variables from a plain object (`{size_offset: 1000000}`); numbers that are integers
/// become longs, other numbers doubles.
pub(crate) fn variables(value: &JsValue) -> Result<Variables, JsError> {
    let mut out = Variables::default();
    if value.is_undefined() || value.is_null() {
        return Ok(out);
    }
    let object = value
        .dyn_ref::<Object>()
        .ok_or_else(|| JsError::new("variables are a plain object, e.g. {size_offset: 1000000}"))?;
    for entry in Object::entries(object).iter() {
        let pair = Array::from(&entry);
        let name = pair.get(0).as_string().unwrap_or_default();
        let v = pair.get(1);
        let value = if let Some(n) = v.as_f64() {
            if n.fract() == 0.0 && n.abs() <= MAX_SAFE as f64 {
                Value::I64(n as i64)
            } else {
                Value::F64(n)
            }
        } else if let Some(b) = v.as_bool() {
            Value::Bool(b)
        } else if let Some(s) = v.as_string() {
            Value::String(s)
        } else if let Some(big) = v.dyn_ref::<BigInt>() {
            Value::I64(
                i64::try_from(big.clone())
                    .map_err(|_| JsError::new(&format!("variable {name} does not fit a long")))?,
            )
        } else {
            return Err(JsError::new(&format!(
                "variable {name} must be a number, boolean, string or BigInt"
            )));
        };
        out.insert(name, value);
    }
    Ok(out)
}

/// A list of strings from a string or an array of strings.
pub(crate) fn strings(value: &JsValue, what: &str) -> Result<Vec<String>, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    if let Some(s) = value.as_string() {
        return Ok(vec![s]);
    }
    if Array::is_array(value) {
        return Array::from(value)
            .iter()
            .map(|v| {
                v.as_string()
                    .ok_or_else(|| JsError::new(&format!("{what} are strings")))
            })
            .collect();
    }
    Err(JsError::new(&format!(
        "{what} are a string or an array of strings"
    )))
}

/// Sort columns from a name, a `SortColumn` (`{column, direction}`, as `SortColumn.asc` and
/// `SortColumn.desc` make them) or an array of both, as the engine's specs (`"A"`, `"-B"`).
pub(crate) fn sort_columns(value: &JsValue) -> Result<Vec<String>, JsError> {
    let one = |v: &JsValue| -> Result<String, JsError> {
        if let Some(name) = v.as_string() {
            return Ok(name);
        }
        let field = |name: &str| {
            Reflect::get(v, &name.into())
                .ok()
                .and_then(|f| f.as_string())
        };
        match (field("column"), field("direction").as_deref()) {
            (Some(column), Some("ASC")) => Ok(column),
            (Some(column), Some("DESC")) => Ok(format!("-{column}")),
            _ => Err(JsError::new(
                "sort columns are names or SortColumn.asc(\"A\") / SortColumn.desc(\"B\")",
            )),
        }
    };
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    if Array::is_array(value) {
        return Array::from(value).iter().map(|v| one(&v)).collect();
    }
    Ok(vec![one(value)?])
}
