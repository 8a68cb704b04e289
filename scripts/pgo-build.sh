#!/usr/bin/env bash
# A profile-guided (PGO) release build of crisis-sim: about a fifth faster on the engine, the
# same outputs byte for byte (the script checks, with scripts/freeze-results.sh). For long
# studies: sweeps, back-tests, Slurm or Kubernetes arrays, the explorer on a big scenario.
#
#   scripts/pgo-build.sh            writes target/pgo/crisis-sim (and target/pgo/one_replication)
#
# Exit status: 0 built and checked; 1 a step failed, or the PGO build's results differed (then
# nothing is installed); 3 this machine lacks llvm-profdata and rustup could not add it.
#
# How: build an instrumented binary, run it on the built-in scenarios (the default city under
# every policy, the policy variants, the canonical two-pool model, the queueing-theory checks,
# Boone County, a sweep), merge the profile, build again with it. The compiler then lays out
# and inlines the hot paths by measured counts. It changes no arithmetic: floating-point results are the same.
# The profile is made fresh from the current source every time, so it is never stale.
#
# Needs rustup's llvm-tools component (for llvm-profdata); the script adds it if rustup is there.
# Takes 5 to 7 minutes: two release builds, half a minute of training, the check's runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/target/pgo
# Cargo would take these over RUSTFLAGS, and build without the profile flags.
unset CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS

host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ] && command -v rustup >/dev/null 2>&1; then
  echo "Adding rustup's llvm-tools component (for llvm-profdata)..." >&2
  rustup component add llvm-tools >/dev/null 2>&1 || rustup component add llvm-tools-preview >/dev/null 2>&1 || true
fi
if [ ! -x "$profdata" ]; then
  # Exit 3: this machine cannot make a PGO build (CI tells this apart from a failure).
  echo "error: no llvm-profdata at $profdata (rustup component add llvm-tools)" >&2
  exit 3
fi

rm -rf "$WORK/profiles" "$WORK/training" "$WORK/merged.profdata" "$WORK"/check*
mkdir -p "$WORK/profiles" "$WORK/training"

echo "1/4 Building the instrumented binary..." >&2
RUSTFLAGS="-Cprofile-generate=$WORK/profiles" \
  cargo build --release --quiet --target-dir "$WORK/instrumented" --bin crisis-sim --example one_replication
TRAIN=$WORK/instrumented/release/crisis-sim
ONE=$WORK/instrumented/release/examples/one_replication

echo "2/4 Training runs..." >&2
# Summary statistics, as studies run; logs are a small part (their code is cold in a study).
T=$WORK/training
$TRAIN -q run -r 4 --seed 1 --force --csv -o "$T/default"
$TRAIN -q run scenarios/variants.toml -r 2 --seed 2 --force -o "$T/variants"
$TRAIN -q run benches/canonical-config-b.toml -r 2 --seed 3 --force -o "$T/canonical"
$TRAIN -q run scenarios/validation/erlang_c.toml -r 2 --seed 4 --force -o "$T/erlang_c"
$TRAIN -q run scenarios/validation/erlang_b.toml -r 2 --seed 5 --force -o "$T/erlang_b"
$TRAIN -q sweep --vary care.count=4,8 -r 2 --seed 6 --force -o "$T/sweep"
$TRAIN -q run scenarios/boone-county.toml -r 2 --seed 7 --force --hourly -o "$T/boone"
# The one-thread engine on its own, as the benchmarks run it.
$ONE default 365 2 >/dev/null
$ONE benches/canonical-config-b.toml 365 2 police_only >/dev/null
$ONE benches/canonical-config-b.toml 365 2 care_first >/dev/null

echo "3/4 Merging the profile..." >&2
if ! ls "$WORK/profiles"/*.profraw >/dev/null 2>&1; then
  echo "error: the training runs wrote no profile into $WORK/profiles" >&2
  exit 1
fi
"$profdata" merge -o "$WORK/merged.profdata" "$WORK/profiles"

echo "4/4 Building with the profile..." >&2
# From scratch: cargo does not see a new profile under the same flags, and every crate should
# be built with this one.
rm -rf "$WORK/optimized"
RUSTFLAGS="-Cprofile-use=$WORK/merged.profdata" \
  cargo build --release --quiet --target-dir "$WORK/optimized" --bin crisis-sim --example one_replication

# The same outputs, byte for byte, from the instrumented (plain-optimised) build and the PGO
# build: scripts/freeze-results.sh's fixed-seed runs (results, CSVs, logs, charts, the report,
# a sweep, shards and their merge). The instrumented runs' counts go to files the profile no
# longer reads.
PGO=$WORK/optimized/release/crisis-sim
LLVM_PROFILE_FILE="$WORK/check-profiles/%p.profraw" scripts/freeze-results.sh "$TRAIN" "$WORK/check-plain" >/dev/null
scripts/freeze-results.sh "$PGO" "$WORK/check-pgo" >/dev/null
if ! cmp -s "$WORK/check-plain.sums" "$WORK/check-pgo.sums"; then
  echo "error: the PGO build's outputs differ from the plain build's; not installing it:" >&2
  diff "$WORK/check-plain.sums" "$WORK/check-pgo.sums" | head -20 >&2
  exit 1
fi

# Installed by rename, so a reader never sees half a binary.
cp "$PGO" "$WORK/crisis-sim.tmp" && mv "$WORK/crisis-sim.tmp" "$WORK/crisis-sim"
cp "$WORK/optimized/release/examples/one_replication" "$WORK/one_replication.tmp"
mv "$WORK/one_replication.tmp" "$WORK/one_replication"
echo "PGO build: target/pgo/crisis-sim ($(wc -l < "$WORK/check-pgo.sums") fixed-seed outputs checked byte-identical to the plain build)" >&2
