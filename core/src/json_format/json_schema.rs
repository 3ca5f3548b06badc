//! The columns of a JSON Schema (a registry's `schemaType: JSON`), as [`JsonColumns`].
//!
//! | JSON Schema | column |
//! |---|---|
//! | `"type": "integer"` | `long` |
//! | `"type": "number"` | `double` |
//! | `"type": "string"` | `string`; with `"format": "date-time"`, an instant (ISO-8601 text, or epoch milliseconds) |
//! | `"type": "boolean"` | `boolean` |
//! | `"type": "object"` with `properties` | its properties' columns, flattened as `a__b` |
//! | `"type": "array"`, an object without `properties` | `string`: the value's compact JSON text |
//! | `"enum"` of strings (no `type`) | `string` |
//! | `["null", T]`, or `oneOf`/`anyOf` of `{"type": "null"}` and one other | the columns of `T` (every column is nullable) |
//! | `"$ref": "#/definitions/X"` or `"#/$defs/X"` | the definition's columns |
//!
//! Anything else (a union of two non-null types, a `$ref` elsewhere, `not`, a bare `{}`) is an
//! [`Error::JsonColumns`] naming the property.
//!
//! Invariant: references are followed at most [`MAX_PATH`] deep, so a recursive schema is
//! refused rather than followed forever.

use super::spec::{EpochUnit, JsonColumns, JsonType, MAX_PATH};
use crate::json::Json;
use crate::{Error, Result};

/// The columns of a JSON Schema's text.
pub fn columns(schema_text: &str) -> Result<JsonColumns> {
    let root = Json::parse(schema_text)
        .map_err(|e| Error::JsonColumns(format!("the JSON Schema does not parse: {e}")))?;
    let mut out = Vec::new();
    walk(&root, &root, &mut Vec::new(), 0, &mut out)?;
    if out.is_empty() {
        return Err(Error::JsonColumns(
            "the JSON Schema gives no columns (it should be an object with properties)".into(),
        ));
    }
    JsonColumns::new(out)
}

fn at(path: &[String]) -> String {
    if path.is_empty() {
        "the schema's top".into()
    } else {
        format!("property {:?}", path.join("."))
    }
}

/// The schema a `$ref` names.
fn resolve<'a>(root: &'a Json, reference: &str, path: &[String]) -> Result<&'a Json> {
    let target = reference
        .strip_prefix("#/definitions/")
        .map(|name| ("definitions", name))
        .or_else(|| {
            reference
                .strip_prefix("#/$defs/")
                .map(|name| ("$defs", name))
        });
    target
        .and_then(|(section, name)| root.get(section)?.get(name))
        .ok_or_else(|| {
            Error::JsonColumns(format!(
                "{}: $ref {reference:?} is not a local #/definitions/… or #/$defs/… entry of the schema",
                at(path)
            ))
        })
}

fn walk(
    schema: &Json,
    root: &Json,
    path: &mut Vec<String>,
    depth: usize,
    out: &mut Vec<(Vec<String>, JsonType)>,
) -> Result<()> {
    let refuse = |why: &str| Error::JsonColumns(format!("{}: {why}", at(path)));
    if depth > MAX_PATH {
        return Err(refuse(
            "references or objects nest too deep (a recursive schema?)",
        ));
    }
    if let Some(r) = schema.get("$ref").and_then(Json::as_str) {
        return walk(resolve(root, r, path)?, root, path, depth + 1, out);
    }
    // `oneOf`/`anyOf` with a null branch and one other.
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = schema.get(key).and_then(Json::as_array) {
            let others: Vec<&Json> = branches
                .iter()
                .filter(|b| b.get("type").and_then(Json::as_str) != Some("null"))
                .collect();
            return match others[..] {
                [only] => walk(only, root, path, depth + 1, out),
                _ => Err(refuse(&format!(
                    "{key} of more than one non-null schema has no single column type"
                ))),
            };
        }
    }
    let ty: Option<&str> = match schema.get("type") {
        Some(Json::String(t)) => Some(t),
        Some(Json::Array(types)) => {
            let others: Vec<&str> = types
                .iter()
                .filter_map(Json::as_str)
                .filter(|t| *t != "null")
                .collect();
            match others[..] {
                [only] => Some(only),
                [] => return Ok(()),
                _ => {
                    return Err(refuse(
                        "a type of more than one non-null type has no single column type",
                    ));
                }
            }
        }
        None if schema.get("properties").is_some() => Some("object"),
        None if schema.get("enum").is_some() => Some("string"),
        None => None,
        Some(other) => {
            return Err(refuse(&format!(
                "type {} is not a type name",
                other.shown()
            )));
        }
    };
    let leaf = match ty {
        Some("integer") => JsonType::Long,
        Some("number") => JsonType::Double,
        Some("boolean") => JsonType::Bool,
        Some("string") => match schema.get("format").and_then(Json::as_str) {
            Some("date-time") => JsonType::Instant(EpochUnit::Millis),
            _ => JsonType::String,
        },
        Some("array") => JsonType::String,
        Some("null") => return Ok(()),
        Some("object") => match schema.get("properties").and_then(Json::as_object) {
            Some(properties) if depth < MAX_PATH => {
                for (name, property) in properties {
                    path.push(name.clone());
                    walk(property, root, path, depth + 1, out)?;
                    path.pop();
                }
                return Ok(());
            }
            _ => JsonType::String,
        },
        Some(other) => return Err(refuse(&format!("type {other:?} is not a JSON Schema type"))),
        None => {
            return Err(refuse(
                "no type, properties, $ref or enum to give it a column",
            ));
        }
    };
    if path.is_empty() {
        return Err(refuse("a JSON Schema for columns must describe an object"));
    }
    out.push((path.clone(), leaf));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_with_every_mapped_kind() {
        let c = columns(
            r##"{"$schema":"http://json-schema.org/draft-07/schema#","title":"Trade","type":"object",
            "properties":{
              "Id":{"type":["null","string"]},
              "Timestamp":{"type":"string","format":"date-time"},
              "Size":{"type":"integer"},
              "Price":{"type":"number"},
              "Ok":{"oneOf":[{"type":"null"},{"type":"boolean"}]},
              "Tags":{"type":"array","items":{"type":"string"}},
              "Venue":{"$ref":"#/definitions/Venue"},
              "Side":{"enum":["BUY","SELL"]},
              "Extra":{"type":"object"}
            },
            "definitions":{"Venue":{"type":"object","properties":{"Name":{"type":"string"},"Geo":{"$ref":"#/$defs/Geo"}}}},
            "$defs":{"Geo":{"type":"object","properties":{"Lat":{"type":"number"}}}}}"##,
        )
        .unwrap();
        assert_eq!(
            c.spec_text(),
            "Id=string,Timestamp=instant,Size=long,Price=double,Ok=boolean,Tags=string,\
             Venue__Name=string,Venue__Geo__Lat=double,Side=string,Extra=string"
        );
    }

    #[test]
    fn what_has_no_columns_is_refused_by_name() {
        for (schema, why) in [
            (r#"{"type":"string"}"#, "must describe an object"),
            (
                r#"{"type":"object","properties":{"a":{"type":["integer","string"]}}}"#,
                "property \"a\"",
            ),
            (
                r#"{"type":"object","properties":{"a":{"$ref":"http://x/y"}}}"#,
                "not a local",
            ),
            (r#"{"type":"object","properties":{"a":{}}}"#, "no type"),
            (
                r##"{"type":"object","properties":{"a":{"$ref":"#/definitions/A"}},"definitions":{"A":{"$ref":"#/definitions/A"}}}"##,
                "too deep",
            ),
            ("{", "does not parse"),
        ] {
            let e = columns(schema).unwrap_err().to_string();
            assert!(e.contains(why), "{schema}: {e}");
        }
    }
}
