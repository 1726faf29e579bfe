//! staydown-store (work in progress).
