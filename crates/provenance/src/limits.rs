//! Bounds on every parser in this crate: bytes, counts, nesting and decompressed sizes.
//!
//! Untrusted bytes are bounded before parsing (ARCHITECTURE invariant; style.md rule 5). The
//! defaults fit real photos and generator outputs with wide margins; the server may tighten them.

/// Limits applied while reading one file. Every parser checks the relevant field before it
/// allocates or recurses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted at all; larger inputs fail with
    /// [`ProvenanceError::TooLarge`](crate::ProvenanceError::TooLarge).
    pub max_bytes: usize,
    /// Most JPEG segments / PNG chunks / RIFF chunks walked before giving up.
    pub max_chunks: usize,
    /// Largest XMP packet parsed (bytes, after any decompression).
    pub max_xmp_bytes: usize,
    /// Deepest XML element nesting accepted in an XMP packet.
    pub max_xml_depth: usize,
    /// Most XML events (tags, texts) read from one XMP packet.
    pub max_xml_events: usize,
    /// Most PNG text chunks interpreted.
    pub max_text_chunks: usize,
    /// Most bytes one compressed PNG text chunk (`zTXt`, compressed `iTXt`) may inflate to.
    pub max_inflated_bytes: usize,
    /// Most bytes all compressed PNG text chunks of one file may inflate to together.
    pub max_total_inflated_bytes: usize,
    /// Most entries read from one TIFF IFD in an EXIF block.
    pub max_ifd_entries: usize,
    /// Longest signal value kept (characters); longer values are truncated with "…".
    pub max_value_chars: usize,
    /// Most signals kept for one file.
    pub max_signals: usize,
    /// Deepest chain of C2PA ingredient manifests walked.
    pub max_c2pa_depth: usize,
    /// Largest decompressed C2PA manifest store the `c2pa` crate may build, in MiB.
    pub max_c2pa_manifest_mib: usize,
    /// Largest RGBA PNG (width × height) whose alpha channel is decoded to look for NovelAI's
    /// hidden data (`stealth_pngcomp`); larger images are not decoded for it.
    pub max_stealth_pixels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 64 * 1024 * 1024,
            max_chunks: 4096,
            max_xmp_bytes: 4 * 1024 * 1024,
            max_xml_depth: 64,
            max_xml_events: 200_000,
            max_text_chunks: 256,
            max_inflated_bytes: 4 * 1024 * 1024,
            max_total_inflated_bytes: 16 * 1024 * 1024,
            max_ifd_entries: 1024,
            max_value_chars: 300,
            max_signals: 256,
            max_c2pa_depth: 16,
            max_c2pa_manifest_mib: 16,
            max_stealth_pixels: 16_000_000,
        }
    }
}
