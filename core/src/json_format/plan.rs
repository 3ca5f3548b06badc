//! [`JsonPlan`]: a JSON side's columns compiled once into a lookup from member names to
//! columns, which decodes a document straight into them.
//!
//! The plan is a tree of object levels ([`Level`]): each holds its members by name, each member
//! a leaf (a column and its type) or a nested level. Members are looked up in order from where
//! the last one was found, so a producer that writes its fields in a fixed order costs one name
//! comparison a member; any order is found. A member the columns do not read is skipped.
//!
//! Invariant: [`JsonPlan::decode`] pushes exactly one value into each of the plan's columns, or
//! returns an error (after which the caller truncates the columns back to their length before
//! the record). A column that received its value is stamped with the record's epoch; a member
//! read twice is an error; columns left unstamped get a null at the end.

use std::sync::Arc;

use super::instant;
use super::scan::{Scanner, bad};
use super::spec::{JsonColumns, JsonType};
use crate::DecodeReason;
use crate::column::Column;

#[derive(Debug, Clone, Copy)]
enum Target {
    Leaf(u32, JsonType),
    Level(u32),
}

#[derive(Debug)]
struct Member {
    name: Box<str>,
    target: Target,
}

#[derive(Debug, Default)]
struct Level {
    members: Vec<Member>,
}

/// A compiled JSON side (see the module's doc).
#[derive(Debug)]
pub struct JsonPlan {
    levels: Vec<Level>,
    /// Column names, for errors.
    names: Vec<Arc<str>>,
    /// Per column, the epoch of the last record that gave it a value.
    stamps: Vec<u32>,
    epoch: u32,
    /// Unescaped strings and JSON text.
    scratch: String,
    key: String,
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
                        levels[level].members.push(Member {
                            name: name.as_str().into(),
                            target: Target::Level(l as u32),
                        });
                        l
                    }
                };
            }
            levels[level].members.push(Member {
                name: last.as_str().into(),
                target: Target::Leaf(i as u32, c.ty),
            });
        }
        Self {
            levels,
            names: columns
                .columns()
                .iter()
                .map(|c| c.name.as_str().into())
                .collect(),
            stamps: vec![0; columns.len()],
            epoch: 0,
            scratch: String::new(),
            key: String::new(),
        }
    }

    /// How many columns it fills.
    pub fn width(&self) -> usize {
        self.names.len()
    }

    /// Decodes one document (unframed) into `cols` (the plan's columns, in order).
    pub fn decode(&mut self, doc: &[u8], cols: &mut [Column]) -> Result<(), DecodeReason> {
        if cols.len() != self.names.len() {
            return Err(DecodeReason::PlanMismatch);
        }
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
        for (stamp, col) in self.stamps.iter().zip(cols.iter_mut()) {
            if *stamp != self.epoch {
                col.push_null();
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
        let mut hint = 0usize;
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
            let target = match members.get(hint) {
                Some(m) if *m.name == *name => {
                    hint += 1;
                    Some(m.target)
                }
                _ => match members.iter().position(|m| *m.name == *name) {
                    Some(i) => {
                        hint = i + 1;
                        Some(members[i].target)
                    }
                    None => None,
                },
            };
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
                            field: name_of(&self.key, raw, escaped).into(),
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
        let Some(column) = cols.get_mut(col) else {
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
                let text: &str = if escaped {
                    Scanner::unescape(raw, at, &mut self.scratch)?;
                    &self.scratch
                } else {
                    raw
                };
                match (ty, column) {
                    (JsonType::String, Column::String(c)) => c.push(Some(text)),
                    (JsonType::Char, Column::String(c)) => {
                        let mut chars = text.chars();
                        match (chars.next(), chars.next()) {
                            (Some(_), None) => c.push(Some(text)),
                            _ => {
                                return Err(wrong(
                                    &self.names,
                                    "a string of other than one character",
                                ));
                            }
                        }
                    }
                    (JsonType::Instant(_), Column::Timestamp(c)) => {
                        match instant::from_text(text) {
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
                    (JsonType::Double, Column::F64(c)) => match n.as_f64(text) {
                        Some(v) => c.push(v),
                        None => return Err(wrong(&self.names, "a number out of range")),
                    },
                    (JsonType::Long, Column::I64(c)) => match n.as_i64() {
                        // i64::MIN is the column's null: refused rather than read as null.
                        Some(v) if v != i64::MIN => c.push(v),
                        _ if n.integer => {
                            return Err(wrong(&self.names, "an integer out of range"));
                        }
                        _ => {
                            return Err(wrong(&self.names, "a number with a fraction or exponent"));
                        }
                    },
                    (JsonType::Int { min, max }, Column::I32(c)) => match n.as_i64() {
                        Some(v)
                            if v >= i64::from(min)
                                && v <= i64::from(max)
                                && v != i64::from(i32::MIN) =>
                        {
                            c.push(v as i32)
                        }
                        _ if n.integer => {
                            return Err(wrong(&self.names, "an integer out of range"));
                        }
                        _ => {
                            return Err(wrong(&self.names, "a number with a fraction or exponent"));
                        }
                    },
                    (JsonType::Instant(unit), Column::Timestamp(c)) => {
                        match instant::from_number(&n, text, unit) {
                            Some(v) => c.push(v),
                            None => return Err(wrong(&self.names, "an epoch number out of range")),
                        }
                    }
                    (JsonType::String, Column::String(c)) => c.push(text.get(n.start..n.end)),
                    (JsonType::Bool | JsonType::Char, Column::Bool(_) | Column::String(_)) => {
                        return Err(wrong(&self.names, "a number"));
                    }
                    _ => return Err(DecodeReason::PlanMismatch),
                }
            }
            Some(b't' | b'f') => {
                let v = found == Some(b't');
                s.literal(if v { "true" } else { "false" })?;
                match (ty, column) {
                    (JsonType::Bool, Column::Bool(c)) => c.push(i8::from(v)),
                    (JsonType::String, Column::String(c)) => {
                        c.push(Some(if v { "true" } else { "false" }))
                    }
                    _ => return Err(wrong(&self.names, "a boolean")),
                }
            }
            Some(b'n') => {
                s.literal("null")?;
                column.push_null();
            }
            Some(b'{' | b'[') => match (ty, column) {
                (JsonType::String, Column::String(c)) => {
                    let mut copy = std::mem::take(&mut self.scratch);
                    copy.clear();
                    let done = s.skip(depth, Some(&mut copy));
                    if done.is_ok() {
                        c.push(Some(&copy));
                    }
                    self.scratch = copy;
                    done?;
                }
                _ => return Err(wrong(&self.names, kind(found))),
            },
            _ => return Err(bad(s.at, "expected a JSON value")),
        }
        Ok(())
    }
}

fn name_of<'a>(key: &'a str, raw: &'a str, escaped: bool) -> &'a str {
    if escaped { key } else { raw }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
