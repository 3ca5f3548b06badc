//! [`JsonPlan`]: a JSON side's columns compiled once into a lookup from member names to
//! columns, which decodes a document straight into them.
//!
//! The plan is a tree of object levels ([`Level`]): each holds its members by name, each member
//! a leaf (a column and its type) or a nested level. A flat plan (one level) reads a document
//! first in the one-pass form ([`super::flat`]), which matches members on their raw bytes in the
//! producer's order; the general path here (nested plans, and whatever the one-pass form leaves)
//! scans each member's name and finds it by name. A member the columns do not read is skipped.
//!
//! Values go into the plan's own [`Stage`]s first ([`JsonPlan::stage`]), and from there into the
//! table columns in bulk ([`JsonPlan::flush`]); [`JsonPlan::decode`] does both for one record.
//!
//! Invariant: [`JsonPlan::stage`] adds exactly one row to every stage, or returns an error and
//! leaves the stages, and the columns' dictionaries, as they were. A column that received its value is stamped with the
//! record's epoch; a member read twice is an error; columns left unstamped get a null at the
//! end.

use std::sync::Arc;

use super::instant;
use super::scan::{Scanner, bad};
use super::spec::{JsonColumns, JsonType};
use super::stage::Stage;
use crate::DecodeReason;
use crate::column::Column;

#[derive(Debug, Clone, Copy)]
pub(super) enum Target {
    Leaf(u32, JsonType),
    Level(u32),
}

#[derive(Debug)]
pub(super) struct Member {
    pub(super) name: Box<str>,
    /// The name needs no escape in JSON: a document's raw bytes `"name"` are this member.
    pub(super) plain: bool,
    pub(super) target: Target,
}

impl Member {
    fn new(name: &str, target: Target) -> Self {
        Self {
            name: name.into(),
            plain: !name.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20),
            target,
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Level {
    pub(super) members: Vec<Member>,
}

/// A compiled JSON side (see the module's doc).
#[derive(Debug)]
pub struct JsonPlan {
    /// A boxed slice: its index is no call in the page's build (opt-level "z"), a `Vec`'s is.
    pub(super) levels: Box<[Level]>,
    /// Column names, for errors.
    names: Vec<Arc<str>>,
    /// Per column, the epoch of the last record that gave it a value.
    stamps: Vec<u32>,
    epoch: u32,
    /// Unescaped strings.
    scratch: String,
    /// An object or array's compact text, for a string column.
    copy: Vec<u8>,
    /// The staged rows of each column, and how many there are.
    stages: Vec<Stage>,
    rows: usize,
    key: String,
    /// The last date an instant column read.
    last_date: instant::LastDate,
    /// Documents are read the one-pass way first ([`super::flat`]): the columns are all members
    /// of the top object, and at most 64.
    flat: bool,
}

/// What a JSON value is, in errors.
fn kind(b: Option<u8>) -> &'static str {
    match b {
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

impl JsonPlan {
    pub fn new(columns: &JsonColumns) -> Self {
        let mut levels = vec![Level::default()];
        for (i, c) in columns.columns().iter().enumerate() {
            let mut level = 0usize;
            let (last, inner) = match c.path.split_last() {
                Some(split) => split,
                None => continue,
            };
            for name in inner {
                let found = levels[level]
                    .members
                    .iter()
                    .find(|m| *m.name == **name)
                    .map(|m| m.target);
                level = match found {
                    Some(Target::Level(l)) => l as usize,
                    // A leaf here is ruled out by JsonColumns' invariant (no path is the prefix
                    // of another).
                    _ => {
                        levels.push(Level::default());
                        let l = levels.len() - 1;
                        levels[level]
                            .members
                            .push(Member::new(name, Target::Level(l as u32)));
                        l
                    }
                };
            }
            levels[level]
                .members
                .push(Member::new(last, Target::Leaf(i as u32, c.ty)));
        }
        let levels_flat = levels.len() == 1 && columns.len() <= 64;
        Self {
            levels: levels.into(),
            names: columns
                .columns()
                .iter()
                .map(|c| c.name.as_str().into())
                .collect(),
            stamps: vec![0; columns.len()],
            stages: columns.fields().map(|f| Stage::new(f.ty)).collect(),
            rows: 0,
            epoch: 0,
            scratch: String::new(),
            copy: Vec::new(),
            key: String::new(),
            last_date: None,
            flat: levels_flat,
        }
    }

    /// Reads every document the general way (tests compare it with the one-pass form).
    #[cfg(test)]
    pub fn general_only(&mut self) {
        self.flat = false;
    }

    /// How many columns it fills.
    pub fn width(&self) -> usize {
        self.names.len()
    }

    /// Decodes one document (unframed) into `cols` (the plan's columns, in order): stages it
    /// and flushes the stages.
    pub fn decode(&mut self, doc: &[u8], cols: &mut [Column]) -> Result<(), DecodeReason> {
        self.stage(doc, cols)?;
        self.flush(cols)
    }

    /// Rows staged and not yet flushed.
    pub fn staged(&self) -> usize {
        self.rows
    }

    /// Stages one document (unframed): a row in every stage, or an error and no change. `cols`
    /// are the plan's columns (strings are staged as codes in their dictionaries).
    #[inline]
    #[cfg_attr(streamglass_site, optimize(speed))]
    pub fn stage(&mut self, doc: &[u8], cols: &mut [Column]) -> Result<(), DecodeReason> {
        if cols.len() != self.stages.len() {
            return Err(DecodeReason::PlanMismatch);
        }
        if self.flat
            && let Some(top) = self.levels.first()
        {
            if super::flat::read(
                &top.members,
                doc,
                &mut self.stages,
                cols,
                &mut self.last_date,
            ) {
                self.rows += 1;
                return Ok(());
            }
            // Its part of a row, and the dictionary entries it added (the general path may
            // stage other strings).
            cut_to(&mut self.stages, self.rows, cols);
        }
        match self.stage_document(doc, cols) {
            Ok(()) => {
                self.rows += 1;
                Ok(())
            }
            Err(e) => {
                cut_to(&mut self.stages, self.rows, cols);
                Err(e)
            }
        }
    }

    /// Stages a row of nulls (a Kafka null).
    pub fn stage_null(&mut self) {
        self.stages.iter_mut().for_each(Stage::push_null);
        self.rows += 1;
    }

    /// Drops the last staged row (its record failed on its other side), and the dictionary
    /// entries it added to `cols` (the plan's columns).
    pub fn unstage_last(&mut self, cols: &mut [Column]) {
        self.rows = self.rows.saturating_sub(1);
        cut_to(&mut self.stages, self.rows, cols);
    }

    /// Appends the staged rows to `cols` (the plan's columns, in order) and empties the stages.
    pub fn flush(&mut self, cols: &mut [Column]) -> Result<(), DecodeReason> {
        if cols.len() != self.stages.len() {
            return Err(DecodeReason::PlanMismatch);
        }
        self.rows = 0;
        let mut result = Ok(());
        for (stage, col) in self.stages.iter_mut().zip(cols) {
            if let Err(e) = stage.flush(col) {
                stage.truncate(0);
                result = Err(e);
            }
        }
        result
    }

    fn stage_document(&mut self, doc: &[u8], cols: &mut [Column]) -> Result<(), DecodeReason> {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamps.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
        let mut s = Scanner::new(doc)?;
        s.ws();
        match s.peek() {
            Some(b'{') => self.object(&mut s, 0, 1, cols)?,
            Some(b'n') => s.literal("null")?,
            Some(b'[' | b'"' | b't' | b'f' | b'-' | b'0'..=b'9') => {
                return Err(DecodeReason::JsonType {
                    field: "(the document)".into(),
                    found: kind(s.peek()),
                    expected: "object",
                });
            }
            _ => return Err(s.error("expected a JSON value")),
        }
        if !s.at_end() {
            return Err(s.error("text after the document"));
        }
        for (stamp, stage) in self.stamps.iter().zip(self.stages.iter_mut()) {
            if *stamp != self.epoch {
                stage.push_null();
            }
        }
        Ok(())
    }

    /// At `{`: an object whose members are those of `level`.
    fn object(
        &mut self,
        s: &mut Scanner<'_>,
        level: usize,
        depth: usize,
        cols: &mut [Column],
    ) -> Result<(), DecodeReason> {
        s.at += 1;
        s.ws();
        if s.peek() == Some(b'}') {
            s.at += 1;
            return Ok(());
        }
        // The member expected next (the one after the last found, in the plan's order).
        let mut hint = 0;
        loop {
            s.ws();
            if s.peek() != Some(b'"') {
                return Err(s.error("expected a member name (a string)"));
            }
            let at = s.at + 1;
            let (raw, escaped) = s.string()?;
            let name: &str = if escaped {
                Scanner::unescape(raw, at, &mut self.key)?;
                &self.key
            } else {
                raw
            };
            let members = &self.levels[level].members;
            let found = match members.get(hint) {
                Some(m) if *m.name == *name => Some(hint),
                _ => members.iter().position(|m| *m.name == *name),
            };
            let target = found.and_then(|i| {
                hint = i + 1;
                members.get(i).map(|m| m.target)
            });
            s.expect(b':', "expected `:`")?;
            s.ws();
            match target {
                None => s.skip(depth, None)?,
                Some(Target::Leaf(col, ty)) => {
                    let col = col as usize;
                    match self.stamps.get_mut(col) {
                        Some(stamp) if *stamp == self.epoch => {
                            return Err(DecodeReason::RepeatedField(self.names[col].clone()));
                        }
                        Some(stamp) => *stamp = self.epoch,
                        None => return Err(DecodeReason::PlanMismatch),
                    }
                    self.value(s, col, ty, depth, cols)?;
                }
                Some(Target::Level(inner)) => match s.peek() {
                    Some(b'{') => self.object(s, inner as usize, depth + 1, cols)?,
                    Some(b'n') => s.literal("null")?,
                    found => {
                        return Err(DecodeReason::JsonType {
                            field: if escaped { &self.key } else { raw }.into(),
                            found: kind(found),
                            expected: "object",
                        });
                    }
                },
            }
            s.ws();
            match s.peek() {
                Some(b',') => s.at += 1,
                Some(b'}') => {
                    s.at += 1;
                    return Ok(());
                }
                _ => return Err(s.error("expected `,` or `}`")),
            }
        }
    }

    /// One member's value into column `col` of type `ty`.
    #[inline]
    fn value(
        &mut self,
        s: &mut Scanner<'_>,
        col: usize,
        ty: JsonType,
        depth: usize,
        cols: &mut [Column],
    ) -> Result<(), DecodeReason> {
        let (Some(column), Some(table_column)) = (self.stages.get_mut(col), cols.get_mut(col))
        else {
            return Err(DecodeReason::PlanMismatch);
        };
        let found = s.peek();
        let wrong = |names: &[Arc<str>], found: &'static str| DecodeReason::JsonType {
            field: names[col].clone(),
            found,
            expected: ty.name(),
        };
        match found {
            Some(b'"') => {
                let at = s.at + 1;
                let (raw, escaped) = s.string()?;
                // A string as it is in the document: its window (16 bytes from its start).
                let (text, window): (&str, _) = if escaped {
                    Scanner::unescape(raw, at, &mut self.scratch)?;
                    (&self.scratch, None)
                } else {
                    let window = s.bytes().get(at..).and_then(<[u8]>::first_chunk::<16>);
                    (raw, window)
                };
                match (ty, column) {
                    (JsonType::String, stage @ Stage::Str { .. }) => {
                        stage.push_bytes(text.as_bytes(), window, table_column)?
                    }
                    (JsonType::Char, stage @ Stage::Str { .. }) => {
                        let mut chars = text.chars();
                        match (chars.next(), chars.next()) {
                            (Some(_), None) => {
                                stage.push_bytes(text.as_bytes(), window, table_column)?
                            }
                            _ => {
                                return Err(wrong(
                                    &self.names,
                                    "a string of other than one character",
                                ));
                            }
                        }
                    }
                    (JsonType::Instant(_), Stage::Timestamp(c)) => {
                        match instant::from_text_cached(text, &mut self.last_date) {
                            Some(n) => c.push(n),
                            None => {
                                return Err(wrong(
                                    &self.names,
                                    "a string that is not an ISO-8601 instant in range",
                                ));
                            }
                        }
                    }
                    (JsonType::String | JsonType::Char | JsonType::Instant(_), _) => {
                        return Err(DecodeReason::PlanMismatch);
                    }
                    _ => return Err(wrong(&self.names, "a string")),
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                let n = s.number()?;
                let text = s.text;
                match (ty, column) {
                    (JsonType::Double, Stage::F64(c)) => match n.as_f64(text.as_bytes()) {
                        Some(v) => c.push(v),
                        None => return Err(wrong(&self.names, "a number out of range")),
                    },
                    (
                        JsonType::Long | JsonType::Int { .. },
                        stage @ (Stage::I64(_) | Stage::I32(_)),
                    ) => {
                        // i64::MIN and i32::MIN are the columns' nulls: refused rather than
                        // read as null.
                        let (min, max, null) = match ty {
                            JsonType::Int { min, max } => {
                                (i64::from(min), i64::from(max), i64::from(i32::MIN))
                            }
                            _ => (i64::MIN, i64::MAX, i64::MIN),
                        };
                        let v = n
                            .as_integral_i64()
                            .filter(|v| *v >= min && *v <= max && *v != null);
                        match (v, ty, stage) {
                            (Some(v), JsonType::Long, Stage::I64(c)) => c.push(v),
                            (Some(v), JsonType::Int { .. }, Stage::I32(c)) => c.push(v as i32),
                            (Some(_), ..) => return Err(DecodeReason::PlanMismatch),
                            _ if n.integer => {
                                return Err(wrong(&self.names, "an integer out of range"));
                            }
                            _ => {
                                return Err(wrong(
                                    &self.names,
                                    "a number that is not an integer in range",
                                ));
                            }
                        }
                    }
                    (JsonType::Instant(unit), Stage::Timestamp(c)) => {
                        match instant::from_number(&n, text, unit) {
                            Some(v) => c.push(v),
                            None => return Err(wrong(&self.names, "an epoch number out of range")),
                        }
                    }
                    (JsonType::String, stage @ Stage::Str { .. }) => {
                        let digits = text.get(n.start..n.end).unwrap_or_default();
                        stage.push_bytes(digits.as_bytes(), None, table_column)?
                    }
                    (JsonType::Bool | JsonType::Char, Stage::Bool(_) | Stage::Str { .. }) => {
                        return Err(wrong(&self.names, "a number"));
                    }
                    _ => return Err(DecodeReason::PlanMismatch),
                }
            }
            Some(b't' | b'f') => {
                let v = found == Some(b't');
                s.literal(if v { "true" } else { "false" })?;
                match (ty, column) {
                    (JsonType::Bool, Stage::Bool(c)) => c.push(i8::from(v)),
                    (JsonType::String, stage @ Stage::Str { .. }) => {
                        let text = if v { "true" } else { "false" };
                        stage.push_bytes(text.as_bytes(), None, table_column)?
                    }
                    _ => return Err(wrong(&self.names, "a boolean")),
                }
            }
            Some(b'n') => {
                s.literal("null")?;
                column.push_null();
            }
            Some(b'{' | b'[') => match (ty, column) {
                (JsonType::String, stage @ Stage::Str { .. }) => {
                    self.copy.clear();
                    s.skip(depth, Some(&mut self.copy))?;
                    stage.push_bytes(&self.copy, None, table_column)?
                }
                _ => return Err(wrong(&self.names, kind(found))),
            },
            _ => return Err(bad(s.at, "expected a JSON value")),
        }
        Ok(())
    }
}

/// Whether `rest` starts with `name`, a word at a time (names are short: no call to `memcmp`,
/// and no iterator adapters, which the page's build leaves out of line).
#[inline(always)]
pub(super) fn same_bytes(name: &[u8], rest: &[u8]) -> bool {
    let Some(rest) = rest.get(..name.len()) else {
        return false;
    };
    let word = |b: &[u8], i: usize| b.get(i..).and_then(<[u8]>::first_chunk::<8>).copied();
    let mut i = 0;
    while i + 8 <= name.len() {
        if word(name, i) != word(rest, i) {
            return false;
        }
        i += 8;
    }
    while i < name.len() {
        if name.get(i) != rest.get(i) {
            return false;
        }
        i += 1;
    }
    true
}

/// Keeps the stages' first `rows` rows and cuts the dictionary entries the others added to
/// `cols` (the plan's columns, in order).
fn cut_to(stages: &mut [Stage], rows: usize, cols: &mut [Column]) {
    let stages = stages.iter_mut().zip(cols.iter_mut());
    stages.for_each(|(s, c)| s.cut(rows, c));
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
