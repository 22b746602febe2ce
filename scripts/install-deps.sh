#!/usr/bin/env bash
# Installs the Debian packages Gatehouse needs, quick when all are present.
#   scripts/install-deps.sh          everything `make test` needs: the build, the test
#                                    servers (PostgreSQL, slapd), clang for libFuzzer, and
#                                    the Cedar reference (npm) for the differential test
#   scripts/install-deps.sh --run    only what building and serving needs (`make run`)
#   --list                           print the Debian packages the mode needs and stop
set -euo pipefail
mode=test
list=0
for a in "$@"; do
  case "$a" in
    --run) mode=run ;;
    --list) list=1 ;;
    *) echo "usage: scripts/install-deps.sh [--run] [--list]" >&2; exit 2 ;;
  esac
done

# building and serving: a C compiler, CMake, pkg-config and the libraries' -dev packages
pkgs=(build-essential cmake pkg-config libsqlite3-dev libmicrohttpd-dev libjansson-dev
      libsodium-dev libcurl4-openssl-dev libyaml-dev libpq-dev libldap-dev)
if [ "$mode" = test ]; then
  # the suite: clang (libFuzzer, sanitizer runtimes), Python for the end-to-end tests, the
  # sqlite3 and curl commands, real PostgreSQL and slapd servers, node and npm for the
  # Cedar reference implementation
  pkgs+=(clang libclang-rt-14-dev python3 sqlite3 curl postgresql slapd ldap-utils nodejs npm)
fi
if [ "$list" -eq 1 ]; then
  printf '%s\n' "${pkgs[@]}"
  exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node and npm may come from elsewhere than Debian: a working command is enough
for c in node:nodejs npm:npm; do
  if command -v "${c%%:*}" >/dev/null; then
    for i in "${!missing[@]}"; do [ "${missing[$i]}" = "${c#*:}" ] && unset "missing[$i]"; done
  fi
done
missing=("${missing[@]+"${missing[@]}"}")
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
[ "$mode" = run ] && exit 0

# The Cedar reference (@cedar-policy/cedar-wasm, pinned by package-lock.json) in
# tests/cedar/differential/node_modules; skipped when that lock is what was installed
# last. A failure only warns: the differential test then says it was skipped (and fails in CI).
diff_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/cedar/differential"
stamp="$diff_dir/node_modules/.gh-installed-lock"
if [ -f "$diff_dir/package-lock.json" ] && ! cmp -s "$diff_dir/package-lock.json" "$stamp"; then
  echo "install-deps: npm ci in tests/cedar/differential" >&2
  if (cd "$diff_dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2); then
    cp "$diff_dir/package-lock.json" "$stamp"
  else
    echo "install-deps: warning: npm ci failed; the Cedar differential test will be skipped" >&2
  fi
fi
