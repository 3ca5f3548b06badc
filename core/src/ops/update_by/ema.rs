//! The exponential operations (Deephaven's `ema`, `ems`, `emMin`, `emMax`, `emStd`), over a
//! cumulative window: each row decays the state by `a = exp(−1 / ticks)` (ticks) or
//! `a = exp(−dt / time)` (time, `dt` the nanoseconds since the last row taken), then folds its
//! value in:
//!
//! | op | state |
//! |---|---|
//! | `ema` | `a·prev + (1 − a)·x` |
//! | `ems` | `a·prev + x` |
//! | `emMin`, `emMax` | `min(a·prev, x)`, `max(a·prev, x)` |
//! | `emStd` | `var = a·(var + (1 − a)·(x − ema)²)`, `ema` as above; the value is `√var`, NaN for the first |
//!
//! The first valid value starts the state (`x`; `emStd` NaN). Bad data follows the
//! [`OperationControl`] (Deephaven's defaults: a null or NaN value, a null timestamp and a zero
//! `dt` leave the state as it was; a timestamp going back fails the table). `Reset` empties the
//! state (the row's value is null); `Poison` (NaN only) makes the state NaN.
//!
//! `exp` is the engine's ([`crate::exp`]: fdlibm's, the same double natively and in wasm32). A
//! large cycle of groups that stream takes the decays of a block of rows at once (`decay.rs`,
//! through [`EmFold::push_decayed`]), with the same values bit for bit.
//!
//! Invariant: `cur` is the value the last row pushed gave (null until a valid value came), and
//! `stamp` the timestamp of the last row folded in; `last_a` is `exp(−last_dt / time)`.

use super::fold::{Entry, Fold, Sink, push_f64};
use super::spec::{BadData, OperationControl, UpdateByKind};
use crate::column::{NULL_F64, NULL_I64, Value};
use crate::exp::exp;
use crate::{Error, Result};

#[derive(Clone)]
pub(crate) struct EmFold {
    kind: UpdateByKind,
    control: OperationControl,
    /// `exp(−1 / ticks)` for tick decay; `None` for time decay.
    tick_alpha: Option<f64>,
    /// Time decay: the time scale in nanoseconds.
    time: f64,
    cur: f64,
    /// `emStd`: the moving average and variance.
    ema: f64,
    var: f64,
    stamp: i64,
    /// Time decay: the last `dt` decayed over (0 before any) and its `exp(−dt / time)`, reused
    /// when the next `dt` is the same (timestamps in milliseconds or microseconds repeat their
    /// gaps): the same value, bit for bit, without the `exp`.
    last_dt: i128,
    last_a: f64,
}

impl EmFold {
    pub(crate) fn new(
        kind: UpdateByKind,
        control: OperationControl,
        ticks: Option<f64>,
        time: i64,
    ) -> Self {
        Self {
            kind,
            control,
            tick_alpha: ticks.map(|t| exp(-1.0 / t)),
            time: time as f64,
            cur: NULL_F64,
            ema: NULL_F64,
            var: 0.0,
            stamp: NULL_I64,
            last_dt: 0,
            last_a: 1.0,
        }
    }

    fn reset(&mut self) {
        self.cur = NULL_F64;
        self.ema = NULL_F64;
        self.var = 0.0;
        self.stamp = NULL_I64;
    }

    /// Applies `behavior` to bad data described by `what` (the row folds nothing in).
    fn bad(&mut self, behavior: BadData, what: &str) -> Result<()> {
        match behavior {
            BadData::Throw => Err(Error::Invalid(format!(
                "{}: {what} (OperationControl says THROW)",
                self.kind.name()
            ))),
            BadData::Reset => {
                self.reset();
                Ok(())
            }
            BadData::Poison => {
                self.cur = f64::NAN;
                self.ema = f64::NAN;
                Ok(())
            }
            BadData::Skip => Ok(()),
        }
    }

    fn fold(&mut self, x: f64, a: f64) {
        if !self.started() {
            self.cur = if self.kind == UpdateByKind::EmStd {
                f64::NAN
            } else {
                x
            };
            self.ema = x;
            self.var = 0.0;
            return;
        }
        self.step(self.kind, x, a);
    }

    /// Folds `x` into the started state with decay `a`, as an operation of kind `kind` (the
    /// fold's: a constant where the caller matched it once, so that its loop has no match a
    /// row).
    #[inline(always)]
    fn step(&mut self, kind: UpdateByKind, x: f64, a: f64) {
        match kind {
            UpdateByKind::Ema => self.cur = a * self.cur + (1.0 - a) * x,
            UpdateByKind::Ems => self.cur = a * self.cur + x,
            UpdateByKind::EmMin => self.cur = (a * self.cur).min(x),
            UpdateByKind::EmMax => self.cur = (a * self.cur).max(x),
            _ => {
                let d = x - self.ema;
                self.var = a * (self.var + (1.0 - a) * d * d);
                self.ema = a * self.ema + (1.0 - a) * x;
                self.cur = self.var.sqrt();
            }
        }
    }

    /// The value the fold emits.
    #[inline(always)]
    pub(crate) fn value(&self) -> f64 {
        self.cur
    }

    /// Time decay: the time scale in nanoseconds (`None` for a tick decay).
    pub(crate) fn decay_time(&self) -> Option<f64> {
        self.tick_alpha.is_none().then_some(self.time)
    }

    /// The timestamp of the last row folded in (`NULL_I64` before any, or after a reset).
    pub(crate) fn stamp(&self) -> i64 {
        self.stamp
    }

    /// Time decay: folds in a row of value `x` (neither null nor NaN) and timestamp `ts`, with
    /// `a = exp(−(ts − stamp) / time)` computed ahead for `stamp < ts` (not null) on the guess
    /// that `stamp` is the fold's last stamp. If it is (and the fold has started), `push` would
    /// fold in the row with just that `a`: done, true. Otherwise nothing is done (false) and
    /// the row is for `push`. `kind` is the fold's own, which the caller matched once for a
    /// block of rows: the loop this inlines into is compiled for that operation.
    #[inline(always)]
    pub(crate) fn push_decayed(
        &mut self,
        kind: UpdateByKind,
        x: f64,
        ts: i64,
        stamp: i64,
        a: f64,
    ) -> bool {
        debug_assert!(kind == self.kind);
        if stamp == NULL_I64 || self.stamp != stamp || !self.started_as(kind) {
            return false;
        }
        self.step(kind, x, a);
        self.stamp = ts;
        true
    }

    /// The operation.
    pub(crate) fn kind(&self) -> UpdateByKind {
        self.kind
    }

    /// Time decay: folds in a row of value `x` (neither null nor NaN) with decay `a`, as
    /// `fold` does but for an operation of kind `kind` (its own, a constant where the caller
    /// matched it once), the fold stamped: what [`EmFold::push_decayed`] does when its guess
    /// holds, but for the stamp, which the caller sets ([`EmFold::set_stamp`]) once it has
    /// folded in the group's rows; and, as `push` does, a fold whose state is the null
    /// sentinel (one that landed exactly on -f64::MAX) starts again from `x`. Returns the
    /// fold's value after.
    #[inline(always)]
    pub(crate) fn fold_as(&mut self, kind: UpdateByKind, x: f64, a: f64) -> f64 {
        debug_assert!(kind == self.kind);
        if self.started_as(kind) {
            self.step(kind, x, a);
        } else {
            // A state that landed on the null sentinel (-f64::MAX) starts again from `x`, as
            // `push` does.
            self.fold(x, a);
        }
        self.cur
    }

    /// Sets the timestamp of the last row folded in (see [`EmFold::fold_as`]).
    pub(crate) fn set_stamp(&mut self, stamp: i64) {
        self.stamp = stamp;
    }

    fn started(&self) -> bool {
        self.started_as(self.kind)
    }

    #[inline(always)]
    fn started_as(&self, kind: UpdateByKind) -> bool {
        if kind == UpdateByKind::EmStd {
            self.ema != NULL_F64
        } else {
            self.cur != NULL_F64
        }
    }
}

/// `dt` as a double (rounded to nearest), out of line: see [`EmFold`]'s `push`.
#[inline(never)]
fn wide_to_f64(dt: i128) -> f64 {
    dt as f64
}

impl Fold for EmFold {
    fn push(&mut self, e: &Entry, _: u64, _: Option<&Value>) -> Result<()> {
        if e.is_null() {
            return self.bad(self.control.on_null_value, "a null value");
        }
        if e.x.is_nan() {
            return self.bad(self.control.on_nan_value, "a NaN value");
        }
        let Some(alpha) = self.tick_alpha else {
            // Time decay.
            if e.ts == NULL_I64 {
                return self.bad(self.control.on_null_time, "a null timestamp");
            }
            if !self.started() || self.stamp == NULL_I64 {
                self.fold(e.x, 0.0);
                self.stamp = e.ts;
                return Ok(());
            }
            let dt = e.ts as i128 - self.stamp as i128;
            if dt < 0 {
                return self.bad(
                    self.control.on_negative_delta_time,
                    "timestamps must not decrease",
                );
            }
            if dt == 0 {
                return self.bad(
                    self.control.on_zero_delta_time,
                    "two rows with one timestamp",
                );
            }
            if dt != self.last_dt {
                self.last_dt = dt;
                // A gap that fits a long converts as one (i128's conversion is a libcall):
                // the same double, both rounded to nearest. The wide one is a call of its own,
                // else the compiler converts both ways every row and picks one.
                let gap = match i64::try_from(dt) {
                    Ok(d) => d as f64,
                    Err(_) => wide_to_f64(dt),
                };
                self.last_a = exp(-gap / self.time);
            }
            let a = self.last_a;
            self.fold(e.x, a);
            self.stamp = e.ts;
            return Ok(());
        };
        self.fold(e.x, alpha);
        Ok(())
    }

    fn pop(&mut self, _: &Entry, _: u64) {}

    fn emit(&self, out: &mut Sink) {
        push_f64(out, self.cur);
    }

    /// The value is the state, but for `emStd`, whose state also holds its average and
    /// variance, and for a time decay that skips rows going back in time: two runs may then
    /// agree on the value and not on the last stamp (with `THROW`, the default, time never goes
    /// back, so the runs agree on the stamp once they agree on the value).
    fn converges(&self) -> bool {
        self.kind != UpdateByKind::EmStd
            && (self.tick_alpha.is_some() || self.control.on_negative_delta_time == BadData::Throw)
    }
}
