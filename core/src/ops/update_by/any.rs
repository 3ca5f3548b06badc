//! [`AnyFold`]: every operation but `Sum`/`Avg` (the exponential ones, products, min/max,
//! count, std, wAvg, group, delta, fill) as one fold type, so the lane's window driver
//! (`window.rs`, `lane.rs`) is compiled once for all of them instead of once per operation (a
//! copy was ~5 KB of wasm). Each call is a `match` on the operation, a branch the same for every
//! row of a lane: no dynamic call per row. `Sum`/`Avg` keeps its own copy: in the match,
//! `rollingAvg` lost ~10% of its speed; `ema`, whose row costs an `exp`, 2–4% at most, within
//! the noise (BENCHMARKS.md).
//!
//! Invariant: an `AnyFold` is the fold it wraps; it never changes variant.

use super::count::CountFold;
use super::delta::DeltaFold;
use super::ema::EmFold;
use super::extremum::ExtremumFold;
use super::fill::FillFold;
use super::fold::{Entry, Fold, Place, Sink, emit_moved};
use super::group::GroupFold;
use super::product::{CumProductFold, RollingProductFold};
use super::std::StdFold;
use super::wavg::WAvgFold;
use crate::Result;
use crate::column::Value;

#[derive(Clone)]
pub(crate) enum AnyFold {
    Em(EmFold),
    CumProduct(CumProductFold),
    RollingProduct(RollingProductFold),
    Extremum(ExtremumFold),
    Count(CountFold),
    Std(StdFold),
    WAvg(WAvgFold),
    Group(GroupFold),
    Delta(DeltaFold),
    Fill(FillFold),
}

/// Runs `$body` with `$f` the wrapped fold, whichever it is.
macro_rules! each_fold {
    ($fold:expr, $f:ident => $body:expr) => {
        match $fold {
            AnyFold::Em($f) => $body,
            AnyFold::CumProduct($f) => $body,
            AnyFold::RollingProduct($f) => $body,
            AnyFold::Extremum($f) => $body,
            AnyFold::Count($f) => $body,
            AnyFold::Std($f) => $body,
            AnyFold::WAvg($f) => $body,
            AnyFold::Group($f) => $body,
            AnyFold::Delta($f) => $body,
            AnyFold::Fill($f) => $body,
        }
    };
}

impl Fold for AnyFold {
    #[inline]
    fn push(&mut self, e: &Entry, seq: u64, value: Option<&Value>) -> Result<()> {
        each_fold!(self, f => f.push(e, seq, value))
    }

    #[inline]
    fn pop(&mut self, e: &Entry, seq: u64) {
        each_fold!(self, f => f.pop(e, seq))
    }

    #[inline]
    fn emit(&self, out: &mut Sink) {
        each_fold!(self, f => f.emit(out))
    }

    fn clear(&mut self) -> bool {
        each_fold!(self, f => f.clear())
    }

    fn converges(&self) -> bool {
        each_fold!(self, f => f.converges())
    }

    fn bytes(&self) -> usize {
        each_fold!(self, f => f.bytes())
    }

    #[inline]
    fn decayed(&mut self) -> Option<&mut EmFold> {
        match self {
            AnyFold::Em(f) => Some(f),
            _ => None,
        }
    }
}

/// The exponential folds' double written in place; the others' values as appended, then moved
/// ([`Place`]'s default).
impl Place for AnyFold {
    #[inline(always)]
    fn emit_at(&self, out: &mut Sink, at: usize) {
        match (self, &mut *out) {
            (AnyFold::Em(f), Sink::F64(values)) => {
                if let Some(slot) = values.get_mut(at) {
                    *slot = f.value();
                }
            }
            _ => emit_moved(self, out, at),
        }
    }
}
