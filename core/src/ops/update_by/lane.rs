//! [`Lane`]: one output column of an `updateBy`: one operation over one input column, with a
//! [`GroupWindow`] per group. A cycle's rows go through it in the parent's order; what comes out
//! is each emitted value (in a scratch column) with its row's key, final or provisional, so the
//! operator can append the new rows' values and rewrite older rows' in place.
//!
//! Invariant: `groups[g]` holds group `g`'s state; every row given to [`Lane::run`] is emitted
//! exactly once in that call (final, provisional, or null for a null timestamp of a time window).

use super::count::CountFold;
use super::delta::DeltaFold;
use super::ema::EmFold;
use super::extremum::ExtremumFold;
use super::fill::FillFold;
use super::fold::{Entry, Fold};
use super::group::GroupFold;
use super::product::{CumProductFold, RollingProductFold};
use super::spec::{UpdateBy, UpdateByKind, UpdateByWindow};
use super::std::StdFold;
use super::sum::{ExactSum, SumFold};
use super::wavg::WAvgFold;
use super::window::{GroupWindow, Window};
use crate::column::{Column, ColumnType, NULL_F64, NULL_I64};
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
    pub groups: Vec<GroupWindow>,
    /// This cycle's emitted values and their keys.
    pub scratch: Column,
    pub keys: Vec<u64>,
    touched: Vec<u32>,
    is_touched: Vec<bool>,
    xs: Vec<f64>,
    is: Vec<i64>,
    ws: Vec<f64>,
    ts: Vec<i64>,
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
    ) -> Self {
        let window = match spec.window {
            UpdateByWindow::Ticks { rev, fwd } => Window::Ticks { rev, fwd },
            UpdateByWindow::Time { rev, fwd, .. } => Window::Time { rev, fwd },
            _ => Window::Cumulative,
        };
        Self {
            spec,
            window,
            input,
            input_type,
            weight,
            timestamp,
            scratch: Column::new(output_type),
            groups: Vec::new(),
            keys: Vec::new(),
            touched: Vec::new(),
            is_touched: Vec::new(),
            xs: Vec::new(),
            is: Vec::new(),
            ws: Vec::new(),
            ts: Vec::new(),
        }
    }

    fn fold(&self) -> Box<dyn Fold> {
        let float = self.input_type == ColumnType::F64;
        let cumulative = self.window == Window::Cumulative;
        match self.spec.kind {
            UpdateByKind::Sum | UpdateByKind::Avg => Box::new(SumFold {
                float,
                average: self.spec.kind == UpdateByKind::Avg,
                sum: ExactSum::default(),
            }),
            UpdateByKind::Product if cumulative => Box::new(CumProductFold::new(float)),
            UpdateByKind::Product => Box::new(RollingProductFold::default()),
            UpdateByKind::Min => Box::new(ExtremumFold::new(float, false)),
            UpdateByKind::Max => Box::new(ExtremumFold::new(float, true)),
            UpdateByKind::Count => Box::new(CountFold::default()),
            UpdateByKind::Std => Box::new(StdFold::default()),
            UpdateByKind::WAvg => Box::new(WAvgFold::default()),
            UpdateByKind::Group => Box::new(GroupFold::default()),
            UpdateByKind::Delta => Box::new(DeltaFold::new(float, self.spec.delta)),
            UpdateByKind::Fill => Box::new(FillFold::new()),
            kind => {
                let (ticks, time) = match self.spec.window {
                    UpdateByWindow::DecayTicks { ticks } => (Some(ticks), 0),
                    UpdateByWindow::DecayTime { time, .. } => (None, time),
                    _ => (Some(1.0), 0),
                };
                Box::new(EmFold::new(kind, self.spec.control, ticks, time))
            }
        }
    }

    fn keeps_values(&self) -> bool {
        matches!(self.spec.kind, UpdateByKind::Fill | UpdateByKind::Group)
    }

    /// Forgets every group.
    pub(crate) fn clear(&mut self) {
        self.groups = Vec::new();
        self.is_touched = Vec::new();
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
        let groups_needed = ids.iter().map(|&g| g as usize + 1).max().unwrap_or(0);
        while self.groups.len() < groups_needed {
            let fold = self.fold();
            let keeps = self.keeps_values();
            self.groups.push(GroupWindow::new(fold, keeps));
        }
        self.is_touched.resize(self.groups.len(), false);
        let time_window = matches!(self.window, Window::Time { .. });
        let keeps = self.keeps_values();
        for (r, &g) in ids.iter().enumerate().take(count) {
            let e = Entry {
                x: self.xs[r],
                i: self.is.get(r).copied().unwrap_or(NULL_I64),
                w: self.ws.get(r).copied().unwrap_or(NULL_F64),
                ts: self.ts.get(r).copied().unwrap_or(NULL_I64),
                key: first_key + r as u64,
            };
            if time_window && e.ts == NULL_I64 {
                // In no window, and in no other row's.
                self.scratch.push_null();
                self.keys.push(e.key);
                continue;
            }
            let group = &mut self.groups[g as usize];
            if time_window && e.ts < group.last_ts() {
                let name = parent.schema.fields()[self.timestamp.unwrap_or(0)]
                    .name
                    .clone();
                return Err(Error::Invalid(format!(
                    "updateBy: the timestamps of {name} decrease within a group (a time window \
                     needs them in order within each group)"
                )));
            }
            let value = if keeps { input.get(start + r) } else { None };
            group.add(self.window, e, value, &mut self.scratch, &mut self.keys)?;
            if group.is_pending() && !self.is_touched[g as usize] {
                self.is_touched[g as usize] = true;
                self.touched.push(g);
            }
        }
        for g in self.touched.drain(..) {
            self.is_touched[g as usize] = false;
            let group = &self.groups[g as usize];
            if group.is_pending() {
                group.provisional(self.window, &mut self.scratch, &mut self.keys)?;
            }
        }
        Ok(())
    }

    /// Bytes (used, reserved) of the groups' state.
    pub(crate) fn bytes(&self) -> (usize, usize) {
        let held: usize = self.groups.iter().map(GroupWindow::bytes).sum();
        (held, held + self.scratch.bytes_reserved())
    }
}
