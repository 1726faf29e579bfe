// Node check for the wasm PDQ build (run by crates/pdq-wasm/test.sh): decodes the lossless PNG
// fixtures with a tiny PNG reader (node:zlib only, no npm), hashes the RGBA pixels with the wasm
// module, and compares with the native hashes given on the command line (CSV from
// `staydown hash --format csv`). Exits non-zero on any difference.
//
// It also runs hashFile (the server's decoder in wasm) on every file: its PDQ must equal the native
// one, and for the lossless rows of fixtures/pdq/dihedral-expected.csv (Meta's reference,
// `compute_dihedral`) its eight dihedral variants must equal the reference's bit for bit.
//
// usage: node node_check.mjs <wasm-bindgen nodejs module> <native.csv> <dihedral-expected.csv>

import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { createRequire } from "node:module";

const [modulePath, nativeCsv, dihedralCsv] = process.argv.slice(2);
const wasm = createRequire(import.meta.url)(modulePath);

/** Decodes an 8-bit, non-interlaced PNG (grey, grey+alpha, RGB, RGBA) to RGBA bytes. */
function decodePng(bytes) {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (!sig.every((b, i) => bytes[i] === b)) throw new Error("not a PNG");
  let pos = 8, width, height, depth, colour, interlace;
  const idat = [];
  while (pos < bytes.length) {
    const len = bytes.readUInt32BE(pos);
    const type = bytes.toString("latin1", pos + 4, pos + 8);
    const data = bytes.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0); height = data.readUInt32BE(4);
      depth = data[8]; colour = data[9]; interlace = data[12];
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    pos += 12 + len;
  }
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colour];
  if (depth !== 8 || !channels || interlace !== 0) return null; // not needed by the fixtures used
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? px[y * stride + x - channels] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + x] = v & 255;
    }
  }
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = px.subarray(i * channels, (i + 1) * channels);
    const [r, g, b] = channels >= 3 ? [s[0], s[1], s[2]] : [s[0], s[0], s[0]];
    // Alpha set to a varying value on purpose: it must be ignored.
    rgba.set([r, g, b, channels === 4 || channels === 2 ? s[channels - 1] : (i * 37) & 255], i * 4);
  }
  return { width, height, data: rgba };
}

const rows = readFileSync(nativeCsv, "utf8").trim().split("\n").slice(1).map((l) => l.split(","));
let checked = 0, skipped = 0, failed = 0;
for (const [path, pdq, quality] of rows) {
  const image = decodePng(readFileSync(path));
  if (!image) { skipped++; continue; }
  const got = wasm.hashRgba(image.width, image.height, image.data);
  if (got.pdq !== pdq || String(got.quality) !== quality) {
    failed++;
    console.error(`MISMATCH ${path}: wasm ${got.pdq} q${got.quality}, native ${pdq} q${quality}`);
  }
  got.free();
  checked++;
}
// hashFile: the whole file through the server's decoder compiled to wasm.
let files = 0;
for (const [path, pdq, quality] of rows) {
  const got = wasm.hashFile(readFileSync(path));
  if (got.pdq !== pdq || String(got.quality) !== quality || got.dihedral[0] !== pdq || got.dihedral.length !== 8) {
    failed++;
    console.error(`MISMATCH hashFile ${path}: wasm ${got.pdq} q${got.quality} [${got.dihedral}], native ${pdq} q${quality}`);
  }
  got.free();
  files++;
}
// Dihedral variants against the reference (lossless rows: exact).
let variants = 0;
const dihedralDir = dihedralCsv.slice(0, dihedralCsv.lastIndexOf("/") + 1);
for (const line of readFileSync(dihedralCsv, "utf8").trim().split("\n").slice(1)) {
  const [path, quality, ...expected] = line.split(",");
  if (!path.endsWith(".png")) continue;
  const got = wasm.hashFile(readFileSync(dihedralDir + path));
  const dihedral = got.dihedral;
  if (String(got.quality) !== quality || dihedral.join(",") !== expected.join(",")) {
    failed++;
    console.error(`MISMATCH dihedral ${path}: wasm ${dihedral.join(",")} q${got.quality}, reference ${expected.join(",")} q${quality}`);
  }
  got.free();
  variants++;
}
if (variants === 0) { failed++; console.error("no dihedral rows checked"); }
console.log(`hashFile vs native: ${files} files; dihedral variants vs reference: ${variants} images`);
if (wasm.hammingHex("ff".repeat(32), "00" + "ff".repeat(31)) !== 8) { failed++; console.error("hammingHex wrong"); }
console.log(`wasm vs native: ${checked} images checked, ${failed} mismatches, ${skipped} skipped (not 8-bit PNG)`);
if (checked === 0 || failed > 0) process.exit(1);
