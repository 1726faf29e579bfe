//! staydown-domain (work in progress).
