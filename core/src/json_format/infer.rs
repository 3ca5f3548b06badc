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
//!   any other kind, an array, an object nested deeper than [`super::spec::MAX_PATH`], or one
//!   with more than [`MAX_MEMBERS`] distinct members (over all documents: a map) is a `string`
//!   of its compact JSON text;
//! - a member with an empty name is skipped;
//! - `null` fixes nothing; a member seen only as `null` is a `string` column;
//! - ISO-8601 strings and epoch numbers stay strings and numbers: only a spec or a schema makes
//!   an instant.
//!
//! Columns come in the order their members were first seen, named by [`LegalNames`]
//! (Deephaven's legalization, then `2`, `3`, … appended to a name already taken: `a__b` from
//! `{"a__b":…}` and `{"a":{"b":…}}` become `a__b` and `a__b2`). Every record counts towards the
//! limit, but only JSON objects give columns ([`Inference::objects`] says how many there were);
//! others (bad JSON, a bare number) fail when they are decoded.
//!
//! The caller buffers the records it infers from (the first [`DEFAULT_LIMIT`] unless told
//! otherwise), then decodes them with the inferred columns before any later record, so every
//! record is decoded exactly once and in order.
//!
//! Invariant: [`Inference::columns`] depends only on the documents added, in their order.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::spec::{JsonColumn, JsonColumns, JsonType, MAX_PATH};
use crate::Result;
use crate::avro::mapping::MAX_COLUMNS;
use crate::json::Json;

/// Documents looked at before the columns are fixed, by default.
pub const DEFAULT_LIMIT: usize = 1_000;

/// The most documents an inference may be told to look at.
pub const MAX_LIMIT: usize = 100_000;

/// The most members an object may have and still become columns of its own: a larger one (a
/// map keyed by ids, say) is one `string` column of its JSON text.
pub const MAX_MEMBERS: usize = 1_000;

/// The members of an object seen so far, in the order first seen, indexed by name.
#[derive(Debug, Clone, PartialEq, Default)]
struct Members {
    list: Vec<(String, Seen)>,
    index: HashMap<String, usize>,
}

impl Members {
    fn add(&mut self, name: String, seen: Seen) {
        match self.index.get(&name) {
            Some(&i) => self.list[i].1.merge(seen),
            None => {
                self.index.insert(name.clone(), self.list.len());
                self.list.push((name, seen));
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Null,
    Bool,
    Int,
    Long,
    Double,
    String,
    Object(Members),
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
            Json::Object(members) if members.len() > MAX_MEMBERS => Seen::String,
            Json::Object(members) => {
                let mut seen = Members::default();
                // A member with an empty name cannot be named by a column: skipped.
                for (k, v) in members.iter().filter(|(k, _)| !k.is_empty()) {
                    seen.add(k.clone(), Seen::of(v, depth + 1));
                }
                Seen::Object(seen)
            }
        }
    }

    fn merge(&mut self, other: Seen) {
        use Seen::*;
        let merged = match (std::mem::replace(self, Null), other) {
            (Null, x) | (x, Null) => x,
            (Object(mut a), Object(b)) => {
                for (k, v) in b.list {
                    a.add(k, v);
                }
                // Too many distinct members over the documents: a map, read as its text.
                if a.list.len() > MAX_MEMBERS {
                    String
                } else {
                    Object(a)
                }
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
                for (name, seen) in &members.list {
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

/// Names Deephaven's `NameValidator` reserves (its own and Java's keywords): a column so named
/// gets the `column_` prefix.
const RESERVED: &[&str] = &[
    "in",
    "not",
    "i",
    "ii",
    "k",
    "abstract",
    "assert",
    "boolean",
    "break",
    "byte",
    "case",
    "catch",
    "char",
    "class",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extends",
    "final",
    "finally",
    "float",
    "for",
    "goto",
    "if",
    "implements",
    "import",
    "instanceof",
    "int",
    "interface",
    "long",
    "native",
    "new",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "short",
    "static",
    "strictfp",
    "super",
    "switch",
    "synchronized",
    "this",
    "throw",
    "throws",
    "transient",
    "try",
    "void",
    "volatile",
    "while",
    "true",
    "false",
    "null",
    "_",
];

/// Legal and distinct column names, made as Deephaven's `NameValidator.legalizeColumnName`
/// makes one: characters other than ASCII letters, digits, `_` and `$` are removed; a name left
/// empty is `column` (Deephaven refuses it); a reserved word (checked after the removal, so `in!`
/// is one) or a name that starts with a digit gets the prefix `column_`. Then, while the name is
/// taken, `2`, `3`, … is appended, counting on from the last suffix given to that name, so that
/// many members made the same name (non-ASCII names all become `column`) cost linear time.
#[derive(Debug, Default)]
pub struct LegalNames {
    taken: HashSet<String>,
    next: HashMap<String, u64>,
}

impl LegalNames {
    /// Names, none of which may be given.
    pub fn new<'a>(taken: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            taken: taken.into_iter().map(str::to_owned).collect(),
            next: HashMap::default(),
        }
    }

    /// A legal name for `name`, distinct from every name taken or given so far.
    pub fn give(&mut self, name: &str) -> String {
        let mut legal: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$')
            .collect();
        if legal.is_empty() {
            legal = "column".to_owned();
        } else if RESERVED.contains(&legal.as_str())
            || legal.starts_with(|c: char| c.is_ascii_digit())
        {
            legal.insert_str(0, "column_");
        }
        let mut candidate = legal.clone();
        if self.taken.contains(&candidate) {
            let next = self.next.entry(legal.clone()).or_insert(2);
            while self.taken.contains(&candidate) {
                candidate = format!("{legal}{next}");
                *next += 1;
            }
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

/// Columns inferred from the documents added so far (see the module's doc).
#[derive(Debug, Clone)]
pub struct Inference {
    /// The top object's members: they are columns however many (up to [`MAX_COLUMNS`]).
    seen: Members,
    limit: usize,
    documents: usize,
    objects: usize,
    /// Documents that were not Kafka nulls.
    present: usize,
}

impl Inference {
    /// An inference that looks at `limit` documents (at least one, at most [`MAX_LIMIT`]).
    pub fn new(limit: usize) -> Self {
        Self {
            seen: Members::default(),
            limit: limit.clamp(1, MAX_LIMIT),
            documents: 0,
            objects: 0,
            present: 0,
        }
    }

    /// Looks at one key or value (Confluent-framed or not; `None` for a Kafka null). True once
    /// `limit` documents have been looked at.
    pub fn add(&mut self, bytes: Option<&[u8]>) -> bool {
        self.documents += 1;
        self.present += usize::from(bytes.is_some());
        let doc = bytes
            .map(super::unframe)
            .and_then(|b| std::str::from_utf8(b).ok());
        if let Some(Json::Object(members)) = doc.and_then(|t| Json::parse(t).ok()) {
            self.objects += 1;
            for (k, v) in members.iter().filter(|(k, _)| !k.is_empty()) {
                self.seen.add(k.clone(), Seen::of(v, 1));
            }
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

    /// How many of them were JSON objects (the only ones that give columns).
    pub fn objects(&self) -> usize {
        self.objects
    }

    /// Whether every document it looked at was a Kafka null (a topic without keys, say).
    pub fn only_nulls(&self) -> bool {
        self.present == 0
    }

    /// The columns so far, named by their member paths joined with `__`.
    pub fn columns(&self) -> Result<JsonColumns> {
        self.columns_named("", &[])
    }

    /// The columns so far, each named `prefix` + its member path joined with `__`, made legal
    /// and distinct from `taken` and from each other by [`LegalNames`]. Past
    /// [`MAX_COLUMNS`] less `taken`, later members are left out (as members first seen after
    /// the columns are fixed are).
    pub fn columns_named(&self, prefix: &str, taken: &[&str]) -> Result<JsonColumns> {
        let mut paths = Vec::new();
        for (name, seen) in &self.seen.list {
            seen.columns(&mut vec![name.clone()], &mut paths);
        }
        let room = MAX_COLUMNS.saturating_sub(taken.len());
        let mut names = LegalNames::new(taken.iter().copied());
        let mut columns = Vec::with_capacity(paths.len().min(room));
        for (path, ty) in paths.into_iter().take(room) {
            let name = names.give(&format!("{prefix}{}", path.join("__")));
            columns.push(JsonColumn { name, path, ty });
        }
        JsonColumns::named(columns)
    }
}

/// The prefix of inferred key columns: a key and a value often share member names (an `Id`), and
/// one table holds both.
pub const KEY_PREFIX: &str = "Key_";

/// The columns of a table's inferred sides: the key's named [`KEY_PREFIX`] + member, the
/// value's by member, each distinct from the metadata columns, from the other side's and from
/// `fixed` (the names of a side's columns that were not inferred).
pub fn settle_columns(
    key: Option<&Inference>,
    value: Option<&Inference>,
    fixed: &[&str],
) -> Result<(Option<JsonColumns>, Option<JsonColumns>)> {
    use crate::avro::decoder::{OFFSET_COLUMN, PARTITION_COLUMN, TIMESTAMP_COLUMN};
    let mut taken = vec![PARTITION_COLUMN, OFFSET_COLUMN, TIMESTAMP_COLUMN];
    taken.extend_from_slice(fixed);
    let key = key
        .map(|k| k.columns_named(KEY_PREFIX, &taken))
        .transpose()?;
    let key_names: Vec<&str> = key
        .iter()
        .flat_map(|c| c.columns())
        .map(|c| c.name.as_str())
        .collect();
    taken.extend_from_slice(&key_names);
    let value = value.map(|v| v.columns_named("", &taken)).transpose()?;
    Ok((key, value))
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
            "column_i=int,l=long,d=double,b=boolean,s=string,n=string,o__x=int,o__y__z=string,a=string,\
             t=string,m=string,e=double"
        );
        // An object mixed with a scalar is one string column.
        assert_eq!(infer(&[r#"{"o":{"x":1}}"#, r#"{"o":2}"#]), "o=string");
        // Framed documents are unframed.
        assert_eq!(infer(&["\0\0\0\0\x07{\"q\":2}"]), "q=int");
    }

    #[test]
    fn stops_at_its_limit() {
        let mut i = Inference::new(2);
        assert!(!i.add(None));
        assert!(i.add(Some(b"{}")));
        assert_eq!(i.documents(), 2);
    }

    #[test]
    fn unusual_members_do_not_fail_the_columns() {
        // An empty name is skipped; a joined name that collides gets a digit; names that are not
        // identifiers are legalized as Deephaven does.
        assert_eq!(
            infer(&[
                r#"{"":1,"a__b":1,"a":{"b":2},"price-usd":1.5,"@timestamp":"t","1st":1,"in":1,"k?":1}"#
            ]),
            "a__b=int,a__b2=int,priceusd=double,timestamp=string,column_1st=int,column_in=int,\
             column_k=int"
        );
        // Members all made `column` (no ASCII in their names) are numbered on, each once.
        let cyrillic: String = (0..3_000u32)
            .map(|n| {
                format!(
                    r#""{}{}":1"#,
                    'я',
                    char::from_u32(0x4e00 + n).unwrap_or('я')
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let names = infer(&[&format!("{{{cyrillic}}}")]);
        let names: Vec<&str> = names
            .split(',')
            .map(|c| c.trim_end_matches("=int"))
            .collect();
        assert_eq!(names.len(), 3_000);
        assert_eq!(names[..3], ["column", "column2", "column3"]);
        assert_eq!(names[2_999], "column3000");
        // A map with more distinct members than the cap (over the documents) is one string.
        let mut i = Inference::new(MAX_MEMBERS + 1);
        for n in 0..=MAX_MEMBERS {
            i.add(Some(format!(r#"{{"m":{{"k{n}":{n}}},"x":1}}"#).as_bytes()));
        }
        assert_eq!(i.columns().unwrap().spec_text(), "m=string,x=int");
        let wide: String = (0..=MAX_MEMBERS)
            .map(|n| format!(r#""k{n}":1"#))
            .collect::<Vec<_>>()
            .join(",");
        let top = infer(&[&format!("{{{wide}}}")]);
        assert_eq!(
            top.split(',').count(),
            MAX_MEMBERS + 1,
            "the top object's members are columns"
        );
    }

    #[test]
    fn a_prefix_and_taken_names_keep_columns_distinct() {
        let mut i = Inference::new(1);
        i.add(Some(br#"{"Id":1,"KafkaOffset":2}"#));
        let key = i.columns_named("Key_", &["KafkaOffset"]).unwrap();
        assert_eq!(key.spec_text(), "Key_Id=int,Key_KafkaOffset=int");
        let value = i.columns_named("", &["KafkaOffset", "Key_Id"]).unwrap();
        assert_eq!(value.spec_text(), "Id=int,KafkaOffset2=int");
        assert_eq!(value.columns()[1].path, ["KafkaOffset"]);
    }

    #[test]
    fn keys_and_values_sharing_members_settle_into_distinct_columns() {
        let mut key = Inference::new(1);
        key.add(Some(br#"{"Id":1}"#));
        let mut value = Inference::new(1);
        value.add(Some(br#"{"Id":"a","KafkaPartition":3,"Key_Id":true}"#));
        let (k, v) = settle_columns(Some(&key), Some(&value), &["Fixed"]).unwrap();
        assert_eq!(k.unwrap().spec_text(), "Key_Id=int");
        assert_eq!(
            v.unwrap().spec_text(),
            "Id=string,KafkaPartition2=int,Key_Id2=boolean"
        );
    }

    #[test]
    fn counts_objects_apart_from_documents() {
        let mut i = Inference::new(5);
        i.add(None);
        i.add(Some(b"7"));
        assert_eq!((i.documents(), i.objects()), (2, 0));
        assert!(!i.only_nulls());
        let mut nulls = Inference::new(5);
        nulls.add(None);
        assert!(nulls.only_nulls());
        i.add(Some(b"{}"));
        assert_eq!(i.objects(), 1);
        assert_eq!(Inference::new(usize::MAX).limit, MAX_LIMIT);
    }
}
