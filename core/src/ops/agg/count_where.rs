//! `CountWhere` (Deephaven's `AggCountWhere`): the rows of a group where every filter holds, as a
//! long (0 for a group none of whose rows pass). The filters are what `where` takes, match
//! filters included (``Type = `BID` ``, ``Exchange in `a`, `b` ``), compiled once against the
//! parent's columns and evaluated a block of rows at a time (a filter on a dictionary-coded string
//! runs once per dictionary entry, as in `where`); a null boolean does not pass. A filter that
//! reads the clock (`now()`) is refused: its count would change with time, not with the rows.
//!
//! Invariant: `counts[g]` is the number of covered rows of group `g` that pass; over a ring,
//! `history` holds whether each covered row passed, oldest first.

use super::Agg;
use super::reducer::GroupReducer;
use crate::column::{Chunked, Column, ColumnType};
use crate::formula::{self, Formula, Variables};
use crate::table::{Schema, TableData};
use crate::{Error, Result};

pub(super) struct CountWhere {
    filters: Vec<Formula>,
    counts: Vec<i64>,
    history: Option<Chunked<u8>>,
    passed: Vec<u8>,
    mark: Vec<u8>,
    selected: Vec<u32>,
}

pub(super) fn new(agg: &Agg, schema: &Schema) -> Result<Box<dyn GroupReducer>> {
    if agg.options.filters.is_empty() {
        return Err(Error::Invalid(format!(
            "{} = CountWhere: give at least one filter",
            agg.output
        )));
    }
    let mut filters = Vec::new();
    for text in &agg.options.filters {
        let f = formula::compile_filter(text, schema, &Variables::default())?;
        if f.ty != ColumnType::Bool {
            return Err(Error::Formula {
                position: 0,
                message: format!(
                    "{}: a filter must be boolean; {text:?} is {}",
                    agg.output, f.ty
                ),
            });
        }
        if f.clock.is_some() {
            // A count of rows that pass "now" would change with time, not with the rows.
            return Err(Error::Formula {
                position: 0,
                message: format!(
                    "{}: a CountWhere filter cannot read the clock (now()): {text:?}",
                    agg.output
                ),
            });
        }
        filters.push(f);
    }
    Ok(Box::new(CountWhere {
        filters,
        counts: Vec::new(),
        history: None,
        passed: Vec::new(),
        mark: Vec::new(),
        selected: Vec::new(),
    }))
}

impl GroupReducer for CountWhere {
    fn output_type(&self) -> ColumnType {
        ColumnType::I64
    }

    fn keep_history(&mut self) {
        self.history = Some(Chunked::new());
    }

    fn grow(&mut self, groups: usize) {
        self.counts.resize(groups, 0);
    }

    fn add(&mut self, parent: &TableData, start: usize, count: usize, gids: &[u32]) -> Result<()> {
        // Whether each row passed every filter so far.
        self.passed.clear();
        self.passed.resize(count, 1);
        for f in &self.filters {
            f.select_rows(parent, start, count, &mut self.selected);
            self.mark.clear();
            self.mark.resize(count, 0);
            for &i in &self.selected {
                self.mark[i as usize] = 1;
            }
            self.passed
                .iter_mut()
                .zip(&self.mark)
                .for_each(|(p, m)| *p &= m);
        }
        for (&g, &p) in gids.iter().zip(&self.passed) {
            self.counts[g as usize] += i64::from(p);
        }
        if let Some(h) = &mut self.history {
            h.extend_from_slice(&self.passed);
        }
        Ok(())
    }

    fn take_back(&mut self, gids: &[u32]) {
        let Some(h) = &mut self.history else { return };
        let mut passed = Vec::with_capacity(gids.len());
        h.copy_range(0, gids.len(), &mut passed);
        h.pop_front(gids.len());
        for (&g, &p) in gids.iter().zip(&passed) {
            self.counts[g as usize] -= i64::from(p);
        }
    }

    fn clear(&mut self) {
        self.counts.clear();
        if let Some(h) = &mut self.history {
            h.clear();
        }
    }

    fn emit(&self, g: usize, out: &mut Column) {
        match out {
            Column::I64(c) => c.push(self.counts[g]),
            other => other.push_null(),
        }
    }

    fn bytes(&self) -> (usize, usize) {
        let (h_used, h_reserved) = self
            .history
            .as_ref()
            .map_or((0, 0), |h| (h.bytes_used(), h.bytes_reserved()));
        (
            self.counts.len() * 8 + h_used,
            self.counts.capacity() * 8
                + h_reserved
                + self.passed.capacity()
                + self.mark.capacity()
                + self.selected.capacity() * 4,
        )
    }
}
