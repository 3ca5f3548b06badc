//! Credit-based flow control: the bytes a client lets one subscription send, and the bridge-wide
//! budget of bytes held in memory.
//!
//! A [`Credit`] is a fair (FIFO) semaphore of bytes: the client's `Subscribe` and `Credit`
//! messages add bytes, and every `Records` frame takes its exact length before it is queued for the
//! socket. Invariant: the bytes taken never exceed the bytes granted, so a subscription never has
//! more than its granted bytes in flight. A producer may reserve credit before a fetch
//! ([`Credit::reserve_up_to`]) and give back what it did not use ([`Credit::refund`]); it never
//! waits for more credit while holding a reservation, so partitions sharing one credit cannot
//! deadlock.
//!
//! A [`Budget`] bounds the bytes fetched or encoded but not yet written to any socket, across all
//! connections: a fetch or a frame holds a [`Held`] share of it until it is written, so the
//! bridge's memory does not grow with topic size, client speed or number of clients.

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
        let max = max.max(1);
        self.take(1).await?;
        let extra = self.available().min(max - 1);
        let extra = if extra > 0 && self.try_take(extra)? {
            extra
        } else {
            0
        };
        Ok(Reservation { left: 1 + extra })
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
}

/// A share of the budget, released when dropped (after its bytes were written).
#[derive(Debug, Clone)]
pub struct Held(#[allow(dead_code)] Option<Arc<OwnedSemaphorePermit>>);

impl Budget {
    /// A budget of `total` bytes.
    pub fn new(total: u64) -> Self {
        let total = total.clamp(1 << 20, u64::from(u32::MAX));
        Self {
            bytes: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// The budget's size.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Waits for `bytes` of the budget (capped at the whole budget, so one oversized item can
    /// still go, alone).
    pub async fn hold(&self, bytes: u64) -> Held {
        let n = bytes.clamp(1, self.total) as u32;
        match Arc::clone(&self.bytes).acquire_many_owned(n).await {
            Ok(permit) => Held(Some(Arc::new(permit))),
            // Never closed; holding nothing is the safe answer if it were.
            Err(_) => Held(None),
        }
    }

    /// Bytes of the budget free now.
    pub fn free(&self) -> u64 {
        self.bytes.available_permits() as u64
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
        let budget = Budget::new(1 << 20);
        let held = budget.hold(1000).await;
        let copy = held.clone();
        assert_eq!(budget.free(), (1 << 20) - 1000);
        drop(held);
        assert_eq!(budget.free(), (1 << 20) - 1000);
        drop(copy);
        assert_eq!(budget.free(), 1 << 20);
        // More than the whole budget still goes, alone.
        let all = budget.hold(u64::MAX).await;
        assert_eq!(budget.free(), 0);
        drop(all);
    }
}
