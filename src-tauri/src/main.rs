// Prevents an extra console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    proctor_desktop::fix_posix_locale();
    proctor_desktop::run()
}
