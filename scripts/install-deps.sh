#!/usr/bin/env bash
# Installs the Debian packages Gatehouse needs to build and test; a no-op when all are present.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev python3 sqlite3 libsqlite3-dev libmicrohttpd-dev
      libjansson-dev libsodium-dev libcurl4-openssl-dev curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
