//! The column mapping: which columns a reader schema becomes, with Deephaven's conventions.
//!
//! | Avro (reader schema) | column |
//! |---|---|
//! | `boolean` | `Bool` |
//! | `int` | `I32` |
//! | `long` | `I64` |
//! | `float`, `double` | `F64` (a float is widened exactly) |
//! | `string`, `enum`, `uuid` (on a string) | `String` (dictionary-coded while few are distinct) |
//! | `bytes`, `fixed`, `duration` (the 12 bytes), `big-decimal` (its bytes) | `Binary` |
//! | `decimal` (on bytes or fixed) | `F64`: the unscaled integer over 10^scale, rounded once; exact up to 2^53 unscaled and scale ≤ 22 |
//! | `date` | `Date` (days) |
//! | `time-millis`, `time-micros` | `Time` (ns since midnight) |
//! | `timestamp-{millis,micros,nanos}`, `local-timestamp-*` | `Timestamp` (ns since the epoch; local times are read as UTC) |
//! | `["null", T]`, `[T, "null"]` | the columns of `T`, nullable |
//! | any other union | one set of columns per non-null branch, named `<field>__<branch>` (`int`, `string`, a record's or enum's short name…); the branches not taken are null |
//! | `record` | its fields' columns, flattened as `<field>__<subfield>` |
//! | `array`, `map` | `String`: the value as JSON text (bytes as Avro's JSON encoding writes them, unions unwrapped) |
//! | `null` | no column |
//!
//! A record at the top of a key or value schema gives its fields' names as they are; any other
//! type gives one column named after the side (`Key` or `Value`). A recursive record can only
//! appear inside an array or a map (as JSON); elsewhere the schema is refused.
//!
//! Invariant: [`columns`] and [`width`] walk a schema in the same order, so the plan compiler can
//! place any sub-schema's columns by counting the widths before it.

use super::schema::Schema;
use crate::json::Json;

use super::shape::Names;
use crate::column::{ColumnType, Value};
use crate::table::Field;
use crate::{Error, Result};

/// Nested records nest at most this deep when flattened.
const MAX_NESTING: usize = 64;

/// A schema flattens into at most this many columns. References make a schema's columns grow
/// exponentially with its length (a record of two fields of the record before it, 18 deep, is
/// 2 KB of text and half a million columns), so a hostile schema is refused here.
pub const MAX_COLUMNS: usize = 10_000;

/// The column type of a leaf, or `None` for a schema that is not a leaf (record, union) or has no
/// column (null).
pub fn leaf_type(schema: &Schema) -> Option<ColumnType> {
    Some(match schema {
        Schema::Boolean => ColumnType::Bool,
        Schema::Int => ColumnType::I32,
        Schema::Long => ColumnType::I64,
        Schema::Float | Schema::Double | Schema::Decimal(_) => ColumnType::F64,
        Schema::String | Schema::Uuid | Schema::Enum(_) | Schema::Array(_) | Schema::Map(_) => {
            ColumnType::String
        }
        Schema::Bytes | Schema::Fixed(_) | Schema::Duration(_) | Schema::BigDecimal => {
            ColumnType::Binary
        }
        Schema::Date => ColumnType::Date,
        Schema::TimeMillis | Schema::TimeMicros => ColumnType::Time,
        Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => ColumnType::Timestamp,
        Schema::Null | Schema::Record(_) | Schema::Union(_) | Schema::Ref { .. } => return None,
    })
}

/// `prefix__name`, or `name` at the top.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}__{name}")
    }
}

/// The label of a union branch in column names: a named type's name, else the type's name in
/// Avro's words (`int`, `timestamp-millis`...).
pub fn branch_label(schema: &Schema) -> String {
    schema.label().to_owned()
}

/// Whether a union is `["null", T]` or `[T, "null"]` or only has non-null branch; then `T`.
pub fn non_null_branches(variants: &[Schema]) -> Vec<&Schema> {
    variants
        .iter()
        .filter(|v| !matches!(v, Schema::Null))
        .collect()
}

/// A schema's columns, appended to `out`. `top` names a leaf found at the top.
pub fn columns<'s>(
    schema: &'s Schema,
    names: &Names<'s>,
    prefix: &str,
    top: &str,
    out: &mut Vec<Field>,
    stack: &mut Vec<String>,
) -> Result<()> {
    let schema = names.deref(schema)?;
    if let Some(ty) = leaf_type(schema) {
        if out.len() >= MAX_COLUMNS {
            return Err(Error::Schema(format!(
                "the schema flattens into more than {MAX_COLUMNS} columns"
            )));
        }
        let name = if prefix.is_empty() { top } else { prefix };
        out.push(Field::new(name, ty));
        return Ok(());
    }
    match schema {
        Schema::Record(r) => {
            let full = r.name.fullname();
            if stack.contains(&full) {
                return Err(Error::Schema(format!(
                    "record {full} contains itself outside an array or map, so it cannot be flattened into columns"
                )));
            }
            if stack.len() >= MAX_NESTING {
                return Err(Error::Schema(format!(
                    "records nest deeper than {MAX_NESTING} levels at {full}"
                )));
            }
            stack.push(full);
            for f in &r.fields {
                columns(&f.schema, names, &join(prefix, &f.name), top, out, stack)?;
            }
            stack.pop();
        }
        Schema::Union(variants) => {
            let branches = non_null_branches(variants);
            if let [only] = branches[..] {
                columns(only, names, prefix, top, out, stack)?;
            } else {
                let prefix = if prefix.is_empty() { top } else { prefix };
                for b in branches {
                    let label = branch_label(b);
                    columns(b, names, &join(prefix, &label), top, out, stack)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// How many columns a schema takes.
pub fn width<'s>(schema: &'s Schema, names: &Names<'s>) -> Result<usize> {
    let mut out = Vec::new();
    columns(schema, names, "", "_", &mut out, &mut Vec::new())?;
    Ok(out.len())
}

/// The values a reader schema's `default` puts in its columns, starting at column `base`.
pub fn default_values<'s>(
    schema: &'s Schema,
    names: &Names<'s>,
    json: &Json,
    base: u32,
    out: &mut Vec<(u32, Value)>,
) -> Result<()> {
    let schema = names.deref(schema)?;
    let bad = || {
        Error::Schema(format!(
            "default {} does not fit {}",
            json.shown(),
            branch_label(schema)
        ))
    };
    match schema {
        Schema::Null => {}
        Schema::Record(r) => {
            if json.as_object().is_none() {
                return Err(bad());
            }
            let mut col = base;
            for f in &r.fields {
                let value = json.get(&f.name).or(f.default.as_ref()).ok_or_else(|| {
                    Error::Schema(format!("default {} lacks field {}", json.shown(), f.name))
                })?;
                default_values(&f.schema, names, value, col, out)?;
                col += width(&f.schema, names)? as u32;
            }
        }
        Schema::Union(variants) => {
            let total = width(schema, names)? as u32;
            let branches = non_null_branches(variants);
            let nulls = |out: &mut Vec<(u32, Value)>, from: u32, to: u32| {
                out.extend((from..to).map(|c| (c, Value::Null)));
            };
            if json.is_null() {
                nulls(out, base, base + total);
                return Ok(());
            }
            let single = branches.len() == 1;
            let mut col = base;
            for b in branches {
                let w = width(b, names)? as u32;
                let mut mine = Vec::new();
                if default_values(b, names, json, col, &mut mine).is_ok() {
                    nulls(out, base, col);
                    out.extend(mine);
                    nulls(out, col + w, base + total);
                    return Ok(());
                }
                if single {
                    break;
                }
                col += w;
            }
            return Err(bad());
        }
        leaf => {
            let value = leaf_default(leaf, json).ok_or_else(bad)?;
            out.push((base, value));
        }
    }
    Ok(())
}

fn json_bytes(json: &Json) -> Option<Vec<u8>> {
    json.as_str()?
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

fn leaf_default(schema: &Schema, json: &Json) -> Option<Value> {
    let scaled = |unit: i64| json.as_i64()?.checked_mul(unit);
    Some(match schema {
        Schema::Boolean => Value::Bool(json.as_bool()?),
        Schema::Int => Value::I32(i32::try_from(json.as_i64()?).ok()?),
        Schema::Long => Value::I64(json.as_i64()?),
        Schema::Float | Schema::Double => Value::F64(json.as_f64()?),
        Schema::String | Schema::Uuid | Schema::Enum(_) => Value::String(json.as_str()?.to_owned()),
        Schema::Array(_) | Schema::Map(_) => Value::String(json.to_string()),
        Schema::Bytes | Schema::Fixed(_) | Schema::Duration(_) | Schema::BigDecimal => {
            Value::Binary(json_bytes(json)?)
        }
        Schema::Decimal(d) => Value::F64(decimal_to_f64(&json_bytes(json)?, d.scale as i32)),
        Schema::Date => Value::Date(i32::try_from(json.as_i64()?).ok()?),
        Schema::TimeMillis => Value::Time(scaled(1_000_000)?),
        Schema::TimeMicros => Value::Time(scaled(1_000)?),
        Schema::TimestampMillis | Schema::LocalTimestampMillis => {
            Value::Timestamp(scaled(1_000_000)?)
        }
        Schema::TimestampMicros | Schema::LocalTimestampMicros => Value::Timestamp(scaled(1_000)?),
        Schema::TimestampNanos | Schema::LocalTimestampNanos => Value::Timestamp(json.as_i64()?),
        _ => return None,
    })
}

/// A decimal's two's-complement big-endian unscaled bytes, over 10^scale, as the nearest double
/// when the unscaled value fits 2^53 and `scale` ≤ 22 (both operands are then exact).
pub fn decimal_to_f64(bytes: &[u8], scale: i32) -> f64 {
    let Some(&first) = bytes.first() else {
        return 0.0;
    };
    let negative = first & 0x80 != 0;
    let unscaled = if bytes.len() <= 16 {
        let mut v: i128 = if negative { -1 } else { 0 };
        for &b in bytes {
            v = (v << 8) | i128::from(b);
        }
        v as f64
    } else {
        let mut v = 0f64;
        for &b in bytes {
            v = v * 256.0 + f64::from(b);
        }
        if negative {
            v - 2f64.powi(8 * bytes.len() as i32)
        } else {
            v
        }
    };
    if scale >= 0 {
        unscaled / 10f64.powi(scale)
    } else {
        unscaled * 10f64.powi(-scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(schema: &str) -> Vec<(String, ColumnType)> {
        let schema = Schema::parse(schema).unwrap();
        let names = Names::of(&schema).unwrap();
        let mut out = Vec::new();
        columns(&schema, &names, "", "Value", &mut out, &mut Vec::new()).unwrap();
        assert_eq!(width(&schema, &names).unwrap(), out.len());
        out.into_iter().map(|f| (f.name, f.ty)).collect()
    }

    #[test]
    fn records_flatten_and_unions_split_by_branch() {
        let got = fields(
            r#"{"type":"record","name":"R","fields":[
                {"name":"a","type":"int"},
                {"name":"n","type":["null",{"type":"record","name":"In","fields":[{"name":"x","type":"string"},{"name":"y","type":{"type":"array","items":"int"}}]}]},
                {"name":"u","type":["null","long","string","In"]},
                {"name":"nothing","type":"null"}
            ]}"#,
        );
        use ColumnType::*;
        let want = [
            ("a", I32),
            ("n__x", String),
            ("n__y", String),
            ("u__long", I64),
            ("u__string", String),
            ("u__In__x", String),
            ("u__In__y", String),
        ];
        assert_eq!(
            got,
            want.iter()
                .map(|(n, t)| (n.to_string(), *t))
                .collect::<Vec<_>>()
        );
        assert_eq!(fields(r#""string""#), [("Value".to_string(), String)]);
    }

    #[test]
    fn a_named_decimal_inline_or_referenced_gives_the_same_columns() {
        let decimal =
            r#"{"type":"fixed","name":"F","size":4,"logicalType":"decimal","precision":9}"#;
        let inline = fields(&format!(
            r#"{{"type":"record","name":"R","fields":[{{"name":"e","type":["null",{decimal},"int",{{"type":"bytes","logicalType":"decimal","precision":4}}]}}]}}"#
        ));
        let referenced = fields(&format!(
            r#"{{"type":"record","name":"R","fields":[{{"name":"d","type":{decimal}}},{{"name":"e","type":["null","F","int",{{"type":"bytes","logicalType":"decimal","precision":4}}]}}]}}"#
        ));
        let names =
            |f: &[(String, ColumnType)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&inline), ["e__F", "e__int", "e__decimal"]);
        assert_eq!(names(&referenced), ["d", "e__F", "e__int", "e__decimal"]);
    }

    #[test]
    fn a_schema_of_exponentially_many_columns_is_refused() {
        // R0 {x}, then Ri {a: R(i-1), b: R(i-1)}: 2 KB of text, 2^18 columns.
        let mut records = vec![
            r#"{"type":"record","name":"R0","fields":[{"name":"x","type":"int"}]}"#.to_string(),
        ];
        for i in 1..=18 {
            let p = i - 1;
            records.push(format!(
                r#"{{"type":"record","name":"R{i}","fields":[{{"name":"a","type":"R{p}"}},{{"name":"b","type":"R{p}"}}]}}"#
            ));
        }
        let fields: Vec<String> = records
            .iter()
            .enumerate()
            .map(|(i, r)| format!(r#"{{"name":"f{i}","type":{r}}}"#))
            .collect();
        let text = format!(
            r#"{{"type":"record","name":"Top","fields":[{}]}}"#,
            fields.join(",")
        );
        let schema = Schema::parse(&text).unwrap();
        let names = Names::of(&schema).unwrap();
        let e = width(&schema, &names).unwrap_err().to_string();
        assert!(e.contains("more than 10000 columns"), "{e}");
        let e = crate::avro::DecodePlan::compile(&schema, &schema)
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than 10000 columns"), "{e}");
    }

    #[test]
    fn recursion_outside_arrays_is_refused() {
        let schema = Schema::parse(
            r#"{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}"#,
        )
        .unwrap();
        let names = Names::of(&schema).unwrap();
        let e = width(&schema, &names).unwrap_err().to_string();
        assert!(e.contains("contains itself"), "{e}");
    }

    #[test]
    fn decimals_are_rounded_once() {
        assert_eq!(decimal_to_f64(&[0x30, 0x39], 2), 123.45);
        assert_eq!(decimal_to_f64(&[0xcf, 0xc7], 2), -123.45);
        assert_eq!(decimal_to_f64(&[], 2), 0.0);
        assert_eq!(decimal_to_f64(&[0x01], -2), 100.0);
    }
}
