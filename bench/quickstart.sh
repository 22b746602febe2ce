#!/usr/bin/env bash
# Seconds from `make run` in a fresh clone to the first /healthz answer: the
# README's quick start as a new user meets it (Debian packages already
# installed; the build directory, demo database and npm modules not).
#   bench/quickstart.sh [COMMIT] [RUNS]   COMMIT defaults to HEAD, RUNS to 3
# Not a test: nothing here passes or fails on timing.
set -uo pipefail
cd "$(dirname "$0")/.."
commit=${1:-HEAD}
runs=${2:-3}
src=$(pwd)
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "# commit: $(git rev-parse --short "$commit")"
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d "${TMPDIR:-/tmp}/gh-quickstart-XXXXXX")
  git clone -q "$src" "$dir/clone" && git -C "$dir/clone" checkout -q "$commit" || exit 1
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  load=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s.%N)
  (cd "$dir/clone" && exec setsid make run LISTEN="127.0.0.1:$port" >"$dir/run.log" 2>&1) &
  pid=$!
  up=0
  for _ in $(seq 1 6000); do          # at most 10 minutes
    if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then up=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  end=$(date +%s.%N)
  kill -TERM -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ "$up" -eq 1 ]; then
    echo "quickstart run=$i served_after_s=$(python3 -c "print(round($end - $start, 1))") load_before=$load"
  else
    echo "quickstart run=$i did not serve: $(tail -c 300 "$dir/run.log")"
  fi
  rm -rf "$dir"
done
