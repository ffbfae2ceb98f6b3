//! `GET /v1/events`: the event bus as Server-Sent Events.

use super::AppState;
use crate::events::HallEvent;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let frames = frames(state.hall.subscribe(), state.shutdown.clone());
    let events = frames.map(|(name, data)| Ok(Event::default().event(name).data(data)));
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
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
