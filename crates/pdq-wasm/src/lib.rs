//! staydown-pdq-wasm: the PDQ hash for the browser, so the public notice form can hash an image
//! without the image leaving the victim's device.
//!
//! Implements the WebAssembly part of issue 4. The browser decodes (canvas → `ImageData`, RGBA),
//! this crate hashes the pixels with the very same `staydown-pdq` code the server runs, alpha
//! ignored as `specs/pdq.md` says. It is the only crate that knows JavaScript; the built module
//! and a small ES-module entry point live in `web/static/pdq/` (rebuilt by `build.sh`, checked
//! against native hashes in Node by `test.sh`).

use wasm_bindgen::prelude::*;

/// A PDQ hash (64 lowercase hex digits) and its quality 0–100.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct PdqResult {
    pdq: String,
    quality: u8,
}

#[wasm_bindgen]
impl PdqResult {
    /// The hash as 64 lowercase hex digits.
    #[wasm_bindgen(getter)]
    pub fn pdq(&self) -> String {
        self.pdq.clone()
    }

    /// Quality 0–100; below 50 the hash should not be relied on.
    #[wasm_bindgen(getter)]
    pub fn quality(&self) -> u8 {
        self.quality
    }
}

/// Hashes RGBA pixels (`ImageData.data`: `width × height × 4` bytes, row-major).
#[wasm_bindgen(js_name = hashRgba)]
pub fn hash_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<PdqResult, JsError> {
    let image = staydown_pdq::ImageRef::rgba8(width as usize, height as usize, rgba)
        .map_err(|e| JsError::new(&e.to_string()))?;
    let out = staydown_pdq::hash(&image);
    Ok(PdqResult { pdq: out.hash.to_hex(), quality: out.quality })
}

/// Hamming distance between two hashes given as hex.
#[wasm_bindgen(js_name = hammingHex)]
pub fn hamming_hex(a: &str, b: &str) -> Result<u32, JsError> {
    let a: staydown_pdq::PdqHash = a.parse().map_err(|e: staydown_pdq::ParseHashError| JsError::new(&e.to_string()))?;
    let b: staydown_pdq::PdqHash = b.parse().map_err(|e: staydown_pdq::ParseHashError| JsError::new(&e.to_string()))?;
    Ok(a.hamming_distance(&b))
}
