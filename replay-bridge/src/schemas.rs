//! Where value schemas come from when the source is a broker: a directory of `.avsc` files, or a
//! schema registry ([`crate::registry`]); [`SchemaSource`] is the choice.
//!
//! Each file is named after the Confluent schema id its framed values carry: `<id>.avsc`, or
//! `<id>-<label>.avsc` (e.g. `1-trade.avsc`). The subject is derived by TopicRecordNameStrategy
//! (`<topic>-<record full name>`), as the Deephaven example registers it. Every file is parsed with
//! apache-avro when loaded, so a bad schema fails at start-up, naming the file.

use std::path::{Path, PathBuf};

use apache_avro::Schema;
use streamglass_core::protocol::SchemaInfo;

use crate::registry::SchemaRegistry;
use crate::{Error, Result};

/// Where a broker source's value schemas come from.
#[derive(Clone, Default)]
pub enum SchemaSource {
    /// Nowhere: hellos carry no schemas.
    #[default]
    None,
    /// `.avsc` files named by id (checked when the bridge starts, read again for each hello).
    Dir(PathBuf),
    /// A Confluent-compatible registry, asked for each hello (through its cache, see
    /// [`crate::registry`]).
    Registry(SchemaRegistry),
}

impl SchemaSource {
    /// The schemas for `topic`.
    pub async fn for_topic(&self, topic: &str) -> Result<Vec<SchemaInfo>> {
        match self {
            Self::None => Ok(Vec::new()),
            Self::Dir(dir) => load_schema_dir(dir, topic),
            Self::Registry(registry) => registry.schemas_for(topic).await,
        }
    }

    /// One line for logs.
    pub fn describe(&self) -> String {
        match self {
            Self::None => "no schemas".into(),
            Self::Dir(dir) => format!("schemas from {}", dir.display()),
            Self::Registry(r) => format!("schemas from {}", r.url()),
        }
    }
}

/// Loads every `.avsc` file of `dir`, sorted by id.
pub fn load_schema_dir(dir: &Path, topic: &str) -> Result<Vec<SchemaInfo>> {
    let err = |path: &Path, reason: String| Error::Schema {
        path: path.to_owned(),
        reason,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| err(dir, e.to_string()))?;
    let mut schemas = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| err(dir, e.to_string()))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("avsc") {
            continue;
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let digits = stem.split(['-', '_']).next().unwrap_or_default();
        let id: u32 = digits.parse().map_err(|_| {
            err(
                &path,
                "the file name must start with the schema id, as in 1.avsc or 1-trade.avsc".into(),
            )
        })?;
        let text = std::fs::read_to_string(&path).map_err(|e| err(&path, e.to_string()))?;
        let schema = Schema::parse_str(&text).map_err(|e| err(&path, e.to_string()))?;
        let subject = match &schema {
            Schema::Record(r) => Some(format!("{topic}-{}", r.name.fullname(None))),
            _ => Some(format!("{topic}-value")),
        };
        if schemas.iter().any(|s: &SchemaInfo| s.id == id) {
            return Err(err(
                &path,
                format!("schema id {id} appears twice in {}", dir.display()),
            ));
        }
        schemas.push(SchemaInfo {
            id,
            subject,
            version: None,
            schema: text,
            schema_type: Default::default(),
            descriptors: None,
        });
    }
    schemas.sort_by_key(|s| s.id);
    Ok(schemas)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trades::{TRADE_SCHEMA, TRADES_SUBJECT, TRADES_TOPIC};

    #[test]
    fn loads_by_id_with_topic_record_name_subjects() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("7-trade.avsc"), TRADE_SCHEMA).unwrap();
        std::fs::write(dir.path().join("3.avsc"), r#""string""#).unwrap();
        std::fs::write(dir.path().join("README"), "ignored").unwrap();
        let schemas = load_schema_dir(dir.path(), TRADES_TOPIC).unwrap();
        assert_eq!(schemas.iter().map(|s| s.id).collect::<Vec<_>>(), [3, 7]);
        assert_eq!(schemas[1].subject.as_deref(), Some(TRADES_SUBJECT));
    }

    #[test]
    fn bad_names_and_bad_schemas_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("trade.avsc"), TRADE_SCHEMA).unwrap();
        let e = load_schema_dir(dir.path(), "t").unwrap_err().to_string();
        assert!(e.contains("trade.avsc") && e.contains("schema id"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.avsc"), "{not json").unwrap();
        let e = load_schema_dir(dir.path(), "t").unwrap_err().to_string();
        assert!(e.contains("1.avsc"), "{e}");
    }
}
