#!/usr/bin/env bash
# Usage: tests/desktop/bundle.sh [release|debug]   (default release; ./test uses debug, which reuses
# the debug build the other tests made: the package check does not depend on the profile)
# Builds the desktop app AND its Debian package with one cargo build: the Tauri CLI
# (npm devDependency @tauri-apps/cli, a prebuilt binary) runs cargo, then packages the binary it
# built. Then checks the package: metadata, runtime dependencies, and that it carries exactly
# target/<profile>/proctor-desktop and the proctor CLI. Outputs: target/<profile>/proctor-desktop and
# target/<profile>/bundle/deb/Proctor_<version>_<arch>.deb. (AppImage is not built: its tools are
# downloaded from GitHub, which CI cannot reach; see docs/ui.md.)
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=${1:-release}
case "$profile" in
  release) cargo_profile=(--release); tauri_profile=() ;;
  debug) cargo_profile=(); tauri_profile=(--debug) ;;
  *) echo "usage: $0 [release|debug]" >&2; exit 2 ;;
esac

# The `proctor` CLI ships in the package beside the app (tauri.conf.json: bundle.linux.deb.files):
# the app's empty states and `proctor mcp` client configurations point at it.
cargo build "${cargo_profile[@]}" --locked -p proctor
# The app crate (with tauri.conf.json) and the frontend (ui/dist, built by beforeBuildCommand) are
# named explicitly rather than left to the CLI's directory search.
TAURI_APP_PATH=src-tauri TAURI_FRONTEND_PATH=ui ui/node_modules/.bin/tauri build "${tauri_profile[@]}" --ci --bundles deb \
  --config "{\"bundle\": {\"linux\": {\"deb\": {\"files\": {\"/usr/bin/proctor\": \"../target/$profile/proctor\"}}}}}" \
  -- --locked

version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' src-tauri/tauri.conf.json | head -1)
deb="target/$profile/bundle/deb/Proctor_${version}_$(dpkg --print-architecture).deb"
fail() { echo "bundle check: $deb: $*" >&2; exit 1; }
[ -f "$deb" ] || fail "not built"
info=$(dpkg-deb --info "$deb") || fail "not a Debian package"
contents=$(dpkg-deb --contents "$deb")
grep -q "^ Version: ${version}\$" <<<"$info" || fail "no Version: ${version} in its control file"
grep -q '^ Depends:.*libwebkit2gtk-4\.1-0' <<<"$info" || fail "does not depend on libwebkit2gtk-4.1-0"
grep -q '^ Depends:.*libayatana-appindicator3-1' <<<"$info" || fail "does not depend on libayatana-appindicator3-1 (tray icon)"
grep -qE ' usr/bin/proctor-desktop$' <<<"$contents" || fail "has no usr/bin/proctor-desktop"
grep -qE ' usr/bin/proctor$' <<<"$contents" || fail "has no usr/bin/proctor (the CLI)"
cmp -s "target/$profile/proctor" <(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - usr/bin/proctor) \
  || fail "usr/bin/proctor is not the binary in target/$profile/proctor"
grep -qE ' usr/share/applications/[^/]+\.desktop$' <<<"$contents" || fail "has no .desktop entry"
grep -qE ' usr/share/icons/hicolor/[^ ]+/apps/proctor-desktop\.png$' <<<"$contents" || fail "has no icon"
# The packaged binary is the one this build produced (and the smoke test runs), byte for byte but
# for the bundle-type marker the bundler patches into the packaged copy (UNK -> DEB, for updaters;
# the binary's other copies of the marker names stay as they are).
perl -0777 -pe 's/TAURI_BUNDLE_TYPE_VAR_UNK/TAURI_BUNDLE_TYPE_VAR_DEB/' "target/$profile/proctor-desktop" \
  | cmp -s - <(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - usr/bin/proctor-desktop) \
  || fail "usr/bin/proctor-desktop is not the binary in target/$profile/proctor-desktop"
echo "bundle check: $deb ($(du -h "$deb" | cut -f1)) ok"
