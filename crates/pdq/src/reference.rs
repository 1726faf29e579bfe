//! The rows of the reference fixtures' `expected.csv` (fixtures/pdq/README.md): what Meta's
//! reference implementation computed for each image. Shared by the conformance tests of this
//! crate and of `staydown-media`, so both read the file the same way.

use crate::PdqHash;

/// One fixture image and the reference's result for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceRow {
    /// Path relative to the fixtures folder.
    pub path: String,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// The reference's hash.
    pub pdq: PdqHash,
    /// The reference's quality.
    pub quality: u8,
    /// How to compare: `exact`, `decoder-tolerant` or `no-crash`.
    pub comparison: String,
}

/// Parses `expected.csv` (header `path,width,height,…,pdq,quality,comparison`), naming the bad line.
pub fn parse_expected_csv(text: &str) -> Result<Vec<ReferenceRow>, String> {
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let bad = |what: &str| format!("expected.csv line {}: {what}: {line}", i + 1);
            let f: Vec<&str> = line.split(',').collect();
            if f.len() != 7 {
                return Err(bad("want 7 fields"));
            }
            Ok(ReferenceRow {
                path: f[0].to_owned(),
                width: f[1].parse().map_err(|_| bad("width"))?,
                height: f[2].parse().map_err(|_| bad("height"))?,
                pdq: f[4].parse().map_err(|_| bad("pdq"))?,
                quality: f[5].parse().map_err(|_| bad("quality"))?,
                comparison: f[6].to_owned(),
            })
        })
        .collect()
}
