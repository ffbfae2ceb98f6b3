// The Tauri config lives at the repository top level (see ARCHITECTURE notes), so point
// tauri-build at it; capabilities stay next to this crate in `capabilities/`.
fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
        .expect("tauri-build failed: check ../tauri.conf.json and capabilities/");
}
