//! [`JsonColumns`]: the columns a JSON key or value becomes, each with the member path it reads
//! and its [`JsonType`], and the column spec a user writes with Deephaven's type names.
//!
//! Type names, as Deephaven writes them (Java's `ColumnDefinition` types and Python's `dtypes`),
//! matched without regard to case: `boolean`/`bool`, `byte`/`int8`, `short`/`int16`,
//! `int`/`int32`/`integer`, `long`/`int64`, `float`/`float32`, `double`/`float64`, `char`,
//! `String`/`string`/`java.lang.String`, `Instant`/`java.time.Instant`. Bytes, shorts and ints are
//! `int` columns (checked against their own range), floats `double` columns (a float is read as
//! the double it is), chars `string` columns of one character.
//!
//! Instants read ISO-8601 text (`2026-01-05T17:00:00.123Z`, with `Z` or an offset) or an epoch
//! number: milliseconds for `Instant` (Java's and Kafka's own clock), or the unit the type names:
//! `instant_seconds`, `instant_millis`, `instant_micros`, `instant_nanos`. A fraction in an
//! epoch number is kept to the nanosecond.
//!
//! A column named `a__b` reads member `b` of the object in member `a` (as nested Avro records
//! are named); any other name reads the top member of that name.
//!
//! Invariant: a [`JsonColumns`] is valid once built: names distinct, at most
//! [`crate::avro::mapping::MAX_COLUMNS`] columns, paths at most [`MAX_PATH`] deep, and no
//! column's path the prefix of another's (a member is either a leaf or an object of leaves).

use crate::column::ColumnType;
use crate::table::Field;
use crate::{Error, Result};

/// The deepest member path a column may read.
pub const MAX_PATH: usize = 64;

/// The unit of an epoch number in an instant column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EpochUnit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

impl EpochUnit {
    /// Nanoseconds in one unit.
    pub fn nanos(self) -> i64 {
        match self {
            Self::Seconds => 1_000_000_000,
            Self::Millis => 1_000_000,
            Self::Micros => 1_000,
            Self::Nanos => 1,
        }
    }
}

/// What a column takes from its member, and how it stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonType {
    Bool,
    /// An integer in `min..=max` (byte, short, int), in an `int` column.
    Int {
        min: i32,
        max: i32,
    },
    Long,
    Double,
    String,
    /// A string of exactly one character.
    Char,
    /// ISO-8601 text, or an epoch number in the unit.
    Instant(EpochUnit),
}

impl JsonType {
    pub const INT: JsonType = JsonType::Int {
        min: i32::MIN,
        max: i32::MAX,
    };

    /// The type a Deephaven type name (or one of ours) names.
    pub fn from_name(name: &str) -> Option<JsonType> {
        let name = name.trim().to_ascii_lowercase();
        Some(match name.as_str() {
            "bool" | "boolean" | "java.lang.boolean" => Self::Bool,
            "byte" | "int8" | "java.lang.byte" => Self::Int {
                min: i8::MIN.into(),
                max: i8::MAX.into(),
            },
            "short" | "int16" | "java.lang.short" => Self::Int {
                min: i16::MIN.into(),
                max: i16::MAX.into(),
            },
            "int" | "int32" | "integer" | "java.lang.integer" => Self::INT,
            "long" | "int64" | "java.lang.long" => Self::Long,
            "float" | "float32" | "double" | "float64" | "java.lang.float" | "java.lang.double" => {
                Self::Double
            }
            "char" | "character" | "java.lang.character" => Self::Char,
            "string" | "str" | "java.lang.string" => Self::String,
            "instant" | "java.time.instant" | "instant_millis" => Self::Instant(EpochUnit::Millis),
            "instant_seconds" => Self::Instant(EpochUnit::Seconds),
            "instant_micros" => Self::Instant(EpochUnit::Micros),
            "instant_nanos" => Self::Instant(EpochUnit::Nanos),
            _ => return None,
        })
    }

    /// The column that holds it.
    pub fn column_type(self) -> ColumnType {
        match self {
            Self::Bool => ColumnType::Bool,
            Self::Int { .. } => ColumnType::I32,
            Self::Long => ColumnType::I64,
            Self::Double => ColumnType::F64,
            Self::String | Self::Char => ColumnType::String,
            Self::Instant(_) => ColumnType::Timestamp,
        }
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bool => "boolean",
            Self::Int { min, .. } if min == i32::from(i8::MIN) => "byte",
            Self::Int { min, .. } if min == i32::from(i16::MIN) => "short",
            Self::Int { .. } => "int",
            Self::Long => "long",
            Self::Double => "double",
            Self::String => "string",
            Self::Char => "char",
            Self::Instant(_) => "instant",
        }
    }
}

/// One column of a JSON side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonColumn {
    pub name: String,
    /// The members it reads, from the top object down.
    pub path: Vec<String>,
    pub ty: JsonType,
}

/// The columns of a JSON key or value, in order (see the module's invariant).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JsonColumns {
    columns: Vec<JsonColumn>,
}

impl JsonColumns {
    /// Columns from `(path, type)` pairs, named by their paths joined with `__`.
    pub fn new(columns: Vec<(Vec<String>, JsonType)>) -> Result<Self> {
        let columns = columns
            .into_iter()
            .map(|(path, ty)| JsonColumn {
                name: path.join("__"),
                path,
                ty,
            })
            .collect();
        Self::checked(columns)
    }

    /// Columns with names of their own (checked as [`JsonColumns::new`]'s).
    pub fn named(columns: Vec<JsonColumn>) -> Result<Self> {
        Self::checked(columns)
    }

    /// Columns from a spec's `(column name, type name)` pairs; `a__b` reads `b` inside `a`.
    pub fn from_spec<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        let mut columns = Vec::new();
        for (name, ty) in pairs {
            let ty = JsonType::from_name(ty).ok_or_else(|| {
                Error::JsonColumns(format!(
                    "column {name:?}: unknown type {ty:?} (types: boolean, byte, short, int, long, \
                     float, double, char, String, Instant, instant_seconds, instant_millis, \
                     instant_micros, instant_nanos)"
                ))
            })?;
            columns.push((name.split("__").map(str::to_owned).collect(), ty));
        }
        Self::new(columns)
    }

    /// Columns from a spec's text, `Name=type,Name=type` (`:` also separates a name from its type).
    pub fn from_spec_text(text: &str) -> Result<Self> {
        let mut pairs = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, ty) = item.split_once(['=', ':']).ok_or_else(|| {
                Error::JsonColumns(format!("{item:?} is not Name=type (in spec {text:?})"))
            })?;
            pairs.push((name.trim(), ty.trim()));
        }
        Self::from_spec(pairs)
    }

    fn checked(columns: Vec<JsonColumn>) -> Result<Self> {
        let max = crate::avro::mapping::MAX_COLUMNS;
        if columns.len() > max {
            return Err(Error::JsonColumns(format!("more than {max} columns")));
        }
        let mut paths: Vec<(&[String], &str)> = Vec::with_capacity(columns.len());
        for c in &columns {
            if c.path.is_empty() || c.path.iter().any(String::is_empty) {
                return Err(Error::JsonColumns(format!(
                    "column {:?} names an empty member",
                    c.name
                )));
            }
            if c.path.len() > MAX_PATH {
                return Err(Error::JsonColumns(format!(
                    "column {:?} reads members nested deeper than {MAX_PATH} levels",
                    c.name
                )));
            }
            paths.push((&c.path, &c.name));
        }
        paths.sort_unstable();
        for pair in paths.windows(2) {
            if let [(a, an), (b, bn)] = pair
                && b.starts_with(a)
            {
                return Err(Error::JsonColumns(if a == b {
                    format!("columns {an:?} and {bn:?} read the same member")
                } else {
                    format!("column {an:?} reads a member that column {bn:?} reads inside")
                }));
            }
        }
        let mut names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::DuplicateColumn(w[0].to_owned()));
        }
        Ok(Self { columns })
    }

    pub fn columns(&self) -> &[JsonColumn] {
        &self.columns
    }

    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The table fields, in order.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.columns
            .iter()
            .map(|c| Field::new(&c.name, c.ty.column_type()))
    }

    /// The spec's text (`Name=type,…`), as [`JsonColumns::from_spec_text`] reads it, to show a
    /// user what was inferred.
    pub fn spec_text(&self) -> String {
        let mut out = String::new();
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&c.name);
            out.push('=');
            out.push_str(match c.ty {
                JsonType::Instant(EpochUnit::Seconds) => "instant_seconds",
                JsonType::Instant(EpochUnit::Micros) => "instant_micros",
                JsonType::Instant(EpochUnit::Nanos) => "instant_nanos",
                other => other.name(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deephaven_type_names_and_ours() {
        let c = JsonColumns::from_spec_text(
            "Price=double, Exchange=String, Timestamp=Instant, Size=long, N:int, S=short, \
             B=byte, F=float, Ok=boolean, C=char, T=instant_micros, q__r=java.lang.String",
        )
        .unwrap();
        let types: Vec<ColumnType> = c.fields().map(|f| f.ty).collect();
        use ColumnType as T;
        assert_eq!(
            types,
            [
                T::F64,
                T::String,
                T::Timestamp,
                T::I64,
                T::I32,
                T::I32,
                T::I32,
                T::F64,
                T::Bool,
                T::String,
                T::Timestamp,
                T::String
            ]
        );
        assert_eq!(c.columns()[11].path, ["q", "r"]);
        assert_eq!(c.columns()[5].ty.name(), "short");
        let again = JsonColumns::from_spec_text(&c.spec_text()).unwrap();
        assert_eq!(
            again.fields().collect::<Vec<_>>(),
            c.fields().collect::<Vec<_>>()
        );
    }

    #[test]
    fn bad_specs_are_refused_with_the_reason() {
        for (spec, why) in [
            ("A=decimal", "unknown type"),
            ("A", "not Name=type"),
            ("A=int,A=long", "same member"),
            ("a=int,a__b=long", "reads inside"),
            ("a____b=int", "empty member"),
        ] {
            let e = JsonColumns::from_spec_text(spec).unwrap_err().to_string();
            assert!(e.contains(why), "{spec}: {e}");
        }
        let deep = vec!["x"; MAX_PATH + 1].join("__");
        assert!(JsonColumns::from_spec([(deep.as_str(), "int")]).is_err());
    }
}
