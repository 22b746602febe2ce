#!/usr/bin/env bash
# Builds (release) and runs every benchmark on fresh databases; prints the
# results. Not a test: nothing here passes or fails on timing.
#   bench/run.sh [BUILD]            BUILD defaults to build/
#   BENCH_ONLY=audit|merkle|expiry|lifecycle|policy|cerbos|decision|provision  run one of them
#   BENCH_MERKLE_BIG (10000000), BENCH_MERKLE_PROOFS (10000)  the merkle part's proof log
#   BENCH_PROVISION (1000), BENCH_WORKERS (2)  the provisioning part (a real PostgreSQL)
#   BENCH_DECISIONS (20000), BENCH_IDENTITIES (10000)  the decision part
#   BENCH_POLICY_SECONDS (4), BENCH_POLICY_WASM=full,slice  the policy part (needs node + npm)
#   BENCH_CERBOS_SECONDS (5), BENCH_CERBOS_CLIENTS (1,4), BENCH_CERBOS_BATCH (50; 0 = none),
#   BENCH_POLICY_CERBOS (1; 0 = the policy part leaves Cerbos out)  the cerbos part (node + npm)
#   BENCH_EVENTS, BENCH_GRANTS, BENCH_EXPIRING, BENCH_SECONDS, BENCH_LEVELS  sizes
#   BENCH_BACKEND=sqlite|postgresql (sqlite)  the lifecycle and expiry parts' database;
#     postgresql: a throwaway server (tests/support/pg_server.sh, fsync on) in the temp dir
#   BENCH_NODES (1)  lifecycle on PostgreSQL: that many `gatehouse serve` on the one database,
#     each on its own port; bench_lifecycle's clients spread round-robin over them
#   BENCH_SERVER (BUILD/gatehouse)  the server binary the lifecycle part runs (e.g. another
#     commit's build, with this checkout's client: before/after with one load generator)
#   BENCH_SERVE_ARGS  more `gatehouse serve` options
#   BENCH_EXPIRY_MODE (both; T = the scheduler thread only, D = the direct call only),
#   BENCH_EXPIRY_RUNS (1), BENCH_EXPIRY_SEED (SQLite: a seed file kept between invocations,
#     bench_expiry -S)  the expiry part
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ONLY=${BENCH_ONLY:-all}
EVENTS=${BENCH_EVENTS:-1000000}
GRANTS=${BENCH_GRANTS:-1000000}
EXPIRING=${BENCH_EXPIRING:-10000}
SECONDS_PER_LEVEL=${BENCH_SECONDS:-10}
LEVELS=${BENCH_LEVELS:-1,8,64}
BACKEND=${BENCH_BACKEND:-sqlite}
NODES=${BENCH_NODES:-1}
SERVER=${BENCH_SERVER:-$BUILD/gatehouse}
case "$BACKEND" in sqlite|postgresql) ;; *) echo "BENCH_BACKEND must be sqlite or postgresql" >&2; exit 2 ;; esac
if ! [[ "$NODES" =~ ^[1-9][0-9]?$ ]] || { [ "$NODES" -gt 1 ] && [ "$BACKEND" != postgresql ]; }; then
  echo "BENCH_NODES: 1 to 99, more than 1 only with BENCH_BACKEND=postgresql (one SQLite file has one server)" >&2; exit 2
fi

if [ ! -x "$BUILD/bench_lifecycle" ] || [ ! -x "$BUILD/bench_policy" ] || [ ! -x "$BUILD/bench_decision" ] || [ ! -x "$BUILD/gatehouse" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build "$BUILD" -j "$(nproc)" >/dev/null || exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gh-bench-XXXXXX")
SERVER_PID=
NODE_PIDS=()
PG_DIR=
# stop_pid PID: TERM, up to 10 s, then KILL
stop_pid() {
  kill -0 "$1" 2>/dev/null || return 0
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null
}
cleanup() {
  [ -n "$SERVER_PID" ] && stop_pid "$SERVER_PID"
  for p in "${NODE_PIDS[@]}"; do stop_pid "$p"; done
  [ -n "$PG_DIR" ] && tests/support/pg_server.sh stop "$PG_DIR" >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# pg_start: a PostgreSQL server of this run in $TMP/pg (fsync on: commits are
# durable, as synchronous=FULL is on SQLite); the gatehouse role's password in
# PGPASSWORD, which libpq reads, so no URL below carries it.
pg_start() {
  [ -n "$PG_DIR" ] && return 0
  chmod 711 "$TMP"   # the server runs as nobody when we are root
  if ! GH_PG_FSYNC=on tests/support/pg_server.sh start "$TMP/pg" >"$TMP/pg.out" 2>"$TMP/pg.err"; then
    echo "pg_server.sh start failed: $(tail -c 300 "$TMP/pg.err")"; return 1
  fi
  PG_DIR="$TMP/pg"
  PGPASSWORD=$(cat "$PG_DIR/password"); export PGPASSWORD
  echo "# postgresql: $(tests/support/pg_server.sh psql "$PG_DIR" 'SHOW server_version' | head -n 1), fsync=$(tests/support/pg_server.sh psql "$PG_DIR" 'SHOW fsync' | head -n 1), synchronous_commit=$(tests/support/pg_server.sh psql "$PG_DIR" 'SHOW synchronous_commit' | head -n 1), on 127.0.0.1:$(cat "$PG_DIR/port")"
}
# pg_db NAME [TEMPLATE]: a fresh database owned by gatehouse; prints its URL
pg_db() {
  tests/support/pg_server.sh psql "$PG_DIR" "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 &&
  tests/support/pg_server.sh psql "$PG_DIR" "CREATE DATABASE $1 OWNER gatehouse TEMPLATE ${2:-template0} ENCODING 'UTF8' LOCALE 'C'" >/dev/null &&
  echo "postgresql://gatehouse@127.0.0.1:$(cat "$PG_DIR/port")/$1"
}
pg_drop() { tests/support/pg_server.sh psql "$PG_DIR" "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1; }

status=0
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "# disk: $(df -h "$TMP" | awk 'NR==2 {print $1, $2}') ($(findmnt -n -o FSTYPE -T "$TMP" 2>/dev/null || echo '?'))"
echo "# commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?'); server: $SERVER; backend: $BACKEND, nodes: $NODES"
echo "# load: $(cat /proc/loadavg)"

# cerbos_part DIR: the governance workload bench_policy wrote in DIR, translated
# to Cerbos policies and decided by the Cerbos server (npm
# @cerbos/cerbos-linux-x64, bench/cerbos/package.json) on 127.0.0.1 over HTTP.
cerbos_part() {
  local dir=$1 csecs=${BENCH_CERBOS_SECONDS:-5} batch=${BENCH_CERBOS_BATCH:-50}
  local bin=bench/cerbos/node_modules/@cerbos/cerbos-linux-x64/cerbos-linux-x64
  echo "## cerbos: the governance workload as Cerbos resource policies, POST /api/check/resources on loopback (${csecs}s per level)"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "cerbos: skipped (no node/npm)"; return 0
  fi
  if ! (cd bench/cerbos && npm install --no-audit --no-fund --no-package-lock --silent >/dev/null 2>"$TMP/npm-cerbos.err"); then
    echo "cerbos: npm install failed: $(head -c 300 "$TMP/npm-cerbos.err")"; status=1; return 0
  fi
  echo "# cerbos $("$bin" --version 2>&1 | head -n 1)"
  node bench/cerbos/bench.js gen "$dir" "$TMP/cerbos-policies" || { status=1; return 0; }
  local port gport
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  gport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf '%s\n' 'server:' "  httpListenAddr: \"127.0.0.1:$port\"" "  grpcListenAddr: \"127.0.0.1:$gport\"" \
    'storage:' '  driver: disk' '  disk:' "    directory: \"$TMP/cerbos-policies\"" '    watchForChanges: false' \
    'audit:' '  enabled: false' 'telemetry:' '  disabled: true' >"$TMP/cerbos.yaml"
  # --log-level=warn: at info Cerbos logs every request (about 1 KB each)
  CERBOS_NO_TELEMETRY=1 "$bin" server --config="$TMP/cerbos.yaml" --log-level=warn >"$TMP/cerbos.out" 2>"$TMP/cerbos.err" &
  SERVER_PID=$!
  local up=0
  for _ in $(seq 1 300); do
    if curl -sf "http://127.0.0.1:$port/_cerbos/health" >/dev/null 2>&1; then up=1; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ $up -eq 1 ]; then
    for c in $(echo "${BENCH_CERBOS_CLIENTS:-1,4}" | tr , ' '); do
      node bench/cerbos/bench.js floor "$dir" "http://127.0.0.1:$port" "$csecs" "$c" || status=1
      node bench/cerbos/bench.js run "$dir" "http://127.0.0.1:$port" "$csecs" "$c" || status=1
      if [ "$batch" -gt 1 ]; then
        node bench/cerbos/bench.js run "$dir" "http://127.0.0.1:$port" "$csecs" "$c" "$batch" || status=1
      fi
    done
  else
    echo "cerbos: server did not come up: $(tail -c 300 "$TMP/cerbos.err") $(tail -c 300 "$TMP/cerbos.out")"; status=1
  fi
  kill -TERM "$SERVER_PID" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null; echo "cerbos server exit=$?"
  SERVER_PID=
}

if [ "$ONLY" != policy ] && [ "$ONLY" != cerbos ] && [ "$ONLY" != decision ] && [ "$ONLY" != merkle ] && [ "$BACKEND" = sqlite ]; then
echo "## floor: bare SQLite durable commits on this disk (the peer for every write below)"
"$BUILD/bench_sqlite_floor" "$TMP/floor.db" 3 || status=1
fi

if [ "$ONLY" = all ] || [ "$ONLY" = audit ]; then
  echo "## audit verify ($EVENTS events)"
  "$BUILD/bench_audit_verify" -n "$EVENTS" -d "$TMP/audit.db" || status=1
  for i in 1 2 3; do
    start=$(date +%s.%N)
    "$BUILD/gatehouse" --db "$TMP/audit.db" audit verify >/dev/null 2>"$TMP/verify.err"
    rc=$?
    end=$(date +%s.%N)
    echo "cli_audit_verify run=$i exit=$rc seconds=$(echo "$end - $start" | bc)"
    [ $rc -eq 0 ] || { status=1; head -n 3 "$TMP/verify.err"; }
  done
  rm -f "$TMP"/audit.db*
fi

if [ "$ONLY" = all ] || [ "$ONLY" = merkle ]; then
  echo "## merkle: append with the tree ($EVENTS events; peer: the bare chain), verify, proofs at ${BENCH_MERKLE_BIG:-10000000}"
  "$BUILD/bench_merkle" -n "$EVENTS" -N "${BENCH_MERKLE_BIG:-10000000}" -p "${BENCH_MERKLE_PROOFS:-10000}" -d "$TMP" || status=1
  rm -f "$TMP"/bench-merkle*.db* "$TMP"/bench-chain.db*
fi

if [ "$ONLY" = all ] || [ "$ONLY" = expiry ]; then
  EMODE=()
  case "${BENCH_EXPIRY_MODE:-both}" in T) EMODE=(-T) ;; D) EMODE=(-D) ;; esac
  echo "## expiry ($EXPIRING of $GRANTS grants due at the same second, $BACKEND, ${BENCH_EXPIRY_MODE:-both}, ${BENCH_EXPIRY_RUNS:-1} run(s))"
  if [ "$BACKEND" = postgresql ]; then
    # populated once (server-side), each run on a copy (CREATE DATABASE ... TEMPLATE)
    if pg_start && SEED_URL=$(pg_db gh_bench_expiry_seed) &&
       "$BUILD/bench_expiry" -P -n "$GRANTS" -e "$EXPIRING" -d "$SEED_URL"; then
      for run in $(seq 1 "${BENCH_EXPIRY_RUNS:-1}"); do
        for m in $( [ ${#EMODE[@]} -gt 0 ] && echo "${EMODE[0]}" || echo "-D -T"); do
          echo "# expiry run=$run mode=$m load: $(cat /proc/loadavg)"
          URL=$(pg_db gh_bench_expiry_run gh_bench_expiry_seed) &&
            "$BUILD/bench_expiry" "$m" -n "$GRANTS" -e "$EXPIRING" -d "$URL" || status=1
          pg_drop gh_bench_expiry_run
        done
      done
      pg_drop gh_bench_expiry_seed
    else
      status=1
    fi
  else
    SEED=()
    [ -n "${BENCH_EXPIRY_SEED:-}" ] && SEED=(-S "$BENCH_EXPIRY_SEED")
    for run in $(seq 1 "${BENCH_EXPIRY_RUNS:-1}"); do
      echo "# expiry run=$run load: $(cat /proc/loadavg)"
      "$BUILD/bench_expiry" "${EMODE[@]}" "${SEED[@]}" -n "$GRANTS" -e "$EXPIRING" -d "$TMP/expiry.db" || status=1
      rm -f "$TMP"/expiry.db*
    done
  fi
fi

if [ "$ONLY" = all ] || [ "$ONLY" = lifecycle ]; then
  echo "## lifecycle over HTTP (clients $LEVELS, ${SECONDS_PER_LEVEL}s each, $BACKEND, $NODES node(s), durable commits)"
  echo "# lifecycle load: $(cat /proc/loadavg)"
  DB=
  if [ "$BACKEND" = postgresql ]; then
    # no file to put the checkpoint signing key beside: init and every node take it from here
    export GATEHOUSE_SIGNING_KEY="$TMP/lifecycle.signing-key"
    pg_start && DB=$(pg_db gh_bench_lifecycle) || status=1
  else
    DB="$TMP/lifecycle.db"
  fi
  TOKEN=
  [ -n "$DB" ] && TOKEN=$("$SERVER" --db "$DB" init 2>"$TMP/init.err" | grep -o 'gh_[^[:space:]"'"'"'`,;]*' | head -n 1)
  if [ -z "$TOKEN" ]; then
    echo "gatehouse init printed no token: $(head -c 300 "$TMP/init.err" 2>/dev/null)"; status=1
  else
    URLS=
    up=1
    for i in $(seq 1 "$NODES"); do
      PORT=$(free_port)
      NODE_ARGS=()
      [ "$BACKEND" = postgresql ] && NODE_ARGS=(--node-id "bench-n$i")
      # every client comes from 127.0.0.1: allow more connections than the busiest level
      "$SERVER" --db "$DB" serve --listen "127.0.0.1:$PORT" --per-address-connections 256 \
        "${NODE_ARGS[@]}" ${BENCH_SERVE_ARGS:-} >"$TMP/serve$i.out" 2>"$TMP/serve$i.err" &
      NODE_PIDS+=($!)
      URLS="${URLS:+$URLS,}http://127.0.0.1:$PORT"
      ok=0
      for _ in $(seq 1 100); do
        if curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then ok=1; break; fi
        kill -0 "${NODE_PIDS[-1]}" 2>/dev/null || break
        sleep 0.1
      done
      if [ $ok -eq 0 ]; then
        echo "server $i did not come up: $(tail -c 300 "$TMP/serve$i.err")"; up=0; status=1; break
      fi
    done
    if [ $up -eq 1 ]; then
      # the demo data (owner, token, catalog, NHIs) through the first node only
      "$BUILD/bench_lifecycle" -u "$URLS" -t "$TOKEN" -c "$LEVELS" -s "$SECONDS_PER_LEVEL" || status=1
    fi
    echo "# lifecycle load after: $(cat /proc/loadavg)"
    for i in "${!NODE_PIDS[@]}"; do
      stop_pid "${NODE_PIDS[$i]}"
      wait "${NODE_PIDS[$i]}" 2>/dev/null; echo "server $((i + 1)) exit=$?"
    done
    NODE_PIDS=()
  fi
  [ "$BACKEND" = postgresql ] && [ -n "$DB" ] && pg_drop gh_bench_lifecycle
  unset GATEHOUSE_SIGNING_KEY
fi
if [ "$ONLY" = all ] || [ "$ONLY" = policy ]; then
  PSECS=${BENCH_POLICY_SECONDS:-4}
  echo "## policy: Cedar decisions on one core, Gatehouse and cedar-wasm on the same files (${PSECS}s each)"
  "$BUILD/bench_policy" -o "$TMP" -s "$PSECS" | tee "$TMP/gatehouse.txt" || status=1
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "cedar-wasm: skipped (no node/npm)"
  elif ! (cd bench/policy && npm install --no-audit --no-fund --silent >/dev/null 2>"$TMP/npm.err"); then
    echo "cedar-wasm: npm install failed: $(head -c 300 "$TMP/npm.err")"; status=1
  else
    for mode in $(echo "${BENCH_POLICY_WASM:-full,slice}" | tr , ' '); do
      for d in "$TMP"/*/; do
        w=$(basename "$d")
        [ -f "$d/requests.json" ] || continue
        line=$(node bench/policy/bench.js "$d" "$PSECS" "$mode") || { status=1; echo "cedar-wasm $mode $w failed"; continue; }
        echo "$line"
        gh=$(awk -v w="$w" '$0 ~ "workload="w" " { for (i = 1; i <= NF; i++) if ($i ~ /^decisions_per_s=/) { sub(/.*=/, "", $i); print $i } }' "$TMP/gatehouse.txt")
        cw=$(echo "$line" | tr ' ' '\n' | sed -n 's/^decisions_per_s=//p')
        [ -n "$gh" ] && [ -n "$cw" ] && [ "$cw" != 0 ] &&
          echo "policy ratio workload=$w wasm=$mode gatehouse_per_s=$gh cedar_wasm_per_s=$cw ratio=$(echo "scale=1; $gh / $cw" | bc)"
        echo "$line" | grep -q 'disagreements=0 ' || status=1
      done
    done
  fi
  if [ "${BENCH_POLICY_CERBOS:-1}" != 0 ] && [ -f "$TMP/governance/requests.json" ]; then
    cerbos_part "$TMP/governance"
  fi
fi
if [ "$ONLY" = all ] || [ "$ONLY" = decision ]; then
  # in process, one thread, reads only: the built-in rule on the same facts is the in-run peer
  echo "## decision: facts from SQLite + the installed decider (${BENCH_IDENTITIES:-10000} identities, 1,000 Cedar policies, ${BENCH_DECISIONS:-20000} decisions after a warm-up)"
  "$BUILD/bench_decision" -n "${BENCH_IDENTITIES:-10000}" -c "${BENCH_DECISIONS:-20000}" -d "$TMP/decision.db" || status=1
  rm -f "$TMP"/decision.db*
fi
if [ "$ONLY" = all ] || [ "$ONLY" = provision ]; then
  # a real server with workers and a real PostgreSQL (fsync on), both on loopback
  echo "## provision: ${BENCH_PROVISION:-1000} grants on PostgreSQL, then all expiring at the same second"
  python3 bench/bench_provision.py --bin "$BUILD/gatehouse" -n "${BENCH_PROVISION:-1000}" \
    --workers "${BENCH_WORKERS:-2}" || status=1
fi
if [ "$ONLY" = cerbos ]; then
  PSECS=${BENCH_POLICY_SECONDS:-4}
  echo "## policy: governance only, Gatehouse on one core (${PSECS}s), for the Cerbos comparison"
  mkdir -p "$TMP/cerbos-w"
  "$BUILD/bench_policy" -w governance -o "$TMP/cerbos-w" -s "$PSECS" || status=1
  cerbos_part "$TMP/cerbos-w/governance"
fi
exit $status
