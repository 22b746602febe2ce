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

# The unit tests that open a store run a second time on PostgreSQL: one
# throwaway server (tests/support/pg_server.sh) for the whole run, each store a
# fresh schema of its database (tests/unit/store_target.h reads GH_TEST_PG).
# Skipped, with a note, when PostgreSQL's server programs are not installed.
pg_url=""
pg_dir=""
pg_stop() { [ -n "$pg_dir" ] && tests/support/pg_server.sh stop "$pg_dir/pg" >/dev/null 2>&1; [ -n "$pg_dir" ] && rm -rf "$pg_dir"; }
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || [ -x "$(pg_config --bindir 2>/dev/null)/initdb" ]; then
  pg_dir=$(mktemp -d)
  chmod 0711 "$pg_dir"   # the server runs as nobody when we are root
  trap pg_stop EXIT
  if info=$(tests/support/pg_server.sh start "$pg_dir/pg") &&
     tests/support/pg_server.sh psql "$pg_dir/pg" "CREATE DATABASE gh_unit OWNER gatehouse" >/dev/null; then
    pg_port=$(sed -n 's/^conninfo=.* port=\([0-9]*\).*/\1/p' <<<"$info")
    pg_url="postgresql://gatehouse:$(cat "$pg_dir/pg/password")@127.0.0.1:$pg_port/gh_unit"
  else
    echo "FAIL  starting PostgreSQL for the unit tests"; failed=$((failed + 1)); failures+=("unit[postgresql] server")
  fi
else
  echo "note: PostgreSQL's server programs are not installed: unit tests run on SQLite only"
fi

timings=$(mktemp)
run() { # name command...
  local name=$1; shift
  local log start secs
  log=$(mktemp)
  start=$(date +%s%N)
  if timeout -k 10 "$STEP_TIMEOUT" "$@" >"$log" 2>&1; then
    secs=$(( ($(date +%s%N) - start) / 1000000 ))
    passed=$((passed + 1)); printf 'ok    %s (%d.%01ds)\n' "$name" $((secs / 1000)) $((secs % 1000 / 100))
  else
    secs=$(( ($(date +%s%N) - start) / 1000000 ))
    failed=$((failed + 1)); failures+=("$name"); echo "FAIL  $name"; tail -n 40 "$log" | sed 's/^/      /'
  fi
  printf '%d %s\n' "$secs" "$name" >>"$timings"
  rm -f "$log"
}

for dir in "$BUILD" "$ASAN"; do
  for t in "$dir"/test_*; do
    [ -x "$t" ] && run "$(basename "$dir")/$(basename "$t")" "$t"
  done
  # again on PostgreSQL: every test that opens a store on the normal build,
  # the store and audit tests on the sanitizer build (test_store_postgres
  # starts its own server and covers both backends already)
  if [ -n "$pg_url" ]; then
    if [ "$dir" = "$BUILD" ]; then pg_tests=("$dir"/test_store* "$dir"/test_audit* "$dir"/test_gov_*)
    else pg_tests=("$dir"/test_store* "$dir"/test_audit*); fi
    for t in "${pg_tests[@]}"; do
      [ -x "$t" ] && [ "$(basename "$t")" != test_store_postgres ] &&
        run "$(basename "$dir")/unit[postgresql] $(basename "$t")" env GH_TEST_PG="$pg_url" "$t"
    done
  fi
  for f in "$dir"/fuzz_*; do
    [ -x "$f" ] || continue
    corpus=tests/fuzz/corpus/$(basename "$f" | sed 's/^fuzz_//')
    run "$(basename "$dir")/$(basename "$f") (corpus)" "$f" "$corpus"
  done
  for e in tests/e2e/test_*.py; do
    [ -f "$e" ] && run "$(basename "$dir")/e2e/$(basename "$e")" python3 "$e" --bin "$dir/gatehouse"
  done
done
pg_stop   # the unit tests' server; the PostgreSQL e2e pass below starts its own
pg_dir=""
# The end-to-end suite again on PostgreSQL (normal build only): one cluster
# for the whole pass, a fresh database for each server (tests/e2e/ghtest.py).
# E2E_PG=0 leaves it out. Files listed in PG_SKIP run on SQLite only (see
# docs/operations.md and the comment at each name).
E2E_PG=${E2E_PG:-1}
PG_SKIP=" test_docs_run.py test_quickstart.py "  # documented commands on the demo file; no store code of their own
if [ "$E2E_PG" != 0 ] && [ -x "$BUILD/gatehouse" ]; then
  pgbase=$(mktemp -d)
  chmod 0711 "$pgbase"          # the server runs as nobody when we are root
  trap 'tests/support/pg_server.sh stop "$pgbase/pg" >/dev/null 2>&1; rm -rf "$pgbase"' EXIT
  if tests/support/pg_server.sh start "$pgbase/pg" >/dev/null 2>"$pgbase/start.log"; then
    pgstart=$(date +%s)
    for e in tests/e2e/test_*.py; do
      case "$PG_SKIP" in *" $(basename "$e") "*) continue ;; esac
      run "e2e[postgresql] $(basename "$e" .py)" env GH_TEST_BACKEND=postgresql \
        GH_TEST_PG_DIR="$pgbase/pg" python3 "$e" --bin "$BUILD/gatehouse"
    done
    echo "e2e on PostgreSQL: $(( $(date +%s) - pgstart )) s"
  else
    failed=$((failed + 1)); failures+=("e2e[postgresql] cluster"); echo "FAIL  e2e[postgresql] cluster"
    sed 's/^/      /' "$pgbase/start.log"
  fi
fi
run "cedar conformance" ./tests/cedar/run_conformance.sh "$BUILD"
run "cedar differential" ./tests/cedar/run_differential.sh "$BUILD"

if [ -n "$FUZZ" ]; then
  for f in "$FUZZ"/fuzz_*; do
    [ -x "$f" ] && run "libfuzzer/$(basename "$f") (${FUZZ_SECONDS}s)" \
      ./tests/fuzz/run.sh "$FUZZ" "$FUZZ_SECONDS" "$(basename "$f")"
  done
fi

echo
echo "slowest steps (seconds):"
sort -rn "$timings" | head -n 8 | awk '{ printf "  %6.1f  ", $1 / 1000; $1 = ""; sub(/^ /, ""); print }'
rm -f "$timings"
if [ ${#failures[@]} -gt 0 ]; then printf 'failed: %s\n' "${failures[@]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
