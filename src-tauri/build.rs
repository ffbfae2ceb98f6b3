// The Tauri config (`tauri.conf.json`) and capabilities (`capabilities/`) live next to this crate,
// where the Tauri CLI looks for them when it bundles the app (tests/desktop/bundle.sh).
// The app manifest lists our commands so that each one needs an explicit permission in a
// capability file: the webview can call only what `capabilities/main.json` grants.
include!("src/command_names.rs");

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes)
        .expect("tauri-build failed: check tauri.conf.json and capabilities/");
}
