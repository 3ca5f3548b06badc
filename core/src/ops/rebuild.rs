//! `head` and `tail`, whose result is at most the rows asked for and is rebuilt whenever the
//! parent changes; and `naturalJoin`, rebuilt when its right table changes and otherwise updated
//! with the left table's added rows only.
//!
//! A rebuild reports every old row removed and every new row added.

use rustc_hash::FxHashMap;
use std::rc::Rc;

use super::Operator;
use super::keys::KeyCoder;
use crate::column::{ColumnType, Value};
use crate::table::{Field, Node, Schema, Table, TableData, Update};
use crate::{Error, Result};

/// How a result is computed from the parents' current rows.
trait Rebuild {
    fn rebuild(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()>;
}

struct Rebuilt<R>(R);

impl<R: Rebuild> Operator for Rebuilt<R> {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        self.0.rebuild(inputs, out)
    }

    /// Rebuilds into a fresh table, so a failure leaves the last good rows in place.
    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let old = out.first_key..out.end_key();
        let mut fresh = TableData::new(out.schema.clone());
        fresh.first_key = old.end;
        self.0.rebuild(inputs, &mut fresh)?;
        *out = fresh;
        Ok(Some(Update::Keyed {
            removed: old.collect(),
            added: (out.first_key..out.end_key()).collect(),
            modified: Vec::new(),
        }))
    }
}

struct Slice {
    head: bool,
    count: usize,
}

impl Rebuild for Slice {
    fn rebuild(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let data = &inputs[0].data;
        let n = self.count.min(data.len());
        let start = if self.head { 0 } else { data.len() - n };
        for (o, c) in out.columns.iter_mut().zip(&data.columns) {
            o.extend_from_range(c, start, n);
        }
        Ok(())
    }
}

/// `naturalJoin`: rebuilt when the right table changes; otherwise the left's added rows are looked
/// up and its removed rows dropped, so a growing left table costs only its new rows.
struct NaturalJoin {
    left_keys: Vec<usize>,
    right_keys: Vec<usize>,
    /// Per key column, one coder for both sides, so equal values get equal codes.
    coders: Vec<(ColumnType, KeyCoder)>,
    /// Right columns to add, by index.
    added: Vec<usize>,
    /// Right key codes → right row position.
    index: FxHashMap<Box<[u64]>, usize>,
    codes: Vec<Vec<u64>>,
}

impl NaturalJoin {
    /// Key codes of rows `start .. start + count` of `data`'s `columns`, one vector per key.
    fn key_codes(&mut self, data: &TableData, columns: &[usize], start: usize, count: usize) {
        self.codes.resize(columns.len(), Vec::new());
        for ((&c, (ty, coder)), out) in columns.iter().zip(&mut self.coders).zip(&mut self.codes) {
            coder.codes(*ty, &data.columns[c], start, count, out);
        }
    }

    fn index_right(&mut self, right: &TableData) -> Result<()> {
        self.index.clear();
        let keys = self.right_keys.clone();
        self.key_codes(right, &keys, 0, right.len());
        let mut key = Vec::with_capacity(keys.len());
        for r in 0..right.len() {
            key.clear();
            key.extend(self.codes.iter().map(|c| c[r]));
            if self.index.insert(key.as_slice().into(), r).is_some() {
                let shown: Vec<String> = keys
                    .iter()
                    .map(|&c| right.columns[c].get(r).unwrap_or(Value::Null).to_string())
                    .collect();
                return Err(Error::Invalid(format!(
                    "naturalJoin: the right table has more than one row for key [{}]",
                    shown.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Appends left rows `start .. start + count`, each with its right match.
    fn join_rows(
        &mut self,
        left: &TableData,
        right: &TableData,
        start: usize,
        count: usize,
        out: &mut TableData,
    ) {
        let width = left.columns.len();
        for (o, c) in out.columns[..width].iter_mut().zip(&left.columns) {
            o.extend_from_range(c, start, count);
        }
        let keys = self.left_keys.clone();
        self.key_codes(left, &keys, start, count);
        let mut key = Vec::with_capacity(keys.len());
        let matches: Vec<Option<usize>> = (0..count)
            .map(|i| {
                key.clear();
                key.extend(self.codes.iter().map(|c| c[i]));
                self.index.get(key.as_slice()).copied()
            })
            .collect();
        for (o, &rc) in out.columns[width..].iter_mut().zip(&self.added) {
            for m in &matches {
                match m {
                    Some(r) => o.push_from(&right.columns[rc], *r),
                    None => o.push_null(),
                }
            }
        }
    }
}

impl Operator for NaturalJoin {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let (left, right) = (&inputs[0].data, &inputs[1].data);
        self.index_right(right)?;
        self.join_rows(left, right, 0, left.len(), out);
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let (left, right) = (inputs[0], inputs[1]);
        if let (None, Some(Update::Fifo { removed, added })) = (&right.update, &left.update) {
            out.pop_front(*removed);
            self.join_rows(
                &left.data,
                &right.data,
                left.data.len() - added,
                *added,
                out,
            );
            return Ok(Some(Update::Fifo {
                removed: *removed,
                added: *added,
            }));
        }
        // The right table changed (or the left is keyed): join everything again, into a fresh
        // table so a failure keeps the last good rows.
        let old = out.first_key..out.end_key();
        self.index_right(&right.data)?;
        let mut fresh = TableData::new(out.schema.clone());
        fresh.first_key = old.end;
        self.join_rows(&left.data, &right.data, 0, left.data.len(), &mut fresh);
        *out = fresh;
        Ok(Some(Update::Keyed {
            removed: old.collect(),
            added: (out.first_key..out.end_key()).collect(),
            modified: Vec::new(),
        }))
    }

    fn state_bytes(&self) -> (usize, usize) {
        let per_entry = 48 + self.right_keys.len() * 32;
        (
            self.index.len() * per_entry,
            self.index.capacity() * per_entry,
        )
    }
}

/// `"Out = In"` or `"Col"` → (Out, In).
fn rename(spec: &str) -> (String, String) {
    match spec.split_once('=') {
        Some((a, b)) => (a.trim().to_owned(), b.trim().to_owned()),
        None => (spec.trim().to_owned(), spec.trim().to_owned()),
    }
}

impl Table {
    /// A rebuilt table is blink when its parent is (the head of a stream table), so an
    /// aggregation over it still accumulates, as in Deephaven.
    fn rebuilt(&self, schema: Schema, op: impl Rebuild + 'static) -> Result<Table> {
        let blink = self.is_blink();
        self.engine.derive(
            vec![Rc::clone(&self.node)],
            schema,
            blink,
            Box::new(Rebuilt(op)),
        )
    }

    /// The first `count` rows.
    pub fn head(&self, count: usize) -> Result<Table> {
        self.rebuilt(self.schema(), Slice { head: true, count })
    }

    /// The last `count` rows.
    pub fn tail(&self, count: usize) -> Result<Table> {
        self.rebuilt(self.schema(), Slice { head: false, count })
    }

    /// Each row of this table with `columns` of the `right` row whose `on` keys match, or nulls
    /// where none does (Deephaven's `naturalJoin`). `on` entries are `Key` or `LeftKey = RightKey`;
    /// `columns` entries are `Col` or `NewName = RightCol` (none given: every non-key right
    /// column). More than one right row for a key is an error: at build time, or in a later
    /// cycle, where it marks this table failed.
    pub fn natural_join(&self, right: &Table, on: &[&str], columns: &[&str]) -> Result<Table> {
        let (left_schema, right_schema) = (self.schema(), right.schema());
        let mut left_keys = Vec::new();
        let mut right_keys = Vec::new();
        let mut coders = Vec::new();
        for spec in super::names(on) {
            let (l, r) = rename(&spec);
            let (li, ri) = (left_schema.index_of(&l)?, right_schema.index_of(&r)?);
            let (lt, rt) = (left_schema.fields()[li].ty, right_schema.fields()[ri].ty);
            if lt != rt {
                return Err(Error::Invalid(format!(
                    "naturalJoin: key {l} is {lt} on the left but {r} is {rt} on the right"
                )));
            }
            left_keys.push(li);
            right_keys.push(ri);
            coders.push((lt, KeyCoder::default()));
        }
        let additions: Vec<(String, String)> = if columns.is_empty() {
            right_schema
                .names()
                .into_iter()
                .enumerate()
                .filter(|(i, _)| !right_keys.contains(i))
                .map(|(_, n)| (n.to_owned(), n.to_owned()))
                .collect()
        } else {
            super::names(columns).iter().map(|s| rename(s)).collect()
        };
        let mut fields = left_schema.fields().to_vec();
        let mut added = Vec::new();
        for (new_name, right_name) in additions {
            let i = right_schema.index_of(&right_name)?;
            fields.push(Field::new(new_name, right_schema.fields()[i].ty));
            added.push(i);
        }
        let schema = Schema::new(fields)?;
        let op = NaturalJoin {
            left_keys,
            right_keys,
            coders,
            added,
            index: FxHashMap::default(),
            codes: Vec::new(),
        };
        let parents = vec![Rc::clone(&self.node), Rc::clone(&right.node)];
        self.engine.derive(parents, schema, false, Box::new(op))
    }
}
