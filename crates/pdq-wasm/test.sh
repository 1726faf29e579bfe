#!/usr/bin/env bash
# Checks the WebAssembly PDQ build against the native one, in Node (issue 4; docs/pdq.md):
# builds the wasm module (nodejs target, into a temp dir), hashes the lossless PNG fixtures'
# RGBA pixels in Node, and compares with `staydown hash` (native) on the same files.
# hashFile's PDQ and its eight dihedral variants are checked too (native; Meta's reference).
# Exits non-zero on any mismatch, or if node / wasm-bindgen are missing (with a clear message).
set -euo pipefail
cd "$(dirname "$0")/../.."

want=$(sed -n 's/^wasm-bindgen = "=\(.*\)".*/\1/p' crates/pdq-wasm/Cargo.toml)
command -v node >/dev/null || { echo "test.sh: node not found (need Node >= 18)" >&2; exit 1; }
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [[ "$have" != "$want" ]]; then
  echo "test.sh: need wasm-bindgen CLI $want (found '${have:-none}'): cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release --target wasm32-unknown-unknown -p staydown-pdq-wasm
wasm-bindgen --target nodejs --out-dir "$tmp/node" target/wasm32-unknown-unknown/release/staydown_pdq_wasm.wasm
cargo run --quiet -p staydown -- hash --format csv fixtures/pdq/lossless fixtures/pdq/pytx/LA.png fixtures/pdq/misc-images/c.png > "$tmp/native.csv"
node crates/pdq-wasm/node_check.mjs "$tmp/node/staydown_pdq_wasm.js" "$tmp/native.csv" fixtures/pdq/dihedral-expected.csv

# The committed web build must be the current one (a stale module would silently diverge).
wasm-bindgen --target web --no-typescript --out-dir "$tmp/web" target/wasm32-unknown-unknown/release/staydown_pdq_wasm.wasm
if ! cmp -s "$tmp/web/staydown_pdq_wasm_bg.wasm" web/static/pdq/staydown_pdq_wasm_bg.wasm \
   || ! cmp -s "$tmp/web/staydown_pdq_wasm.js" web/static/pdq/staydown_pdq_wasm.js; then
  echo "test.sh: web/static/pdq is stale; run crates/pdq-wasm/build.sh and commit" >&2
  exit 1
fi
echo "web/static/pdq is up to date"
