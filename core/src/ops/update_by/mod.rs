//! `updateBy(ops, keys)`: Deephaven's `updateBy`: the parent's rows, in the parent's order, with
//! one column more per operation and input (`"Out = In"`, or `"Col"` replacing `Col` in place),
//! each row's value computed over a window of the rows of its group (rows of equal key tuple,
//! numbered by the shared [`KeyIds`]).
//!
//! As in Deephaven's `UpdateByWindow*` and operators, the window is apart from the operation:
//! the window kinds (`cumulative.rs`, `ticks.rs`, `time.rs`, driven by `window.rs`) decide which
//! rows of a group enter and leave; each operation (`sum.rs`, `product.rs`, `extremum.rs`, ...,
//! behind the one `Fold` trait of `fold.rs`) only folds values in and out. `lane.rs` is one
//! output column over every group.
//!
//! How it stays live:
//! - rows added at the parent's back go through their groups' windows: a cycle costs what it
//!   adds, not the windows. Rows whose window reaches past the group's last row (a forward
//!   window, or rows of a time window's last timestamp) are given a value over the rows there
//!   are and rewritten in place when more rows arrive (an `Update::Keyed` with `modified`);
//! - over a blink parent the windows persist across cycles (Deephaven's blink semantics), so
//!   each row gets the value it would get in the append table (rows of a forward window see the
//!   rows up to their own cycle: later ones come after the row is gone);
//! - over a ring (a parent that removes part of its rows from its front) the rows leaving change
//!   the windows of the rows that stay, and, as Deephaven, only the rows affected are computed
//!   again: the rows leave their groups' windows (each group keeps its rows in the ring, and the
//!   operator the group of each ring row), then the rows whose windows held them get new values
//!   in place (every row of the group for a cumulative window, the first ones of a rolling one);
//! - a parent that removes every row (a `dropStream`) or rewrites itself (a sort) is read again
//!   whole, and so is a ring when a value cannot change in place (`rollingGroup`'s arrays) or
//!   when its gone groups outnumber its rows twice (their state is then freed).
//!
//! Invariant: the output holds the parent's rows (blink: this cycle's), and each lane's column
//! holds, for every row, the value over its window among the rows its groups cover.

mod any;
mod count;
mod cumulative;
mod decay;
mod delta;
mod ema;
mod extremum;
mod fill;
mod fold;
mod group;
mod lane;
mod product;
mod spec;
mod std;
mod sum;
mod ticks;
mod time;
mod wavg;
mod window;

#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod rebuild_tests;
#[cfg(test)]
pub(crate) mod tests;

use ::std::rc::Rc;

pub use spec::{BadData, DeltaControl, OperationControl, UpdateBy, UpdateByKind, UpdateByWindow};

use super::Operator;
use super::key_ids::KeyIds;
use crate::column::{Chunked, Column, ColumnType, Value};
use crate::table::{Field, Node, Schema, Table, TableData, Update};
use crate::{Error, Result};
use fold::Sink;
use lane::Lane;

/// Where an output column comes from.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Parent(usize),
    Lane(usize),
}

struct UpdateByTable {
    keys: Vec<usize>,
    key_ids: KeyIds,
    lanes: Vec<Lane>,
    /// One per output column.
    slots: Vec<Slot>,
    blink: bool,
    ids: Vec<u32>,
    /// Over a parent that removes rows from its front (a ring): the group of each of its rows,
    /// oldest first, so the rows leaving can be taken out of their groups' windows.
    row_groups: Option<Chunked<u32>>,
}

/// A large append runs in blocks of this many rows (see [`UpdateByTable::append`]).
const BLOCK_ROWS: usize = 1 << 16;

#[cfg(test)]
thread_local! {
    /// Tests: the block size of this thread's appends (smaller, to split small cycles).
    pub(crate) static TEST_BLOCK_ROWS: ::std::cell::Cell<usize> =
        const { ::std::cell::Cell::new(BLOCK_ROWS) };
}

/// [`BLOCK_ROWS`] (in tests, this thread's [`TEST_BLOCK_ROWS`]).
fn block_rows() -> usize {
    #[cfg(test)]
    return TEST_BLOCK_ROWS.with(::std::cell::Cell::get);
    #[cfg(not(test))]
    BLOCK_ROWS
}

/// What an append of several blocks changed in rows it did not add: each one's column, position
/// and value before, to put back if a later block fails.
type Undo = Vec<(usize, usize, Value)>;

impl UpdateByTable {
    /// Runs parent rows `start .. start + count` onto `out`'s back; the keys of older rows whose
    /// values changed go to `modified`; `false` when some could not change in place (an array
    /// column).
    ///
    /// A large append runs as consecutive blocks of [`BLOCK_ROWS`] rows, each as its own cycle
    /// would: the windows go on from block to block, so every row gets the value one cycle would
    /// give it (a row left without a final value at a block's end is rewritten in place by the
    /// next, and is not reported as modified: it is added in this cycle). The lanes' buffers
    /// (group ids, inputs) are then a block long and stay in cache, and each
    /// block's values are adopted by the output column, not copied. A block that fails (a time
    /// window's timestamps going back) leaves `out` as it was before the first, as a cycle in one
    /// block does (its lanes all run before any column is written); the lanes' state is not put
    /// back (the table has failed, and is not run again).
    fn append(
        &mut self,
        parent: &TableData,
        start: usize,
        count: usize,
        out: &mut TableData,
        modified: &mut Vec<u64>,
    ) -> Result<bool> {
        // A lane whose values are not plain doubles or longs (`rollingGroup`'s arrays, a
        // `forwardFill` of strings) goes row by row, and an array cannot be rewritten in place
        // by a later block: such an append stays one block.
        let block = if self
            .lanes
            .iter()
            .any(|l| matches!(l.scratch, Sink::Column(_)))
        {
            usize::MAX
        } else {
            block_rows()
        };
        let added_from = out.end_key();
        let rows_before = out.len();
        let mut undo = (count > block).then(Vec::new);
        let end = start + count;
        let mut at = start;
        let mut in_place = true;
        loop {
            let n = (end - at).min(block);
            match self.append_block(parent, at, n, out, modified, added_from, undo.as_mut()) {
                Ok(done) => in_place &= done,
                Err(e) => {
                    if let Some(undo) = undo {
                        roll_back(out, rows_before, undo);
                    }
                    return Err(e);
                }
            }
            at += n;
            if at >= end {
                return Ok(in_place);
            }
        }
    }

    /// [`UpdateByTable::append`] of one block; rows from key `added_from` on are this cycle's
    /// (a change to their values is not a modification, and `undo` keeps the values before of
    /// the others it changes).
    #[allow(clippy::too_many_arguments)]
    fn append_block(
        &mut self,
        parent: &TableData,
        start: usize,
        count: usize,
        out: &mut TableData,
        modified: &mut Vec<u64>,
        added_from: u64,
        mut undo: Option<&mut Undo>,
    ) -> Result<bool> {
        if self.keys.is_empty() {
            self.ids.clear();
            self.ids.resize(count, 0);
        } else {
            self.key_ids
                .ids(parent, &self.keys, start, count, &mut self.ids);
        }
        if let Some(groups) = &mut self.row_groups {
            groups.extend_from_slice(&self.ids);
        }
        let first_key = out.end_key();
        for lane in &mut self.lanes {
            lane.run(parent, start, count, &self.ids, first_key)?;
        }
        let mut in_place = true;
        let cycle = Cycle {
            first_key: out.first_key,
            added_from,
        };
        for (c, (slot, column)) in self.slots.iter().zip(&mut out.columns).enumerate() {
            match *slot {
                Slot::Parent(p) => {
                    column.extend_shared(&parent.columns[p], start, count);
                }
                Slot::Lane(l) => {
                    let lane = &mut self.lanes[l];
                    if lane.placed == count {
                        // The batch path's: the cycle's rows first, in order (moved to the
                        // column), then older rows emitted again, with their keys.
                        let shift = lane.scratch.move_first(column, count)?;
                        let old: Vec<(u64, usize)> = lane
                            .keys
                            .iter()
                            .enumerate()
                            .filter(|(_, k)| **k >= out.first_key && **k < first_key)
                            .map(|(i, &k)| (k, shift + i))
                            .collect();
                        let lane = &self.lanes[l];
                        let target = (column, c, undo.as_deref_mut());
                        in_place &= set_old(lane, target, cycle, &old, modified);
                        continue;
                    }
                    let lane = &self.lanes[l];
                    let sequential = lane.keys.len() == count
                        && lane
                            .keys
                            .iter()
                            .enumerate()
                            .all(|(i, &k)| k == first_key + i as u64);
                    if sequential {
                        lane.scratch.write(column, None);
                        continue;
                    }
                    let mut positions = vec![usize::MAX; count];
                    let mut old = Vec::new();
                    for (i, &key) in lane.keys.iter().enumerate() {
                        if key >= first_key {
                            positions[(key - first_key) as usize] = i;
                        } else if key >= out.first_key {
                            old.push((key, i));
                        }
                    }
                    if positions.contains(&usize::MAX) {
                        return Err(Error::Invalid(
                            "updateBy: a row was given no value (a bug)".into(),
                        ));
                    }
                    lane.scratch.write(column, Some(&positions));
                    let target = (column, c, undo.as_deref_mut());
                    in_place &= set_old(lane, target, cycle, &old, modified);
                }
            }
        }
        Ok(in_place)
    }

    /// Takes the rows the parent removed from its front (`removed` of them, the oldest) out of
    /// their groups, and rewrites in place the values of the rows left that changed; `false`
    /// when some could not change in place (an array).
    fn remove(
        &mut self,
        removed: usize,
        out: &mut TableData,
        modified: &mut Vec<u64>,
    ) -> Result<bool> {
        let Some(row_groups) = &mut self.row_groups else {
            return Ok(false);
        };
        let mut gone: Vec<u32> = Vec::with_capacity(removed);
        for slice in row_groups.slices_range(0, removed) {
            gone.extend_from_slice(slice);
        }
        row_groups.pop_front(removed);
        out.pop_front(removed);
        let mut in_place = true;
        let cycle = Cycle {
            first_key: out.first_key,
            added_from: u64::MAX,
        };
        for (c, (slot, column)) in self.slots.iter().zip(&mut out.columns).enumerate() {
            if let Slot::Lane(l) = *slot {
                let lane = &mut self.lanes[l];
                lane.remove(&gone, Some((&*column, out.first_key)))?;
                let old: Vec<(u64, usize)> = lane
                    .keys
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| **k >= out.first_key)
                    .map(|(i, &k)| (k, i))
                    .collect();
                in_place &= set_old(lane, (column, c, None), cycle, &old, modified);
            }
        }
        Ok(in_place)
    }

    fn clear(&mut self) {
        self.key_ids.clear();
        if let Some(groups) = &mut self.row_groups {
            groups.clear();
        }
        self.lanes.iter_mut().for_each(Lane::clear);
    }

    /// Recomputes `out` from every row of `parent`.
    fn recompute(&mut self, parent: &TableData, out: &mut TableData) -> Result<Update> {
        self.clear();
        out.rewrite(|fresh| {
            self.append(parent, 0, parent.len(), fresh, &mut Vec::new())?;
            Ok(())
        })
    }
}

/// The keys of an output table in a cycle: its first row's, and the first this cycle added
/// (`u64::MAX` when it adds none).
#[derive(Clone, Copy)]
struct Cycle {
    first_key: u64,
    added_from: u64,
}

/// Writes a lane's values of older rows (`old`: their keys and the values' places in the lane's
/// scratch) into its column (number `c`); the keys of rows of earlier cycles whose value changed
/// go to `modified`, and their values before to `undo` if there is one. `false` when some row
/// could not change in place (an array).
fn set_old(
    lane: &Lane,
    (column, c, mut undo): (&mut Column, usize, Option<&mut Undo>),
    cycle: Cycle,
    old: &[(u64, usize)],
    modified: &mut Vec<u64>,
) -> bool {
    let mut in_place = true;
    for &(key, i) in old {
        let at = (key - cycle.first_key) as usize;
        let earlier = key < cycle.added_from;
        if earlier && let Some(undo) = undo.as_deref_mut() {
            undo.push((c, at, column.get(at).unwrap_or(Value::Null)));
        }
        match lane.scratch.set(column, at, i) {
            Some(true) if earlier => modified.push(key),
            Some(_) => {}
            None => in_place = false,
        }
    }
    in_place
}

/// Puts `out` back as it was before an append of several blocks failed: the rows it added
/// dropped, the values it changed in earlier rows restored (the latest change first).
fn roll_back(out: &mut TableData, rows_before: usize, undo: Undo) {
    for column in &mut out.columns {
        column.truncate(rows_before);
    }
    for (c, at, value) in undo.into_iter().rev() {
        if let Some(column) = out.columns.get_mut(c) {
            let mut one = Column::new(column.column_type());
            one.push(&value);
            column.set_from(at, &one, Some(0));
        }
    }
}

impl Operator for UpdateByTable {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let parent = &inputs[0].data;
        self.append(parent, 0, parent.len(), out, &mut Vec::new())?;
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let parent = inputs[0];
        let (removed, added) = match &parent.update {
            None => return Ok(None),
            Some(Update::Fifo { removed, added }) => (*removed, *added),
            // A blink parent's rows are all new each cycle (a sort of one rewrites them): the
            // windows go on.
            Some(Update::Keyed { .. }) if self.blink => (out.len(), parent.data.len()),
            Some(Update::Keyed { .. }) => return self.recompute(&parent.data, out).map(Some),
        };
        let gone = out.first_key..out.first_key + removed as u64;
        let mut modified = Vec::new();
        if removed > 0 && !self.blink {
            // The windows of the rows that stay change. A parent that removes everything (a
            // dropStream) is read again (its rows are this cycle's), and so is one whose gone
            // groups outnumber its rows (their state is freed); otherwise the rows leave their
            // groups, and the rows left whose windows held them are computed again.
            let many_groups = self.key_ids.len() > 2 * parent.data.len() + 1_024;
            if self.row_groups.is_none()
                || removed >= out.len()
                || many_groups
                || !self.remove(removed, out, &mut modified)?
            {
                return self.recompute(&parent.data, out).map(Some);
            }
        } else {
            out.pop_front(removed);
        }
        let start = parent.data.len() - added;
        let first_added = out.end_key();
        if !self.append(&parent.data, start, added, out, &mut modified)? {
            // A value that cannot change in place (an array): recompute the table.
            return self.recompute(&parent.data, out).map(Some);
        }
        if modified.is_empty() {
            return Ok(Some(Update::Fifo { removed, added }));
        }
        super::packed_sort::sort_dedup_u64(&mut modified);
        Ok(Some(Update::Keyed {
            removed: gone.collect(),
            added: (first_added..out.end_key()).collect(),
            modified,
        }))
    }

    fn state_bytes(&self) -> (usize, usize) {
        let (mut used, mut reserved) = self.key_ids.bytes();
        for lane in &self.lanes {
            let (u, r) = lane.bytes();
            used += u;
            reserved += r;
        }
        (used, reserved + self.ids.capacity() * 4)
    }

    fn keeps_rows_in_parent_order(&self) -> bool {
        // The parent's rows, removed from the front as it removes them: over a blink parent,
        // and over a ring (whose rewrites, when the table is computed again, are keyed).
        self.blink || self.row_groups.is_some()
    }
}

/// Builds the lanes of `ops` over `schema` (keys `keys`): each lane with its columns and output
/// type, and the output schema's slots.
fn plan(
    schema: &Schema,
    ops: &[UpdateBy],
    keys: &[String],
    keeps_rows: bool,
) -> Result<(Vec<Lane>, Vec<Slot>, Schema)> {
    let fields = schema.fields();
    let mut slots: Vec<Slot> = (0..fields.len()).map(Slot::Parent).collect();
    let mut out_fields: Vec<Field> = fields.to_vec();
    let mut lanes = Vec::new();
    let mut made: Vec<String> = Vec::new();
    for op in ops {
        let timestamp = match op.window.timestamp_column() {
            Some(name) => {
                let t = schema.index_of(name)?;
                let ty = fields[t].ty;
                if !matches!(ty, ColumnType::Timestamp | ColumnType::I64) {
                    return Err(Error::Invalid(format!(
                        "updateBy: the timestamp column {name} is {ty}, not an instant or a long \
                         of nanoseconds"
                    )));
                }
                Some(t)
            }
            None => None,
        };
        check_window(op)?;
        let weight = match &op.weight {
            Some(name) => {
                let w = schema.index_of(name)?;
                if !fields[w].ty.is_numeric() || fields[w].ty == ColumnType::Bool {
                    return Err(Error::Invalid(format!(
                        "updateBy: the weight column {name} is {}, not a number",
                        fields[w].ty
                    )));
                }
                Some(w)
            }
            None => None,
        };
        // Only `rollingWAvg` reads a weight (kept in a row's long field: `Entry::weighted`);
        // any other operation ignores one.
        let weight = weight.filter(|_| op.kind == UpdateByKind::WAvg);
        let pairs: Vec<(String, String)> = if op.pairs.is_empty() {
            // Every column the operation applies to, but the keys and the columns it reads.
            fields
                .iter()
                .enumerate()
                .filter(|(i, f)| {
                    !keys.contains(&f.name)
                        && Some(*i) != timestamp
                        && Some(*i) != weight
                        && lane::output_type(op.kind, &op.window, f.ty).is_ok()
                })
                .map(|(_, f)| (f.name.clone(), f.name.clone()))
                .collect()
        } else {
            op.pairs.iter().map(|p| super::name_pair(p)).collect()
        };
        for (out_name, in_name) in pairs {
            let input = schema.index_of(&in_name)?;
            let input_type = fields[input].ty;
            let output_type = lane::output_type(op.kind, &op.window, input_type)
                .map_err(|e| Error::Invalid(format!("updateBy: {e} ({in_name})")))?;
            if keys.contains(&out_name) {
                return Err(Error::Invalid(format!(
                    "updateBy: {out_name} is a key column and cannot be replaced"
                )));
            }
            if made.contains(&out_name) {
                return Err(Error::DuplicateColumn(out_name));
            }
            made.push(out_name.clone());
            let l = lanes.len();
            lanes.push(Lane::new(
                op.clone(),
                input,
                input_type,
                weight,
                timestamp,
                output_type,
                keeps_rows,
            ));
            let field = Field {
                name: out_name.clone(),
                ty: output_type,
            };
            match fields.iter().position(|f| f.name == out_name) {
                Some(at) => {
                    slots[at] = Slot::Lane(l);
                    out_fields[at] = field;
                }
                None => {
                    slots.push(Slot::Lane(l));
                    out_fields.push(field);
                }
            }
        }
    }
    Ok((lanes, slots, Schema::new(out_fields)?))
}

/// Refuses windows Deephaven refuses.
fn check_window(op: &UpdateBy) -> Result<()> {
    let bad = |m: String| Err(Error::Invalid(format!("updateBy: {m}")));
    match &op.window {
        UpdateByWindow::Cumulative if op.kind.is_exponential() => {
            bad(format!("{} needs a decay in ticks or time", op.kind.name()))
        }
        UpdateByWindow::Cumulative => Ok(()),
        UpdateByWindow::Ticks { rev, fwd } | UpdateByWindow::Time { rev, fwd, .. }
            if op.kind.is_exponential()
                || matches!(op.kind, UpdateByKind::Delta | UpdateByKind::Fill) =>
        {
            let _ = (rev, fwd);
            bad(format!("{} takes no rolling window", op.kind.name()))
        }
        UpdateByWindow::Ticks { rev, fwd } => {
            if *rev < 0 && *fwd < 0 || rev.saturating_add(*fwd) < 1 {
                bad(format!(
                    "a tick window of revTicks {rev} and fwdTicks {fwd} holds no row \
                     (revTicks + fwdTicks must be at least 1)"
                ))
            } else {
                Ok(())
            }
        }
        UpdateByWindow::Time { rev, fwd, .. } => {
            if rev.saturating_add(*fwd) < 0 {
                bad(format!(
                    "a time window of revTime {rev} and fwdTime {fwd} ns is empty \
                     (revTime + fwdTime must be at least 0)"
                ))
            } else {
                Ok(())
            }
        }
        UpdateByWindow::DecayTicks { ticks } if !(ticks.is_finite() && *ticks > 0.0) => {
            bad(format!(
                "a decay of {} ticks (it must be positive)",
                crate::float_text::Float(*ticks)
            ))
        }
        UpdateByWindow::DecayTime { time, .. } if *time <= 0 => {
            bad(format!("a decay time of {time} ns (it must be positive)"))
        }
        UpdateByWindow::DecayTicks { .. } | UpdateByWindow::DecayTime { .. }
            if !op.kind.is_exponential() =>
        {
            bad(format!(
                "{} takes a tick or time window, not a decay",
                op.kind.name()
            ))
        }
        _ if op.control.on_null_value == BadData::Poison => {
            bad("POISON applies to NaN values only, not to nulls".into())
        }
        _ => Ok(()),
    }
}

impl Table {
    /// Deephaven's `updateBy(ops, keys)`: the rows of this table with each operation's columns.
    pub fn update_by(&self, ops: &[UpdateBy], keys: &[&str]) -> Result<Table> {
        let schema = self.schema();
        let keys = super::names(keys);
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        super::keys::refuse_array_keys(&schema, &key_refs, "updateBy")?;
        let key_columns = keys
            .iter()
            .map(|k| schema.index_of(k))
            .collect::<Result<Vec<_>>>()?;
        let types: Vec<ColumnType> = key_columns.iter().map(|&k| schema.fields()[k].ty).collect();
        if ops.is_empty() {
            return Err(Error::Invalid("updateBy: no operation given".into()));
        }
        let blink = self.is_blink();
        // Over a ring (a parent that removes part of its rows from its front), groups keep
        // their rows to recompute the rows whose windows lose some.
        let keeps_rows = self.node.borrow().trims_front && !blink;
        let (lanes, slots, out_schema) = plan(&schema, ops, &keys, keeps_rows)?;
        self.engine.derive(
            vec![Rc::clone(&self.node)],
            out_schema,
            blink,
            Box::new(UpdateByTable {
                keys: key_columns,
                key_ids: KeyIds::new(&types, true),
                lanes,
                slots,
                blink,
                ids: Vec::new(),
                row_groups: keeps_rows.then(Chunked::new),
            }),
        )
    }
}
