#!/usr/bin/env bash
# Installs the Debian packages Gatehouse needs to build and test, and the Cedar reference
# (npm) for the differential test; quick when all are present.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev python3 sqlite3 libsqlite3-dev libmicrohttpd-dev
      libjansson-dev libsodium-dev libcurl4-openssl-dev libyaml-dev curl
      libpq-dev libldap-dev postgresql slapd ldap-utils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node and npm run the Cedar reference implementation for differential testing
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

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
