//! Hostile images for the decoding-bounds tests (issue 15): JPEGs that declare more than they
//! hold, repeat their scans, end early, or are valid but cost a lot of memory to decode.
//!
//! Built by hand from ITU-T T.81 (baseline, one greyscale component, Huffman tables with a single
//! one-bit code each), so every block of a [`flat_jpeg`] costs two bits and the file stays small
//! however large the image: the cheapest valid JPEG there is.

/// A valid greyscale baseline JPEG of `width × height` mid-grey pixels whose entropy data is
/// two bits per 8×8 block (`⌈w/8⌉·⌈h/8⌉ / 4` bytes), repeated over `scans` identical scans.
pub fn flat_jpeg(width: u16, height: u16, scans: usize) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    // DQT: table 0, all ones.
    segment(&mut out, 0xDB, &[&[0x00][..], &[1u8; 64][..]].concat());
    // SOF0: 8-bit, height, width, one component (id 1, sampling 1×1, table 0).
    let [h1, h0] = height.to_be_bytes();
    let [w1, w0] = width.to_be_bytes();
    segment(&mut out, 0xC0, &[8, h1, h0, w1, w0, 1, 1, 0x11, 0]);
    // DHT: DC table 0 and AC table 0, each one code of length 1 ("0"): DC category 0, AC EOB.
    let mut one_code = [0u8; 17];
    one_code[1] = 1;
    segment(&mut out, 0xC4, &[&[0x00][..], &one_code[1..], &[0x00]].concat());
    segment(&mut out, 0xC4, &[&[0x10][..], &one_code[1..], &[0x00]].concat());
    let blocks = usize::from(width).div_ceil(8) * usize::from(height).div_ceil(8);
    let data = vec![0u8; (blocks * 2).div_ceil(8)];
    for _ in 0..scans {
        // SOS: one component, tables 0/0, spectral 0..63, no approximation.
        segment(&mut out, 0xDA, &[1, 1, 0x00, 0, 63, 0]);
        out.extend_from_slice(&data);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// `jpeg` with its frame header changed to declare `width × height`, data unchanged: e.g. a
/// few hundred bytes claiming 10000 × 10000 pixels.
pub fn declaring(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let sof =
        (2..out.len() - 1).find(|&i| out[i] == 0xFF && matches!(out[i + 1], 0xC0..=0xC2)).expect("a frame header");
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    out
}

/// The first `fraction` of `jpeg`, as an interrupted upload leaves it: headers whole, the
/// entropy data cut short, no end-of-image marker.
pub fn truncated(jpeg: &[u8], fraction: f64) -> Vec<u8> {
    jpeg[..(jpeg.len() as f64 * fraction) as usize].to_vec()
}

fn segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&u16::try_from(payload.len() + 2).expect("short segment").to_be_bytes());
    out.extend_from_slice(payload);
}
