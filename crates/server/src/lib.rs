//! staydown-server (work in progress).
