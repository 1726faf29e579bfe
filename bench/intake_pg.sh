#!/bin/bash
# One intake benchmark session on PostgreSQL and SQLite (issue 16, goal 3), as measured in
# docs/perf.md ("One statement per batch", "Where a notice's CPU goes"). Run from the repository
# root, under the machine-wide benchmark lock, against a throwaway cluster with durability on
# (fsync=on, synchronous_commit=on) and pg_stat_statements in shared_preload_libraries:
#
#   flock /tmp/staydown-bench.lock bench/intake_pg.sh NAME [PORT] [NOTICES]
#
# Environment: BIN (default target/release/staydown); PERF=1 also samples every CPU with `perf
# record` during the PostgreSQL run (NAME.perf.data); SQLITE=0 skips the SQLite run.
# Writes target/benchout/NAME.{txt,stmts,pidstat,cpu}: the bench's output, the statements of the
# bench database by total time (with their WAL), per-process CPU each second, and that CPU summed
# over the HTTP run by bench/cpu_split.py (the window the bench prints).
set -u
NAME=$1; PORT=${2:-55453}; N=${3:-10000}
BIN=${BIN:-target/release/staydown}
OUT=target/benchout/$NAME
mkdir -p target/benchout
PSQL="psql -h 127.0.0.1 -p $PORT -U postgres -qAt"
$PSQL -c "DROP DATABASE IF EXISTS $NAME" -c "CREATE DATABASE $NAME"
$PSQL -d postgres -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" >/dev/null
echo "binary: $BIN (worktree at $(git log -1 --format=%h 2>/dev/null))" | tee "$OUT.txt"
echo "uptime before: $(uptime)" | tee -a "$OUT.txt"
pidstat -u -l 1 > "$OUT.pidstat" 2>&1 &
PIDSTAT=$!
if [ -n "${PERF:-}" ]; then
  perf record -F 997 -a -g -o "$OUT.perf.data" >/dev/null 2>&1 &
  PERFPID=$!
fi
$BIN bench intake --notices "$N" --concurrency 16 --database "postgres://postgres@127.0.0.1:$PORT/$NAME" 2>&1 | grep -v ' INFO ' | tee -a "$OUT.txt"
[ -n "${PERF:-}" ] && kill -INT $PERFPID && wait $PERFPID
kill $PIDSTAT
echo "uptime after: $(uptime)" | tee -a "$OUT.txt"
$PSQL -d postgres -F ' | ' -c "SELECT calls, round(mean_exec_time::numeric, 3) AS mean_ms, round(total_exec_time::numeric, 1) AS total_ms, rows, wal_records, wal_bytes, left(regexp_replace(query, '\s+', ' ', 'g'), 110) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$NAME' ORDER BY total_exec_time DESC LIMIT 25" > "$OUT.stmts"
WINDOW=$(sed -n 's/.*HTTP run *: \([0-9:]*\) to \([0-9:]*\) UTC.*/\1 \2/p' "$OUT.txt")
[ -n "$WINDOW" ] && python3 bench/cpu_split.py "$OUT.pidstat" "$NAME" $WINDOW "$N" | tee "$OUT.cpu"
if [ "${SQLITE:-1}" != 0 ]; then
  echo "== SQLite, same session"; echo "uptime before: $(uptime)"
  $BIN bench intake --notices "$N" --concurrency 16 2>&1 | grep -v ' INFO '
  echo "uptime after: $(uptime)"
fi
