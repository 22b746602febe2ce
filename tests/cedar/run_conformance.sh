#!/usr/bin/env bash
# run_conformance.sh BUILD - Cedar conformance of the policy library (the
# runner BUILD/cedar_conformance, tests/cedar/conformance.c) over the
# handwritten tests and the generated corpus; fails when a pass count falls
# below its floor in tests/cedar/floor.txt, or when the validator agrees
# with fewer tests' shouldValidate than its floor (the NAME_validation
# lines). The Cedar folder is $GH_CEDAR_DIR, by default <repo>/../shared/cedar.
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
BUILD=${1:?usage: tests/cedar/run_conformance.sh BUILD}
CEDAR=${GH_CEDAR_DIR:-$REPO/../shared/cedar}
FLOOR=tests/cedar/floor.txt
BIN=$BUILD/cedar_conformance
CORPUS=$BUILD/cedar-corpus
TIME_LIMIT=${GH_CEDAR_TIMEOUT:-900}   # seconds per run

[ -x "$BIN" ] || { echo "no $BIN: build first (make build, or the cedar_conformance target)"; exit 2; }
[ -d "$CEDAR/tests" ] && [ -f "$CEDAR/corpus-tests.tar.gz" ] ||
  { echo "no Cedar tests in $CEDAR (set GH_CEDAR_DIR)"; exit 2; }
[ -f "$FLOOR" ] || { echo "no $FLOOR"; exit 2; }

# The corpus is extracted once per build folder, never into tracked files.
mkdir -p "$BUILD" || exit 2
case "$(cd "$BUILD" && pwd)/" in
  "$REPO"/*)
    if ! git -C "$REPO" check-ignore -q "$CORPUS" 2>/dev/null && [ -d "$REPO/.git" -o -f "$REPO/.git" ]; then
      echo "$CORPUS is inside the source tree and not ignored: refusing to extract there"; exit 2
    fi ;;
esac
if [ ! -f "$CORPUS/.extracted" ]; then
  rm -rf "$CORPUS" "$CORPUS.tmp"
  mkdir -p "$CORPUS.tmp" &&
    tar -xzf "$CEDAR/corpus-tests.tar.gz" -C "$CORPUS.tmp" &&
    mv "$CORPUS.tmp" "$CORPUS" && touch "$CORPUS/.extracted" ||
    { echo "could not extract $CEDAR/corpus-tests.tar.gz into $CORPUS"; rm -rf "$CORPUS.tmp"; exit 2; }
fi

floor_of() { # name
  awk -v n="$1" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }' "$FLOOR"
}

status=0
check() { # name dir
  local name=$1 dir=$2 out rc summary passed failed total floor rate
  out=$(mktemp)
  if command -v timeout >/dev/null; then
    timeout "$TIME_LIMIT" "$BIN" "$dir" >"$out" 2>/dev/null
  else
    "$BIN" "$dir" >"$out" 2>/dev/null
  fi
  rc=$?
  summary=$(tail -n 1 "$out")
  # exit 1 only says some tests failed; anything else is a broken run
  if [ "$rc" -gt 1 ] || ! [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    echo "$name: the run did not finish (exit $rc): $summary"
    rm -f "$out"; status=1; return
  fi
  passed=${BASH_REMATCH[1]}; failed=${BASH_REMATCH[2]}
  total=$((passed + failed))
  floor=$(floor_of "$name")
  rate=$(awk -v p="$passed" -v t="$total" 'BEGIN { printf "%.1f", t ? 100 * p / t : 0 }')
  echo "$name: $passed/$total requests passed ($rate%), floor $floor; $(grep '^validation:' "$out")"
  if [ "$passed" -lt "$floor" ]; then
    echo "$name: FAIL: $passed passed is below the floor of $floor"; status=1
  elif [ "$passed" -gt "$floor" ]; then
    echo "$name: above the floor: set '$name $passed' in $FLOOR"
  fi
  # validation: how many tests' shouldValidate the validator agrees with
  local vline agree vfloor
  vline=$(grep '^validation:' "$out")
  vfloor=$(floor_of "${name}_validation")
  if ! [[ $vline =~ ^validation:\ ([0-9]+)\ agree, ]]; then
    echo "$name: FAIL: no validation summary line"; status=1
  else
    agree=${BASH_REMATCH[1]}
    if [ "$agree" -lt "$vfloor" ]; then
      echo "$name: FAIL: validation agrees on $agree, below the floor of $vfloor"; status=1
    elif [ "$agree" -gt "$vfloor" ]; then
      echo "$name: validation above the floor: set '${name}_validation $agree' in $FLOOR"
    fi
  fi
  rm -f "$out"
}

check handwritten "$CEDAR"
check corpus "$CORPUS"
exit $status
