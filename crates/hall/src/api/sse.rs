//! `GET /v1/events`: the event bus as Server-Sent Events.

use super::error::ApiError;
use super::AppState;
use crate::events::HallEvent;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Extension;
use futures_util::{Stream, StreamExt};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub async fn events(
    State(state): State<AppState>,
    Extension(open): Extension<Arc<Subscribers>>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let slot = open.join()?;
    let frames = frames(state.hall.subscribe(), state.shutdown.clone());
    // The slot lives as long as the stream: a client that leaves frees it.
    let events = frames.map(move |(name, data)| {
        let _ = &slot;
        Ok(Event::default().event(name).data(data))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive")))
}

/// The open event streams, at most `max` (`sse_max_subscribers`): every publish visits every
/// subscriber, so unbounded streams would slow routing for all.
pub struct Subscribers {
    open: AtomicUsize,
    max: usize,
}

/// One open stream's place; given back on drop.
pub struct Slot(Arc<Subscribers>);

impl Subscribers {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            open: AtomicUsize::new(0),
            max,
        })
    }

    fn join(self: &Arc<Self>) -> Result<Slot, ApiError> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .map(|_| Slot(self.clone()))
            .map_err(|_| {
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TOO_MANY_SUBSCRIBERS",
                    format!(
                        "{} event streams are open, the most this hall allows \
                         (sse_max_subscribers); close one and retry",
                        self.max
                    ),
                )
            })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

enum Next {
    Open,
    Done,
}

/// `(event name, JSON data)` frames. Ends on shutdown (so graceful shutdown is not held open by
/// watchers) and right after a `lagged` notice: a client that missed events must reload its
/// state rather than show a silently wrong view.
fn frames(
    rx: broadcast::Receiver<HallEvent>,
    shutdown: watch::Receiver<bool>,
) -> impl Stream<Item = (&'static str, String)> {
    futures_util::stream::unfold(
        (rx, shutdown, Next::Open),
        |(mut rx, mut shutdown, next)| async move {
            if matches!(next, Next::Done) || *shutdown.borrow() {
                return None;
            }
            let received = tokio::select! {
                r = rx.recv() => r,
                _ = shutdown.changed() => return None,
            };
            match received {
                Ok(event) => Some((
                    (event.name(), event.data_json()),
                    (rx, shutdown, Next::Open),
                )),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "event subscriber lagged; closing its stream");
                    let data = format!("{{\"missed\":{missed}}}");
                    Some((("lagged", data), (rx, shutdown, Next::Done)))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{EventBus, RegistryEvent, Source};

    fn event() -> HallEvent {
        HallEvent::Registry(RegistryEvent {
            source: Source::Rules,
            ok: true,
            workers: 0,
            rules: 0,
            at: chrono::Utc::now(),
            message: String::new(),
        })
    }

    #[tokio::test]
    async fn a_lagging_subscriber_is_told_and_its_stream_ends() {
        let bus = EventBus::with_capacity(4);
        let (_stop, shutdown) = watch::channel(false);
        let stream = frames(bus.subscribe(), shutdown);
        for _ in 0..10 {
            bus.publish(event());
        }
        let got: Vec<_> = stream.collect().await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "lagged");
        assert_eq!(got[0].1, r#"{"missed":6}"#);
    }

    #[test]
    fn subscribers_beyond_the_cap_are_refused_until_one_leaves() {
        let open = Subscribers::new(2);
        let a = open.join().unwrap();
        let _b = open.join().unwrap();
        let refused = open.join().err().unwrap();
        assert_eq!(
            (refused.status, refused.code),
            (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_SUBSCRIBERS")
        );
        assert!(
            refused.message.starts_with("2 event streams are open"),
            "{}",
            refused.message
        );
        drop(a);
        assert!(open.join().is_ok());
    }

    #[tokio::test]
    async fn shutdown_ends_the_stream() {
        let bus = EventBus::with_capacity(4);
        let (stop, shutdown) = watch::channel(false);
        let mut stream = Box::pin(frames(bus.subscribe(), shutdown));
        bus.publish(event());
        assert_eq!(stream.next().await.unwrap().0, "registry");
        stop.send(true).unwrap();
        assert!(stream.next().await.is_none());
    }
}
