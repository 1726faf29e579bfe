#!/usr/bin/env bash
# One benchmark run: PyPI vpdq 0.2.5 (bench/vpdq_reference.py), staydown_vpdq::libav::hash_file
# (example libav_hash, threads 1 and auto), and the ffmpeg-subprocess path
# (staydown hash); vPDQ records compared byte for byte. Build first:
#   cargo build --release -p staydown-vpdq --features libav --example libav_hash && cargo build --release -p staydown
# Usage: flock /tmp/staydown-bench.lock bench/vpdq_libav.sh FILE...
set -u
cd "$(dirname "$0")/.."
H=${LIBAV_HASH:-target/release/examples/libav_hash}
STAYDOWN=${STAYDOWN:-target/release/staydown}
T="/usr/bin/time -f %e_wall_%U_user_%S_sys"
echo "== $(date -u +%T) $(uptime)"
for f in "$@"; do
  n=$(basename "$f")
  python3 bench/vpdq_reference.py --repeat 1 "$f" > ${TMPDIR:-/tmp}/vb-ref.json
  python3 -c "import json;d=json.load(open('${TMPDIR:-/tmp}/vb-ref.json'));open('${TMPDIR:-/tmp}/vb-ref.txt','w').write(d['vpdq']);print('REF $n wall=%.3fs cpu=%.3fs frames=%d'%(d['seconds'],d['cpu'],d['frames']))"
  for th in 1 0; do
    $H "$f" $th 1 > ${TMPDIR:-/tmp}/vb-libav-$th.txt
    cmp -s ${TMPDIR:-/tmp}/vb-ref.txt ${TMPDIR:-/tmp}/vb-libav-$th.txt && echo "  libav threads=$th: vPDQ identical to the reference" || echo "  libav threads=$th: vPDQ DIFFERS"
  done
  $T "$STAYDOWN" hash --format vpdq "$f" > ${TMPDIR:-/tmp}/vb-sub.txt
  cmp -s ${TMPDIR:-/tmp}/vb-ref.txt ${TMPDIR:-/tmp}/vb-sub.txt && echo "  ffmpeg subprocess (wall/user/sys above): vPDQ identical" || echo "  subprocess vPDQ DIFFERS"
done
echo "== $(date -u +%T) $(uptime)"
