//! [`Lane`]: one output column of an `updateBy`: one operation over one input column, with a
//! [`GroupWindow`] per group. A cycle's rows go through it in the parent's order; what comes out
//! is each emitted value (in a scratch column) with its row's key, final or provisional, so the
//! operator can append the new rows' values and rewrite older rows' in place.
//!
//! Invariant: `groups[g]` holds group `g`'s state; every row given to [`Lane::run`] is emitted
//! exactly once in that call (final, provisional, or null for a null timestamp of a time window).

use std::ops::Range;

use super::any::AnyFold;
use super::count::CountFold;
use super::decay;
use super::delta::DeltaFold;
use super::ema::EmFold;
use super::extremum::ExtremumFold;
use super::fill::FillFold;
use super::fold::{Entry, Place, Sink, finite_input};
use super::group::GroupFold;
use super::product::{CumProductFold, RollingProductFold};
use super::spec::{UpdateBy, UpdateByKind, UpdateByWindow};
use super::std::StdFold;
use super::sum::{ExactSum, SumFold};
use super::wavg::WAvgFold;
use super::window::{Emitter, GroupWindow, Window};
use crate::column::{Chunked, Column, ColumnType, NULL_F64, NULL_I64};
use crate::ops::keys::{read_f64, read_i64};
use crate::table::TableData;
use crate::{Error, Result};

pub(crate) struct Lane {
    pub spec: UpdateBy,
    pub window: Window,
    pub input: usize,
    pub input_type: ColumnType,
    pub weight: Option<usize>,
    pub timestamp: Option<usize>,
    groups: Groups,
    /// This cycle's emitted values and their keys.
    pub scratch: Sink,
    pub keys: Vec<u64>,
    /// How many of `scratch`'s first values are the cycle's new rows in order, with no key in
    /// `keys` (the batch path's); `keys[i]` is then the key of value `placed + i`.
    pub placed: usize,
    touched: Vec<u32>,
    is_touched: Vec<bool>,
    xs: Vec<f64>,
    is: Vec<i64>,
    ws: Vec<f64>,
    ts: Vec<i64>,
    /// A time window over a parent that removes rows from its front: whether each of its rows
    /// (oldest first) has a null timestamp, so in no group.
    null_times: Option<Chunked<u8>>,
}

/// Every group's window for one fold type, and the fold a new group starts with.
struct FoldGroups<F> {
    proto: F,
    groups: Vec<GroupWindow<F>>,
    /// Whether groups keep their rows, for a parent that removes rows from its front.
    keeps_rows: bool,
    /// The batch path's rows held by each group before a chunk's (kept from cycle to cycle).
    held: Vec<usize>,
}

/// The groups of a lane, by fold type: each fold type's row loop is compiled for it (no dynamic
/// call per row). `Sum`/`Avg` has its own; the others share one ([`AnyFold`]: a
/// smaller bundle).
enum Groups {
    Sum(FoldGroups<SumFold>),
    Any(FoldGroups<AnyFold>),
}

/// Runs `$body` with `$g` the lane's `FoldGroups` of whichever fold type.
macro_rules! each_groups {
    ($groups:expr, $g:ident => $body:expr) => {
        match $groups {
            Groups::Sum($g) => $body,
            Groups::Any($g) => $body,
        }
    };
}

/// One cycle's rows as the folds read them.
struct Rows<'a> {
    input: &'a Column,
    start: usize,
    /// The lane's copies of the values (as doubles, and longs), weights and timestamps: empty
    /// when the rows are read in place (then `parts` alone holds them).
    xs: &'a [f64],
    is: &'a [i64],
    ws: &'a [f64],
    ts: &'a [i64],
    ids: &'a [u32],
    first_key: u64,
    keeps_values: bool,
    /// The timestamp column's name, for a time window's error.
    time_column: Option<&'a str>,
    /// The rows' values and timestamps (none for a window without) as stretches of slices, for
    /// the batch path: `xs` and `ts` as one stretch, or, when they were not copied (a rolling
    /// window over a double column with no weight: [`Lane::in_place`]), the parent's chunks.
    parts: &'a [decay::Part<'a>],
}

/// Where a lane's emitted values go, and which groups have rows without a final value.
struct Emitted<'a> {
    scratch: &'a mut Sink,
    keys: &'a mut Vec<u64>,
    touched: &'a mut Vec<u32>,
    is_touched: &'a mut Vec<bool>,
}

impl<F: Place> FoldGroups<F> {
    fn new(proto: F) -> Self {
        Self {
            proto,
            groups: Vec::new(),
            keeps_rows: false,
            held: Vec::new(),
        }
    }

    /// Takes the first `count` rows of each group `g` of `gone` out of its window, emitting the
    /// values of the rows left that change (and provisional values of rows without a final one).
    fn remove(
        &mut self,
        window: Window,
        gone: &[(u32, u64)],
        out: Emitted<'_>,
        old: Option<(&Column, u64)>,
    ) -> Result<()> {
        for &(g, count) in gone {
            let Some(group) = self.groups.get_mut(g as usize) else {
                continue;
            };
            group.remove_front(count, window, &self.proto, out.scratch, out.keys, old)?;
            if group.is_pending() {
                group.provisional(window, out.scratch, out.keys)?;
            }
        }
        Ok(())
    }

    fn run(&mut self, window: Window, rows: &Rows<'_>, out: Emitted<'_>) -> Result<()> {
        let needed = groups_needed(rows.ids);
        while self.groups.len() < needed {
            self.groups.push(GroupWindow::new(
                self.proto.clone(),
                rows.keeps_values,
                self.keeps_rows,
            ));
        }
        out.is_touched.resize(self.groups.len(), false);
        for (r, &g) in rows.ids.iter().enumerate() {
            let e = Entry {
                x: rows.xs[r],
                i: match rows.ws.get(r) {
                    Some(&w) => Entry::weighted(w),
                    None => rows.is.get(r).copied().unwrap_or(NULL_I64),
                },
                ts: rows.ts.get(r).copied().unwrap_or(NULL_I64),
                key: rows.first_key + r as u64,
            };
            if let Some(name) = rows.time_column {
                if e.ts == NULL_I64 {
                    // In no window, and in no other row's.
                    out.scratch.push_null();
                    out.keys.push(e.key);
                    continue;
                }
                if e.ts < self.groups[g as usize].last_ts() {
                    return Err(decreasing(name));
                }
            }
            let value = if rows.keeps_values {
                rows.input.get(rows.start + r)
            } else {
                None
            };
            let group = &mut self.groups[g as usize];
            group.add(window, e, value, out.scratch, out.keys)?;
            if group.is_pending() && !out.is_touched[g as usize] {
                out.is_touched[g as usize] = true;
                out.touched.push(g);
            }
        }
        for g in out.touched.drain(..) {
            out.is_touched[g as usize] = false;
            let group = &self.groups[g as usize];
            if group.is_pending() {
                group.provisional(window, out.scratch, out.keys)?;
            }
        }
        Ok(())
    }

    fn bytes(&self) -> usize {
        let held = self.held.capacity() * std::mem::size_of::<usize>();
        self.groups.iter().map(GroupWindow::bytes).sum::<usize>() + held
    }
}

/// Cycles of at least this many rows take the batch path (when the lane's fold has one).
pub(super) const BATCH_ROWS: usize = 256;

#[cfg(test)]
thread_local! {
    /// Tests: every cycle of this thread takes the row path with the driver's generic slide
    /// (both paths fed the same cycles).
    pub(crate) static ROW_PATH_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Tests: the cycles of this thread whose rows a lane read in place ([`Lane::in_place`]).
    pub(crate) static IN_PLACE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether the batch path, and the folds' own loops ([`Place::slide_all`]), are off: the
/// driver's generic row-by-row slide alone (only ever in tests, as the reference path).
pub(super) fn row_path_only() -> bool {
    #[cfg(test)]
    return ROW_PATH_ONLY.with(std::cell::Cell::get);
    #[cfg(not(test))]
    false
}

/// Rows of a cycle the batch path adds to their groups' windows at once (their entries, 32
/// bytes each, stay in cache).
pub(super) const BATCH_CHUNK: usize = 8192;

impl<F: Place> FoldGroups<F> {
    /// [`FoldGroups::run`] for a cycle of many rows: a chunk of rows at a time, each row
    /// appended to its group's rows in arrival order, then each group's window moved over its
    /// new rows at once ([`GroupWindow::take_pushed`]: the same fold operations in the same
    /// order, so the same values bit for bit), the new rows' values written by row position.
    /// Leaves in `scratch`/`keys` the cycle's rows first, in order (`placed`; no keys), then
    /// the older rows whose values were emitted again (with their keys). `false` (nothing done) for a sink that cannot be
    /// written by position, or when the cycle's greatest group id is over twice its rows.
    fn run_batch(&mut self, window: Window, rows: &Rows<'_>, out: Emitted<'_>) -> Result<bool> {
        let count = rows.ids.len();
        if matches!(out.scratch, Sink::Column(_)) {
            return Ok(false);
        }
        // Rows of a null timestamp of a time window are in no group: their value stays null.
        let in_group = |r: usize| rows.time_column.is_none() || rows.ts[r] != NULL_I64;
        // The groups up to the cycle's greatest id are walked per chunk, so a cycle of a few
        // groups among many takes the row path (its cost is the rows it adds, not the groups).
        let needed = groups_needed(rows.ids);
        if needed > 2 * count {
            return Ok(false);
        }
        while self.groups.len() < needed {
            self.groups.push(GroupWindow::new(
                self.proto.clone(),
                rows.keeps_values,
                self.keeps_rows,
            ));
        }
        // The time-decayed exponential folds of groups that stream (see below) take their
        // decays a block at a time (`decay.rs`), their values appended to the empty sink.
        if window == Window::Cumulative
            && !self.keeps_rows
            && decay::stream(
                &mut self.groups[..needed],
                rows.ids,
                &[(rows.xs, rows.ts)],
                rows.first_key,
                out.scratch,
            )?
        {
            return Ok(true);
        }
        // Which columns the rows have, looked at once: a row's entry reads only those (a tick
        // window over doubles has none but the input, a time window the timestamps too).
        let (has_i, has_w, has_ts) = (
            !rows.is.is_empty(),
            !rows.ws.is_empty(),
            rows.parts.iter().any(|(_, ts)| !ts.is_empty()),
        );
        let entry = |r: usize| Entry {
            x: rows.xs[r],
            i: if has_w {
                Entry::weighted(rows.ws[r])
            } else if has_i {
                rows.is[r]
            } else {
                NULL_I64
            },
            ts: if has_ts { rows.ts[r] } else { NULL_I64 },
            key: rows.first_key + r as u64,
        };
        // Room for the older rows' values too (rows without a final value yet, each emitted
        // once more at most), so appending them does not move the cycle's values. (Counted over
        // every group up to the greatest id, those without rows this cycle too, which emit
        // nothing: a few rows too many, not worth a pass of their own.)
        let older: u64 = self.groups[..needed].iter().map(GroupWindow::pending).sum();
        let room = count.saturating_add(usize::try_from(older).unwrap_or(usize::MAX));
        match out.scratch {
            Sink::F64(v) => {
                v.reserve_exact(room.saturating_sub(v.len()));
                v.resize(count, NULL_F64);
            }
            Sink::I64(v) => {
                v.reserve_exact(room.saturating_sub(v.len()));
                v.resize(count, NULL_I64);
            }
            Sink::Column(_) => {}
        }
        // The cycle's rows written by position, older rows' values appended with their keys.
        let mut emit = Emitter {
            out: out.scratch,
            keys: out.keys,
            placed_from: rows.first_key,
        };
        if window == Window::Cumulative && !self.keeps_rows {
            // Every group streams (see `GroupWindow::push_final`: no ring, no values kept): rows
            // in arrival order, each group's fold taking its rows in order as before, and
            // neighbouring rows of different groups overlapping (no sort, nothing stored).
            for (r, &g) in rows.ids.iter().enumerate() {
                if let Some(group) = self.groups.get_mut(g as usize) {
                    group.push_final(entry(r), &mut emit)?;
                }
            }
            return Ok(true);
        }
        // A chunk of rows at a time, in arrival order, each to its group's rows (a stream of
        // writes a group), then each group's window moves over its new rows. A chunk walks the
        // groups up to `needed` (three times at most), so it is at least that many rows long: a
        // cycle of many groups costs its rows, not its rows times its groups.
        let mut held = std::mem::take(&mut self.held);
        let chunk = BATCH_CHUNK.max(needed);
        for start in (0..count).step_by(chunk) {
            let end = count.min(start + chunk);
            held.clear();
            held.extend(self.groups[..needed].iter().map(GroupWindow::held));
            let groups = &mut self.groups[..needed];
            // Whether every input of the chunk is a finite number (looked at here, not per
            // group, while the chunk is read).
            let finite = if !has_i && !has_w {
                let mut slots: Vec<_> = groups.iter_mut().map(GroupWindow::pushing).collect();
                push_doubles(&mut slots, rows, start..end)
            } else {
                // (Rows read in place are doubles with no weight: copies here.)
                debug_assert_eq!(rows.xs.len(), count);
                for (r, &g) in (start..end).zip(&rows.ids[start..end]) {
                    if let (true, Some(group)) = (in_group(r), groups.get_mut(g as usize)) {
                        group.push_row(entry(r));
                    }
                }
                let xs = rows.xs.get(start..end).unwrap_or_default();
                xs.iter().fold(true, |all, &x| all & finite_input(x))
            };
            if let Some(name) = rows.time_column {
                // Every group's timestamps are checked before its chunk's windows move.
                let groups = || self.groups[..needed].iter().zip(&held);
                if !groups().all(|(group, &first)| group.pushed_in_order(first)) {
                    for (group, &first) in self.groups[..needed].iter_mut().zip(&held) {
                        group.drop_pushed(first);
                    }
                    return Err(decreasing(name));
                }
            }
            let groups = self.groups[..needed].iter_mut().zip(&held);
            for (group, &first) in groups.filter(|(g, first)| g.held() > **first) {
                group.take_pushed(window, first, finite, &mut emit)?;
            }
        }
        self.held = held;
        for group in &self.groups[..needed] {
            if group.is_pending() {
                group.provisional_with(window, &mut emit)?;
            }
        }
        Ok(true)
    }
}

impl FoldGroups<AnyFold> {
    /// [`FoldGroups::run_batch`]'s batch path of a cumulative window's time-decayed exponential
    /// folds over groups that stream (`decay.rs`), the values and timestamps in `parts`;
    /// `false` (nothing done) for other folds, groups that keep their rows, or a cycle whose
    /// greatest group id is over twice its rows.
    fn stream_decays(
        &mut self,
        ids: &[u32],
        parts: &[decay::Part<'_>],
        first_key: u64,
        scratch: &mut Sink,
    ) -> Result<bool> {
        let needed = groups_needed(ids);
        if self.keeps_rows || needed > 2 * ids.len() {
            return Ok(false);
        }
        while self.groups.len() < needed {
            self.groups
                .push(GroupWindow::new(self.proto.clone(), false, false));
        }
        match self.groups.get_mut(..needed) {
            Some(groups) => decay::stream(groups, ids, parts, first_key, scratch),
            None => Ok(false),
        }
    }
}

/// The error of a time window whose timestamps in `name` go back within a group (the row
/// path's and the batch path's).
fn decreasing(name: &str) -> Error {
    Error::Invalid(format!(
        "updateBy: the timestamps of {name} decrease within a group (a time window needs them in \
         order within each group)"
    ))
}

/// The stretches of `parts` (rows from 0 on, one after another) within `rows`.
fn within<'a>(
    parts: &[decay::Part<'a>],
    rows: Range<usize>,
) -> impl Iterator<Item = decay::Part<'a>> {
    let mut from = 0;
    parts.iter().filter_map(move |&(xs, ts)| {
        let (first, end) = (from, from + xs.len());
        from = end;
        let (lo, hi) = (
            rows.start.max(first) - first,
            rows.end.min(end).saturating_sub(first),
        );
        let xs = xs.get(lo..hi).filter(|xs| !xs.is_empty())?;
        Some((xs, ts.get(lo..hi).unwrap_or_default()))
    })
}

/// Appends rows `range` of `rows`, doubles with no long input nor weight, to their groups'
/// rows (`slots`, by group id), in order, each entry from its slices (no test of its kind nor a
/// bound a row; a time window's row of a null timestamp is in no group, its value left null);
/// whether every input pushed is a finite number. Each row is read once, here (a 1M-row cycle's
/// columns are 8 MB each: another pass over them costs its reading from memory again). Not
/// generic: one loop for every fold.
fn push_doubles(slots: &mut [&mut Vec<Entry>], rows: &Rows<'_>, range: Range<usize>) -> bool {
    let stamped = rows.time_column.is_some();
    let (mut r, mut finite) = (range.start, true);
    for (xs, ts) in within(rows.parts, range) {
        let (ids, first_key) = (&rows.ids[r..r + xs.len()], rows.first_key + r as u64);
        r += xs.len();
        finite &= match ts {
            [] => push_stretch(
                slots,
                (ids, xs, first_key),
                std::iter::repeat(NULL_I64),
                false,
            ),
            ts => push_stretch(slots, (ids, xs, first_key), ts.iter().copied(), stamped),
        };
    }
    finite
}

/// [`push_doubles`]' loop over one stretch (rows of `ids`, values `xs`, keys from the third),
/// the rows of a null timestamp skipped when `stamped`.
#[inline(always)]
fn push_stretch(
    slots: &mut [&mut Vec<Entry>],
    (ids, xs, first_key): (&[u32], &[f64], u64),
    ts: impl Iterator<Item = i64>,
    stamped: bool,
) -> bool {
    let mut finite = true;
    for (((&g, &x), ts), key) in ids.iter().zip(xs).zip(ts).zip(first_key..) {
        if stamped && ts == NULL_I64 {
            continue;
        }
        finite &= finite_input(x);
        if let Some(rows) = slots.get_mut(g as usize) {
            let i = NULL_I64;
            rows.push(Entry { x, i, ts, key });
        }
    }
    finite
}

/// How many groups ids `ids` need (the greatest plus one).
fn groups_needed(ids: &[u32]) -> usize {
    // The greatest id as a `u32`, then widened: a maximum of 64-bit lanes is several
    // instructions a lane where the machine has no 64-bit compare.
    ids.iter().copied().max().map_or(0, |g| g as usize + 1)
}

/// The stretches of two columns' slices (of one length in all) over which both are one slice
/// each, in order.
fn aligned<'a>(
    mut xs: impl Iterator<Item = &'a [f64]>,
    mut ts: impl Iterator<Item = &'a [i64]>,
) -> Vec<decay::Part<'a>> {
    let mut parts = Vec::new();
    let (mut x, mut t): (&[f64], &[i64]) = (&[], &[]);
    loop {
        if x.is_empty() {
            match xs.next() {
                Some(next) => x = next,
                None => return parts,
            }
        }
        if t.is_empty() {
            match ts.next() {
                Some(next) => t = next,
                None => return parts,
            }
        }
        let n = x.len().min(t.len());
        let ((x_now, x_rest), (t_now, t_rest)) = (x.split_at(n), t.split_at(n));
        if n > 0 {
            parts.push((x_now, t_now));
        }
        (x, t) = (x_rest, t_rest);
    }
}

/// The output type of `kind` over `input` (over `window`), or why it does not apply.
pub(crate) fn output_type(
    kind: UpdateByKind,
    window: &UpdateByWindow,
    input: ColumnType,
) -> std::result::Result<ColumnType, String> {
    use ColumnType as T;
    let numeric = matches!(input, T::I32 | T::I64 | T::F64);
    let ordered = numeric || matches!(input, T::Timestamp | T::Date | T::Time);
    let float = input == T::F64;
    let ty = match kind {
        UpdateByKind::Sum if numeric => {
            if float {
                T::F64
            } else {
                T::I64
            }
        }
        UpdateByKind::Product if numeric => {
            if float || *window != UpdateByWindow::Cumulative {
                T::F64
            } else {
                T::I64
            }
        }
        UpdateByKind::Min | UpdateByKind::Max if ordered => input,
        UpdateByKind::Delta if numeric => input,
        UpdateByKind::Count if ordered || input == T::Bool => T::I64,
        UpdateByKind::Avg | UpdateByKind::Std | UpdateByKind::WAvg if numeric => T::F64,
        k if k.is_exponential() && numeric => T::F64,
        UpdateByKind::Fill if input.element().is_none() => input,
        UpdateByKind::Group => input
            .array_of()
            .ok_or_else(|| format!("{input} columns cannot be grouped into arrays"))?,
        _ => {
            return Err(format!(
                "{} does not apply to a {input} column",
                kind.name()
            ));
        }
    };
    Ok(ty)
}

impl Lane {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        spec: UpdateBy,
        input: usize,
        input_type: ColumnType,
        weight: Option<usize>,
        timestamp: Option<usize>,
        output_type: ColumnType,
        keeps_rows: bool,
    ) -> Self {
        let window = match spec.window {
            UpdateByWindow::Ticks { rev, fwd } => Window::Ticks { rev, fwd },
            UpdateByWindow::Time { rev, fwd, .. } => Window::Time { rev, fwd },
            _ => Window::Cumulative,
        };
        let mut groups = Self::groups(&spec, window, input_type);
        each_groups!(&mut groups, g => g.keeps_rows = keeps_rows);
        Self {
            groups,
            spec,
            window,
            input,
            input_type,
            weight,
            timestamp,
            scratch: Sink::new(output_type),
            keys: Vec::new(),
            placed: 0,
            touched: Vec::new(),
            is_touched: Vec::new(),
            xs: Vec::new(),
            is: Vec::new(),
            ws: Vec::new(),
            ts: Vec::new(),
            null_times: (keeps_rows && matches!(window, Window::Time { .. })).then(Chunked::new),
        }
    }

    fn groups(spec: &UpdateBy, window: Window, input_type: ColumnType) -> Groups {
        let float = input_type == ColumnType::F64;
        match spec.kind {
            UpdateByKind::Sum | UpdateByKind::Avg => Groups::Sum(FoldGroups::new(SumFold {
                float,
                average: spec.kind == UpdateByKind::Avg,
                sum: ExactSum::default(),
            })),
            UpdateByKind::Product if window == Window::Cumulative => {
                Self::any(AnyFold::CumProduct(CumProductFold::new(float)))
            }
            UpdateByKind::Product => {
                Self::any(AnyFold::RollingProduct(RollingProductFold::default()))
            }
            UpdateByKind::Min => Self::any(AnyFold::Extremum(ExtremumFold::new(float, false))),
            UpdateByKind::Max => Self::any(AnyFold::Extremum(ExtremumFold::new(float, true))),
            UpdateByKind::Count => Self::any(AnyFold::Count(CountFold::default())),
            UpdateByKind::Std => Self::any(AnyFold::Std(StdFold::default())),
            UpdateByKind::WAvg => Self::any(AnyFold::WAvg(WAvgFold::default())),
            UpdateByKind::Group => Self::any(AnyFold::Group(GroupFold::default())),
            UpdateByKind::Delta => Self::any(AnyFold::Delta(DeltaFold::new(float, spec.delta))),
            UpdateByKind::Fill => Self::any(AnyFold::Fill(FillFold::new())),
            kind => {
                let (ticks, time) = match spec.window {
                    UpdateByWindow::DecayTicks { ticks } => (Some(ticks), 0),
                    UpdateByWindow::DecayTime { time, .. } => (None, time),
                    _ => (Some(1.0), 0),
                };
                Self::any(AnyFold::Em(EmFold::new(kind, spec.control, ticks, time)))
            }
        }
    }

    fn any(fold: AnyFold) -> Groups {
        Groups::Any(FoldGroups::new(fold))
    }

    fn keeps_values(&self) -> bool {
        matches!(self.spec.kind, UpdateByKind::Fill | UpdateByKind::Group)
    }

    /// Forgets every group.
    pub(crate) fn clear(&mut self) {
        each_groups!(&mut self.groups, g => g.groups = Vec::new());
        self.is_touched = Vec::new();
        if let Some(nulls) = &mut self.null_times {
            nulls.clear();
        }
    }

    /// Runs rows `start .. start + count` of `parent` (of group ids `ids`, output keys from
    /// `first_key`) through their groups; leaves in `scratch`/`keys` every value emitted.
    pub(crate) fn run(
        &mut self,
        parent: &TableData,
        start: usize,
        count: usize,
        ids: &[u32],
        first_key: u64,
    ) -> Result<()> {
        self.scratch.clear();
        self.keys.clear();
        self.placed = 0;
        if self.decays_in_place(parent, start, count, ids, first_key)? {
            self.placed = count;
            return Ok(());
        }
        let input = &parent.columns[self.input];
        let time_column = match (self.window, self.timestamp) {
            (Window::Time { .. }, Some(t)) => Some(parent.schema.fields()[t].name.as_str()),
            _ => None,
        };
        let ids = &ids[..count.min(ids.len())];
        // The values and timestamps read in place, or copied (see `Rows::parts`).
        let in_place = self.in_place(parent, start, ids.len());
        if in_place.is_none() {
            self.read_inputs(parent, start, count);
        }
        #[cfg(test)]
        IN_PLACE.with(|n| n.set(n.get() + usize::from(in_place.is_some())));
        let window = self.window;
        if ids.len() >= BATCH_ROWS && !self.keeps_values() && !row_path_only() {
            let copied = [(&self.xs[..], &self.ts[..])];
            let (parts, copies) = match &in_place {
                Some(parts) => (&parts[..], false),
                None => (&copied[..], true),
            };
            let rows = Rows {
                input,
                start,
                xs: if copies { &self.xs } else { &[] },
                is: if copies { &self.is } else { &[] },
                ws: if copies { &self.ws } else { &[] },
                ts: if copies { &self.ts } else { &[] },
                ids,
                first_key,
                keeps_values: false,
                time_column,
                parts,
            };
            let out = Emitted {
                scratch: &mut self.scratch,
                keys: &mut self.keys,
                touched: &mut self.touched,
                is_touched: &mut self.is_touched,
            };
            if each_groups!(&mut self.groups, g => g.run_batch(window, &rows, out))? {
                self.placed = count;
                return Ok(());
            }
        }
        if in_place.is_some() {
            // (The batch path declined the cycle: the row path reads copies.)
            self.read_inputs(parent, start, count);
        }
        let rows = Rows {
            input,
            start,
            xs: &self.xs,
            is: &self.is,
            ws: &self.ws,
            ts: &self.ts,
            ids,
            first_key,
            keeps_values: self.keeps_values(),
            time_column,
            // (Read by the batch path alone.)
            parts: &[],
        };
        let out = Emitted {
            scratch: &mut self.scratch,
            keys: &mut self.keys,
            touched: &mut self.touched,
            is_touched: &mut self.is_touched,
        };
        each_groups!(&mut self.groups, g => g.run(window, &rows, out))
    }

    /// Copies the input values (as doubles and, for a long input, as longs), weights and
    /// timestamps of rows `start .. start + count` of `parent` into the lane's scratch.
    fn read_inputs(&mut self, parent: &TableData, start: usize, count: usize) {
        let input = &parent.columns[self.input];
        if self.input_type == ColumnType::F64 {
            read_f64(input, start, count, &mut self.xs);
            self.is.clear();
        } else {
            read_i64(input, start, count, &mut self.is);
            self.xs.clear();
            if matches!(
                input,
                Column::String(_) | Column::Binary(_) | Column::Array(_)
            ) {
                // Fill and group read values; only null-ness matters here.
                self.xs
                    .extend((0..count).map(|r| match input.get(start + r) {
                        Some(v) if !v.is_null() => 0.0,
                        _ => NULL_F64,
                    }));
                self.is.resize(count, NULL_I64);
            } else {
                self.xs.extend(
                    self.is
                        .iter()
                        .map(|&v| if v == NULL_I64 { NULL_F64 } else { v as f64 }),
                );
            }
        }
        if let Some(w) = self.weight {
            let column = &parent.columns[w];
            if let Column::F64(_) = column {
                read_f64(column, start, count, &mut self.ws);
            } else {
                let mut ints = Vec::new();
                read_i64(column, start, count, &mut ints);
                self.ws.clear();
                self.ws.extend(
                    ints.iter()
                        .map(|&v| if v == NULL_I64 { NULL_F64 } else { v as f64 }),
                );
            }
        }
        if let Some(t) = self.timestamp {
            read_i64(&parent.columns[t], start, count, &mut self.ts);
        }
        if let Some(nulls) = &mut self.null_times {
            let flags: Vec<u8> = self.ts.iter().map(|&t| u8::from(t == NULL_I64)).collect();
            nulls.extend_from_slice(&flags);
        }
    }

    /// The values and timestamps of rows `start .. start + count` of `parent` as stretches of
    /// the parent's slices (see [`Rows::parts`]), for the batch path of a rolling window over a
    /// double column with no weight (each row read once, as its chunk is pushed: not copied
    /// first); `None` for any other lane or cycle (its rows are copied).
    fn in_place<'a>(
        &self,
        parent: &'a TableData,
        start: usize,
        count: usize,
    ) -> Option<Vec<decay::Part<'a>>> {
        let rolling = matches!(self.window, Window::Ticks { .. } | Window::Time { .. });
        if count < BATCH_ROWS
            || !rolling
            || self.weight.is_some()
            || self.null_times.is_some()
            || self.keeps_values()
            || row_path_only()
        {
            return None;
        }
        let Some(Column::F64(xs)) = parent.columns.get(self.input) else {
            return None;
        };
        let xs = xs.slices_range(start, count);
        match self.timestamp.map(|t| parent.columns.get(t)) {
            None => Some(xs.map(|x| (x, &[][..])).collect()),
            Some(Some(Column::I64(ts) | Column::Timestamp(ts) | Column::Time(ts))) => {
                Some(aligned(xs, ts.slices_range(start, count)))
            }
            Some(_) => None,
        }
    }

    /// [`Lane::run`]'s batch path for a time-decayed exponential operation over a double
    /// column (`decay.rs`), the values and timestamps read in place from the parent's chunks
    /// (not copied first: a cycle's rows are read once); `false` (nothing done) for any other
    /// lane or cycle.
    fn decays_in_place(
        &mut self,
        parent: &TableData,
        start: usize,
        count: usize,
        ids: &[u32],
        first_key: u64,
    ) -> Result<bool> {
        let ids = &ids[..count.min(ids.len())];
        // (The operator gives every row its id: `placed = count` below claims them all.)
        debug_assert_eq!(ids.len(), count);
        if ids.len() < BATCH_ROWS
            || self.window != Window::Cumulative
            || self.weight.is_some()
            || self.null_times.is_some()
            || self.keeps_values()
            || row_path_only()
        {
            return Ok(false);
        }
        let columns = (
            parent.columns.get(self.input),
            self.timestamp.and_then(|t| parent.columns.get(t)),
        );
        let (
            Some(Column::F64(xs)),
            Some(Column::I64(ts) | Column::Timestamp(ts) | Column::Time(ts)),
        ) = columns
        else {
            return Ok(false);
        };
        let parts = aligned(
            xs.slices_range(start, ids.len()),
            ts.slices_range(start, ids.len()),
        );
        let Groups::Any(groups) = &mut self.groups else {
            return Ok(false);
        };
        groups.stream_decays(ids, &parts, first_key, &mut self.scratch)
    }

    /// The parent's oldest rows left it, of groups `gone` (one per row, oldest first): leaves in
    /// `scratch`/`keys` the new values of the rows left whose windows changed. Rows of a null
    /// timestamp were in no group of a time window, and leave none. `old` is the output column
    /// as it was and its first row's key (see [`GroupWindow::remove_front`]).
    pub(crate) fn remove(&mut self, gone: &[u32], old: Option<(&Column, u64)>) -> Result<()> {
        self.scratch.clear();
        self.keys.clear();
        self.placed = 0;
        // The leaving rows in groups: all, or those of a non-null timestamp.
        let mut in_group = vec![true; gone.len()];
        if let Some(nulls) = &mut self.null_times {
            for (flag, &null) in in_group.iter_mut().zip(nulls.slices().flatten()) {
                *flag = null == 0;
            }
            nulls.pop_front(gone.len());
        }
        // Rows per group, groups in order of their first leaving row.
        let mut counts: Vec<(u32, u64)> = Vec::new();
        let mut slot: Vec<u32> = Vec::new();
        for (&g, _) in gone.iter().zip(&in_group).filter(|(_, keep)| **keep) {
            let g = g as usize;
            if slot.len() <= g {
                slot.resize(g + 1, u32::MAX);
            }
            if slot[g] == u32::MAX {
                slot[g] = counts.len() as u32;
                counts.push((g as u32, 0));
            }
            counts[slot[g] as usize].1 += 1;
        }
        let out = Emitted {
            scratch: &mut self.scratch,
            keys: &mut self.keys,
            touched: &mut self.touched,
            is_touched: &mut self.is_touched,
        };
        let window = self.window;
        each_groups!(&mut self.groups, g => g.remove(window, &counts, out, old))
    }

    /// Bytes (used, reserved) of the groups' state.
    pub(crate) fn bytes(&self) -> (usize, usize) {
        let held = each_groups!(&self.groups, g => g.bytes());
        (held, held)
    }
}

#[cfg(test)]
mod tests {
    use super::aligned;

    #[test]
    fn aligned_stretches_split_where_either_column_does() {
        let xs: Vec<f64> = (0..8).map(f64::from).collect();
        let ts: Vec<i64> = (0..8).collect();
        let x_slices = [&xs[..3], &xs[3..3], &xs[3..]];
        let t_slices = [&ts[..4], &ts[4..]];
        let parts = aligned(x_slices.into_iter(), t_slices.into_iter());
        let lengths: Vec<usize> = parts.iter().map(|(x, _)| x.len()).collect();
        assert_eq!(lengths, [3, 1, 4]);
        for (x, t) in parts {
            assert_eq!(x.len(), t.len());
            for (&x, &t) in x.iter().zip(t) {
                assert_eq!(x, t as f64);
            }
        }
    }
}
