//! [`Refreshed`]: a value asked of something slow (a broker's metadata, a source's topic facts),
//! kept for a while and shared by everyone who asks meanwhile.
//!
//! Invariants: one refresh runs at a time; callers that arrive during it wait and are all handed
//! that refresh's one result, whatever it is; and a failed refresh is kept like a good one (its
//! error shared as an [`Arc`]), but for at most [`FAILURE_TTL`], so that while the source is
//! failing it is asked at most once per `max_age` (or [`FAILURE_TTL`]), however many callers
//! retry, and once it recovers, callers see it within [`FAILURE_TTL`].

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::Error;

/// The longest a failed refresh is kept (a blip must not refuse every caller for a whole
/// `max_age`).
pub const FAILURE_TTL: Duration = Duration::from_secs(2);

/// A refresh's result, shared.
pub type Shared<T> = std::result::Result<Arc<T>, Arc<Error>>;

/// The last result, when it was made, and which refresh made it.
struct Entry<T> {
    at: Instant,
    generation: u64,
    result: Shared<T>,
}

impl<T> Entry<T> {
    /// Whether it is younger than `max_age` (a failure: than [`FAILURE_TTL`] too).
    fn fresh(&self, max_age: Duration) -> bool {
        let age = match self.result {
            Ok(_) => max_age,
            Err(_) => max_age.min(FAILURE_TTL),
        };
        self.at.elapsed() < age
    }
}

/// A value kept for a while (see the module docs).
pub struct Refreshed<T> {
    last: Mutex<Option<Entry<T>>>,
    /// Held while a refresh runs.
    refreshing: tokio::sync::Mutex<()>,
}

impl<T> Default for Refreshed<T> {
    fn default() -> Self {
        Self {
            last: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }
}

impl<T> Refreshed<T> {
    /// The last result if younger than `max_age`; else the result of the refresh running now
    /// (waited for), or of a new one made with `refresh`.
    pub async fn get<F, Fut>(&self, max_age: Duration, refresh: F) -> Shared<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = crate::Result<T>>,
    {
        let seen = {
            let last = self.lock();
            match last.as_ref() {
                Some(e) if e.fresh(max_age) => return e.result.clone(),
                Some(e) => Some(e.generation),
                None => None,
            }
        };
        let _one_at_a_time = self.refreshing.lock().await;
        // A refresh that ended while this caller waited is its answer too, however old.
        if let Some(e) = self.lock().as_ref()
            && (Some(e.generation) != seen || e.fresh(max_age))
        {
            return e.result.clone();
        }
        let result = refresh().await.map(Arc::new).map_err(Arc::new);
        let mut last = self.lock();
        let generation = last.as_ref().map_or(0, |e| e.generation.wrapping_add(1));
        *last = Some(Entry {
            at: Instant::now(),
            generation,
            result: result.clone(),
        });
        result
    }

    /// The last good value, however old.
    pub fn last_good(&self) -> Option<Arc<T>> {
        self.lock()
            .as_ref()
            .and_then(|e| e.result.as_ref().ok().cloned())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Entry<T>>> {
        // A panic while holding the lock leaves only a finished entry: use it as it is.
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Runs `callers` gets at once, the refresh blocked until every caller has asked; returns
    /// the results and how many refreshes ran.
    async fn at_once(
        cache: &Refreshed<u32>,
        callers: usize,
        fail: bool,
    ) -> (Vec<Shared<u32>>, usize) {
        let refreshes = AtomicUsize::new(0);
        let entered = AtomicUsize::new(0);
        let release = tokio::sync::Notify::new();
        let get = || async {
            // Counted before the get is first polled: once all have been counted, every caller
            // is either in the refresh or queued behind it.
            entered.fetch_add(1, Ordering::SeqCst);
            cache
                .get(Duration::from_secs(60), || async {
                    refreshes.fetch_add(1, Ordering::SeqCst);
                    release.notified().await;
                    if fail {
                        Err(Error::InvalidArgument("the source is down".into()))
                    } else {
                        Ok(7)
                    }
                })
                .await
        };
        let releaser = async {
            while entered.load(Ordering::SeqCst) < callers {
                tokio::task::yield_now().await;
            }
            release.notify_one();
        };
        let (results, ()) = tokio::join!(
            futures_util::future::join_all((0..callers).map(|_| get())),
            releaser
        );
        (results, refreshes.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn callers_during_a_refresh_share_it_and_its_value_is_kept() {
        let cache = Refreshed::default();
        let (results, refreshes) = at_once(&cache, 50, false).await;
        assert_eq!(refreshes, 1);
        let first = results[0].as_ref().unwrap();
        assert_eq!(**first, 7);
        assert!(
            results
                .iter()
                .all(|r| Arc::ptr_eq(r.as_ref().unwrap(), first))
        );
        let again = cache
            .get(Duration::from_secs(60), || async { Ok(8) })
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&again, first), "kept for max_age");
        let newer = cache.get(Duration::ZERO, || async { Ok(9) }).await.unwrap();
        assert_eq!(*newer, 9, "asked again once older than max_age");
    }

    #[tokio::test]
    async fn a_failure_is_shared_and_kept_like_a_value() {
        let cache = Refreshed::default();
        let (results, refreshes) = at_once(&cache, 20, true).await;
        assert_eq!(refreshes, 1, "one refresh, however many callers");
        let first = results[0].as_ref().unwrap_err();
        assert!(first.to_string().contains("the source is down"));
        assert!(
            results
                .iter()
                .all(|r| Arc::ptr_eq(r.as_ref().unwrap_err(), first))
        );
        let again = cache.get(Duration::from_secs(60), || async { Ok(1) }).await;
        assert!(
            Arc::ptr_eq(again.as_ref().unwrap_err(), first),
            "a failure is not retried within FAILURE_TTL"
        );
        assert_eq!(cache.last_good(), None);
    }
}
