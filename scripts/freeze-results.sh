#!/usr/bin/env bash
# Freeze the numbers before an engine change, and compare after.
#
#   scripts/freeze-results.sh BINARY DIR     writes fixed-seed outputs into DIR and DIR.sums
#
# Run it with the binary before the change and again after, then `diff before.sums after.sums`:
# every results.json, CSV, log, chart, report, fitted scenario and printed table of the default,
# variants, validation and canonical scenarios, a replayed stream, a sweep, a sharded run and
# its merge must be byte-identical, unless the change means to alter results (and says so).
# DIR is replaced. Paths inside the outputs are normalised, so DIRs may differ.
set -euo pipefail
B=$(realpath "$1"); D=$(realpath -m "$2")
cd "$(dirname "$0")/.."
rm -rf "$D"; mkdir -p "$D"
CANONICAL=../shared/bench/canonical-config-b.toml
$B -q run -r 4 --seed 11 --force --csv --hourly --log calls,units -o "$D/default" >/dev/null
$B -q run scenarios/variants.toml -r 3 --seed 12 --force --csv --hourly -o "$D/variants" >/dev/null
$B -q run scenarios/validation/erlang_b.toml -r 3 --seed 13 --force -o "$D/erlang_b" >/dev/null
$B -q run scenarios/validation/erlang_c.toml -r 3 --seed 14 --force -o "$D/erlang_c" >/dev/null
if [ -f "$CANONICAL" ]; then
  $B -q run "$CANONICAL" -r 2 --seed 15 --force -o "$D/canonical" >/dev/null
fi
$B -q generate --days 30 --seed 16 -r 2 -o "$D/calls.csv" --force >/dev/null
$B -q replay "$D/calls.csv" -r 2 --seed 17 --force -o "$D/replay" >/dev/null
$B -q sweep --vary care.count=0,4,8 -r 2 --seed 18 --force -o "$D/sweep" \
  --target "eligible.response_p90 <= 20" >/dev/null
$B -q run -r 4 --seed 11 --force --shard 1/2 -o "$D/shard1" >/dev/null
$B -q run -r 4 --seed 11 --force --shard 2/2 -o "$D/shard2" >/dev/null
$B -q merge "$D/shard1" "$D/shard2" -o "$D/merged" --force >/dev/null
$B -q fit "$D/calls.csv" -o "$D/fitted.toml" --force >/dev/null
$B validate scenarios/variants.toml > "$D/validate.txt"
$B run -r 3 --seed 11 -o "$D/table" --force > "$D/table.txt" 2>&1
$B default-scenario > "$D/default-scenario.toml"
$B -q report "$D/default" "$D/sweep" -o "$D/report.html"
$B -q plot "$D/sweep/sweep.json" --out "$D/plot-sweep"
$B -q plot "$D/variants" --out "$D/plot-variants"
grep -rlF "$D" "$D" | xargs -r sed -i "s#$D#FREEZE#g"
# The lock and manifest of an output directory are bookkeeping, not results.
(cd "$D" && find . -type f ! -name '.crisis-sim.*' | sort | xargs sha256sum) > "$D.sums"
echo "$(wc -l < "$D.sums") files: $D.sums"
