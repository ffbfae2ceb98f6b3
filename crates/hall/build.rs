//! rust-embed (`api/ui.rs`) embeds `ui/dist` and tracks the files it embedded, not the directory:
//! without this, a UI built after the hall (or a rebuilt one with new hashed names) would not
//! be picked up until something else changed.
fn main() {
    println!("cargo:rerun-if-changed=../../ui/dist");
    if !std::path::Path::new("../../ui/dist/index.html").is_file() {
        println!(
            "cargo:warning=ui/dist is not built: this hall will serve no web UI \
             (npm --prefix ui run build, then build again)"
        );
    }
}
