//! staydown-pdq-wasm: the PDQ hash for the browser, so the public notice form can hash an image
//! without the image leaving the victim's device.
//!
//! Implements the WebAssembly part of issue 4. The browser decodes (canvas → `ImageData`, RGBA),
//! this crate hashes the pixels with the very same `staydown-pdq` code the server runs, alpha
//! ignored as `specs/pdq.md` says. It is the only crate that knows JavaScript; the built module
//! and a small ES-module entry point live in `web/static/pdq/` (rebuilt by `build.sh`, checked
//! against native hashes in Node by `test.sh`).
//!
//! Rotations and mirror images (issue 14): [`hash_file`] also gives the eight dihedral PDQ
//! variants from the same DCT (`staydown_pdq::hash_dihedral`, the reference's
//! `compute_dihedral`), in the order and format `POST /api/v1/screen` takes as `pdq_dihedral`, so
//! a page can screen or show a file in all eight orientations without sending it.

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

/// PDQ, SHA-256 and MD5 of an image file, as the server computes them.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct FileHashes {
    pdq: String,
    quality: u8,
    sha256: String,
    md5: String,
    width: u32,
    height: u32,
    dihedral: Vec<String>,
}

#[wasm_bindgen]
impl FileHashes {
    /// PDQ as 64 lowercase hex digits.
    #[wasm_bindgen(getter)]
    pub fn pdq(&self) -> String {
        self.pdq.clone()
    }
    /// PDQ quality 0–100.
    #[wasm_bindgen(getter)]
    pub fn quality(&self) -> u8 {
        self.quality
    }
    /// SHA-256 of the file's bytes, 64 lowercase hex digits.
    #[wasm_bindgen(getter)]
    pub fn sha256(&self) -> String {
        self.sha256.clone()
    }
    /// MD5 of the file's bytes, 32 lowercase hex digits.
    #[wasm_bindgen(getter)]
    pub fn md5(&self) -> String {
        self.md5.clone()
    }
    /// Decoded width in pixels.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Decoded height in pixels.
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> u32 {
        self.height
    }
    /// The eight dihedral PDQ variants, 64 lowercase hex digits each, in
    /// `staydown_pdq::DIHEDRAL_NAMES` order (original, rotate90, rotate180, rotate270, flip_x,
    /// flip_y, flip_plus1, flip_minus1); the first equals [`FileHashes::pdq`].
    #[wasm_bindgen(getter)]
    pub fn dihedral(&self) -> Vec<String> {
        self.dihedral.clone()
    }
}

/// Hashes an image file's bytes with the server's decoder (`staydown_media::hash_image_bytes`,
/// default limits): the same pixels as the server — EXIF orientation is not applied, on the server
/// nor here, for JPEG and PNG `eXIf` alike — so the same PDQ, and digests of the same bytes.
/// Errors: not a supported image, or over the byte/pixel limits (`JsError` with the reason).
#[wasm_bindgen(js_name = hashFile)]
pub fn hash_file(bytes: &[u8]) -> Result<FileHashes, JsError> {
    let h = staydown_media::hash_image_bytes(bytes, &staydown_media::DecodeLimits::default())
        .map_err(|e| JsError::new(&e.to_string()))?;
    Ok(FileHashes {
        pdq: h.pdq.to_hex(),
        quality: h.quality,
        sha256: h.sha256_hex(),
        md5: h.md5_hex(),
        width: h.width,
        height: h.height,
        dihedral: h.dihedral.to_array().iter().map(staydown_pdq::PdqHash::to_hex).collect(),
    })
}

/// Hamming distance between two hashes given as hex.
#[wasm_bindgen(js_name = hammingHex)]
pub fn hamming_hex(a: &str, b: &str) -> Result<u32, JsError> {
    let a: staydown_pdq::PdqHash = a.parse().map_err(|e: staydown_pdq::ParseHashError| JsError::new(&e.to_string()))?;
    let b: staydown_pdq::PdqHash = b.parse().map_err(|e: staydown_pdq::ParseHashError| JsError::new(&e.to_string()))?;
    Ok(a.hamming_distance(&b))
}
