#!/usr/bin/env bash
# slapd_server.sh - a throwaway OpenLDAP slapd on loopback for tests.
#
#   slapd_server.sh start DIR [OWNER_PID]
#       First time: writes DIR/slapd.conf (mdb under DIR/db, suffix
#       dc=example,dc=org, rootdn cn=admin,dc=example,dc=org, schemas core,
#       cosine, inetorgperson), a random root password in DIR/password (no
#       newline), and loads the base (see BASE below) with slapadd. Again on
#       the same DIR: restarts the same directory on the same port.
#       Starts /usr/sbin/slapd on ldap://127.0.0.1:PORT/ only, waits (at most
#       10 s) until ldapsearch answers and prints on stdout:
#         url=ldap://127.0.0.1:PORT
#         bind_dn=cn=admin,dc=example,dc=org
#         password_file=DIR/password
#       With OWNER_PID, a watcher stops slapd when that process is gone (so a
#       crashed test leaves no server behind).
#   slapd_server.sh stop DIR       stops it (pid file DIR/slapd.pid), waits for it
#   slapd_server.sh add DIR FILE   adds the entries of an LDIF file (ldapadd)
#
# BASE: ou=people, ou=groups; uid=alice, uid=bob, uid=carol (inetOrgPerson);
# groupOfNames cn=developers and cn=operators, each holding only the
# placeholder member cn=placeholder,dc=example,dc=org (groupOfNames needs at
# least one member), and cn=solo holding only uid=carol.
set -euo pipefail

SUFFIX="dc=example,dc=org"
ROOTDN="cn=admin,$SUFFIX"
SCHEMA=/etc/ldap/schema
SLAPD=/usr/sbin/slapd

die() { echo "slapd_server.sh: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

write_config() { # dir
  local dir=$1
  mkdir -p "$dir/db"
  head -c 18 /dev/urandom | base64 | tr -d '\n/+=' >"$dir/password"
  chmod 600 "$dir/password"
  free_port >"$dir/port"
  cat >"$dir/slapd.conf" <<CONF
include $SCHEMA/core.schema
include $SCHEMA/cosine.schema
include $SCHEMA/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
loglevel none
database mdb
maxsize 67108864
suffix "$SUFFIX"
rootdn "$ROOTDN"
rootpw $(slappasswd -T "$dir/password")
directory $dir/db
index objectClass eq
index member eq
CONF
  cat >"$dir/base.ldif" <<LDIF
dn: $SUFFIX
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,$SUFFIX
objectClass: organizationalUnit
ou: people

dn: ou=groups,$SUFFIX
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,$SUFFIX
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: Example

dn: uid=bob,ou=people,$SUFFIX
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: Example

dn: uid=carol,ou=people,$SUFFIX
objectClass: inetOrgPerson
uid: carol
cn: Carol
sn: Example

dn: cn=developers,ou=groups,$SUFFIX
objectClass: groupOfNames
cn: developers
member: cn=placeholder,$SUFFIX

dn: cn=operators,ou=groups,$SUFFIX
objectClass: groupOfNames
cn: operators
member: cn=placeholder,$SUFFIX

dn: cn=solo,ou=groups,$SUFFIX
objectClass: groupOfNames
cn: solo
member: uid=carol,ou=people,$SUFFIX
LDIF
  /usr/sbin/slapadd -q -f "$dir/slapd.conf" -l "$dir/base.ldif" >"$dir/slapadd.log" 2>&1 ||
    { cat "$dir/slapadd.log" >&2; die "slapadd failed"; }
}

running() { # dir
  [ -f "$1/slapd.pid" ] && kill -0 "$(cat "$1/slapd.pid")" 2>/dev/null
}

start() { # dir [owner]
  local dir=$1 owner=${2:-} port url i
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  running "$dir" && die "already running in $dir"
  [ -f "$dir/slapd.conf" ] || write_config "$dir"
  port=$(cat "$dir/port")
  url="ldap://127.0.0.1:$port"
  rm -f "$dir/slapd.pid"
  # slapd forks into the background; it must not hold the caller's pipes
  "$SLAPD" -f "$dir/slapd.conf" -h "$url/" </dev/null >"$dir/slapd.log" 2>&1 ||
    { cat "$dir/slapd.log" >&2; die "slapd did not start"; }
  for i in $(seq 1 100); do
    if ldapsearch -x -LLL -o nettimeout=1 -l 1 -H "$url" -D "$ROOTDN" -y "$dir/password" \
        -b "$SUFFIX" -s base dn >/dev/null 2>&1; then
      break
    fi
    [ "$i" -eq 100 ] && { cat "$dir/slapd.log" >&2; die "slapd did not answer within 10 s"; }
    sleep 0.1
  done
  if [ -n "$owner" ]; then
    local pid
    pid=$(cat "$dir/slapd.pid")
    # stops slapd when its owner is gone; ends when slapd does
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
      kill "$2" 2>/dev/null && kill -CONT "$2" 2>/dev/null || true' watcher "$owner" "$pid" </dev/null >/dev/null 2>&1 &
  fi
  echo "url=$url"
  echo "bind_dn=$ROOTDN"
  echo "password_file=$dir/password"
}

stop() { # dir
  local dir=$1 pid i
  [ -f "$dir/slapd.pid" ] || return 0
  pid=$(cat "$dir/slapd.pid")
  kill "$pid" 2>/dev/null && kill -CONT "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    [ "$i" -eq 100 ] && kill -9 "$pid" 2>/dev/null
    sleep 0.1
  done
  rm -f "$dir/slapd.pid"
}

add() { # dir ldif
  local dir=$1
  ldapadd -x -o nettimeout=5 -H "ldap://127.0.0.1:$(cat "$dir/port")" -D "$ROOTDN" \
    -y "$dir/password" -f "$2" >/dev/null
}

case "${1:-}" in
  start) [ $# -ge 2 ] || die "usage: start DIR [OWNER_PID]"; start "$2" "${3:-}" ;;
  stop) [ $# -eq 2 ] || die "usage: stop DIR"; stop "$2" ;;
  add) [ $# -eq 3 ] || die "usage: add DIR LDIF_FILE"; add "$2" "$3" ;;
  *) die "usage: slapd_server.sh start|stop|add DIR ..." ;;
esac
