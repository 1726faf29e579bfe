// PDQ hashing in the browser for the public notice form (staydown, issue 4).
//
// The image never leaves the device: the browser decodes it onto a canvas and the same Rust PDQ
// code the server runs (compiled to WebAssembly, staydown_pdq_wasm*) hashes the RGBA pixels,
// alpha ignored. Rebuild the module with crates/pdq-wasm/build.sh.
//
//   import { hashFile } from "/static/pdq/pdq.js";
//   const { pdq, quality } = await hashFile(input.files[0]);
//
// Hashes are the reference's (Meta's C++ PDQ core) for the same pixels. Browser JPEG decoders
// differ slightly from the server's, so expect a few bits of difference on JPEGs (docs/pdq.md).
// Transparent pixels: canvases store premultiplied alpha, so fully transparent pixels read back
// as black here, while the server keeps their stored colour.

import init, { hashRgba, hammingHex } from "./staydown_pdq_wasm.js";

let ready = null;

function load() {
  ready ??= init({ module_or_path: new URL("./staydown_pdq_wasm_bg.wasm", import.meta.url) });
  return ready;
}

/** Hashes an ImageData (or any {width, height, data} with RGBA bytes). */
export async function hashImageData(imageData) {
  await load();
  const result = hashRgba(imageData.width, imageData.height, imageData.data);
  try {
    return { pdq: result.pdq, quality: result.quality };
  } finally {
    result.free();
  }
}

/** Decodes a File/Blob in the browser (no EXIF rotation, as on the server) and hashes it. */
export async function hashFile(file) {
  const bitmap = await createImageBitmap(file, {
    imageOrientation: "none",
    premultiplyAlpha: "none",
    colorSpaceConversion: "none",
  });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return hashImageData(context.getImageData(0, 0, canvas.width, canvas.height));
}

/** Hamming distance between two 64-hex-digit PDQ hashes. */
export async function hamming(a, b) {
  await load();
  return hammingHex(a, b);
}
