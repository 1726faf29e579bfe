#!/bin/sh
# `staydown bench index` and FAISS (bench/faiss_index.py) on the same data, back to back in one
# command, under the machine-wide benchmark lock, with the load average before and after each:
# prints staydown's figures, FAISS's, and the ratio to the best exact FAISS index (issue 14/16).
#
#   bench/index_vs_faiss.sh DIR [staydown bench index options…]
#   e.g. bench/index_vs_faiss.sh target/bench/10m --entries 10000000 --queries 2000 --brute-queries 50
#
# Environment: BIN (default target/release/staydown), PYTHON (default target/faiss-venv/bin/python,
# with `pip install faiss-cpu numpy`), FLAT_QUERIES (IndexBinaryFlat on the first N queries only;
# default 200), LOCK (default /tmp/staydown-bench.lock).
set -eu
DIR=$1; shift
BIN=${BIN:-target/release/staydown}
PYTHON=${PYTHON:-target/faiss-venv/bin/python}
LOCK=${LOCK:-/tmp/staydown-bench.lock}
HERE=$(dirname "$0")
exec flock "$LOCK" sh -c '
  set -eu
  DIR=$1; BIN=$2; PYTHON=$3; SCRIPT=$4; FLAT=$5; shift 5
  echo "load before staydown: $(uptime)"
  "$BIN" bench index "$@" --dump "$DIR"
  echo "load after staydown:  $(uptime)"
  "$PYTHON" "$SCRIPT" "$DIR" --flat-queries "$FLAT"
  echo "load after FAISS:     $(uptime)"
' sh "$DIR" "$BIN" "$PYTHON" "$HERE/faiss_index.py" "${FLAT_QUERIES:-200}" "$@"
