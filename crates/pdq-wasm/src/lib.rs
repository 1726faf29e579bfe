//! WebAssembly shim over staydown-pdq (work in progress).
