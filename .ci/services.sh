#!/usr/bin/env bash
# Makes sure Redis (127.0.0.1:6379) and Postgres (127.0.0.1:5432, user postgres) answer,
# starting or installing them from Debian's packages when they do not.
set -euo pipefail

redis_ok() { (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3 | grep -q PONG) 2>/dev/null; }
pg_ok() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
wait_for() { for _ in $(seq 1 60); do if "$1"; then return 0; fi; sleep 1; done; return 1; }

if ! redis_ok; then
  if ! command -v redis-server >/dev/null; then
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
  fi
  mkdir -p /tmp/sparks-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --maxmemory-policy noeviction --dir /tmp/sparks-redis --logfile /tmp/sparks-redis/redis.log
  wait_for redis_ok || { echo "Redis did not start" >&2; exit 1; }
fi
echo "redis: ok"

if ! pg_ok; then
  if ! command -v pg_ctlcluster >/dev/null; then
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
  fi
  ver=$(ls /etc/postgresql | sort -n | tail -1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  wait_for pg_ok || { echo "Postgres did not start" >&2; exit 1; }
fi
# Tests connect as postgres over TCP without a password (trust), as on the dev machines.
psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1 || {
  echo "Postgres answers but user postgres cannot log in over TCP without a password; set TEST_DATABASE_URL" >&2
  [ -n "${TEST_DATABASE_URL:-}" ] || exit 1
}
echo "postgres: ok"
