#!/usr/bin/env bash
# Issue #18's yardstick: crisis-sim's engine against the hand-written loop for the canonical
# two-pool model (../shared/bench/rust_floor, engine d4), one thread, one simulated year per
# replication, interleaved trials in one session. Prints calls/s per trial, the medians and the
# ratio crisis-sim / floor for each policy, and the median of each trial's own ratio (paired).
# Each trial also times the floor's own general version (engine `heap`: one event list for
# every kind of event, std's binary heap), the same loop with a general event queue and nothing
# else that crisis-sim does: the ratio d4 / heap is what generality alone costs the floor.
#
#   scripts/vs-floor.sh [TRIALS] [REPLICATIONS]        (defaults 5 and 10)
#   PGO=1 scripts/vs-floor.sh ...     also times the PGO build (scripts/pgo-build.sh makes it)
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-5}
REPS=${2:-10}
SCENARIO=../shared/bench/canonical-config-b.toml
FLOOR_DIR=../shared/bench/rust_floor
[ -f "$SCENARIO" ] && [ -d "$FLOOR_DIR" ] || { echo "needs ../shared/bench (the canonical scenario and rust_floor)" >&2; exit 2; }
export CARGO_TARGET_DIR_FLOOR=${CARGO_TARGET_DIR_FLOOR:-target/rust_floor}
cargo build --release -q --manifest-path "$FLOOR_DIR/Cargo.toml" --target-dir "$CARGO_TARGET_DIR_FLOOR"
cargo build --release -q --example one_replication
FLOOR="$CARGO_TARGET_DIR_FLOOR/release/rust_floor"
OURS=target/release/examples/one_replication
PGO_BIN=target/pgo/one_replication
if [ -n "${PGO:-}" ] && [ ! -x "$PGO_BIN" ]; then
  echo "PGO=1 needs $PGO_BIN: run scripts/pgo-build.sh first" >&2; exit 2
fi
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# Calls/s of one run of the floor (engine $2) and of one of ours (binary $2), policy $1.
floor_rate() {
  "$FLOOR" --policy "$1" --lam 60 --P 60 --K 15 --e 0.3 --horizon 8760 --warmup 0 \
    --reps "$REPS" --engine "$2" | grep -o '"calls_per_sec": [0-9.e+]*' | awk '{print $2}'
}
our_rate() {
  "$2" "$SCENARIO" 365 "$REPS" "$1" | awk '{for(i=1;i<=NF;i++) if($i=="measured") c=$(i-1); s=$(NF-1); print c/s}'
}
# Each trial runs them back to back, so its own ratio cancels the host's drift between trials
# (this shared VM's speed moves by up to 2x): the median of those is the firmer figure.
pair_ratio() { paste "$1" "$2" | awk '{print $1/$2}' | median; }
for policy in police_only care_first; do
  : > /tmp/vs-floor.$$.floor; : > /tmp/vs-floor.$$.ours; : > /tmp/vs-floor.$$.pgo; : > /tmp/vs-floor.$$.general
  for _ in $(seq "$TRIALS"); do
    floor_rate "$policy" d4 >> /tmp/vs-floor.$$.floor
    floor_rate "$policy" heap >> /tmp/vs-floor.$$.general
    our_rate "$policy" "$OURS" >> /tmp/vs-floor.$$.ours
    if [ -n "${PGO:-}" ]; then
      our_rate "$policy" "$PGO_BIN" >> /tmp/vs-floor.$$.pgo
    fi
  done
  f=$(median < /tmp/vs-floor.$$.floor); o=$(median < /tmp/vs-floor.$$.ours)
  printf '%-12s floor %s  crisis-sim %s  (trials: floor %s | ours %s)\n' "$policy" \
    "$(awk -v x="$f" 'BEGIN{printf "%.2f M/s", x/1e6}')" "$(awk -v x="$o" 'BEGIN{printf "%.2f M/s", x/1e6}')" \
    "$(awk '{printf "%.2f ", $1/1e6}' /tmp/vs-floor.$$.floor)" "$(awk '{printf "%.2f ", $1/1e6}' /tmp/vs-floor.$$.ours)"
  awk -v f="$f" -v o="$o" -v p="$policy" 'BEGIN{printf "%-12s ratio crisis-sim / floor = %.3f (target >= 0.5)\n", p, o/f}'
  printf '%-12s paired: median of the per-trial ratios = %.3f\n' "$policy" \
    "$(pair_ratio /tmp/vs-floor.$$.ours /tmp/vs-floor.$$.floor)"
  printf '%-12s the floor'"'"'s general version (engine heap) %s: paired, heap / d4 = %.3f, crisis-sim / heap = %.3f\n' \
    "$policy" "$(awk -v x="$(median < /tmp/vs-floor.$$.general)" 'BEGIN{printf "%.2f M/s", x/1e6}')" \
    "$(pair_ratio /tmp/vs-floor.$$.general /tmp/vs-floor.$$.floor)" \
    "$(pair_ratio /tmp/vs-floor.$$.ours /tmp/vs-floor.$$.general)"
  if [ -n "${PGO:-}" ]; then
    g=$(median < /tmp/vs-floor.$$.pgo)
    printf '%-12s PGO build %s  (trials: %s)\n' "$policy" "$(awk -v x="$g" 'BEGIN{printf "%.2f M/s", x/1e6}')" \
      "$(awk '{printf "%.2f ", $1/1e6}' /tmp/vs-floor.$$.pgo)"
    awk -v f="$f" -v g="$g" -v p="$policy" 'BEGIN{printf "%-12s ratio PGO build / floor = %.3f (target >= 0.5)\n", p, g/f}'
    printf '%-12s paired: median of the per-trial PGO ratios = %.3f\n' "$policy" "$(pair_ratio /tmp/vs-floor.$$.pgo /tmp/vs-floor.$$.floor)"
  fi
done
rm -f /tmp/vs-floor.$$.*
