//! [`SchemaStore`]: Avro schemas by Confluent schema id, and by subject and version.
//!
//! It is filled from the bridge's [`Hello`] (or schema by schema, on its own) and parses each
//! schema once ([`super::schema`]), keeping its Parsing Canonical Form and its 64-bit Rabin
//! fingerprint.
//!
//! A schema the store cannot read (a hello's, a registry's) does not make the store fail: it is
//! kept as *unreadable* with its reason ([`SchemaStore::unreadable`]), so only the records
//! written with it fail (with that reason), and every other version of its subject still reads.
//!
//! A hello's schemas of other kinds (JSON Schema, Protobuf: [`SchemaType`]) are not read as
//! Avro: they are kept as given ([`SchemaStore::latest_other`]), for the decoders of those kinds.
//!
//! Invariant: an id maps to one schema for the life of the store; adding the same id again with
//! the same canonical form changes nothing, and with another is refused.

use litemap::LiteMap;
use std::sync::Arc;

use super::schema::Schema as AvroSchema;

use crate::protocol::{Hello, SchemaInfo, SchemaType};
use crate::{Error, Result};

/// One registered schema, parsed.
#[derive(Debug)]
pub struct StoredSchema {
    pub id: u32,
    pub subject: Option<String>,
    pub version: Option<i32>,
    /// The schema's JSON text, as given.
    pub text: String,
    pub schema: AvroSchema,
    /// The Parsing Canonical Form.
    pub canonical_form: String,
    /// The CRC-64-AVRO (Rabin) fingerprint of the canonical form, as Avro's Java prints it.
    pub fingerprint: i64,
}

/// Schemas by id and by subject and version.
#[derive(Debug, Default, Clone)]
pub struct SchemaStore {
    by_id: LiteMap<u32, Arc<StoredSchema>>,
    by_subject: LiteMap<String, LiteMap<i32, u32>>,
    /// Schemas that could not be read, by id: what they were given as, and why.
    unreadable: LiteMap<u32, (SchemaInfo, Arc<str>)>,
    /// The hello's schemas of other kinds (JSON Schema, Protobuf), kept as given, by id.
    others: LiteMap<u32, SchemaInfo>,
}

/// Parses a schema and returns it with its canonical form and Rabin fingerprint.
pub fn parse_schema(text: &str) -> Result<(AvroSchema, String, i64)> {
    let schema = AvroSchema::parse(text)?;
    let canonical = schema.canonical_form();
    let fingerprint = super::schema::rabin(canonical.as_bytes());
    Ok((schema, canonical, fingerprint))
}

impl SchemaStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store of the schemas a hello carries; those that do not parse are kept as unreadable.
    /// Two schemas under one id are an error, as in [`SchemaStore::insert`].
    pub fn from_hello(hello: &Hello) -> Result<Self> {
        let mut store = Self::new();
        for info in &hello.schemas {
            // One id, one schema, whatever its kind.
            let taken = match store.others.get(&info.id) {
                Some(other) => other.schema != info.schema || other.schema_type != info.schema_type,
                None => {
                    info.schema_type != SchemaType::Avro
                        && (store.by_id.contains_key(&info.id)
                            || store.unreadable.contains_key(&info.id))
                }
            };
            if taken {
                return Err(Error::Schema(format!(
                    "schema id {} is already registered with another schema",
                    info.id
                )));
            }
            if info.schema_type == SchemaType::Avro {
                store.insert_or_keep_unreadable(info)?;
            } else {
                store.others.insert(info.id, info.clone());
            }
        }
        Ok(store)
    }

    /// The newest version of `subject` among the hello's schemas of kind `kind` (not Avro).
    pub fn latest_other(&self, subject: &str, kind: SchemaType) -> Option<&SchemaInfo> {
        self.others
            .values()
            .filter(|i| i.schema_type == kind && i.subject.as_deref() == Some(subject))
            .max_by_key(|i| (i.version, i.id))
    }

    /// The subject of the newest schema (highest id) of kind `kind` (not Avro) that has one,
    /// other than `except` (the other side's `<topic>-key` or `<topic>-value`).
    pub fn newest_other_subject(&self, kind: SchemaType, except: &str) -> Option<&str> {
        self.other_subjects(kind).rfind(|s| *s != except)
    }

    /// The subjects of the schemas of kind `kind` (not Avro), by id (a subject once per version).
    pub fn other_subjects(&self, kind: SchemaType) -> impl DoubleEndedIterator<Item = &str> {
        self.others
            .values()
            .filter(move |i| i.schema_type == kind)
            .filter_map(|i| i.subject.as_deref())
    }

    /// Adds a schema of any kind: Avro is parsed ([`SchemaStore::insert`]), others kept as given.
    pub fn add_info(&mut self, info: &SchemaInfo) -> Result<()> {
        match info.schema_type {
            SchemaType::Avro => self.insert(info).map(drop),
            _ => self.insert_other(info.clone()),
        }
    }

    /// Whether schema `id` is in the store, of any kind.
    pub fn has(&self, id: u32) -> bool {
        self.by_id.contains_key(&id) || self.others.contains_key(&id)
    }

    /// A hello's schema of another kind (JSON Schema, Protobuf) by id.
    pub fn other(&self, id: u32) -> Option<&SchemaInfo> {
        self.others.get(&id)
    }

    /// Adds a schema of another kind than Avro (kept as given). An id another schema holds is
    /// refused.
    pub fn insert_other(&mut self, info: SchemaInfo) -> Result<()> {
        let taken = match self.others.get(&info.id) {
            Some(o) => o.schema != info.schema || o.schema_type != info.schema_type,
            None => self.by_id.contains_key(&info.id) || self.unreadable.contains_key(&info.id),
        };
        if taken {
            return Err(Error::Schema(format!(
                "schema id {} is already registered with another schema",
                info.id
            )));
        }
        self.others.insert(info.id, info);
        Ok(())
    }

    /// A subject's schema of another kind at `version`.
    pub fn version_other(&self, subject: &str, version: i32) -> Option<&SchemaInfo> {
        self.others
            .values()
            .find(|i| i.subject.as_deref() == Some(subject) && i.version == Some(version))
    }

    /// Adds a schema, or keeps it as unreadable with the reason it does not parse. A schema
    /// under an id another one holds is refused.
    pub fn insert_or_keep_unreadable(&mut self, info: &SchemaInfo) -> Result<()> {
        match parse_schema(&info.schema) {
            Ok(parsed) => self.insert_parsed(info, parsed).map(drop),
            Err(e) => {
                let mut shown = info.clone();
                shown.schema.clear(); // its text is not needed to say which it was
                self.unreadable
                    .insert(info.id, (shown, e.to_string().into()));
                Ok(())
            }
        }
    }

    /// The schemas that could not be read: each one's id, subject and version, and why.
    pub fn unreadable(&self) -> impl Iterator<Item = (&SchemaInfo, &str)> {
        self.unreadable.values().map(|(info, why)| (info, &**why))
    }

    /// Why schema `id` could not be read, if it was given and could not be.
    pub fn unreadable_reason(&self, id: u32) -> Option<&Arc<str>> {
        self.unreadable.get(&id).map(|(_, why)| why)
    }

    /// Adds a schema. A schema with a subject but no version gets the subject's next version.
    pub fn insert(&mut self, info: &SchemaInfo) -> Result<Arc<StoredSchema>> {
        let parsed = parse_schema(&info.schema)
            .map_err(|e| Error::Schema(format!("schema id {}: {e}", info.id)))?;
        self.insert_parsed(info, parsed)
    }

    /// Adds a schema already parsed (with its canonical form and fingerprint).
    fn insert_parsed(
        &mut self,
        info: &SchemaInfo,
        (schema, canonical_form, fingerprint): (AvroSchema, String, i64),
    ) -> Result<Arc<StoredSchema>> {
        if let Some(existing) = self.by_id.get(&info.id) {
            if existing.canonical_form == canonical_form {
                return Ok(existing.clone());
            }
            return Err(Error::Schema(format!(
                "schema id {} is already registered with another schema",
                info.id
            )));
        }
        let version = match (&info.subject, info.version) {
            (Some(subject), None) => Some(
                self.by_subject
                    .get(subject)
                    .and_then(|versions| versions.keys().next_back())
                    .map_or(1, |v| v + 1),
            ),
            (_, version) => version,
        };
        let stored = Arc::new(StoredSchema {
            id: info.id,
            subject: info.subject.clone(),
            version,
            text: info.schema.clone(),
            schema,
            canonical_form,
            fingerprint,
        });
        if let (Some(subject), Some(version)) = (&stored.subject, version) {
            self.by_subject
                .entry(subject.clone())
                .or_default()
                .insert(version, info.id);
        }
        self.by_id.insert(info.id, stored.clone());
        Ok(stored)
    }

    /// Adds a schema from its parts.
    pub fn add(
        &mut self,
        id: u32,
        subject: Option<&str>,
        version: Option<i32>,
        schema: &str,
    ) -> Result<Arc<StoredSchema>> {
        self.insert(&SchemaInfo {
            id,
            subject: subject.map(str::to_owned),
            version,
            schema: schema.to_owned(),
            schema_type: Default::default(),
            descriptors: None,
        })
    }

    pub fn get(&self, id: u32) -> Option<&Arc<StoredSchema>> {
        self.by_id.get(&id)
    }

    /// A subject's schema at `version`.
    pub fn version(&self, subject: &str, version: i32) -> Option<&Arc<StoredSchema>> {
        let id = self.by_subject.get(subject)?.get(&version)?;
        self.by_id.get(id)
    }

    /// A subject's highest version.
    pub fn latest(&self, subject: &str) -> Option<&Arc<StoredSchema>> {
        let (_, id) = self.by_subject.get(subject)?.iter().next_back()?;
        self.by_id.get(id)
    }

    /// The subject of the schema with the highest id: the reader to default to when a source
    /// carries schemas but no subject was named.
    pub fn newest_subject(&self) -> Option<&str> {
        self.by_id.values().rev().find_map(|s| s.subject.as_deref())
    }

    /// The subjects known, in order.
    pub fn subjects(&self) -> impl Iterator<Item = &str> {
        self.by_subject.keys().map(String::as_str)
    }

    /// Every schema, by id.
    pub fn schemas(&self) -> impl Iterator<Item = &Arc<StoredSchema>> {
        self.by_id.values()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Whether this engine can read data written with schema `writer` as schema `reader`:
    /// whether a decode plan between them compiles (Avro's resolution rules as the plan applies
    /// them, with the reader flattened into columns). It is not Java's `SchemaCompatibility`:
    /// what the specification resolves per datum stays per datum (a writer enum symbol the
    /// reader lacks, a writer union branch the reader cannot take fail the records that carry
    /// them), record names are not compared, and a reader that cannot be flattened into
    /// columns (a record containing itself outside an array or map) is refused.
    pub fn can_read(&self, writer: u32, reader: u32) -> Result<()> {
        let get = |id| {
            self.get(id)
                .ok_or_else(|| Error::Schema(format!("no schema with id {id}")))
        };
        super::DecodePlan::compile(&get(writer)?.schema, &get(reader)?.schema)
            .map(drop)
            .map_err(|e| Error::Schema(format!("schema {writer} cannot be read as {reader}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fallback subject of a side leaves out the other side's `<topic>-key`/`<topic>-value`.
    #[test]
    fn the_newest_other_subject_leaves_out_the_other_sides() {
        let mut store = SchemaStore::new();
        for (id, subject) in [(1, "t-io.x.Trade"), (2, "t-key"), (3, "t-value")] {
            store
                .insert_other(SchemaInfo {
                    id,
                    subject: Some(subject.into()),
                    version: Some(1),
                    schema: String::new(),
                    schema_type: SchemaType::Protobuf,
                    descriptors: None,
                })
                .unwrap();
        }
        assert_eq!(
            store.newest_other_subject(SchemaType::Protobuf, "t-value"),
            Some("t-key")
        );
        assert_eq!(
            store.newest_other_subject(SchemaType::Protobuf, "t-key"),
            Some("t-value")
        );
        assert_eq!(store.newest_other_subject(SchemaType::Json, "t-key"), None);
        let subjects: Vec<&str> = store.other_subjects(SchemaType::Protobuf).collect();
        assert_eq!(subjects, ["t-io.x.Trade", "t-key", "t-value"]);
        let mut only_value = SchemaStore::new();
        only_value
            .insert_other(SchemaInfo {
                id: 7,
                subject: Some("t-value".into()),
                version: Some(1),
                schema: String::new(),
                schema_type: SchemaType::Protobuf,
                descriptors: None,
            })
            .unwrap();
        assert_eq!(
            only_value.newest_other_subject(SchemaType::Protobuf, "t-value"),
            None
        );
    }

    #[test]
    fn can_read_follows_avro_resolution() {
        let mut store = SchemaStore::new();
        let record =
            |fields: &str| format!(r#"{{"type":"record","name":"T","fields":[{fields}]}}"#);
        store
            .add(1, Some("t"), None, &record(r#"{"name":"a","type":"int"}"#))
            .unwrap();
        // Promoted, with a new field that has a default.
        store
            .add(
                2,
                Some("t"),
                None,
                &record(r#"{"name":"a","type":"long"},{"name":"b","type":"string","default":"x"}"#),
            )
            .unwrap();
        // A new field without a default.
        store
            .add(
                3,
                Some("t"),
                None,
                &record(r#"{"name":"a","type":"int"},{"name":"c","type":"int"}"#),
            )
            .unwrap();
        assert_eq!(store.latest("t").map(|s| s.version), Some(Some(3)));
        store.can_read(1, 2).unwrap();
        store.can_read(2, 1).unwrap_err();
        let e = store.can_read(1, 3).unwrap_err().to_string();
        assert!(
            e.contains("schema 1 cannot be read as 3") && e.contains("no default"),
            "{e}"
        );
        assert!(
            store
                .can_read(1, 9)
                .unwrap_err()
                .to_string()
                .contains("no schema with id 9")
        );
        // The same id again: the same canonical form is fine, another is refused.
        store
            .add(
                1,
                None,
                None,
                r#"{"type":"record","name":"T","fields":[{"name":"a","type":{"type":"int"}}]}"#,
            )
            .unwrap();
        store.add(1, None, None, r#""string""#).unwrap_err();
    }

    #[test]
    fn a_hello_with_two_schemas_under_one_id_is_refused_and_a_bad_one_kept_unreadable() {
        let info = |id: u32, schema: &str| SchemaInfo {
            id,
            subject: Some("s".into()),
            version: None,
            schema: schema.into(),
            schema_type: Default::default(),
            descriptors: None,
        };
        let hello = |schemas| Hello {
            subscription: Default::default(),
            topic: "t".into(),
            source: "test".into(),
            partitions: Vec::new(),
            schemas,
        };
        let e = SchemaStore::from_hello(&hello(vec![info(5, r#""int""#), info(5, r#""string""#)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("already registered"), "{e}");
        let store =
            SchemaStore::from_hello(&hello(vec![info(5, "{"), info(6, r#""int""#)])).unwrap();
        assert_eq!(
            store.unreadable().map(|(i, _)| i.id).collect::<Vec<_>>(),
            [5]
        );
        assert!(store.get(6).is_some() && store.unreadable_reason(5).is_some());

        // A JSON Schema is not read as Avro (it would be unreadable): it is kept as given, and
        // the newest version of its subject is found.
        let json = |id: u32, version: i32| SchemaInfo {
            id,
            subject: Some("t-value".into()),
            version: Some(version),
            schema: format!(r#"{{"type":"object","title":"v{version}"}}"#),
            schema_type: SchemaType::Json,
            descriptors: None,
        };
        let store =
            SchemaStore::from_hello(&hello(vec![json(7, 1), json(9, 2), info(6, r#""int""#)]))
                .unwrap();
        assert_eq!(store.unreadable().count(), 0);
        assert!(store.get(7).is_none());
        let latest = store
            .latest_other("t-value", SchemaType::Json)
            .map(|i| i.id);
        assert_eq!(latest, Some(9));
        assert!(
            store
                .latest_other("t-value", SchemaType::Protobuf)
                .is_none()
        );
        // One id, one schema, whatever its kind.
        for clash in [
            vec![json(7, 1), info(7, r#""int""#)],
            vec![info(7, r#""int""#), json(7, 1)],
        ] {
            let e = SchemaStore::from_hello(&hello(clash))
                .unwrap_err()
                .to_string();
            assert!(e.contains("already registered"), "{e}");
        }
    }
}
