//! staydown-provenance (work in progress).
