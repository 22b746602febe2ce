#!/usr/bin/env bash
# run_differential.sh BUILD - differential test of BUILD/gatehouse's Cedar engine against
# the reference (@cedar-policy/cedar-wasm): a self-check of the reference, a fixed-seed
# batch held to the floor in tests/cedar/differential_floor.txt, a batch seeded from the
# date (reported, not held), and the recorded regressions (tests/cedar/regressions) held
# to their floor. Without the reference installed: "skipped" (exit 0), or exit 1 when CI=true.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:?usage: tests/cedar/run_differential.sh BUILD}
BIN=$BUILD/gatehouse
CONFORMANCE=$BUILD/cedar_conformance
DIFF=tests/cedar/differential
FLOOR=tests/cedar/differential_floor.txt
REGRESSIONS=tests/cedar/regressions
CASES=${GH_DIFF_CASES:-300}
SEED=${GH_DIFF_SEED:-1}
DATE_SEED=${GH_DIFF_DATE_SEED:-$(date -u +%Y%m%d)}
export GH_CEDAR_DIR=${GH_CEDAR_DIR:-$(pwd)/../shared/cedar}

[ -x "$BIN" ] || { echo "no $BIN: build first"; exit 2; }
[ -x "$CONFORMANCE" ] || { echo "no $CONFORMANCE: build first"; exit 2; }
[ -f "$FLOOR" ] || { echo "no $FLOOR"; exit 2; }
if ! command -v node >/dev/null || [ ! -d "$DIFF/node_modules/@cedar-policy/cedar-wasm" ]; then
  echo "cedar differential: skipped: node or $DIFF/node_modules missing (run scripts/install-deps.sh)"
  [ "${CI:-}" = true ] && { echo "cedar differential: FAIL: the reference must be installed in CI"; exit 1; }
  exit 0
fi

# node 20's optimizing compiler now and then dies in a deoptimization (a V8 fatal error,
# seen once in a few thousand cases) while running the wasm reference: run without it
# (about 30% slower, the reference side only), and run a batch killed by a signal once more
NODE="node --no-opt"

floor_of() { # name
  awk -v n="$1" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }' "$FLOOR"
}

# 1. the reference must give the known answers, or every comparison below is void
$NODE "$DIFF/differential.mjs" --self-check || { echo "cedar differential: FAIL: the reference self-check failed"; exit 1; }

# 2. the harness itself: with the reference playing Gatehouse (through the same files and
# command line) every case must agree, and with a broken one every case must disagree
FAKE=$DIFF/reference_cli.mjs
HARNESS_CASES=${GH_DIFF_HARNESS_CASES:-5}
h_ok=$($NODE "$DIFF/differential.mjs" --bin "$FAKE" --seed 7 --cases "$HARNESS_CASES" | grep '^differential: ')
h_bad=$(GH_DIFF_BREAK=1 $NODE "$DIFF/differential.mjs" --bin "$FAKE" --seed 7 --cases "$HARNESS_CASES" | grep '^differential: ')
if [ "$h_ok" != "differential: $HARNESS_CASES agree, 0 disagree of $HARNESS_CASES cases (seed 7)" ] ||
   [ "$h_bad" != "differential: 0 agree, $HARNESS_CASES disagree of $HARNESS_CASES cases (seed 7)" ]; then
  echo "cedar differential: FAIL: the harness check: reference vs itself: '$h_ok'; vs a broken copy: '$h_bad'"; exit 1
fi
echo "harness check: the reference agrees with itself and a broken copy is caught ($HARNESS_CASES cases each)"

status=0
batch() { # name seed - prints the summary; sets $agree
  local name=$1 seed=$2 out rc summary
  out=$(mktemp)
  $NODE "$DIFF/differential.mjs" --bin "$BIN" --seed "$seed" --cases "$CASES" >"$out" 2>&1
  rc=$?
  if [ "$rc" -ge 128 ]; then
    echo "$name: node died (exit $rc); once more"
    $NODE "$DIFF/differential.mjs" --bin "$BIN" --seed "$seed" --cases "$CASES" >"$out" 2>&1
    rc=$?
  fi
  summary=$(grep '^differential: ' "$out" | tail -n 1)
  if [ "$rc" -ne 0 ] || ! [[ $summary =~ ^differential:\ ([0-9]+)\ agree,\ ([0-9]+)\ disagree ]]; then
    cat "$out"; echo "$name: the run did not finish (exit $rc)"; rm -f "$out"; status=1; agree=-1; return
  fi
  agree=${BASH_REMATCH[1]}
  [ "${BASH_REMATCH[2]}" -gt 0 ] && head -n 12 "$out"
  grep '^time: ' "$out"
  echo "$name: $summary"
  [ "${BASH_REMATCH[2]}" -gt 0 ] &&
    echo "$name: to keep them: node $DIFF/differential.mjs --bin $BIN --seed $seed --cases $CASES --record"
  rm -f "$out"
}

# 3. the fixed seed: deterministic, so its agreement count is held to the floor
batch fixed "$SEED"
floor=$(floor_of agree)
if [ "$agree" -ge 0 ]; then
  if [ "$agree" -lt "$floor" ]; then
    echo "fixed: FAIL: $agree agree is below the floor of $floor"; status=1
  elif [ "$agree" -gt "$floor" ]; then
    echo "fixed: above the floor: set 'agree $agree' in $FLOOR"
  fi
fi

# 4. a seed from the date: new cases every day; reported, not held (rerun with GH_DIFF_DATE_SEED)
batch "date (seed $DATE_SEED)" "$DATE_SEED"

# 5. the recorded regressions, through the conformance runner
if compgen -G "$REGRESSIONS/*.json" >/dev/null; then
  out=$(mktemp)
  "$CONFORMANCE" "$REGRESSIONS" >"$out" 2>&1
  rc=$?
  summary=$(tail -n 1 "$out")
  floor=$(floor_of regressions)
  if [ "$rc" -gt 1 ] || ! [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    cat "$out"; echo "regressions: the run did not finish (exit $rc)"; status=1
  else
    passed=${BASH_REMATCH[1]}
    echo "regressions: $summary, floor $floor"
    if [ "$passed" -lt "$floor" ]; then
      echo "regressions: FAIL: $passed passed is below the floor of $floor"; status=1
    elif [ "$passed" -gt "$floor" ]; then
      echo "regressions: above the floor: set 'regressions $passed' in $FLOOR"
    fi
  fi
  rm -f "$out"
else
  echo "regressions: none recorded"
fi
exit $status
