//! Protobuf schemas compiled for the page: a registry schema's `.proto` text and the texts of
//! its references (Confluent's `references`: import name → subject and version), compiled by
//! protox into a serialized `FileDescriptorSet`, the schema's own file last, as
//! [`SchemaInfo::descriptors`](streamglass_core::protocol::SchemaInfo) carries it.
//!
//! A text is either `.proto` source or Confluent's serialized form: the base64 of a
//! `FileDescriptorProto` (what confluent-kafka's Python serializer registers; a registry may
//! answer with either). `google/protobuf/*.proto` (the well-known types) are known to the
//! compiler without a reference. Invariant: a set is either the whole schema compiled with every import it names, or
//! an error saying what could not be compiled; nothing partial.

use std::collections::HashMap;

use prost::Message as _;
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};

/// The name the schema's own file takes in the set (no import can name it).
pub const MAIN_FILE: &str = "streamglass/registry-schema.proto";

/// The `.proto` texts by import name.
struct Texts(HashMap<String, String>);

impl FileResolver for Texts {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.0.get(name) {
            Some(text) => match serialized(text) {
                Some(mut file) => {
                    file.name = Some(name.to_owned());
                    Ok(File::from_file_descriptor_proto(file))
                }
                None => File::from_source(name, text),
            },
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

/// A schema text in Confluent's serialized form: base64 (no spaces, no `;`, as `.proto` source
/// always has) of a `FileDescriptorProto`.
fn serialized(text: &str) -> Option<prost_types::FileDescriptorProto> {
    use base64::Engine as _;
    let text = text.trim();
    if text.is_empty() || text.contains([';', ' ', '\n', '{']) {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    prost_types::FileDescriptorProto::decode(bytes.as_slice()).ok()
}

/// Compiles `main` (a schema's text) with `references` (import name → text) into a serialized
/// descriptor set whose last file is `main`'s.
pub fn compile(main: &str, references: &[(String, String)]) -> Result<Vec<u8>, String> {
    let mut texts: HashMap<String, String> = references.iter().cloned().collect();
    texts.insert(MAIN_FILE.to_owned(), main.to_owned());
    let mut resolver = ChainFileResolver::new();
    resolver.add(Texts(texts));
    resolver.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true);
    compiler
        .open_file(MAIN_FILE)
        .map_err(|e| format!("the Protobuf schema does not compile: {e}"))?;
    let mut set = compiler.file_descriptor_set();
    // Dependencies first, the schema's own file last (as the core expects).
    if let Some(at) = set.file.iter().position(|f| f.name() == MAIN_FILE) {
        let main = set.file.remove(at);
        set.file.push(main);
    }
    Ok(set.encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamglass_core::protobuf::Descriptors;

    #[test]
    fn compiles_a_schema_with_a_reference_and_a_well_known_type() {
        let common = "syntax = \"proto3\"; package c; message Venue { string exchange = 1; }";
        let main = "syntax = \"proto3\"; package d; import \"common.proto\"; \
                    import \"google/protobuf/timestamp.proto\"; \
                    message Trade { c.Venue venue = 1; google.protobuf.Timestamp at = 2; }";
        let set = compile(main, &[("common.proto".into(), common.into())]).unwrap();
        let d = Descriptors::read(&set).unwrap();
        let trade = d.by_indexes(&[0]).unwrap();
        assert_eq!(d.messages[trade as usize].full_name, "d.Trade");
        assert!(d.by_name("c.Venue").is_some());
        assert!(d.by_name("google.protobuf.Timestamp").is_some());
        let e = compile(main, &[]).unwrap_err();
        assert!(e.contains("common.proto"), "{e}");

        // The same schema in Confluent's serialized form (base64 of its FileDescriptorProto).
        use base64::Engine as _;
        let set = prost_types::FileDescriptorSet::decode(set.as_slice()).unwrap();
        let main_file = set.file.last().unwrap().encode_to_vec();
        let text = base64::engine::general_purpose::STANDARD.encode(main_file);
        let again = compile(&text, &[("common.proto".into(), common.into())]).unwrap();
        let d = Descriptors::read(&again).unwrap();
        assert_eq!(
            d.messages[d.by_indexes(&[0]).unwrap() as usize].full_name,
            "d.Trade"
        );
    }
}
