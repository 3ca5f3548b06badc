//! [`History`]: what taking covered rows back needs, kept only over a parent that removes part of
//! its rows from the front (a ring table). Rows leave in the order they came, group by group too,
//! so per group a window of the rows that can still become Min, Max, First or Last suffices.
//!
//! Invariant: `gids`, and each accumulator's `bits` and `extra`, hold one entry per covered row,
//! oldest first; `group_rows[g]` is the number of covered rows of group `g`.

use std::collections::VecDeque;

use super::AggKind;
use super::accumulator::Accumulator;
use crate::column::{Chunked, NULL_F64};

/// What undoing a covered row needs, kept only over a parent that removes part of its rows from
/// the front (a ring table): rows leave in the order they came, group by group too.
#[derive(Default)]
pub(super) struct History {
    /// The group of every covered row, oldest first.
    gids: Chunked<u32>,
    /// Per accumulator, every covered row's input as lane bits.
    bits: Vec<Chunked<u64>>,
    /// Per accumulator: WAvg, each row's weight; CountDistinct, 1.0 where the row had a value.
    extra: Vec<Chunked<f64>>,
    /// Per accumulator (Min, Max, First, Last): per group, `(sequence, bits)` of the rows that can
    /// still become its value, oldest first. Min and Max keep a monotonic window.
    windows: Vec<Vec<VecDeque<(u64, u64)>>>,
    /// The sequence number of the oldest covered row.
    front_seq: u64,
    /// Covered rows per group; a group with none has no row in the result.
    pub(super) group_rows: Vec<u64>,
}

impl History {
    /// An empty history for `accumulators` accumulators.
    pub(super) fn new(accumulators: usize) -> Self {
        Self {
            bits: (0..accumulators).map(|_| Chunked::new()).collect(),
            extra: (0..accumulators).map(|_| Chunked::new()).collect(),
            windows: vec![Vec::new(); accumulators],
            ..Self::default()
        }
    }

    /// Records the batch just aggregated, for undoing it later.
    pub(super) fn remember(
        &mut self,
        accs: &[Accumulator],
        gids: &[u32],
        groups: usize,
        count: usize,
    ) {
        let h = self;
        h.group_rows.resize(groups, 0);
        let first_seq = h.front_seq + h.gids.len() as u64;
        h.gids.extend_from_slice(gids);
        for &g in gids {
            h.group_rows[g as usize] += 1;
        }
        for (a, acc) in accs.iter().enumerate() {
            let bits = acc.batch_bits(count);
            h.bits[a].extend_from_slice(&bits);
            match acc.kind {
                AggKind::WAvg => h.extra[a].extend_from_slice(&acc.scratch_w),
                AggKind::CountDistinct => {
                    let present: Vec<f64> = acc
                        .scratch_codes
                        .iter()
                        .map(|c| if c.is_some() { 1.0 } else { 0.0 })
                        .collect();
                    h.extra[a].extend_from_slice(&present);
                }
                AggKind::Min | AggKind::Max | AggKind::First | AggKind::Last => {
                    let windows = &mut h.windows[a];
                    windows.resize_with(groups, Default::default);
                    for (i, (&g, &b)) in gids.iter().zip(&bits).enumerate() {
                        let seq = first_seq + i as u64;
                        let window = &mut windows[g as usize];
                        match acc.kind {
                            AggKind::First | AggKind::Last => window.push_back((seq, b)),
                            _ if acc.is_null_bits(b) => {}
                            kind => {
                                // Drop values that can never be the extreme again: worse ones,
                                // and the same value (bits) again. An equal value of other bits
                                // (-0.0 after 0.0, another NaN) stays behind it: of equal
                                // values the earliest row's is the extreme, as without removal.
                                let min = kind == AggKind::Min;
                                while window.back().is_some_and(|&(_, last)| {
                                    let ordering = acc.compare_bits(last, b);
                                    last == b
                                        || if min {
                                            ordering.is_gt()
                                        } else {
                                            ordering.is_lt()
                                        }
                                }) {
                                    window.pop_back();
                                }
                                window.push_back((seq, b));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Takes back the `count` oldest covered rows; returns their group ids.
    pub(super) fn forget(&mut self, accs: &mut [Accumulator], count: usize) -> Vec<u32> {
        let h = &mut *self;
        let count = count.min(h.gids.len());
        let mut gids = Vec::with_capacity(count);
        h.gids.copy_range(0, count, &mut gids);
        h.gids.pop_front(count);
        let first_seq = h.front_seq;
        h.front_seq += count as u64;
        for &g in &gids {
            h.group_rows[g as usize] -= 1;
        }
        for (a, acc) in accs.iter_mut().enumerate() {
            let (mut bits, mut extra) = (Vec::with_capacity(count), Vec::with_capacity(count));
            h.bits[a].copy_range(0, count, &mut bits);
            h.bits[a].pop_front(count);
            h.extra[a].copy_range(0, count, &mut extra);
            h.extra[a].pop_front(count);
            for (i, &g) in gids.iter().enumerate() {
                let b = bits.get(i).copied().unwrap_or(0);
                acc.undo(g as usize, b, extra.get(i).copied().unwrap_or(NULL_F64));
                if let Some(window) = h.windows[a].get_mut(g as usize)
                    && window
                        .front()
                        .is_some_and(|&(seq, _)| seq == first_seq + i as u64)
                {
                    window.pop_front();
                }
            }
        }
        self.refresh_windows(accs, &gids);
        gids
    }

    /// Sets Min, Max, First and Last of `groups` from their windows.
    pub(super) fn refresh_windows(&self, accs: &mut [Accumulator], groups: &[u32]) {
        let h = self;
        for (a, acc) in accs.iter_mut().enumerate() {
            if !matches!(
                acc.kind,
                AggKind::Min | AggKind::Max | AggKind::First | AggKind::Last
            ) {
                continue;
            }
            for &g in groups {
                if let Some(window) = h.windows[a].get(g as usize) {
                    acc.set_from_window(g as usize, window);
                }
            }
        }
    }

    /// Bytes (used, reserved).
    pub(super) fn bytes(&self) -> (usize, usize) {
        let mut used = self.gids.bytes_used() + self.group_rows.len() * 8;
        let mut reserved = self.gids.bytes_reserved() + self.group_rows.capacity() * 8;
        for c in &self.bits {
            used += c.bytes_used();
            reserved += c.bytes_reserved();
        }
        for c in &self.extra {
            used += c.bytes_used();
            reserved += c.bytes_reserved();
        }
        for w in self.windows.iter().flatten() {
            used += w.len() * 16;
            reserved += w.capacity() * 16;
        }
        (used, reserved)
    }
}
