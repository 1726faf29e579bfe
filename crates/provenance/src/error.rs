//! Typed errors: the one hard failure of [`crate::analyze`] and the soft, per-payload metadata
//! errors that are reported as weak `error` signals instead of failing the whole file.
//!
//! A damaged XMP packet must not hide a valid C2PA manifest in the same file, so metadata errors
//! are collected, not propagated.

use thiserror::Error;

/// Why [`crate::analyze`] refused a file.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProvenanceError {
    /// The input is larger than [`crate::Limits::max_bytes`].
    #[error("input is {len} bytes, more than the limit of {max}")]
    TooLarge {
        /// Input length in bytes.
        len: usize,
        /// The limit that was exceeded.
        max: usize,
    },
}

/// A problem found while walking a container or parsing a metadata payload. Parsing stops at the
/// first problem in that container or payload; what was read before it is kept.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataError {
    /// A segment, chunk or field runs past the end of the data.
    #[error("{what} truncated: needs {needed} bytes at offset {offset}, {available} available")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Offset of the field in its buffer.
        offset: usize,
        /// Bytes the field declares or needs.
        needed: u64,
        /// Bytes actually left.
        available: usize,
    },
    /// A structural field has an impossible value.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A count or size limit from [`crate::Limits`] was reached.
    #[error("limit reached: {what} (limit {limit})")]
    LimitExceeded {
        /// Which limit.
        what: &'static str,
        /// Its value.
        limit: usize,
    },
    /// A compressed text chunk could not be inflated.
    #[error("cannot inflate {what}: {detail}")]
    Inflate {
        /// What was being inflated.
        what: &'static str,
        /// The decompressor's complaint.
        detail: String,
    },
    /// An XMP packet is not well-formed XML (or not UTF-8).
    #[error("invalid XMP: {0}")]
    Xml(String),
}
