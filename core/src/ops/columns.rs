//! `renameColumns`, `dropColumns`, `moveColumns`, `moveColumnsUp`, `moveColumnsDown`: the parent's
//! rows with its columns renamed, dropped or reordered (Deephaven's names and rules).
//!
//! The result mirrors its parent as `dropStream` does: the same rows, the same keys and the same
//! updates, with no formula evaluated. The rows a parent adds are taken by sharing its column
//! chunks ([`crate::column::Column::extend_shared`]): a chunk the rows cover whole and that will not grow again
//! (an adopted batch) is shared, not copied, and only the rows in the parent's growing chunk are
//! copied. Dictionary codes are kept as they are (the result's dictionary catches up with the
//! parent's). A parent that rewrote itself is mirrored again whole. The blink attribute is the
//! parent's.
//!
//! Invariant: result column `j` holds parent column `sources[j]`, row for row, and the result's
//! keys are the parent's.

use std::rc::Rc;

use super::Operator;
use crate::table::{Field, Node, Schema, Table, TableData, Update};
use crate::{Error, Result};

struct Mirror {
    sources: Vec<usize>,
}

impl Mirror {
    fn copy(&self, parent: &TableData, start: usize, count: usize, out: &mut TableData) {
        for (o, &s) in out.columns.iter_mut().zip(&self.sources) {
            o.extend_shared(&parent.columns[s], start, count);
        }
        if out.columns.is_empty() {
            out.bare_rows += count;
        }
    }
}

impl Operator for Mirror {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let parent = &inputs[0].data;
        out.first_key = parent.first_key;
        self.copy(parent, 0, parent.len(), out);
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let parent = &inputs[0].data;
        let update = inputs[0].update.clone();
        match &update {
            None => return Ok(None),
            Some(Update::Fifo { removed, added }) => {
                out.pop_front(*removed);
                self.copy(parent, parent.len() - added, *added, out);
            }
            Some(Update::Keyed { .. }) => {
                out.clear();
                self.copy(parent, 0, parent.len(), out);
            }
        }
        out.first_key = parent.first_key;
        Ok(update)
    }

    fn keeps_rows_in_parent_order(&self) -> bool {
        true
    }
}

impl Table {
    /// The parent's columns `sources`, named `names`.
    fn mirror(&self, sources: Vec<usize>, names: Vec<String>) -> Result<Table> {
        let schema = self.schema();
        let fields = sources
            .iter()
            .zip(names)
            .map(|(&s, name)| Field::new(name, schema.fields()[s].ty))
            .collect();
        let blink = self.is_blink();
        self.engine.derive(
            vec![Rc::clone(&self.node)],
            Schema::new(fields)?,
            blink,
            Box::new(Mirror { sources }),
        )
    }

    /// Columns renamed by `"New = Old"` pairs (Deephaven's `renameColumns`): each keeps its
    /// place, and an existing column of the new name is replaced (dropped). Renaming a column
    /// twice, or two columns to one name, is an error.
    pub fn rename_columns(&self, pairs: &[&str]) -> Result<Table> {
        let schema = self.schema();
        let mut names: Vec<Option<String>> = schema
            .names()
            .iter()
            .map(|n| Some((*n).to_owned()))
            .collect();
        let mut renamed: Vec<(usize, String)> = Vec::new();
        for spec in super::names(pairs) {
            let Some((new, old)) = spec.split_once('=') else {
                return Err(Error::Invalid(format!(
                    "renameColumns: {spec:?} is not of the form New = Old"
                )));
            };
            let (new, old) = (new.trim().to_owned(), old.trim());
            let i = schema.index_of(old)?;
            if renamed.iter().any(|(j, _)| *j == i) {
                return Err(Error::Invalid(format!(
                    "renameColumns: column {old} is renamed twice"
                )));
            }
            if renamed.iter().any(|(_, n)| *n == new) {
                return Err(Error::DuplicateColumn(new));
            }
            renamed.push((i, new));
        }
        for (i, new) in &renamed {
            // A column already called `new` (and not renamed itself) is replaced.
            if let Some(j) = names
                .iter()
                .position(|n| n.as_deref() == Some(new.as_str()))
                && j != *i
                && !renamed.iter().any(|(k, _)| *k == j)
            {
                names[j] = None;
            }
            names[*i] = Some(new.clone());
        }
        let (sources, names): (Vec<usize>, Vec<String>) = names
            .into_iter()
            .enumerate()
            .filter_map(|(i, n)| n.map(|n| (i, n)))
            .unzip();
        self.mirror(sources, names)
    }

    /// Every column but `columns` (Deephaven's `dropColumns`); an unknown column is an error.
    pub fn drop_columns(&self, columns: &[&str]) -> Result<Table> {
        let schema = self.schema();
        let mut dropped = Vec::new();
        for name in super::names(columns) {
            dropped.push(schema.index_of(&name)?);
        }
        let (sources, names): (Vec<usize>, Vec<String>) = schema
            .names()
            .iter()
            .enumerate()
            .filter(|(i, _)| !dropped.contains(i))
            .map(|(i, n)| (i, (*n).to_owned()))
            .unzip();
        self.mirror(sources, names)
    }

    /// `columns` moved to position `index` (0 is the first), in the order given, the others
    /// keeping theirs (Deephaven's `moveColumns`). A column named twice, an unknown column, or an
    /// index past the other columns is an error.
    pub fn move_columns(&self, index: usize, columns: &[&str]) -> Result<Table> {
        let schema = self.schema();
        let mut moved = Vec::new();
        for name in super::names(columns) {
            let i = schema.index_of(&name)?;
            if moved.contains(&i) {
                return Err(Error::DuplicateColumn(name));
            }
            moved.push(i);
        }
        let mut sources: Vec<usize> = (0..schema.len()).filter(|i| !moved.contains(i)).collect();
        if index > sources.len() {
            return Err(Error::Invalid(format!(
                "moveColumns: index {index} is past the end (the other columns fill 0..{})",
                sources.len()
            )));
        }
        sources.splice(index..index, moved);
        let names = sources
            .iter()
            .map(|&i| schema.fields()[i].name.clone())
            .collect();
        self.mirror(sources, names)
    }

    /// `columns` moved to the front (Deephaven's `moveColumnsUp`).
    pub fn move_columns_up(&self, columns: &[&str]) -> Result<Table> {
        self.move_columns(0, columns)
    }

    /// `columns` moved to the back (Deephaven's `moveColumnsDown`).
    pub fn move_columns_down(&self, columns: &[&str]) -> Result<Table> {
        let others = self
            .schema()
            .len()
            .saturating_sub(super::names(columns).len());
        self.move_columns(others, columns)
    }
}
