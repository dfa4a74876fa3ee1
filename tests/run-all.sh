#!/usr/bin/env bash
# The README's test command: every Rust test (SQLite, and PostgreSQL when
# TEST_DATABASE_URL is set), then the PWA's unit and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# The OIDC tests sign in at a real provider (npm oidc-provider) run by node.
[ -d tests/oidc-provider/node_modules/oidc-provider ] || npm ci --prefix tests/oidc-provider --no-audit --no-fund
cargo test --workspace
bash tests/pwa/run.sh
