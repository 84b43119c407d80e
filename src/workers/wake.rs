//! One LISTEN connection for every queue of the process.
//!
//! apalis-postgres's own pub/sub opens a listener per queue, each pinning a
//! pooled connection for the life of the process: five queues took half of
//! the default pool of ten before any job ran. Here one task listens on
//! `apalis::job::insert` and wakes the queue named in each notification.
//! A wake is only a hint to fetch now; every queue also polls, so a lost
//! notification (the listener reconnecting) delays a job by at most one
//! poll interval and never loses it.
//!
//! Every wake is echoed once, [`ECHO_AFTER`] later. apalis takes a wake
//! whenever it polls the queue, even while a fetch is already under way:
//! that fetch read the queue before the new job was committed and comes
//! back without it, and the wake is spent. Without the echo such a job
//! waited for the next poll (up to 250 ms, 6 % of replies in
//! `cargo bench --bench sms_e2e`); with it, a few milliseconds. An echo
//! costs one fetch that usually finds nothing, and wakes in a burst
//! coalesce, their echoes too.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use futures::channel::mpsc;
use serde::Deserialize;
use sqlx::PgPool;
use sqlx::postgres::PgListener;

/// The channel apalis-postgres notifies on every insert.
const CHANNEL: &str = "apalis::job::insert";
/// How long after a wake its echo comes: longer than a fetch that was
/// under way when the wake came takes to return.
const ECHO_AFTER: Duration = Duration::from_millis(20);
/// Reconnection backoff bounds after the listener's connection is lost.
const RECONNECT_MIN: Duration = Duration::from_millis(200);
const RECONNECT_MAX: Duration = Duration::from_secs(10);

/// Fans one listener out to the queues of this process. Cheap to clone.
#[derive(Clone, Default)]
pub struct WakeHub {
    /// Queue name → the wake channels of that queue's live workers (a
    /// restarted worker subscribes again; closed channels are dropped on
    /// the next notification).
    subscribers: Arc<Mutex<HashMap<String, Vec<mpsc::Sender<()>>>>>,
}

impl WakeHub {
    /// Starts listening on one connection from `pool`, until the process ends.
    pub fn start(pool: PgPool) -> Self {
        let hub = WakeHub::default();
        tokio::spawn(hub.clone().listen(pool));
        hub
    }

    /// A stream that yields whenever `queue` may have a new job. Wakes
    /// coalesce: a burst of inserts wakes a waiting worker once.
    pub fn subscribe(&self, queue: &str) -> Wakes {
        let (sender, receiver) = mpsc::channel(0);
        self.lock()
            .entry(queue.to_owned())
            .or_default()
            .push(sender);
        Wakes {
            receiver,
            echo: None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<mpsc::Sender<()>>>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.subscribers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn wake(&self, queue: Option<&str>) {
        let mut subscribers = self.lock();
        for (name, senders) in subscribers.iter_mut() {
            if queue.is_some_and(|q| q != name) {
                continue;
            }
            // Full means a wake is already pending: nothing to add.
            senders.retain_mut(|s| match s.try_send(()) {
                Ok(()) => true,
                Err(e) => !e.is_disconnected(),
            });
        }
    }

    async fn listen(self, pool: PgPool) {
        let mut delay = RECONNECT_MIN;
        loop {
            match self.listen_once(&pool).await {
                Ok(()) => delay = RECONNECT_MIN,
                Err(e) => {
                    tracing::warn!(error = %e, "job listener lost its connection; reconnecting");
                    metrics::counter!("jobs_listener_reconnects_total").increment(1);
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RECONNECT_MAX);
        }
    }

    async fn listen_once(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        // Inserts made while no one listened would otherwise wait a poll.
        self.wake(None);
        loop {
            let notification = listener.recv().await?;
            match serde_json::from_str::<Insert>(notification.payload()) {
                Ok(insert) => self.wake(Some(&insert.job_type)),
                Err(_) => self.wake(None),
            }
        }
    }
}

#[derive(Deserialize)]
struct Insert {
    job_type: String,
}

/// The wake-ups of one queue's worker, each followed by its echo.
pub struct Wakes {
    receiver: mpsc::Receiver<()>,
    /// The echo of the latest wake, while it is pending.
    echo: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Stream for Wakes {
    type Item = ();

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        match Pin::new(&mut self.receiver).poll_next(cx) {
            Poll::Ready(Some(())) => {
                self.echo = Some(Box::pin(tokio::time::sleep(ECHO_AFTER)));
                return Poll::Ready(Some(()));
            }
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        if let Some(echo) = self.echo.as_mut()
            && echo.as_mut().poll(cx).is_ready()
        {
            self.echo = None;
            return Poll::Ready(Some(()));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{FutureExt, StreamExt};

    /// Bounds a wait that must end; never reached when the code is right.
    const PATIENCE: Duration = Duration::from_secs(10);

    #[tokio::test]
    async fn a_wake_comes_back_once_as_its_echo() {
        let hub = WakeHub::default();
        let mut wakes = hub.subscribe("q");
        hub.wake(Some("q"));
        assert_eq!(wakes.next().now_or_never(), Some(Some(())), "the wake");
        assert_eq!(wakes.next().now_or_never(), None, "the echo comes later");
        let echo = tokio::time::timeout(PATIENCE, wakes.next()).await;
        assert_eq!(echo, Ok(Some(())), "the echo");
        tokio::time::sleep(ECHO_AFTER * 3).await;
        assert_eq!(wakes.next().now_or_never(), None, "one echo per wake");
    }

    #[tokio::test]
    async fn only_the_queue_named_is_woken() {
        let hub = WakeHub::default();
        let mut wakes = hub.subscribe("q");
        let mut others = hub.subscribe("other");
        hub.wake(Some("other"));
        assert_eq!(others.next().now_or_never(), Some(Some(())));
        tokio::time::sleep(ECHO_AFTER * 3).await;
        assert_eq!(wakes.next().now_or_never(), None);
    }
}
