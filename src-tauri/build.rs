// The Tauri config lives at the repository top level (see ARCHITECTURE notes), so point
// tauri-build at it; capabilities stay next to this crate in `capabilities/`.
// The app manifest lists our commands so that each one needs an explicit permission in a
// capability file: the webview can call only what `capabilities/main.json` grants.
include!("src/command_names.rs");

fn main() {
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes)
        .expect("tauri-build failed: check ../tauri.conf.json and capabilities/");
}
