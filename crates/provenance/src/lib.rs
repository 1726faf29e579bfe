//! staydown-provenance: what an image file says about its own origin — AI-generated or not, by
//! which generator, edited or not — read from C2PA manifests, IPTC/XMP, PNG text chunks and EXIF.
//!
//! Implements issue 6 and design §6: reading the machine-readable marks that the EU AI Act
//! Art. 50(2) requires generative-AI providers to put on their output, to fill the DSA
//! transparency statistics (Art. 15, 24) that count cases by AI-generated / edited / real and by
//! generator.
//!
//! Design: pure apart from the bytes it is given (no file or network I/O, no clock), bounded by
//! [`Limits`] before any parsing, and honest about strength — every observation is returned as a
//! [`Signal`] marked strong or weak, and the verdict follows fixed combination rules (see
//! `combine`). Metadata is easily stripped or forged: `unknown` means "the file does not say",
//! never "real". The `c2pa` cargo feature (default on) adds the C2PA SDK; without it the crate
//! still reads XMP, PNG text and EXIF with its own small parsers (which is what the fuzz target
//! exercises).
//!
//! ```
//! let provenance = staydown_provenance::analyze(b"not an image", &staydown_provenance::Limits::default())?;
//! assert_eq!(provenance.ai_generated, staydown_provenance::Verdict::Unknown);
//! # Ok::<(), staydown_provenance::ProvenanceError>(())
//! ```

#![deny(missing_docs)]

#[cfg(feature = "c2pa")]
mod c2pa_reader;
mod combine;
mod container;
mod error;
pub mod exif;
#[cfg(feature = "heif")]
mod heif;
mod interpret;
mod limits;
pub mod normalize;
mod stealth;
mod types;
pub mod xmp;

pub use container::{Format, Metadata, TextChunk, read_metadata};
pub use error::{MetadataError, ProvenanceError};
pub use limits::Limits;
pub use types::{NotifierClaim, Provenance, Signal, Source, Strength, Verdict};

/// Reads every provenance signal in `bytes` and combines them into one result.
///
/// Never touches the network or the file system. Malformed or hostile metadata does not fail the
/// call: the payload that could not be read becomes a weak `error` signal and the rest is still
/// read. Add a notice's claim afterwards with [`Provenance::with_notifier_claim`].
///
/// # Errors
/// [`ProvenanceError::TooLarge`] when `bytes` is longer than [`Limits::max_bytes`].
pub fn analyze(bytes: &[u8], limits: &Limits) -> Result<Provenance, ProvenanceError> {
    if bytes.len() > limits.max_bytes {
        return Err(ProvenanceError::TooLarge { len: bytes.len(), max: limits.max_bytes });
    }
    let mut findings = Vec::new();
    #[cfg(feature = "c2pa")]
    findings.extend(c2pa_reader::findings(bytes, Format::sniff(bytes), limits));
    let metadata = read_metadata(bytes, limits);
    findings.extend(interpret::findings(&metadata, limits));
    Ok(combine::combine(findings, limits.max_signals))
}

/// Whether this build reads C2PA manifests (the `c2pa` cargo feature).
#[must_use]
pub const fn reads_c2pa() -> bool {
    cfg!(feature = "c2pa")
}

/// How many network requests the C2PA SDK attempted in this process (each was refused). Always
/// 0 unless a future SDK version starts fetching despite the settings; exposed so tests and the
/// server's health checks can prove that reading provenance stays offline.
#[must_use]
pub fn refused_network_requests() -> usize {
    #[cfg(feature = "c2pa")]
    return c2pa_reader::REFUSED_REQUESTS.load(std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(feature = "c2pa"))]
    return 0;
}
