//! Row-wise operators: `view` / `select` (only the listed columns), `updateView` / `update` (all
//! columns, plus or replacing the listed ones) and `where` (the rows where every filter holds).
//!
//! They work on FIFO parents: the rows a parent adds are evaluated as one batch and appended; the
//! rows it removes from the front are removed from the front here too (for `where`, through the
//! parent keys of the rows kept). A blink parent gives a blink result.
//!
//! Formulas of one call are compiled in order against the columns defined so far, so a formula may
//! use a column an earlier one made (`updateView("A = Size * 2", "B = A + 1")`). Formulas that read
//! only the parent's columns are evaluated straight off the parent's storage.
//!
//! A `where` whose filter calls `now()` is time-dependent: every cycle in which the clock moved,
//! its parent changed or not, it re-checks every row it kept against the filters that read the
//! clock (vectorised, as rows are checked on arrival) and removes every row that now fails,
//! wherever it is. When the failing rows are a prefix (rows in time order), that is a FIFO removal
//! and the table trims its front; otherwise the output is rewritten without them (a gather of the
//! survivors, the kept parent keys compacted alike) and reported as a keyed rewrite (removed: the
//! old keys, added: the new), as an aggregation reports one. Invariant: after each cycle the
//! output is, in parent order, the parent's rows that passed when they arrived and pass at the
//! current clock. A row rejected when it arrived never comes back, even if a later clock would
//! pass it: the rule for filters that only get stricter as the clock advances (`Ts >= now() - d`).
//! When the clock goes back (a host may set any clock), rows that failed may pass again: the table
//! is then rebuilt from its parent's rows at the new clock, as a new `where` would be, and the
//! change reported as a keyed rewrite.
use std::rc::Rc;

use super::Operator;
use crate::column::{Chunked, Column};
use crate::formula::{self, Formula, Variables};
use crate::table::{Field, Node, Schema, Table, TableData, Update};
use crate::{Error, Result};

enum Mode {
    /// Output columns: the formulas' results, in order.
    View,
    /// Output columns: the parent's, then new ones; a formula naming a parent column replaces it.
    Update,
    /// Output columns: the parent's; rows where every formula is true.
    Where,
}

/// A formula and where its result goes in the working columns (parent columns, then results).
struct Step {
    formula: Formula,
    /// Index in the working columns it writes (replacing or appending).
    target: usize,
    /// Whether it reads only parent columns (so it can run on the parent's storage).
    direct: bool,
}

struct RowWise {
    mode: Mode,
    steps: Vec<Step>,
    /// For each output column, its index in the working columns.
    outputs: Vec<usize>,
    /// The working schema's width.
    width: usize,
    /// `where`: the parent key of every row kept.
    kept: Chunked<u64>,
    selected: Vec<u32>,
    /// `where`: the rows a batch keeps (reused).
    picks: Vec<u32>,
    /// `where`: whether a filter calls `now()`, so that kept rows are re-checked every cycle.
    ticks: bool,
    /// The clock last given (`advance_clock`).
    now: i64,
    /// The clock at which every kept row was last checked, if any: no re-check until it moves.
    checked_at: Option<i64>,
}

/// What a re-check of the kept rows did to the output.
enum Aged {
    /// This many rows came off the front (none, when every row passes).
    Front(usize),
    /// Rows failed in the middle: the output was rewritten, its keys following the old ones.
    Rewritten,
}

impl RowWise {
    fn build(
        parent: &Schema,
        mode: Mode,
        formulas: &[&str],
        variables: &Variables,
    ) -> Result<(Self, Schema)> {
        let mut working: Vec<Field> = parent.fields().to_vec();
        let mut steps = Vec::new();
        let mut replaced = vec![false; working.len()];
        let mut view_outputs = Vec::new();
        for text in formulas {
            let schema = Schema::new(working.clone())?;
            let formula = match mode {
                Mode::Where => formula::compile_filter(text, &schema, variables)?,
                _ => formula::compile(text, &schema, variables)?,
            };
            if let Mode::Where = mode {
                if formula.clock.is_some() && formula.reads_position {
                    return Err(Error::Formula {
                        position: 0,
                        message: format!(
                            "{text:?}: a filter that calls now() is checked again as time \
                             passes, when i and ii no longer mean the row's position: \
                             use a column instead"
                        ),
                    });
                }
                if formula.ty != crate::ColumnType::Bool {
                    return Err(Error::Formula {
                        position: 0,
                        message: format!("a filter must be boolean; {text:?} is {}", formula.ty),
                    });
                }
                let direct = formula.columns.iter().all(|&c| c < parent.len());
                steps.push(Step {
                    formula,
                    target: usize::MAX,
                    direct,
                });
                continue;
            }
            let Some(name) = formula.name.clone() else {
                return Err(Error::Formula {
                    position: 0,
                    message: format!("{text:?} needs a name: write Name = {text}"),
                });
            };
            let direct = formula
                .columns
                .iter()
                .all(|&c| c < parent.len() && !replaced[c]);
            let target = match working.iter().position(|f| f.name == name) {
                Some(i) => {
                    working[i].ty = formula.ty;
                    if i < replaced.len() {
                        replaced[i] = true;
                    }
                    i
                }
                None => {
                    working.push(Field::new(name.clone(), formula.ty));
                    working.len() - 1
                }
            };
            if !view_outputs.contains(&target) {
                view_outputs.push(target);
            }
            steps.push(Step {
                formula,
                target,
                direct,
            });
        }
        let outputs: Vec<usize> = match mode {
            Mode::View => view_outputs,
            Mode::Update => (0..working.len()).collect(),
            Mode::Where => (0..parent.len()).collect(),
        };
        let schema = Schema::new(outputs.iter().map(|&i| working[i].clone()).collect())?;
        let ticks = matches!(mode, Mode::Where) && steps.iter().any(|s| s.formula.clock.is_some());
        Ok((
            Self {
                mode,
                steps,
                outputs,
                width: working.len(),
                kept: Chunked::new(),
                selected: Vec::new(),
                picks: Vec::new(),
                ticks,
                now: crate::column::NULL_I64,
                checked_at: None,
            },
            schema,
        ))
    }

    /// Evaluates the parent's rows `start .. start + count` and appends the results to `out`.
    fn append(
        &mut self,
        parent: &TableData,
        start: usize,
        count: usize,
        out: &mut TableData,
    ) -> usize {
        if count == 0 {
            return 0;
        }
        if let Mode::Where = self.mode {
            return self.filter(parent, start, count, out);
        }
        // Working columns: parent columns by reference where untouched, results otherwise.
        let needs_scratch = self.steps.iter().any(|s| !s.direct);
        let mut scratch: Option<TableData> = None;
        if needs_scratch {
            let mut data = TableData::new(Schema::default());
            data.bare_rows = count;
            for c in &parent.columns {
                let mut copy = Column::new(c.column_type());
                copy.extend_from_range(c, start, count);
                data.columns.push(copy);
            }
            scratch = Some(data);
        }
        let mut results: Vec<Option<Column>> = (0..self.width).map(|_| None).collect();
        for step in &self.steps {
            let mut column = Column::new(step.formula.ty);
            match &mut scratch {
                Some(data) => {
                    // The scratch holds the rows from `start` on: `i` still reads positions.
                    step.formula
                        .eval_at(data, 0, count, start)
                        .append_to(&mut column);
                    if step.target < data.columns.len() {
                        data.columns[step.target] = column.clone();
                    } else {
                        data.columns.push(column.clone());
                    }
                }
                None => step
                    .formula
                    .eval(parent, start, count)
                    .append_to(&mut column),
            }
            results[step.target] = Some(column);
        }
        for (o, &w) in out.columns.iter_mut().zip(&self.outputs) {
            match &results[w] {
                Some(column) => o.extend_from(column),
                None => o.extend_from_range(&parent.columns[w], start, count),
            };
        }
        count
    }

    fn filter(
        &mut self,
        parent: &TableData,
        start: usize,
        count: usize,
        out: &mut TableData,
    ) -> usize {
        let mut picks = std::mem::take(&mut self.picks);
        self.select(parent, start, count, false, &mut picks);
        let first_key = parent.first_key + start as u64;
        let keys: Vec<u64> = picks.iter().map(|&i| first_key + u64::from(i)).collect();
        self.kept.extend_from_slice(&keys);
        for (o, p) in out.columns.iter_mut().zip(&parent.columns) {
            o.extend_gather(p, start, count, &picks);
        }
        if out.columns.is_empty() {
            out.bare_rows += picks.len();
        }
        let kept = picks.len();
        self.picks = picks;
        kept
    }

    /// The rows of `data`'s `start .. start + count` where every filter holds (only those that
    /// read the clock, if `clock_only`), as ascending offsets from `start`.
    fn select(
        &mut self,
        data: &TableData,
        start: usize,
        count: usize,
        clock_only: bool,
        picks: &mut Vec<u32>,
    ) {
        let mut steps = self
            .steps
            .iter()
            .filter(|s| !clock_only || s.formula.clock.is_some());
        let Some(first) = steps.next() else {
            picks.clear();
            picks.extend(0..count as u32);
            return;
        };
        first.formula.select_rows(data, start, count, picks);
        for step in steps {
            if picks.is_empty() {
                return;
            }
            step.formula
                .select_rows(data, start, count, &mut self.selected);
            // Both ascending: keep the picks the step selected too.
            let selected = &self.selected;
            let mut j = 0;
            picks.retain(|&i| {
                j += selected[j..].partition_point(|&s| s < i);
                selected.get(j) == Some(&i)
            });
        }
    }

    /// A time-dependent `where`: re-checks every kept row against the clock's filters and removes
    /// those that fail. A failing prefix comes off the front; anything else rewrites the output
    /// (and the kept keys) with the survivors only.
    fn age_out(&mut self, out: &mut TableData) -> Aged {
        let len = out.len();
        if len == 0 {
            return Aged::Front(0);
        }
        let mut picks = std::mem::take(&mut self.picks);
        self.select(out, 0, len, true, &mut picks);
        let gone = len - picks.len();
        // Ascending and distinct: the survivors are a suffix when the first is at `gone`.
        let aged = if gone == 0 || picks.first().is_none_or(|&p| p as usize == gone) {
            self.kept.pop_front(gone);
            out.pop_front(gone);
            Aged::Front(gone)
        } else {
            self.keep_only(&picks, out);
            Aged::Rewritten
        };
        self.picks = picks;
        aged
    }

    /// Rewrites the output with only its rows at `picks` (ascending), keys following the old
    /// ones; the kept parent keys are compacted alike.
    fn keep_only(&mut self, picks: &[u32], out: &mut TableData) {
        let len = out.len();
        let mut fresh = TableData::new(out.schema.clone());
        fresh.first_key = out.end_key();
        for (f, o) in fresh.columns.iter_mut().zip(&out.columns) {
            f.extend_gather(o, 0, len, picks);
        }
        if out.columns.is_empty() {
            fresh.bare_rows = picks.len();
        }
        *out = fresh;
        let positions: Vec<usize> = picks.iter().map(|&p| p as usize).collect();
        let mut keys = Vec::with_capacity(positions.len());
        self.kept.gather(&positions, &mut keys);
        let mut kept = Chunked::with_capacity(keys.len());
        kept.extend_from_slice(&keys);
        self.kept = kept;
    }

    /// Evaluates every row of `parent` again into an emptied `out`: a keyed rewrite (every old
    /// key removed, the new ones, which follow them, added).
    fn rebuild(&mut self, parent: &TableData, out: &mut TableData) -> Option<Update> {
        let removed = out.len();
        out.clear();
        self.kept.clear();
        let added = self.append(parent, 0, parent.len(), out);
        self.checked_at = Some(self.now);
        let first = out.first_key;
        Some(Update::Keyed {
            removed: (first - removed as u64..first).collect(),
            added: (first..first + added as u64).collect(),
            modified: Vec::new(),
        })
    }

    /// Removes the rows matching the parent's removed prefix.
    fn remove(&mut self, parent: &TableData, removed: usize, out: &mut TableData) -> usize {
        if removed == 0 {
            return 0;
        }
        match self.mode {
            Mode::Where => {
                // The parent's first surviving key: every kept key below it is gone.
                let new_first = parent.first_key;
                let mut gone = 0;
                while self.kept.get(gone).is_some_and(|k| k < new_first) {
                    gone += 1;
                }
                self.kept.pop_front(gone);
                out.pop_front(gone);
                gone
            }
            _ => {
                out.pop_front(removed);
                removed
            }
        }
    }
}

impl Operator for RowWise {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let parent = &inputs[0].data;
        self.append(parent, 0, parent.len(), out);
        self.checked_at = Some(self.now);
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let parent = inputs[0];
        // The clock went back: rows that failed may pass again, so the table is rebuilt from
        // its parent's rows at this clock, as a new `where` would be. (Over a blink parent every
        // row it holds arrived this cycle, and is checked at this clock anyway.)
        let rewound = self.ticks && !parent.blink && self.checked_at.is_some_and(|c| self.now < c);
        let (removed, added) = match &parent.update {
            _ if rewound => return Ok(self.rebuild(&parent.data, out)),
            None if !self.ticks => return Ok(None),
            None => (0, 0),
            Some(Update::Fifo { removed, added }) => (*removed, *added),
            // A keyed parent (an aggregation's result) is small: recompute it whole.
            Some(Update::Keyed { .. }) => return Ok(self.rebuild(&parent.data, out)),
        };
        let old = out.first_key..out.end_key();
        let mut removed = self.remove(&parent.data, removed, out);
        let mut rewritten = false;
        // Every kept row passed at `checked_at`: while the clock stays there, none can fail.
        if self.ticks && self.checked_at != Some(self.now) {
            match self.age_out(out) {
                Aged::Front(gone) => removed += gone,
                Aged::Rewritten => rewritten = true,
            }
        }
        self.checked_at = Some(self.now);
        let start = parent.data.len() - added;
        let added = self.append(&parent.data, start, added, out);
        if rewritten {
            return Ok(Some(Update::Keyed {
                removed: old.collect(),
                added: (out.first_key..out.end_key()).collect(),
                modified: Vec::new(),
            }));
        }
        Ok((removed > 0 || added > 0).then_some(Update::Fifo { removed, added }))
    }

    fn state_bytes(&self) -> (usize, usize) {
        (self.kept.bytes_used(), self.kept.bytes_reserved())
    }

    fn keeps_rows_in_parent_order(&self) -> bool {
        true
    }

    fn advance_clock(&mut self, now: i64) -> bool {
        self.now = now;
        for clock in self.steps.iter().filter_map(|s| s.formula.clock.as_ref()) {
            clock.set(now);
        }
        self.ticks
    }
}

impl Table {
    fn row_wise(&self, mode: Mode, formulas: &[&str], variables: &Variables) -> Result<Table> {
        let (op, schema) = RowWise::build(&self.schema(), mode, formulas, variables)?;
        let blink = self.is_blink();
        self.engine
            .derive(vec![Rc::clone(&self.node)], schema, blink, Box::new(op))
    }

    /// Only the given columns and formulas (Deephaven's `view`).
    pub fn view(&self, formulas: &[&str]) -> Result<Table> {
        self.view_with(formulas, &Variables::default())
    }

    /// `view` with variables bound into the formulas.
    pub fn view_with(&self, formulas: &[&str], variables: &Variables) -> Result<Table> {
        self.row_wise(Mode::View, formulas, variables)
    }

    /// Like `view`; every table is materialised here, so the two are the same.
    pub fn select(&self, formulas: &[&str]) -> Result<Table> {
        self.view(formulas)
    }

    /// Every column, plus (or replacing) the given formulas (Deephaven's `updateView`).
    pub fn update_view(&self, formulas: &[&str]) -> Result<Table> {
        self.update_view_with(formulas, &Variables::default())
    }

    /// `updateView` with variables bound into the formulas.
    pub fn update_view_with(&self, formulas: &[&str], variables: &Variables) -> Result<Table> {
        self.row_wise(Mode::Update, formulas, variables)
    }

    /// Like `updateView`; every table is materialised here, so the two are the same.
    pub fn update(&self, formulas: &[&str]) -> Result<Table> {
        self.update_view(formulas)
    }

    /// The rows where every filter holds (Deephaven's `where`).
    pub fn where_(&self, filters: &[&str]) -> Result<Table> {
        self.where_with(filters, &Variables::default())
    }

    /// `where` with variables bound into the filters.
    pub fn where_with(&self, filters: &[&str], variables: &Variables) -> Result<Table> {
        self.row_wise(Mode::Where, filters, variables)
    }
}
