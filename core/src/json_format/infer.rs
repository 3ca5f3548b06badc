//! [`Inference`]: a JSON side's columns, inferred from its first documents.
//!
//! Each member path's type widens as documents come (arrow-json's `infer_json_schema` does the
//! same, with its own rules):
//!
//! - integers are `int` while they fit 32 bits, then `long`; a number with a fraction or an
//!   exponent (or an integer beyond 64 bits) makes the column `double`;
//! - `true`/`false` stay `boolean` unless mixed with another kind, which makes a `string`;
//! - anything mixed with a string is a `string` (numbers and booleans then read as their text);
//! - an object's members become columns `a__b` (nested objects flatten); an object mixed with
//!   any other kind, an array, or an object nested deeper than [`super::spec::MAX_PATH`] is a
//!   `string` of its compact JSON text;
//! - `null` fixes nothing; a member seen only as `null` is a `string` column;
//! - ISO-8601 strings and epoch numbers stay strings and numbers: only a spec or a schema makes
//!   an instant.
//!
//! Columns come in the order their members were first seen. Documents that are not JSON objects
//! (bad JSON, a bare number) do not count: they fail when they are decoded.
//!
//! The caller buffers the records it infers from (the first [`DEFAULT_LIMIT`] unless told
//! otherwise), then decodes them with the inferred columns before any later record, so every
//! record is decoded exactly once and in order.
//!
//! Invariant: [`Inference::columns`] depends only on the documents added, in their order.

use super::spec::{JsonColumns, JsonType, MAX_PATH};
use crate::Result;
use crate::json::Json;

/// Documents looked at before the columns are fixed, by default.
pub const DEFAULT_LIMIT: usize = 1_000;

#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Null,
    Bool,
    Int,
    Long,
    Double,
    String,
    Object(Vec<(String, Seen)>),
}

impl Seen {
    fn of(value: &Json, depth: usize) -> Seen {
        match value {
            Json::Null => Seen::Null,
            Json::Bool(_) => Seen::Bool,
            Json::Number(_) => match value.as_i64() {
                Some(i) if i32::try_from(i).is_ok() => Seen::Int,
                Some(_) => Seen::Long,
                None => Seen::Double,
            },
            Json::String(_) | Json::Array(_) => Seen::String,
            Json::Object(_) if depth >= MAX_PATH => Seen::String,
            Json::Object(members) => Seen::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), Seen::of(v, depth + 1)))
                    .collect(),
            ),
        }
    }

    fn merge(&mut self, other: Seen) {
        use Seen::*;
        let merged = match (std::mem::replace(self, Null), other) {
            (Null, x) | (x, Null) => x,
            (Object(mut a), Object(b)) => {
                for (k, v) in b {
                    match a.iter_mut().find(|(name, _)| *name == k) {
                        Some((_, seen)) => seen.merge(v),
                        None => a.push((k, v)),
                    }
                }
                Object(a)
            }
            (a, b) if a == b => a,
            (Int, Long) | (Long, Int) => Long,
            (Int | Long | Double, Int | Long | Double) => Double,
            _ => String,
        };
        *self = merged;
    }

    fn columns(&self, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, JsonType)>) {
        let ty = match self {
            Seen::Object(members) => {
                for (name, seen) in members {
                    path.push(name.clone());
                    seen.columns(path, out);
                    path.pop();
                }
                return;
            }
            Seen::Null | Seen::String => JsonType::String,
            Seen::Bool => JsonType::Bool,
            Seen::Int => JsonType::INT,
            Seen::Long => JsonType::Long,
            Seen::Double => JsonType::Double,
        };
        out.push((path.clone(), ty));
    }
}

/// Columns inferred from the documents added so far (see the module's doc).
#[derive(Debug, Clone)]
pub struct Inference {
    seen: Seen,
    limit: usize,
    documents: usize,
}

impl Inference {
    /// An inference that looks at `limit` documents (at least one).
    pub fn new(limit: usize) -> Self {
        Self {
            seen: Seen::Object(Vec::new()),
            limit: limit.max(1),
            documents: 0,
        }
    }

    /// Looks at one key or value (Confluent-framed or not; `None` for a Kafka null). True once
    /// `limit` documents have been looked at.
    pub fn add(&mut self, bytes: Option<&[u8]>) -> bool {
        self.documents += 1;
        let doc = bytes
            .map(super::unframe)
            .and_then(|b| std::str::from_utf8(b).ok());
        if let Some(json @ Json::Object(_)) = doc.and_then(|t| Json::parse(t).ok()) {
            self.seen.merge(Seen::of(&json, 0));
        }
        self.is_done()
    }

    pub fn is_done(&self) -> bool {
        self.documents >= self.limit
    }

    /// How many documents it has looked at.
    pub fn documents(&self) -> usize {
        self.documents
    }

    /// The columns so far.
    pub fn columns(&self) -> Result<JsonColumns> {
        let mut out = Vec::new();
        self.seen.columns(&mut Vec::new(), &mut out);
        JsonColumns::new(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(docs: &[&str]) -> String {
        let mut i = Inference::new(docs.len());
        for d in docs {
            i.add(Some(d.as_bytes()));
        }
        i.columns().unwrap().spec_text()
    }

    #[test]
    fn types_widen_as_documented() {
        assert_eq!(
            infer(&[
                r#"{"i":1,"l":1,"d":1,"b":true,"s":1,"n":null,"o":{"x":1,"y":{"z":"a"}},"a":[1]}"#,
                r#"{"i":-5,"l":5000000000,"d":1.5,"b":false,"s":"x","n":null,"o":{"x":null},"a":null,"t":"2026-01-05T17:00:00Z"}"#,
                r#"{"m":1}"#,
                r#"{"m":true,"e":12345678901234567890}"#,
                "not json",
                "[1,2]",
            ]),
            "i=int,l=long,d=double,b=boolean,s=string,n=string,o__x=int,o__y__z=string,a=string,\
             t=string,m=string,e=double"
        );
        // An object mixed with a scalar is one string column.
        assert_eq!(infer(&[r#"{"o":{"x":1}}"#, r#"{"o":2}"#]), "o=string");
        // Framed documents are unframed.
        assert_eq!(infer(&["\0\0\0\0\x07{\"k\":2}"]), "k=int");
    }

    #[test]
    fn stops_at_its_limit() {
        let mut i = Inference::new(2);
        assert!(!i.add(None));
        assert!(i.add(Some(b"{}")));
        assert_eq!(i.documents(), 2);
    }
}
