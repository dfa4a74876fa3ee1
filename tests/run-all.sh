#!/usr/bin/env bash
# The README's test command: every Rust test (SQLite, and PostgreSQL when
# TEST_DATABASE_URL is set), then the PWA's unit and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
bash tests/pwa/run.sh
