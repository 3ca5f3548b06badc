//! Credit-based flow control: the bytes a client lets one subscription send, and the bridge-wide
//! budget of bytes held in memory.
//!
//! A [`Credit`] is a fair (FIFO) semaphore of bytes: the client's `Subscribe` and `Credit`
//! messages add bytes, and every `Records` frame takes its exact length before it is queued for the
//! socket. Invariant: the bytes taken never exceed the bytes granted, so a subscription never has
//! more than its granted bytes in flight. A producer may reserve credit before a fetch
//! ([`Credit::reserve_up_to`]) and give back what it did not use ([`Credit::refund`]); it never
//! waits for more credit while holding a reservation, so partitions sharing one credit cannot
//! deadlock. Credit and budget are always waited for in that order: a producer reserves credit,
//! then holds the budget for it, and builds frames only within what it reserved, so nothing waits
//! for credit while it holds budget, and the two waits cannot form a cycle.
//!
//! A [`Budget`] bounds the bytes fetched or encoded but not yet written to any socket, across all
//! connections: a fetch or a frame holds a [`Held`] share of it until it is written, so the
//! bridge's memory does not grow with topic size, client speed or number of clients. Each
//! connection takes from it through its own [`ConnectionBudget`], capped at a fixed share
//! ([`share_of`]): a client that does not read holds at most that share, never the budget.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// The most credit a subscription can hold at once (tokio's semaphore limit is far above it).
pub const MAX_CREDIT: u64 = 1 << 40;

/// The subscription ended (or its client went away): stop producing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// Bytes a client has granted one subscription and the bridge has not yet used.
#[derive(Debug)]
pub struct Credit {
    bytes: Semaphore,
    /// The client's window: its initial credit. A frame is cut to fit it.
    window: u64,
}

/// A chunk of credit taken ahead of a fetch.
#[derive(Debug)]
pub struct Reservation {
    left: u64,
}

impl Credit {
    /// A credit holding the client's initial grant.
    pub fn new(initial: u64) -> Result<Self, String> {
        if initial > MAX_CREDIT {
            return Err(format!(
                "credit {initial} is above the maximum {MAX_CREDIT}"
            ));
        }
        Ok(Self {
            bytes: Semaphore::new(initial as usize),
            window: initial,
        })
    }

    /// The client's window (its initial grant).
    pub fn window(&self) -> u64 {
        self.window
    }

    /// Bytes available now.
    pub fn available(&self) -> u64 {
        self.bytes.available_permits() as u64
    }

    /// Adds a client's grant. Refused if the credit would pass [`MAX_CREDIT`].
    pub fn grant(&self, bytes: u64) -> Result<(), String> {
        let total = self.available().saturating_add(bytes);
        if total > MAX_CREDIT {
            return Err(format!(
                "a grant of {bytes} bytes would hold {total} bytes of credit, above the maximum {MAX_CREDIT}"
            ));
        }
        self.bytes.add_permits(bytes as usize);
        Ok(())
    }

    /// Stops the subscription: every waiting or later take fails with [`Closed`].
    pub fn close(&self) {
        self.bytes.close();
    }

    /// Waits until `bytes` are available, in arrival order, and takes them.
    pub async fn take(&self, bytes: u64) -> Result<(), Closed> {
        let mut left = bytes;
        while left > 0 {
            let chunk = left.min(u64::from(u32::MAX));
            self.bytes
                .acquire_many(chunk as u32)
                .await
                .map_err(|_| Closed)?
                .forget();
            left -= chunk;
        }
        Ok(())
    }

    /// Takes `bytes` if they are available now.
    pub fn try_take(&self, bytes: u64) -> Result<bool, Closed> {
        let Ok(n) = u32::try_from(bytes) else {
            return Ok(false);
        };
        match self.bytes.try_acquire_many(n) {
            Ok(permit) => {
                permit.forget();
                Ok(true)
            }
            Err(TryAcquireError::NoPermits) => Ok(false),
            Err(TryAcquireError::Closed) => Err(Closed),
        }
    }

    /// Waits until some credit is available, then takes up to `max` bytes of it.
    pub async fn reserve_up_to(&self, max: u64) -> Result<Reservation, Closed> {
        self.reserve_between(1, max).await
    }

    /// Waits until `min` bytes are available (in arrival order), then takes up to `max` bytes.
    pub async fn reserve_between(&self, min: u64, max: u64) -> Result<Reservation, Closed> {
        let min = min.max(1);
        let max = max.max(min);
        self.take(min).await?;
        let extra = self.available().min(max - min);
        let extra = if extra > 0 && self.try_take(extra)? {
            extra
        } else {
            0
        };
        Ok(Reservation { left: min + extra })
    }

    /// Takes `bytes` for one frame: from the reservation when it is enough; otherwise the
    /// reservation is given back first and the whole frame waits for credit.
    pub async fn take_for_frame(
        &self,
        reservation: &mut Reservation,
        bytes: u64,
    ) -> Result<(), Closed> {
        if bytes <= reservation.left {
            reservation.left -= bytes;
            return Ok(());
        }
        self.refund(std::mem::replace(reservation, Reservation { left: 0 }));
        self.take(bytes).await
    }

    /// Gives back what a reservation did not use.
    pub fn refund(&self, reservation: Reservation) {
        if reservation.left > 0 && !self.bytes.is_closed() {
            self.bytes.add_permits(reservation.left as usize);
        }
    }
}

impl Reservation {
    /// Bytes still reserved.
    pub fn left(&self) -> u64 {
        self.left
    }
}

/// The bridge-wide bound on bytes fetched or encoded but not yet written to a socket.
#[derive(Debug, Clone)]
pub struct Budget {
    bytes: Arc<Semaphore>,
    total: u64,
    share: u64,
}

/// One connection's part of the [`Budget`]: it may hold at most its share
/// ([`Budget::share`]) at once, so connections whose sockets take nothing (a stalled tab holds
/// what it was given until it reads or is closed) can never hold the whole budget between them
/// while fewer than `total / share` of them stall.
#[derive(Debug, Clone)]
pub struct ConnectionBudget {
    global: Budget,
    own: Arc<Semaphore>,
}

/// A share of the budget, released when the last clone is dropped (after its bytes were written).
#[derive(Debug, Clone)]
pub struct Held(#[allow(dead_code)] Option<Arc<(OwnedSemaphorePermit, OwnedSemaphorePermit)>>);

/// The share of the budget one connection may hold: a 64th, at least 1 MiB (2 MiB of the
/// default 128 MiB), never more than the whole.
pub fn share_of(total: u64) -> u64 {
    (total / 64).max(1 << 20).min(total)
}

impl Budget {
    /// A budget of `total` bytes.
    pub fn new(total: u64) -> Self {
        let total = total.clamp(1 << 20, u64::from(u32::MAX));
        Self {
            bytes: Arc::new(Semaphore::new(total as usize)),
            total,
            share: share_of(total),
        }
    }

    /// The budget's size.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// What one connection may hold at once.
    pub fn share(&self) -> u64 {
        self.share
    }

    /// A new connection's part of the budget.
    pub fn connection(&self) -> ConnectionBudget {
        ConnectionBudget {
            global: self.clone(),
            own: Arc::new(Semaphore::new(self.share as usize)),
        }
    }

    /// Bytes of the budget free now.
    pub fn free(&self) -> u64 {
        self.bytes.available_permits() as u64
    }
}

impl ConnectionBudget {
    /// Waits for `bytes` of the connection's share, then of the whole budget (capped at the
    /// share, so one oversized item can still go, alone). The share is taken first: a
    /// connection at its share waits on its own, never in the bridge-wide queue.
    pub async fn hold(&self, bytes: u64) -> Held {
        let n = bytes.clamp(1, self.global.share) as u32;
        let Ok(own) = Arc::clone(&self.own).acquire_many_owned(n).await else {
            // Never closed; holding nothing is the safe answer if it were.
            return Held(None);
        };
        match Arc::clone(&self.global.bytes).acquire_many_owned(n).await {
            Ok(global) => Held(Some(Arc::new((own, global)))),
            Err(_) => Held(None),
        }
    }

    /// Bytes this connection holds now.
    pub fn held(&self) -> u64 {
        self.global.share - self.own.available_permits() as u64
    }

    /// The connection's share.
    pub fn share(&self) -> u64 {
        self.global.share
    }
}

impl Held {
    /// Holds nothing.
    pub fn none() -> Self {
        Self(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        Grant(u64),
        Take(u64),
        Reserve(u64),
        Refund,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u64..5_000).prop_map(Step::Grant),
            (0u64..5_000).prop_map(Step::Take),
            (0u64..5_000).prop_map(Step::Reserve),
            Just(Step::Refund),
        ]
    }

    proptest! {
        /// Whatever the order of grants, takes, reservations and refunds, the bytes out never
        /// exceed the bytes granted, and granted = out + available + reserved at every step.
        #[test]
        fn bytes_out_never_exceed_bytes_granted(
            initial in 0u64..10_000,
            steps in proptest::collection::vec(step(), 0..60),
        ) {
            let credit = Credit::new(initial).unwrap();
            let mut granted = initial;
            let mut out = 0u64;
            let mut reserved: Vec<Reservation> = Vec::new();
            for s in steps {
                match s {
                    Step::Grant(n) => {
                        credit.grant(n).unwrap();
                        granted += n;
                    }
                    Step::Take(n) => {
                        if credit.try_take(n).unwrap() {
                            out += n;
                        }
                    }
                    Step::Reserve(n) => {
                        if credit.available() > 0 {
                            let r = futures_util::FutureExt::now_or_never(credit.reserve_up_to(n))
                                .expect("credit is available")
                                .unwrap();
                            // Use half of it for a frame.
                            let mut r = r;
                            let use_now = r.left() / 2;
                            futures_util::FutureExt::now_or_never(credit.take_for_frame(&mut r, use_now))
                                .expect("within the reservation")
                                .unwrap();
                            out += use_now;
                            reserved.push(r);
                        }
                    }
                    Step::Refund => {
                        if let Some(r) = reserved.pop() {
                            credit.refund(r);
                        }
                    }
                }
                let held: u64 = reserved.iter().map(Reservation::left).sum();
                prop_assert!(out <= granted);
                prop_assert_eq!(granted, out + credit.available() + held);
            }
        }
    }

    #[test]
    fn grants_past_the_maximum_are_refused() {
        let credit = Credit::new(10).unwrap();
        assert!(credit.grant(MAX_CREDIT).is_err());
        assert_eq!(credit.available(), 10);
        assert!(Credit::new(MAX_CREDIT + 1).is_err());
    }

    #[tokio::test]
    async fn a_frame_larger_than_the_reservation_waits_for_credit_without_holding_any() {
        let credit = Arc::new(Credit::new(100).unwrap());
        let mut r = credit.reserve_up_to(60).await.unwrap();
        assert_eq!((r.left(), credit.available()), (60, 40));
        let waiter = {
            let credit = Arc::clone(&credit);
            tokio::spawn(async move { credit.take_for_frame(&mut r, 150).await })
        };
        tokio::task::yield_now().await;
        // The reservation went back: 100 available, the frame needs 150.
        assert!(!waiter.is_finished());
        credit.grant(50).unwrap();
        waiter.await.unwrap().unwrap();
        assert_eq!(credit.available(), 0);
        credit.close();
        assert_eq!(credit.take(1).await, Err(Closed));
    }

    #[tokio::test]
    async fn the_budget_is_returned_when_the_last_holder_drops() {
        let budget = Budget::new(64 << 20);
        let connection = budget.connection();
        assert_eq!(connection.share(), 1 << 20);
        let held = connection.hold(1000).await;
        let copy = held.clone();
        assert_eq!(budget.free(), (64 << 20) - 1000);
        assert_eq!(connection.held(), 1000);
        drop(held);
        assert_eq!(budget.free(), (64 << 20) - 1000);
        drop(copy);
        assert_eq!((budget.free(), connection.held()), (64 << 20, 0));
        // More than the share still goes, alone.
        let all = connection.hold(u64::MAX).await;
        assert_eq!(connection.held(), 1 << 20);
        drop(all);
    }

    /// Connections that never let go of what they hold take at most their shares: the others
    /// still get theirs.
    #[tokio::test]
    async fn stalled_connections_hold_at_most_their_shares() {
        let budget = Budget::new(128 << 20);
        let stalled: Vec<ConnectionBudget> = (0..40).map(|_| budget.connection()).collect();
        let mut kept = Vec::new();
        for c in &stalled {
            // Each asks for far more than its share, in pieces: it gets its share and then waits.
            for _ in 0..4 {
                match tokio::time::timeout(std::time::Duration::from_millis(5), c.hold(1 << 20))
                    .await
                {
                    Ok(h) => kept.push(h),
                    Err(_) => break,
                }
            }
            assert_eq!(c.held(), budget.share());
        }
        assert_eq!(budget.free(), (128 << 20) - 40 * budget.share());
        let newcomer = budget.connection();
        let h = tokio::time::timeout(std::time::Duration::from_secs(1), newcomer.hold(1 << 20))
            .await
            .expect("a newcomer gets its share while 40 connections stall");
        drop(h);
        drop(kept);
        assert_eq!(budget.free(), 128 << 20);
    }
}
