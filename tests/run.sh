#!/usr/bin/env bash
# The whole suite: unit tests, fuzz smoke and end-to-end tests, on the normal
# build and on the ASan+UBSan build. Ends with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ASAN=${2:-build-asan}
FUZZ=${3:-}                      # libFuzzer build; its targets run for FUZZ_SECONDS each
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
STEP_TIMEOUT=${STEP_TIMEOUT:-900}  # seconds; a hung step fails instead of stalling CI
passed=0
failed=0
failures=()

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run() { # name command...
  local name=$1; shift
  local log
  log=$(mktemp)
  if timeout -k 10 "$STEP_TIMEOUT" "$@" >"$log" 2>&1; then
    passed=$((passed + 1)); echo "ok    $name"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "FAIL  $name"; tail -n 40 "$log" | sed 's/^/      /'
  fi
  rm -f "$log"
}

for dir in "$BUILD" "$ASAN"; do
  for t in "$dir"/test_*; do
    [ -x "$t" ] && run "$(basename "$dir")/$(basename "$t")" "$t"
  done
  for f in "$dir"/fuzz_*; do
    [ -x "$f" ] || continue
    corpus=tests/fuzz/corpus/$(basename "$f" | sed 's/^fuzz_//')
    run "$(basename "$dir")/$(basename "$f") (corpus)" "$f" "$corpus"
  done
  for e in tests/e2e/test_*.py; do
    [ -f "$e" ] && run "$(basename "$dir")/e2e/$(basename "$e")" python3 "$e" --bin "$dir/gatehouse"
  done
done
run "cedar conformance" ./tests/cedar/run_conformance.sh "$BUILD"
run "cedar differential" ./tests/cedar/run_differential.sh "$BUILD"

if [ -n "$FUZZ" ]; then
  for f in "$FUZZ"/fuzz_*; do
    [ -x "$f" ] && run "libfuzzer/$(basename "$f") (${FUZZ_SECONDS}s)" \
      ./tests/fuzz/run.sh "$FUZZ" "$FUZZ_SECONDS" "$(basename "$f")"
  done
fi

echo
if [ ${#failures[@]} -gt 0 ]; then printf 'failed: %s\n' "${failures[@]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
