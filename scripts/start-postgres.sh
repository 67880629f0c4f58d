#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on loopback for the PostgreSQL tests and print the URL.
# Usage: eval "$(bash scripts/start-postgres.sh)"  (sets CASEFRAME_TEST_PG_URL)
set -euo pipefail
PORT="${CASEFRAME_PG_PORT:-54329}"
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
DATA="$(mktemp -d /tmp/caseframe-pg.XXXXXX)"
if [ "$(id -u)" = "0" ]; then
  chown postgres "$DATA"
  RUN=(su postgres -s /bin/sh -c)
else
  RUN=(sh -c)
fi
"${RUN[@]}" "$BIN/initdb -D $DATA -A trust -U postgres --no-sync >/dev/null"
"${RUN[@]}" "$BIN/pg_ctl -D $DATA -o '-h 127.0.0.1 -p $PORT -k $DATA -c fsync=off -c max_connections=200' -l $DATA/server.log -w start >/dev/null"
echo "export CASEFRAME_TEST_PG_URL=postgresql://postgres@127.0.0.1:$PORT/postgres"
echo "export CASEFRAME_PG_DATA=$DATA"
