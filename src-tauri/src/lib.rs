//! Proctor desktop: a thin Tauri v2 shell over the hall.
//!
//! - `embedded`: the hall, started in-process from its data dir, serving its HTTP API on loopback
//!   and answering the webview's `hall_call` through the same API router.
//! - `commands`: `hall_call`, the one Tauri command: any API operation by its name in the hall's
//!   endpoint table (granted in capabilities/main.json).
//! - `events`: every hall event forwarded to the webview as `hall:event` `{kind, data}`.
//! - `tray`: health summary and quick actions.
//! - `sqlite_heap`: a ceiling on SQLite's page cache, so the app's memory levels off.
//!
//! No business logic lives here: everything is `hall::Hall` behind its API.

mod commands;
mod embedded;
mod error;
mod events;
pub mod sqlite_heap;
mod tray;

pub use embedded::{EmbeddedHall, StartOptions, NOT_FROM_WEBVIEW};
pub use error::{CommandError, StartError};

use tauri::{Manager, RunEvent};

/// Adds the command to `builder` (the real one in `run`, Tauri's mock builder in tests).
pub fn builder<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![commands::hall_call])
}

pub fn run() {
    init_logs();
    let app = builder(tauri::Builder::default())
        // Must be the first plugin: a second launch focuses the running window and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tray::show_main(app)
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            let started = StartOptions::from_env()
                .and_then(|options| tauri::async_runtime::block_on(EmbeddedHall::start(options)));
            let hall = started.map_err(|e| {
                tracing::error!(error = %e, "the embedded hall did not start");
                eprintln!("proctor-desktop: {e}");
                Box::new(e) as Box<dyn std::error::Error>
            })?;
            // A machine-readable line so scripts (and the desktop smoke test) find the API.
            println!("listening on http://{}", hall.addr);
            let tray = tray::Tray::build(app.handle())?;
            tray.refresh(&hall.hall);
            events::forward(app.handle().clone(), hall.hall.clone(), tray);
            app.manage(hall);
            Ok(())
        })
        .build(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("proctor-desktop: cannot start: {e}");
            std::process::exit(1);
        });
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            // Drain the HTTP API and flush the ledger before the process ends.
            if let Some(hall) = app.try_state::<EmbeddedHall>() {
                tauri::async_runtime::block_on(hall.shutdown());
            }
        }
    });
}

/// Under the POSIX locale (`LANG=C`, common in containers and CI) WebKitGTK reports the language
/// tag "C", which every `Intl` constructor in the webview rejects with a RangeError, so the UI (and
/// uPlot) cannot even load. Give the webview a valid tag instead. Call before anything else runs.
pub fn fix_posix_locale() {
    let lang = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    let posix = match lang.as_deref() {
        None => true,
        Some(v) => v == "C" || v == "POSIX" || v.starts_with("C.") || v.starts_with("POSIX."),
    };
    if posix {
        // Single-threaded at this point (first thing in main), so changing the environment is sound.
        std::env::remove_var("LC_ALL");
        std::env::remove_var("LC_MESSAGES");
        std::env::set_var("LANG", "en_US.UTF-8");
    }
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
