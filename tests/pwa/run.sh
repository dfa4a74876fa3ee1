#!/usr/bin/env bash
# Tests of the mobile PWA: Vitest unit tests, then Playwright (playwright-core) driving
# Debian's Chromium against the real `reserv serve --demo` on a fresh SQLite database.
# Installs what is missing (Chromium from apt, npm packages), builds the server with the
# app embedded, and prints the app's size and offline start-up figures.
# Uses the caller's CARGO_TARGET_DIR, so it shares the caller's build.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target="${CARGO_TARGET_DIR:-$root/target}"

if ! command -v chromium >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

cd mobile-pwa
[ -d node_modules ] && [ ! package-lock.json -nt node_modules/.package-lock.json ] || npm ci --no-audit --no-fund
npm test

# The server's build (server/webapp/build.rs) builds the app when its sources changed
# and embeds mobile-pwa/dist.
(cd "$root" && cargo build -p reserv)
[ -f dist/index.html ] || { echo "the app was not built (see the cargo warnings above)" >&2; exit 1; }

initial_js=$(grep -o 'src="/assets/[^"]*\.js"\|href="/assets/[^"]*\.js"' dist/index.html | sed 's/.*="\/\(.*\)"/dist\/\1/' | sort -u)
gzipped=0
for file in $initial_js dist/assets/workbox-window*.js; do
  [ -f "$file" ] && gzipped=$((gzipped + $(gzip -9c "$file" | wc -c)))
done
echo "initial-load JavaScript, gzipped: $gzipped bytes"

export PWA_TEST_OUTPUT="${PWA_TEST_OUTPUT:-$root/mobile-pwa/test-results}"
PWA_SERVER_BIN="$target/debug/reserv" node e2e/run.mjs
echo "screenshots in $PWA_TEST_OUTPUT"
