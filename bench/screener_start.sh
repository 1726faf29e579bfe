#!/bin/sh
# Start time of a screening node with N bank entries (issue 16 goal 4, docs/deploy.md):
# from the database alone, and from an index snapshot (`staydown bank snapshot`) caught up from
# the change log. Synthetic entries (random PDQ of quality 90 and an MD5 each) are written by
# PostgreSQL itself into an EMPTY database given by URL; never point this at a database that matters.
#
#   bench/screener_start.sh postgres://postgres@127.0.0.1:55432/bench 1000000 [target/debug/staydown]
#
# FILL=0: the database already holds the entries (from an earlier run); insert none.
# KEEP=1: leave the snapshot file in place (with SNAP=FILE).
# FROM_DB=0: skip the start without a snapshot (at 10M it takes minutes and gigabytes).
# COLD=1: also start once with the snapshot file dropped from the page cache (read from disk).
set -eu
URL=$1; N=$2; BIN=${3:-target/debug/staydown}
SNAP=${SNAP:-$(mktemp -d)/index.snapshot}   # SNAP=FILE keeps the snapshot (and its log) there
PORT=${PORT:-18931}
"$BIN" bank create bench-warmup --action hold --database "$URL" >/dev/null 2>&1 || true
[ "${FILL:-1}" = 0 ] || psql -q "$URL" <<SQL
INSERT INTO bank_entries (id, bank_id, seq, pdq, pdq_quality, md5, added_by, added_at)
SELECT gen_random_uuid()::text, (SELECT id FROM banks WHERE name = 'confirmed'),
       (SELECT COALESCE(MAX(seq), 0) FROM bank_changes) + i,
       encode(sha256(int8send(i)), 'hex'), 90, md5(i::text), 'bench', 0
FROM generate_series(1, $N) AS i;
INSERT INTO bank_changes (seq, at_ms, kind, bank_id, entry_id)
SELECT seq, 0, 'entry_added', bank_id, id FROM bank_entries WHERE added_by = 'bench';
SQL
ready() { # seconds from start until /readyz answers (the index is built before the first answer)
  start=$(date +%s.%N)
  RUST_LOG=info "$BIN" serve --role screen --database "$URL" --listen 127.0.0.1:$PORT "$@" 2>"$SNAP.log" &
  pid=$!
  until curl -sf -m 600 http://127.0.0.1:$PORT/readyz >/dev/null; do sleep 0.05; done
  end=$(date +%s.%N)
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  kill $pid; wait $pid 2>/dev/null || true
  echo "$(echo "$end - $start" | bc) s to serve, RSS ${rss} kB"
  grep -o 'index snapshot read.*\|index snapshot loaded.*\|screening index ready.*\|bank index built.*' "$SNAP.log" | sed 's/\x1b\[[0-9;]*m//g' || true
}
echo "== $(psql -tA "$URL" -c 'SELECT count(*) FROM bank_entries') entries: staydown bank snapshot; load: $(uptime)"
/usr/bin/time -f "%e s wall, %M kB max RSS" "$BIN" bank snapshot --database "$URL" --out "$SNAP"
ls -l "$SNAP"
if [ "${FROM_DB:-1}" != 0 ]; then
  echo "== screener without a snapshot (built from the database)"
  ready
fi
echo "== screener from the snapshot"
ready --index-snapshot "$SNAP"
if [ "${COLD:-0}" = 1 ]; then
  echo "== screener from the snapshot, the file dropped from the page cache first"
  dd if="$SNAP" iflag=nocache count=0 2>/dev/null
  ready --index-snapshot "$SNAP"
fi
echo "load after: $(uptime)"
[ -n "${KEEP:-}" ] || rm -f "$SNAP" "$SNAP.log"
