#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD for SECONDS each, seeded from its corpus;
# fails on any crash, leak or sanitizer report. New inputs go to a scratch dir;
# tests/fuzz/<name>.dict, when there is one, is the target's dictionary.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-10}
ONLY=${3:-}
passed=0
failed=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for f in "$BUILD"/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  [ -n "$ONLY" ] && [ "$name" != "$ONLY" ] && continue
  corpus=tests/fuzz/corpus/${name#fuzz_}
  dict=tests/fuzz/${name#fuzz_}.dict
  dictarg=()
  [ -f "$dict" ] && dictarg=(-dict="$dict")
  scratch=$(mktemp -d)
  log=$(mktemp)
  if "$f" -max_total_time="$SECONDS_EACH" -max_len=70000 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       "${dictarg[@]}" -artifact_prefix="$scratch/" "$scratch" "$corpus" >"$log" 2>&1; then
    passed=$((passed + 1)); echo "ok    libfuzzer/$name ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}') runs)"
  else
    failed=$((failed + 1)); echo "FAIL  libfuzzer/$name"; tail -n 40 "$log" | sed 's/^/      /'
    ls "$scratch"/crash-* "$scratch"/leak-* 2>/dev/null | sed 's/^/      artifact: /'
  fi
  rm -rf "$log"
  find "$scratch" -maxdepth 1 -name 'crash-*' -o -name 'leak-*' | grep -q . || rm -rf "$scratch"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
