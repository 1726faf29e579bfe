#!/usr/bin/env bash
# Rebuilds the browser PDQ module committed in web/static/pdq/ (issue 4; docs/pdq.md).
#
# Needs: the wasm32-unknown-unknown target (rustup target add wasm32-unknown-unknown) and
# wasm-bindgen-cli of exactly the crate's wasm-bindgen version:
#   cargo install wasm-bindgen-cli --version 0.2.130     (no --locked on this mirror)
# The output is committed, so the server starts on a fresh machine without running this.
set -euo pipefail
cd "$(dirname "$0")/../.."

want=$(sed -n 's/^wasm-bindgen = "=\(.*\)".*/\1/p' crates/pdq-wasm/Cargo.toml)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [[ "$have" != "$want" ]]; then
  echo "build.sh: need wasm-bindgen CLI $want (found '${have:-none}'):" >&2
  echo "  cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi

cargo build --release --target wasm32-unknown-unknown -p staydown-pdq-wasm
wasm=target/wasm32-unknown-unknown/release/staydown_pdq_wasm.wasm
out=web/static/pdq
wasm-bindgen --target web --no-typescript --out-dir "$out" "$wasm"
ls -l "$out"
