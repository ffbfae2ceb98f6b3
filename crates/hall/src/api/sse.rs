//! `GET /v1/events`: the event bus as Server-Sent Events.

use super::AppState;
use crate::events::HallEvent;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.hall.subscribe();
    Sse::new(stream(rx, state.shutdown.clone()))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
}

enum Next {
    Open,
    Done,
}

/// Ends on shutdown (so graceful shutdown is not held open by watchers) and after a `lagged`
/// notice: a client that missed events must reload state rather than show a silently wrong view.
fn stream(
    rx: broadcast::Receiver<HallEvent>,
    shutdown: watch::Receiver<bool>,
) -> impl Stream<Item = Result<Event, Infallible>> {
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
                Ok(event) => {
                    let sse = Event::default().event(event.name()).data(event.data_json());
                    Some((Ok(sse), (rx, shutdown, Next::Open)))
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "event subscriber lagged; closing its stream");
                    let sse = Event::default()
                        .event("lagged")
                        .data(format!("{{\"missed\":{missed}}}"));
                    Some((Ok(sse), (rx, shutdown, Next::Done)))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            }
        },
    )
}
