//! The tray icon: a one-line health summary, and quick actions (show the window, open the
//! approvals or the alerts, quit). The summary is refreshed on every health transition,
//! registry change and alert; while the ledger cannot write, it says so instead.

use hall::Hall;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager, Wry};

pub struct Tray {
    summary: MenuItem<Wry>,
    icon: tauri::tray::TrayIcon<Wry>,
}

impl Tray {
    pub fn build(app: &AppHandle) -> tauri::Result<Tray> {
        let summary = MenuItem::with_id(app, "summary", "Starting…", false, None::<&str>)?;
        let show = MenuItem::with_id(app, "show", "Show Proctor", true, None::<&str>)?;
        let approvals = MenuItem::with_id(app, "approvals", "Open approvals", true, None::<&str>)?;
        let alerts = MenuItem::with_id(app, "alerts", "Open alerts", true, None::<&str>)?;
        let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
        let separator = PredefinedMenuItem::separator(app)?;
        let menu = Menu::with_items(
            app,
            &[&summary, &separator, &show, &approvals, &alerts, &quit],
        )?;
        let mut builder = TrayIconBuilder::with_id("main")
            .tooltip("Proctor")
            .menu(&menu)
            .on_menu_event(|app, event| {
                match event.id.as_ref() {
                    "show" => show_main(app),
                    // The UI navigates by URL hash; it listens for `tray:navigate` to open a screen.
                    screen @ ("approvals" | "alerts") => {
                        show_main(app);
                        let _ = app.emit("tray:navigate", screen);
                    }
                    "quit" => app.exit(0),
                    _ => {}
                }
            });
        if let Some(icon) = app.default_window_icon() {
            builder = builder.icon(icon.clone());
        }
        Ok(Tray {
            summary,
            icon: builder.build(app)?,
        })
    }

    pub fn refresh(&self, hall: &Hall) {
        let (text, tooltip) = match hall.ledger_unwritable() {
            Some(alert) => (
                "Ledger cannot write: every decision is denied".to_string(),
                alert.message,
            ),
            None => {
                let text = summary_line(&hall.workers());
                (text.clone(), text)
            }
        };
        let _ = self.summary.set_text(&text);
        let _ = self.icon.set_tooltip(Some(format!("Proctor — {tooltip}")));
    }
}

/// "3 workers: 2 healthy, 1 stale" (states with zero workers left out).
pub fn summary_line(workers: &[hall::WorkerView]) -> String {
    if workers.is_empty() {
        return "No workers enrolled".to_string();
    }
    let mut counts = std::collections::BTreeMap::new();
    for w in workers {
        // No health yet = never sent a heartbeat = offline (docs/API.md).
        let state = w.health.as_ref().map_or("offline", |h| h.state.as_str());
        *counts.entry(state).or_insert(0usize) += 1;
    }
    let parts: Vec<String> = ["healthy", "degraded", "stale", "offline"]
        .iter()
        .filter_map(|s| counts.get(*s).map(|n| format!("{n} {s}")))
        .collect();
    format!("{} workers: {}", workers.len(), parts.join(", "))
}

pub fn show_main(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
