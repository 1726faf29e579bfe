//! staydown-index (work in progress).
