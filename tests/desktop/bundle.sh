#!/usr/bin/env bash
# Usage: tests/desktop/bundle.sh [release|debug]   (default release; ./test uses debug)
# release: builds the desktop app AND its Debian package with one cargo build: the Tauri CLI
# (npm devDependency @tauri-apps/cli, a prebuilt binary) runs cargo, then packages the binary it
# built.
# debug: packages the debug build that `cargo test --workspace` makes (./test's), the very binaries
# the tests ran, with `tauri bundle`: nothing is compiled again. (`tauri build`, or a
# `cargo build -p ...`, resolves features for the desktop or CLI package alone, not as the
# workspace's test build did, and would compile the Tauri, MCP and ledger trees a second time.)
# Then checks the package: metadata, runtime dependencies, and that it carries exactly
# target/<profile>/proctor-desktop and the proctor CLI. Outputs: target/<profile>/proctor-desktop and
# target/<profile>/bundle/deb/Proctor_<version>_<arch>.deb. (AppImage is not built: its tools are
# downloaded from GitHub, which CI cannot reach; see docs/ui.md.)
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=${1:-release}
# Where cargo builds (CARGO_TARGET_DIR, else target/), as an absolute path: the Tauri CLI resolves
# bundle paths from src-tauri/.
target=$(realpath -m "${CARGO_TARGET_DIR:-target}")
[ "$profile" = release ] || [ "$profile" = debug ] || { echo "usage: $0 [release|debug]" >&2; exit 2; }
# The `proctor` CLI ships in the package beside the app (tauri.conf.json: bundle.linux.deb.files):
# the app's empty states and `proctor mcp` client configurations point at it.
deb_files="{\"bundle\": {\"linux\": {\"deb\": {\"files\": {\"/usr/bin/proctor\": \"$target/$profile/proctor\"}}}}}"
# The app crate (with tauri.conf.json) and the frontend (ui/dist) are named explicitly rather than
# left to the CLI's directory search.
tauri() { TAURI_APP_PATH=src-tauri TAURI_FRONTEND_PATH=ui ui/node_modules/.bin/tauri "$@"; }
if [ "$profile" = release ]; then
  cargo build --release --locked -p proctor
  # Builds ui/dist (beforeBuildCommand) and the app, then packages it.
  tauri build --ci --bundles deb --config "$deb_files" -- --locked
else
  # A no-op after ./test's build (the same command); standalone, it builds what the tests would.
  cargo test --workspace --locked --no-run
  tauri bundle --debug --ci --bundles deb --config "$deb_files"
fi

version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' src-tauri/tauri.conf.json | head -1)
deb="$target/$profile/bundle/deb/Proctor_${version}_$(dpkg --print-architecture).deb"
fail() { echo "bundle check: $deb: $*" >&2; exit 1; }
[ -f "$deb" ] || fail "not built"
info=$(dpkg-deb --info "$deb") || fail "not a Debian package"
contents=$(dpkg-deb --contents "$deb")
grep -q "^ Version: ${version}\$" <<<"$info" || fail "no Version: ${version} in its control file"
grep -q '^ Depends:.*libwebkit2gtk-4\.1-0' <<<"$info" || fail "does not depend on libwebkit2gtk-4.1-0"
grep -q '^ Depends:.*libayatana-appindicator3-1' <<<"$info" || fail "does not depend on libayatana-appindicator3-1 (tray icon)"
grep -qE ' usr/bin/proctor-desktop$' <<<"$contents" || fail "has no usr/bin/proctor-desktop"
grep -qE ' usr/bin/proctor$' <<<"$contents" || fail "has no usr/bin/proctor (the CLI)"
cmp -s "$target/$profile/proctor" <(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - usr/bin/proctor) \
  || fail "usr/bin/proctor is not the binary in target/$profile/proctor"
grep -qE ' usr/share/applications/[^/]+\.desktop$' <<<"$contents" || fail "has no .desktop entry"
grep -qE ' usr/share/icons/hicolor/[^ ]+/apps/proctor-desktop\.png$' <<<"$contents" || fail "has no icon"
# The packaged binary is the one this build produced (and the smoke test runs), byte for byte but
# for the bundle-type marker the bundler patches into the packaged copy (UNK -> DEB, for updaters;
# the binary's other copies of the marker names stay as they are).
perl -0777 -pe 's/TAURI_BUNDLE_TYPE_VAR_UNK/TAURI_BUNDLE_TYPE_VAR_DEB/' "$target/$profile/proctor-desktop" \
  | cmp -s - <(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - usr/bin/proctor-desktop) \
  || fail "usr/bin/proctor-desktop is not the binary in target/$profile/proctor-desktop"
echo "bundle check: $deb ($(du -h "$deb" | cut -f1)) ok"
