#!/usr/bin/env bash
# The explorer as its users see it, on the built-in default city (release build): runs the
# browser test's script (tests/explorer/e2e.mjs, headless Debian Chromium via playwright-core)
# against `crisis-sim serve`, writes the screenshots into docs/ and prints the timings
# BENCHMARKS.md records (care-team slider moved from 8 to 12: time to the first figures and to
# the last of REPLICATIONS replications).
#
#   scripts/explorer-screenshots.sh [REPLICATIONS]        (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-20}
cargo build --release -q
[ -d tests/explorer/node_modules/playwright-core ] || npm ci --prefix tests/explorer --no-audit --no-fund --silent
work=$(mktemp -d)
./target/release/crisis-sim default-scenario \
  | sed "s/^replications = 10$/replications = $REPS/" > "$work/city.toml"
./target/release/crisis-sim serve "$work/city.toml" --port 0 > "$work/serve.out" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q '^Explorer:' "$work/serve.out" && break; sleep 0.1; done
url=$(awk '/^Explorer:/ {print $2}' "$work/serve.out")
node tests/explorer/e2e.mjs "$url" "$work" docs
cat "$work/timings.json"
