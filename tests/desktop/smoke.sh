#!/usr/bin/env bash
# Desktop smoke test: builds the UI and the Tauri app (debug unless PROCTOR_DESKTOP_BIN names a
# binary already built), then runs tests/desktop/smoke.mjs under Xvfb with tauri-driver and
# Debian's WebKitWebDriver. Prints `N passed, N failed`; exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v WebKitWebDriver >/dev/null || { echo "smoke: WebKitWebDriver missing (apt-get install webkit2gtk-driver)" >&2; exit 2; }
command -v tauri-driver >/dev/null || [ -x "$HOME/.cargo/bin/tauri-driver" ] || cargo install tauri-driver --locked
if [ -z "${PROCTOR_DESKTOP_BIN:-}" ]; then
  [ -f ui/dist/index.html ] || npm --prefix ui run build
  cargo build -p proctor-desktop -p proctor
fi
exec xvfb-run -a node tests/desktop/smoke.mjs
