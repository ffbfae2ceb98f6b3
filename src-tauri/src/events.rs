//! Forwards the hall's event bus to the webview, as the SSE stream does for browsers: same event
//! names and data (docs/API.md "Live events"), as `{kind, data}` objects on the `hall:event` event.
//!
//! Events are sent in batches (an array, at most every [`FLUSH`]): every Tauri emit evaluates a
//! script in the webview, and one evaluation per decision at hundreds of decisions per second made
//! the WebKit process grow; a batch per 50 ms keeps that bounded and is still instant to a person.

use crate::tray::Tray;
use hall::events::HallEvent;
use hall::Hall;
use serde_json::{json, Value};
use std::time::Duration;
use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{timeout_at, Instant};

/// The Tauri event name (`TAURI_EVENT` in ui/src/lib/api.ts).
pub const HALL_EVENT: &str = "hall:event";
/// How long events are collected before they are sent.
const FLUSH: Duration = Duration::from_millis(50);
/// The largest batch sent at once.
const MAX_BATCH: usize = 2048;

pub fn forward(app: AppHandle, hall: Hall, tray: Tray) {
    let mut rx = hall.subscribe();
    tauri::async_runtime::spawn(async move {
        let mut open = true;
        while open {
            let mut batch = Vec::new();
            let mut refresh_tray = false;
            let mut deadline = None;
            while batch.len() < MAX_BATCH {
                let received = match deadline {
                    None => rx.recv().await,
                    Some(at) => match timeout_at(at, rx.recv()).await {
                        Ok(received) => received,
                        Err(_flush_time) => break,
                    },
                };
                deadline.get_or_insert_with(|| Instant::now() + FLUSH);
                match received {
                    Ok(event) => {
                        refresh_tray |= matches!(
                            event,
                            HallEvent::Health(_) | HallEvent::Registry(_) | HallEvent::Alert(_)
                        );
                        batch.push(payload(&event));
                    }
                    // Like the SSE stream: tell the UI it missed events so it reloads its state.
                    Err(RecvError::Lagged(missed)) => {
                        batch.push(json!({"kind": "lagged", "data": {"missed": missed}}))
                    }
                    Err(RecvError::Closed) => {
                        open = false;
                        break;
                    }
                }
            }
            if refresh_tray {
                tray.refresh(&hall);
            }
            if !batch.is_empty() {
                let _ = app.emit(HALL_EVENT, batch);
            }
        }
    });
}

fn payload(event: &HallEvent) -> Value {
    let data: Value = serde_json::from_str(&event.data_json()).unwrap_or(Value::Null);
    json!({"kind": event.name(), "data": data})
}
