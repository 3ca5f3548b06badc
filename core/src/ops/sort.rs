//! `sort`: the parent's rows ordered by key columns, each ascending or descending, ties in the
//! parent's order (a stable sort, as Deephaven's).
//!
//! The operator keeps `order`, the parent row keys in output order. When the parent adds rows at
//! its back and removes from its front (an append or ring table, or a row-wise table of one), only
//! the added rows are sorted, and merged into `order`: comparisons cost the new rows, not the
//! table. The output is then updated in place when the change stays at its ends (rows leaving the
//! front of the order, new rows sorting after every old one: a sort by time or offset), and
//! rewritten from `order` otherwise, a copy with no comparison. A blink or keyed parent, whose
//! rows are all replaced, is sorted whole; that is proportional to its current rows.
//!
//! Invariant: `order` holds the key of every parent row exactly once, sorted, and the output's
//! row `i` is the parent row with key `order[i]`.

use std::cmp::Ordering;
use std::rc::Rc;

use super::Operator;
use super::sort_keys::{sort_keys, sorted_positions};
use crate::table::{Node, Table, TableData, Update};
use crate::{Error, Result};

struct Sort {
    /// (column index, descending)
    keys: Vec<(usize, bool)>,
    /// Parent row keys in output order.
    order: Vec<u64>,
}

impl Sort {
    /// Orders parent rows at positions `a` and `b`; ties by position.
    fn compare(&self, data: &TableData, a: usize, b: usize) -> Ordering {
        for &(c, descending) in &self.keys {
            let column = &data.columns[c];
            let ordering = column.compare_rows(a, column, b);
            let ordering = if descending {
                ordering.reverse()
            } else {
                ordering
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        a.cmp(&b)
    }

    /// Positions `range` of the parent, sorted.
    fn sorted(&self, data: &TableData, range: std::ops::Range<usize>) -> Vec<usize> {
        let keys = sort_keys(data, &self.keys, range.start, range.len());
        sorted_positions(data, &keys, range.start, range.len())
    }

    /// Sorts every parent row again and rewrites `out` (into a fresh table, so the old rows are
    /// reported removed and the new ones added).
    fn resort(&mut self, data: &TableData, out: &mut TableData) -> Result<Update> {
        let first = data.first_key;
        self.order = self
            .sorted(data, 0..data.len())
            .into_iter()
            .map(|p| first + p as u64)
            .collect();
        self.rewrite(data, out)
    }

    /// Rewrites `out` from `order`.
    fn rewrite(&self, data: &TableData, out: &mut TableData) -> Result<Update> {
        out.rewrite(|fresh| {
            copy_rows(data, &self.order, fresh);
            Ok(())
        })
    }
}

/// Appends the parent rows with `keys` to `out`, column by column: each column's rows between
/// the smallest and largest key are read once, then picked.
fn copy_rows(data: &TableData, keys: &[u64], out: &mut TableData) {
    let (Some(&lo), Some(&hi)) = (keys.iter().min(), keys.iter().max()) else {
        return;
    };
    let start = (lo - data.first_key) as usize;
    let picks: Vec<u32> = keys.iter().map(|&k| (k - lo) as u32).collect();
    for (o, c) in out.columns.iter_mut().zip(&data.columns) {
        o.extend_gather(c, start, (hi - lo) as usize + 1, &picks);
    }
}

impl Operator for Sort {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        self.resort(&inputs[0].data, out)?;
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let parent = inputs[0];
        let data = &parent.data;
        let (removed, added) = match &parent.update {
            None => return Ok(None),
            Some(Update::Fifo { removed, added })
                if *removed == 0 || *removed < self.order.len() =>
            {
                (*removed, *added)
            }
            // Everything was replaced (a blink table), or rows changed anywhere (a keyed one).
            Some(_) => return self.resort(data, out).map(Some),
        };
        let first = data.first_key;
        // Rows that left are the parent's oldest keys: at the front of the output when they
        // are also the first in order.
        let leading = self.order.iter().take_while(|&&k| k < first).count();
        let at_front = leading == removed;
        if at_front {
            self.order.drain(..removed);
        } else {
            self.order.retain(|&k| k >= first);
        }
        let len = data.len();
        let new = self.sorted(data, len - added..len);
        let after_all = match (self.order.last(), new.first()) {
            (Some(&last), Some(&n)) => self.compare(data, (last - first) as usize, n).is_lt(),
            _ => true,
        };
        if at_front && after_all {
            out.pop_front(removed);
            let keys: Vec<u64> = new.iter().map(|&p| first + p as u64).collect();
            copy_rows(data, &keys, out);
            self.order.extend(keys);
            return Ok((removed > 0 || added > 0).then_some(Update::Fifo { removed, added }));
        }
        // Each new row goes where a binary search of the order puts it (the new rows are sorted,
        // so each search starts where the last one ended); then the output is rewritten.
        let mut merged = Vec::with_capacity(self.order.len() + new.len());
        let mut from = 0;
        for n in new {
            let at = from
                + self.order[from..]
                    .partition_point(|&k| self.compare(data, (k - first) as usize, n).is_lt());
            merged.extend_from_slice(&self.order[from..at]);
            merged.push(first + n as u64);
            from = at;
        }
        merged.extend_from_slice(&self.order[from..]);
        self.order = merged;
        self.rewrite(data, out).map(Some)
    }

    fn state_bytes(&self) -> (usize, usize) {
        (self.order.len() * 8, self.order.capacity() * 8)
    }
}

impl Table {
    /// Sorted by the given columns, ascending (Deephaven's `sort`); a column written `-Name` or
    /// `Name desc` sorts descending. Ties keep the parent's order. A sort of a blink table is
    /// blink.
    pub fn sort(&self, columns: &[&str]) -> Result<Table> {
        let schema = self.schema();
        let mut keys = Vec::new();
        for spec in super::names(columns) {
            let (name, descending) = match (spec.strip_prefix('-'), spec.strip_suffix(" desc")) {
                (Some(n), _) => (n.trim(), true),
                (None, Some(n)) => (n.trim(), true),
                _ => (spec.as_str(), false),
            };
            super::keys::refuse_array_keys(&schema, &[name], "sort")?;
            keys.push((schema.index_of(name)?, descending));
        }
        if keys.is_empty() {
            return Err(Error::Invalid("sort: no column given".into()));
        }
        let op = Sort {
            keys,
            order: Vec::new(),
        };
        let blink = self.is_blink();
        self.engine
            .derive(vec![Rc::clone(&self.node)], schema, blink, Box::new(op))
    }

    /// Sorted descending by the given columns (Deephaven's `sortDescending`).
    pub fn sort_descending(&self, columns: &[&str]) -> Result<Table> {
        let specs: Vec<String> = super::names(columns)
            .into_iter()
            .map(|c| format!("-{c}"))
            .collect();
        self.sort(&specs.iter().map(String::as_str).collect::<Vec<_>>())
    }
}
