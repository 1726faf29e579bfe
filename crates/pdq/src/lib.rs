//! staydown-pdq (work in progress).
