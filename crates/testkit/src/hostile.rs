//! Hostile images for the decoding-bounds tests (issue 15): JPEGs that declare more than they
//! hold, repeat their scans, end early, or are valid but cost a lot of memory to decode; WebP,
//! GIF, BMP and HEIF files built from their specifications' layouts ([`riff`], [`vp8l`],
//! [`gif_screen`], [`bmp8`], [`heif_declaring`]).
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

/// A WebP (RFC 9649): `RIFF`, its size, `WEBP`, then each chunk (four-character code, size,
/// payload padded to an even length).
pub fn riff(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    for (kind, payload) in chunks {
        body.extend_from_slice(*kind);
        body.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        body.extend_from_slice(payload);
        if payload.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// A `VP8L` chunk's payload (RFC 9649 §3.2: signature 0x2f, 14-bit width and height minus one)
/// declaring `width × height`, zero-padded to `len` bytes.
pub fn vp8l(width: u32, height: u32, len: usize) -> Vec<u8> {
    let bits = (width - 1) | ((height - 1) << 14);
    let mut p = vec![0x2f];
    p.extend_from_slice(&bits.to_le_bytes());
    p.resize(len, 0);
    p
}

/// A GIF89a with a `width × height` logical screen, a two-colour global table and `frames`
/// frames of one pixel each (a valid LZW stream: clear, index 0, end of information).
pub fn gif_screen(width: u16, height: u16, frames: usize) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    for _ in 0..frames {
        out.extend_from_slice(&[0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
        // Minimum code size 2; codes 4 (clear), 0, 5 (end) in 3 bits each, least significant first.
        out.extend_from_slice(&[2, 2, 0x44, 0x01, 0]);
    }
    out.push(0x3b);
    out
}

/// A BMP with a `BITMAPINFOHEADER`, 8 bits a pixel, a black-and-white palette, the given
/// `compression` (0 none, 1 RLE8) and pixel `data`; a negative `height` is top-down.
pub fn bmp8(width: i32, height: i32, compression: u32, data: &[u8]) -> Vec<u8> {
    let offset = 14 + 40 + 8;
    let mut out = b"BM".to_vec();
    out.extend_from_slice(&((offset + data.len()) as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(offset as u32).to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(&compression.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&2u32.to_le_bytes()); // colours used
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&[0, 0, 0, 0, 255, 255, 255, 0]);
    out.extend_from_slice(data);
    out
}

fn iso_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

/// A HEIF file (ISO/IEC 23008-12): `ftyp` (heic), a `meta` whose `iprp`/`ipco` holds one `ispe`
/// declaring `width × height`, and an `mdat` of `mdat` zero bytes. No decodable image.
pub fn heif_declaring(width: u32, height: u32, mdat: usize) -> Vec<u8> {
    let mut ispe = vec![0u8; 4];
    ispe.extend_from_slice(&width.to_be_bytes());
    ispe.extend_from_slice(&height.to_be_bytes());
    let ipco = iso_box(b"ipco", &iso_box(b"ispe", &ispe));
    let mut meta = vec![0u8; 4];
    meta.extend_from_slice(&iso_box(b"iprp", &ipco));
    let mut out = iso_box(b"ftyp", b"heic\0\0\0\0mif1heic");
    out.extend_from_slice(&iso_box(b"meta", &meta));
    out.extend_from_slice(&iso_box(b"mdat", &vec![0; mdat]));
    out
}
