//! Forwards the hall's event bus to the webview, as the SSE stream does for browsers: same event
//! names and data (docs/API.md "Live events"), wrapped as `{kind, data}` on the `hall:event` event.

use crate::tray::Tray;
use hall::events::HallEvent;
use hall::Hall;
use serde_json::{json, Value};
use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;

/// The Tauri event name (`TAURI_EVENT` in ui/src/lib/api.ts).
pub const HALL_EVENT: &str = "hall:event";

pub fn forward(app: AppHandle, hall: Hall, tray: Tray) {
    let mut rx = hall.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) => {
                    if matches!(event, HallEvent::Health(_) | HallEvent::Registry(_)) {
                        tray.refresh(&hall);
                    }
                    let _ = app.emit(HALL_EVENT, payload(&event));
                }
                // Like the SSE stream: tell the UI it missed events so it reloads its state.
                Err(RecvError::Lagged(missed)) => {
                    let _ = app.emit(
                        HALL_EVENT,
                        json!({"kind": "lagged", "data": {"missed": missed}}),
                    );
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

fn payload(event: &HallEvent) -> Value {
    let data: Value = serde_json::from_str(&event.data_json()).unwrap_or(Value::Null);
    json!({"kind": event.name(), "data": data})
}
