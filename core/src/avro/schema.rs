//! Avro schemas: the parsed tree, read from a schema's JSON text by the Avro specification
//! (1.12), with its Parsing Canonical Form and its Rabin fingerprint.
//!
//! Ours rather than apache-avro's, for the page: with [`crate::json`], it took apache-avro,
//! regex-lite, num-bigint and serde_json out of the wasm bundle (260 KB of code, 90 KB gzipped).
//! Parsing costs linear time in the text (names, fields and symbols are checked through hash
//! sets), and the text nests at most [`crate::json::MAX_DEPTH`] levels. The rules, and where they are ours:
//! - Names: a fullname is `namespace.name`; a name with dots carries its namespace; a name
//!   without one takes the `namespace` attribute, else the enclosing named type's. Each part is
//!   `[A-Za-z_][A-Za-z0-9_]*`. A named type is defined once, before any reference to it (a
//!   record may refer to itself from its fields). A reference is resolved in the enclosing
//!   namespace first, then as written.
//! - Logical types: an invalid one (a decimal whose scale exceeds its precision, a `date` on a
//!   long, an unknown name) is ignored and the underlying type kept, as the specification says.
//!   `uuid` is taken on a string only (on a `fixed` 16 it stays a fixed).
//! - Unions: no union directly inside (an empty union is a valid schema, with no values), no two branches of the same type (named types
//!   by fullname, others by their underlying type, so `int` and `date` clash, as in Java).
//! - Defaults are kept as JSON and checked only when a reader uses them (when a plan fills a
//!   field the writer lacks): an unreadable default in a field that is never filled does not
//!   make the schema unreadable.
//! - `doc`, `order`, named types' aliases and other attributes are read and ignored; field
//!   aliases are kept, for schema resolution.
//!
//! Invariant: a schema's named types are defined where they first appear in the text and are
//! [`Schema::Ref`] everywhere after; so a walk in text order meets each definition before its
//! references, and the canonical form is written in one walk.

use rustc_hash::FxHashSet as HashSet;
use std::fmt::Write;

use crate::json::Json;
use crate::{Error, Result};

/// A named type's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    pub name: String,
    pub namespace: Option<String>,
}

impl Name {
    /// `namespace.name`, or `name` in the null namespace.
    pub fn fullname(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordField {
    pub name: String,
    pub schema: Schema,
    pub default: Option<Json>,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordSchema {
    pub name: Name,
    pub fields: Vec<RecordField>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumSchema {
    pub name: Name,
    pub symbols: Vec<String>,
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FixedSchema {
    pub name: Name,
    pub size: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecimalSchema {
    pub precision: usize,
    pub scale: usize,
    /// `bytes` or a `fixed`.
    pub inner: Box<Schema>,
}

/// A parsed schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Schema {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Array(Box<Schema>),
    Map(Box<Schema>),
    Union(Vec<Schema>),
    Record(RecordSchema),
    Enum(EnumSchema),
    Fixed(FixedSchema),
    Decimal(DecimalSchema),
    /// `big-decimal` on bytes.
    BigDecimal,
    /// `uuid` on a string.
    Uuid,
    Date,
    TimeMillis,
    TimeMicros,
    TimestampMillis,
    TimestampMicros,
    TimestampNanos,
    LocalTimestampMillis,
    LocalTimestampMicros,
    LocalTimestampNanos,
    /// `duration` on a `fixed` of 12.
    Duration(FixedSchema),
    /// A named type defined earlier.
    Ref {
        name: Name,
    },
}

impl Schema {
    /// Parses a schema's JSON text.
    pub fn parse(text: &str) -> Result<Schema> {
        let json = Json::parse(text)
            .map_err(|e| Error::Schema(format!("the schema is not valid JSON: {e}")))?;
        Parser::default().schema(&json, None)
    }

    /// The type's name in Avro's words: a named type's own name (a decimal or duration on a
    /// `fixed` included, as a reference to it is), else its (logical) type name.
    pub fn label(&self) -> &str {
        if let Some(name) = self.defined_name() {
            return &name.name;
        }
        match self {
            Schema::Ref { name } => &name.name,
            Schema::Decimal(_) => "decimal",
            Schema::BigDecimal => "big-decimal",
            Schema::Uuid => "uuid",
            Schema::Date => "date",
            Schema::TimeMillis => "time-millis",
            Schema::TimeMicros => "time-micros",
            Schema::TimestampMillis => "timestamp-millis",
            Schema::TimestampMicros => "timestamp-micros",
            Schema::TimestampNanos => "timestamp-nanos",
            Schema::LocalTimestampMillis => "local-timestamp-millis",
            Schema::LocalTimestampMicros => "local-timestamp-micros",
            Schema::LocalTimestampNanos => "local-timestamp-nanos",
            Schema::Duration(_) => "duration",
            other => other.physical(),
        }
    }

    /// The underlying type's name: what the binary encoding is.
    pub fn physical(&self) -> &'static str {
        match self {
            Schema::Null => "null",
            Schema::Boolean => "boolean",
            Schema::Int | Schema::Date | Schema::TimeMillis => "int",
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => "long",
            Schema::Float => "float",
            Schema::Double => "double",
            Schema::Bytes | Schema::BigDecimal => "bytes",
            Schema::String | Schema::Uuid => "string",
            Schema::Decimal(d) => d.inner.physical(),
            Schema::Fixed(_) | Schema::Duration(_) => "fixed",
            Schema::Array(_) => "array",
            Schema::Map(_) => "map",
            Schema::Union(_) => "union",
            Schema::Record(_) => "record",
            Schema::Enum(_) => "enum",
            Schema::Ref { .. } => "ref",
        }
    }

    /// The named type this schema defines, if it defines one.
    pub fn defined_name(&self) -> Option<&Name> {
        match self {
            Schema::Record(r) => Some(&r.name),
            Schema::Enum(e) => Some(&e.name),
            Schema::Fixed(f) | Schema::Duration(f) => Some(&f.name),
            Schema::Decimal(d) => d.inner.defined_name(),
            _ => None,
        }
    }

    /// The Parsing Canonical Form (the specification's STRIP, PRIMITIVES, FULLNAMES, ORDER,
    /// STRINGS, INTEGERS and WHITESPACE transformations): logical types and every attribute but
    /// `name`, `type`, `fields`, `symbols`, `items`, `values` and `size` are dropped.
    pub fn canonical_form(&self) -> String {
        let mut out = String::new();
        self.write_canonical(&mut out);
        out
    }

    fn write_canonical(&self, out: &mut String) {
        // Names, symbols and field names are `[A-Za-z0-9_.]`: they need no escaping.
        match self {
            Schema::Array(items) => {
                out.push_str(r#"{"type":"array","items":"#);
                items.write_canonical(out);
                out.push('}');
            }
            Schema::Map(values) => {
                out.push_str(r#"{"type":"map","values":"#);
                values.write_canonical(out);
                out.push('}');
            }
            Schema::Union(variants) => {
                out.push('[');
                list(out, variants, |out, v| v.write_canonical(out));
                out.push(']');
            }
            Schema::Record(r) => {
                named_list(out, &r.name, "record", "fields", &r.fields, |out, f| {
                    let _ = write!(out, r#"{{"name":"{}","type":"#, f.name);
                    f.schema.write_canonical(out);
                    out.push('}');
                })
            }
            Schema::Enum(e) => named_list(out, &e.name, "enum", "symbols", &e.symbols, |out, s| {
                let _ = write!(out, r#""{s}""#);
            }),
            Schema::Fixed(f) | Schema::Duration(f) => {
                let _ = write!(
                    out,
                    r#"{{"name":"{}","type":"fixed","size":{}}}"#,
                    f.name.fullname(),
                    f.size
                );
            }
            Schema::Decimal(d) => d.inner.write_canonical(out),
            Schema::Ref { name } => {
                let _ = write!(out, r#""{}""#, name.fullname());
            }
            leaf => {
                let _ = write!(out, r#""{}""#, leaf.physical());
            }
        }
    }

    /// The CRC-64-AVRO (Rabin) fingerprint of the canonical form, as Avro's Java prints it.
    pub fn fingerprint(&self) -> i64 {
        rabin(self.canonical_form().as_bytes())
    }
}

/// A named type with a list: `{"name":…,"type":kind,"key":[items]}`.
fn named_list<T>(
    out: &mut String,
    name: &Name,
    kind: &str,
    key: &str,
    items: &[T],
    each: impl Fn(&mut String, &T),
) {
    let _ = write!(
        out,
        r#"{{"name":"{}","type":"{kind}","{key}":["#,
        name.fullname()
    );
    list(out, items, each);
    out.push_str("]}");
}

/// `items` written by `each`, comma-separated.
fn list<T>(out: &mut String, items: &[T], each: impl Fn(&mut String, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
}

/// The 64-bit Rabin fingerprint of the specification ("Schema Fingerprints"), as a signed long.
pub fn rabin(bytes: &[u8]) -> i64 {
    const EMPTY: u64 = 0xc15d_213a_a4d7_a795;
    let table = |i: u64| (0..8).fold(i, |fp, _| (fp >> 1) ^ (EMPTY & (fp & 1).wrapping_neg()));
    let fp = bytes.iter().fold(EMPTY, |fp, &b| {
        (fp >> 8) ^ table((fp ^ u64::from(b)) & 0xff)
    });
    fp as i64
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::Schema(what.to_string())
}

/// Whether `s` is a name part: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn primitive(name: &str) -> Option<Schema> {
    Some(match name {
        "null" => Schema::Null,
        "boolean" => Schema::Boolean,
        "int" => Schema::Int,
        "long" => Schema::Long,
        "float" => Schema::Float,
        "double" => Schema::Double,
        "bytes" => Schema::Bytes,
        "string" => Schema::String,
        _ => return None,
    })
}

/// The most decimal digits a two's-complement number of `size` bytes always holds.
fn max_precision(size: usize) -> usize {
    if size == 0 {
        return 0;
    }
    // floor(log10(2^(8 size - 1) - 1)), without overflow for large sizes.
    ((8.0 * size as f64 - 1.0) * std::f64::consts::LOG10_2).floor() as usize
}

#[derive(Default)]
struct Parser {
    /// The fullnames defined so far.
    defined: HashSet<String>,
}

impl Parser {
    fn schema(&mut self, json: &Json, ns: Option<&str>) -> Result<Schema> {
        match json {
            Json::String(s) => self.named_or_primitive(s, ns),
            Json::Array(branches) => self.union(branches, ns),
            Json::Object(_) => self.complex(json, ns),
            other => Err(bad(format!(
                "a schema is a type name, an object or an array (a union), not {}",
                other.shown()
            ))),
        }
    }

    fn named_or_primitive(&mut self, s: &str, ns: Option<&str>) -> Result<Schema> {
        if let Some(p) = primitive(s) {
            return Ok(p);
        }
        let qualified = match ns {
            Some(ns) if !s.contains('.') => format!("{ns}.{s}"),
            _ => s.to_owned(),
        };
        for full in [qualified.as_str(), s] {
            if self.defined.contains(full) {
                let name = split_fullname(full);
                return Ok(Schema::Ref { name });
            }
        }
        Err(bad(format!(
            "unknown type {s:?} (a named type is defined before it is used)"
        )))
    }

    fn union(&mut self, branches: &[Json], ns: Option<&str>) -> Result<Schema> {
        let mut variants = Vec::with_capacity(branches.len());
        let mut kinds = HashSet::default();
        for b in branches {
            let v = self.schema(b, ns)?;
            let kind = match (&v, v.defined_name()) {
                (Schema::Union(_), _) => {
                    return Err(bad("a union directly contains a union"));
                }
                (Schema::Ref { name }, _) | (_, Some(name)) => name.fullname(),
                (other, None) => other.physical().to_owned(),
            };
            if !kinds.insert(kind.clone()) {
                return Err(bad(format!("a union has two branches of type {kind}")));
            }
            variants.push(v);
        }
        Ok(Schema::Union(variants))
    }

    fn complex(&mut self, json: &Json, ns: Option<&str>) -> Result<Schema> {
        let ty = json
            .get("type")
            .ok_or_else(|| bad(format!("a schema object has no \"type\": {}", json.shown())))?;
        let base = match ty {
            Json::String(t) => match t.as_str() {
                "record" | "error" => self.record(json, ns)?,
                "enum" => self.enumeration(json, ns)?,
                "fixed" => self.fixed(json, ns)?,
                "array" => {
                    let items = json
                        .get("items")
                        .ok_or_else(|| bad("an array schema has no \"items\""))?;
                    Schema::Array(Box::new(self.schema(items, ns)?))
                }
                "map" => {
                    let values = json
                        .get("values")
                        .ok_or_else(|| bad("a map schema has no \"values\""))?;
                    Schema::Map(Box::new(self.schema(values, ns)?))
                }
                other => self.named_or_primitive(other, ns)?,
            },
            // `{"type": {...}}`: the inner schema, with the outer logical type if any.
            nested => self.schema(nested, ns)?,
        };
        Ok(match json.get("logicalType").and_then(Json::as_str) {
            Some(logical) => with_logical(base, logical, json),
            None => base,
        })
    }

    /// The name of a named type, its own namespace, and the fullname (not yet defined).
    fn name(&mut self, json: &Json, ns: Option<&str>, what: &str) -> Result<Name> {
        let written = json
            .get("name")
            .and_then(Json::as_str)
            .ok_or_else(|| bad(format!("a {what} has no \"name\"")))?;
        let name = match written.rsplit_once('.') {
            Some(_) => split_fullname(written),
            None => Name {
                name: written.to_owned(),
                namespace: match json.get("namespace") {
                    Some(Json::String(n)) => Some(n.clone()),
                    Some(Json::Null) | None => ns.map(str::to_owned),
                    Some(other) => {
                        return Err(bad(format!(
                            "a namespace is a string, not {}",
                            other.shown()
                        )));
                    }
                },
            }
            .without_empty_namespace(),
        };
        let parts_ok = is_identifier(&name.name)
            && name
                .namespace
                .as_deref()
                .is_none_or(|n| n.split('.').all(is_identifier));
        if !parts_ok {
            return Err(bad(format!(
                "{:?} is not a valid Avro name",
                name.fullname()
            )));
        }
        if primitive(&name.name).is_some() {
            return Err(bad(format!("a {what} cannot be named {:?}", name.name)));
        }
        let full = name.fullname();
        if !self.defined.insert(full.clone()) {
            return Err(bad(format!("the type {full} is defined twice")));
        }
        Ok(name)
    }

    fn record(&mut self, json: &Json, ns: Option<&str>) -> Result<Schema> {
        let name = self.name(json, ns, "record")?;
        let inner_ns = name.namespace.clone();
        let list = json
            .get("fields")
            .and_then(Json::as_array)
            .ok_or_else(|| bad(format!("record {} has no \"fields\" array", name.name)))?;
        let mut fields: Vec<RecordField> = Vec::with_capacity(list.len());
        // Of `String`s, a set type the bundle has already (`defined`).
        let mut seen: HashSet<String> =
            HashSet::with_capacity_and_hasher(list.len(), Default::default());
        for f in list {
            let field_name = f
                .get("name")
                .and_then(Json::as_str)
                .filter(|n| is_identifier(n))
                .ok_or_else(|| {
                    bad(format!(
                        "record {}: a field has no valid \"name\": {}",
                        name.name,
                        f.shown()
                    ))
                })?;
            if !seen.insert(field_name.to_owned()) {
                return Err(bad(format!(
                    "record {}: field {field_name} is defined twice",
                    name.name
                )));
            }
            let ty = f.get("type").ok_or_else(|| {
                bad(format!(
                    "record {}: field {field_name} has no \"type\"",
                    name.name
                ))
            })?;
            let schema = self.schema(ty, inner_ns.as_deref())?;
            let aliases = match f.get("aliases") {
                None | Some(Json::Null) => Vec::new(),
                Some(a) => a
                    .as_array()
                    .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_owned)).collect())
                    .ok_or_else(|| {
                        bad(format!(
                            "field {field_name}: aliases are an array of strings"
                        ))
                    })?,
            };
            fields.push(RecordField {
                name: field_name.to_owned(),
                schema,
                default: f.get("default").cloned(),
                aliases,
            });
        }
        Ok(Schema::Record(RecordSchema { name, fields }))
    }

    fn enumeration(&mut self, json: &Json, ns: Option<&str>) -> Result<Schema> {
        let name = self.name(json, ns, "enum")?;
        let symbols: Vec<String> = json
            .get("symbols")
            .and_then(Json::as_array)
            .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_owned)).collect())
            .ok_or_else(|| {
                bad(format!(
                    "enum {} has no \"symbols\" array of strings",
                    name.name
                ))
            })?;
        let mut seen: HashSet<String> =
            HashSet::with_capacity_and_hasher(symbols.len(), Default::default());
        for s in &symbols {
            if !is_identifier(s) {
                return Err(bad(format!(
                    "enum {}: {s:?} is not a valid symbol",
                    name.name
                )));
            }
            if !seen.insert(s.clone()) {
                return Err(bad(format!("enum {}: symbol {s} appears twice", name.name)));
            }
        }
        let default = match json.get("default") {
            None | Some(Json::Null) => None,
            Some(Json::String(d)) if symbols.contains(d) => Some(d.clone()),
            Some(other) => {
                return Err(bad(format!(
                    "enum {}: the default {} is not one of its symbols",
                    name.name,
                    other.shown()
                )));
            }
        };
        Ok(Schema::Enum(EnumSchema {
            name,
            symbols,
            default,
        }))
    }

    fn fixed(&mut self, json: &Json, ns: Option<&str>) -> Result<Schema> {
        let name = self.name(json, ns, "fixed")?;
        let size = json
            .get("size")
            .and_then(Json::as_i64)
            .and_then(|s| usize::try_from(s).ok())
            .ok_or_else(|| {
                bad(format!(
                    "fixed {} has no \"size\" (a non-negative integer)",
                    name.name
                ))
            })?;
        Ok(Schema::Fixed(FixedSchema { name, size }))
    }
}

impl Name {
    fn without_empty_namespace(mut self) -> Self {
        if self.namespace.as_deref() == Some("") {
            self.namespace = None;
        }
        self
    }
}

fn split_fullname(full: &str) -> Name {
    match full.rsplit_once('.') {
        Some((ns, name)) => Name {
            name: name.to_owned(),
            namespace: Some(ns.to_owned()),
        }
        .without_empty_namespace(),
        None => Name {
            name: full.to_owned(),
            namespace: None,
        },
    }
}

/// `base` with the logical type `logical`, or `base` itself where that logical type is invalid.
fn with_logical(base: Schema, logical: &str, json: &Json) -> Schema {
    match (logical, base) {
        ("decimal", base @ (Schema::Bytes | Schema::Fixed(_))) => {
            let int = |key| json.get(key).and_then(Json::as_i64);
            let precision = int("precision").and_then(|p| usize::try_from(p).ok());
            let scale = match json.get("scale") {
                None => Some(0),
                Some(_) => int("scale").and_then(|s| usize::try_from(s).ok()),
            };
            let fits = |p: usize| match &base {
                Schema::Fixed(f) => p <= max_precision(f.size),
                _ => true,
            };
            match (precision, scale) {
                (Some(precision), Some(scale))
                    if precision > 0 && scale <= precision && fits(precision) =>
                {
                    Schema::Decimal(DecimalSchema {
                        precision,
                        scale,
                        inner: Box::new(base),
                    })
                }
                _ => base,
            }
        }
        ("big-decimal", Schema::Bytes) => Schema::BigDecimal,
        ("uuid", Schema::String) => Schema::Uuid,
        ("date", Schema::Int) => Schema::Date,
        ("time-millis", Schema::Int) => Schema::TimeMillis,
        ("time-micros", Schema::Long) => Schema::TimeMicros,
        ("timestamp-millis", Schema::Long) => Schema::TimestampMillis,
        ("timestamp-micros", Schema::Long) => Schema::TimestampMicros,
        ("timestamp-nanos", Schema::Long) => Schema::TimestampNanos,
        ("local-timestamp-millis", Schema::Long) => Schema::LocalTimestampMillis,
        ("local-timestamp-micros", Schema::Long) => Schema::LocalTimestampMicros,
        ("local-timestamp-nanos", Schema::Long) => Schema::LocalTimestampNanos,
        ("duration", Schema::Fixed(f)) if f.size == 12 => Schema::Duration(f),
        (_, base) => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Schema {
        Schema::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn refused(text: &str) -> String {
        match Schema::parse(text) {
            Ok(s) => panic!("{text} parsed: {s:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn names_take_the_enclosing_namespace() {
        let s = parse(
            r#"{"type":"record","name":"T","namespace":"a.b","fields":[
                {"name":"x","type":{"type":"fixed","name":"F","size":2}},
                {"name":"y","type":"F"},
                {"name":"z","type":"a.b.F"},
                {"name":"w","type":{"type":"enum","name":"c.E","symbols":["A"]}},
                {"name":"v","type":{"type":"record","name":"R","namespace":"","fields":[]}},
                {"name":"u","type":["null","T"]}]}"#,
        );
        assert_eq!(
            s.canonical_form(),
            r#"{"name":"a.b.T","type":"record","fields":[{"name":"x","type":{"name":"a.b.F","type":"fixed","size":2}},{"name":"y","type":"a.b.F"},{"name":"z","type":"a.b.F"},{"name":"w","type":{"name":"c.E","type":"enum","symbols":["A"]}},{"name":"v","type":{"name":"R","type":"record","fields":[]}},{"name":"u","type":["null","a.b.T"]}]}"#
        );
    }

    #[test]
    fn logical_types_and_invalid_ones() {
        assert_eq!(
            parse(r#"{"type":"int","logicalType":"date"}"#),
            Schema::Date
        );
        assert_eq!(
            parse(r#"{"type":"long","logicalType":"date"}"#),
            Schema::Long
        );
        assert_eq!(
            parse(r#"{"type":"long","logicalType":"unknown"}"#),
            Schema::Long
        );
        assert_eq!(
            parse(r#"{"type":"long","logicalType":"timestamp-nanos"}"#),
            Schema::TimestampNanos
        );
        assert_eq!(
            parse(r#"{"type":"string","logicalType":"uuid"}"#),
            Schema::Uuid
        );
        assert!(matches!(
            parse(r#"{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}"#),
            Schema::Decimal(DecimalSchema {
                precision: 4,
                scale: 2,
                ..
            })
        ));
        // Scale over precision, no precision, a precision the fixed cannot hold: ignored.
        assert_eq!(
            parse(r#"{"type":"bytes","logicalType":"decimal","precision":2,"scale":3}"#),
            Schema::Bytes
        );
        assert_eq!(
            parse(r#"{"type":"bytes","logicalType":"decimal"}"#),
            Schema::Bytes
        );
        assert!(matches!(
            parse(r#"{"type":"fixed","name":"F","size":2,"logicalType":"decimal","precision":5}"#),
            Schema::Fixed(_)
        ));
        assert!(matches!(
            parse(r#"{"type":"fixed","name":"F","size":2,"logicalType":"decimal","precision":4}"#),
            Schema::Decimal(_)
        ));
        let duration = parse(r#"{"type":"fixed","name":"D","size":12,"logicalType":"duration"}"#);
        assert!(matches!(duration, Schema::Duration(_)));
        assert_eq!(
            duration.canonical_form(),
            r#"{"name":"D","type":"fixed","size":12}"#
        );
        assert!(matches!(
            parse(r#"{"type":"fixed","name":"D","size":11,"logicalType":"duration"}"#),
            Schema::Fixed(_)
        ));
        // The canonical form drops logical types.
        assert_eq!(
            parse(r#"{"type":"fixed","name":"F","size":2,"logicalType":"decimal","precision":4}"#)
                .canonical_form(),
            r#"{"name":"F","type":"fixed","size":2}"#
        );
    }

    #[test]
    fn a_wrapped_type_keeps_the_outer_logical_type() {
        assert_eq!(
            parse(r#"{"type":{"type":"int"},"logicalType":"date"}"#),
            Schema::Date
        );
        assert_eq!(parse(r#"{"type":{"type":"long"}}"#), Schema::Long);
    }

    #[test]
    fn a_logical_type_on_a_named_fixed_is_labelled_by_its_name() {
        let decimal =
            parse(r#"{"type":"fixed","name":"F","size":4,"logicalType":"decimal","precision":9}"#);
        assert_eq!(decimal.label(), "F");
        assert_eq!(
            parse(r#"{"type":"bytes","logicalType":"decimal","precision":9}"#).label(),
            "decimal"
        );
        assert_eq!(
            parse(r#"{"type":"long","logicalType":"timestamp-micros"}"#).label(),
            "timestamp-micros"
        );
    }

    #[test]
    fn a_decimal_default_as_the_spec_writes_it_is_kept() {
        let s = parse(
            r#"{"type":"record","name":"T","fields":[{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2},"default":"\u0004\u00d2"}]}"#,
        );
        let Schema::Record(r) = s else { panic!() };
        assert_eq!(
            r.fields[0].default,
            Some(Json::String("\u{4}\u{d2}".into()))
        );
    }

    #[test]
    fn refuses_what_the_specification_forbids() {
        for (text, says) in [
            (r#"["int",["long"]]"#, "directly contains a union"),
            (r#"["int","int"]"#, "two branches of type int"),
            (
                r#"["int",{"type":"int","logicalType":"date"}]"#,
                "two branches of type int",
            ),
            (r#""Nope""#, "unknown type"),
            (
                r#"{"type":"record","name":"1T","fields":[]}"#,
                "not a valid Avro name",
            ),
            (
                r#"{"type":"record","name":"a..T","fields":[]}"#,
                "not a valid Avro name",
            ),
            (r#"{"type":"record","name":"T"}"#, "no \"fields\""),
            (r#"{"type":"record","fields":[]}"#, "no \"name\""),
            (
                r#"{"type":"record","name":"T","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]}"#,
                "defined twice",
            ),
            (
                r#"{"type":"record","name":"T","fields":[{"name":"a"}]}"#,
                "no \"type\"",
            ),
            (
                r#"{"type":"record","name":"T","fields":[{"name":"a","type":{"type":"fixed","name":"T","size":1}}]}"#,
                "defined twice",
            ),
            (
                r#"{"type":"enum","name":"E","symbols":["A","A"]}"#,
                "appears twice",
            ),
            (
                r#"{"type":"enum","name":"E","symbols":["1"]}"#,
                "not a valid symbol",
            ),
            (
                r#"{"type":"enum","name":"E","symbols":["A"],"default":"B"}"#,
                "not one of its symbols",
            ),
            (r#"{"type":"fixed","name":"F","size":-1}"#, "no \"size\""),
            (
                r#"{"type":"fixed","name":"int","size":1}"#,
                "cannot be named",
            ),
            (r#"{"type":"array"}"#, "no \"items\""),
            (r#"{"type":"map"}"#, "no \"values\""),
            (r#"{"name":"x"}"#, "no \"type\""),
            ("12", "a type name, an object or an array"),
            ("{", "not valid JSON"),
        ] {
            let e = refused(text);
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn an_error_is_a_record() {
        // As Java's SchemaNormalization writes it: "record" (apache-avro does not know "error").
        let s =
            parse(r#"{"type":"error","name":"Oops","fields":[{"name":"why","type":"string"}]}"#);
        assert_eq!(
            s.canonical_form(),
            r#"{"name":"Oops","type":"record","fields":[{"name":"why","type":"string"}]}"#
        );
    }

    #[test]
    fn a_record_may_refer_to_itself() {
        let s = parse(
            r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#,
        );
        assert_eq!(
            s.canonical_form(),
            r#"{"name":"Node","type":"record","fields":[{"name":"next","type":["null","Node"]}]}"#
        );
    }

    #[test]
    fn rabin_of_the_empty_input_is_the_seed() {
        assert_eq!(rabin(b""), 0xc15d_213a_a4d7_a795_u64 as i64);
    }
}
