//! Synthetic photo-like JPEGs, generated from a seed: the drift corpus of the scaled JPEG decode
//! (`crates/media/tests/drift.rs`) and the uploads of `staydown bench screen` (issue 16).
//!
//! Not photographs, but built like them where it matters to a DCT: smooth illumination
//! gradients, textures at several scales (value noise of three octaves), objects with soft
//! edges and hard ones, and sensor-like grain, in colour with correlated channels. Encoded by
//! libjpeg-turbo at a chosen quality and chroma subsampling (4:2:0, 4:4:4 or greyscale), and
//! made progressive by its lossless transform (the coefficients stay the same, only the scan
//! order changes), as cameras and web encoders write them.

use turbojpeg::{Compressor, Image, PixelFormat, Subsamp, Transform, Transformer};

/// How a corpus photo is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// Chroma at half resolution both ways (most cameras and the web).
    S420,
    /// Full-resolution chroma.
    S444,
    /// One luminance component.
    Gray,
}

/// One photo of the corpus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhotoSpec {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// libjpeg quality, 1–100.
    pub quality: u8,
    /// Chroma subsampling.
    pub sampling: Sampling,
    /// Progressive scans (libjpeg's standard script) instead of one baseline scan.
    pub progressive: bool,
    /// What the picture looks like.
    pub seed: u64,
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// A grid of random values, read with bilinear interpolation: one octave of value noise.
struct Noise {
    cols: usize,
    rows: usize,
    cell: f32,
    values: Vec<f32>,
}

impl Noise {
    fn new(rng: &mut Rng, width: u32, height: u32, cell: f32) -> Self {
        let cols = (width as f32 / cell) as usize + 2;
        let rows = (height as f32 / cell) as usize + 2;
        let values = (0..cols * rows).map(|_| rng.unit() - 0.5).collect();
        Noise { cols, rows, cell, values }
    }
    fn at(&self, x: f32, y: f32) -> f32 {
        let (gx, gy) = (x / self.cell, y / self.cell);
        let (ix, iy) = ((gx as usize).min(self.cols - 2), (gy as usize).min(self.rows - 2));
        let (fx, fy) = (gx - ix as f32, gy - iy as f32);
        let v = |c: usize, r: usize| self.values[r * self.cols + c];
        let top = v(ix, iy) * (1.0 - fx) + v(ix + 1, iy) * fx;
        let bottom = v(ix, iy + 1) * (1.0 - fx) + v(ix + 1, iy + 1) * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

/// The RGB pixels (8-bit, row-major) of the photo `seed` at `width × height`.
pub fn photo_rgb(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed ^ 0x005E_ED0F_5747_D0A1);
    let (w, h) = (width as f32, height as f32);
    let scale = w.max(h);
    // Illumination: a colour at each corner.
    let corners: Vec<[f32; 3]> =
        (0..4).map(|_| [rng.unit(), rng.unit(), rng.unit()].map(|c| 40.0 + 170.0 * c)).collect();
    let octaves = [
        (Noise::new(&mut rng, width, height, scale / 4.0), 70.0),
        (Noise::new(&mut rng, width, height, scale / 14.0), 35.0),
        (Noise::new(&mut rng, width, height, scale / 60.0), 14.0),
    ];
    let tint = [rng.unit() * 0.6 + 0.7, rng.unit() * 0.6 + 0.7, rng.unit() * 0.6 + 0.7];
    let mut rgb = vec![0f32; width as usize * height as usize * 3];
    for y in 0..height as usize {
        let fy = y as f32 / h;
        for x in 0..width as usize {
            let fx = x as f32 / w;
            let texture: f32 = octaves.iter().map(|(n, a)| n.at(x as f32, y as f32) * a).sum();
            let i = (y * width as usize + x) * 3;
            for c in 0..3 {
                let base = corners[0][c] * (1.0 - fx) * (1.0 - fy)
                    + corners[1][c] * fx * (1.0 - fy)
                    + corners[2][c] * (1.0 - fx) * fy
                    + corners[3][c] * fx * fy;
                rgb[i + c] = base + texture * tint[c];
            }
        }
    }
    // Objects: ellipses, soft-edged (blurred by depth of field) or hard-edged, blended over.
    let objects = 6 + (rng.next() % 10) as usize;
    for _ in 0..objects {
        let (cx, cy) = (rng.unit() * w, rng.unit() * h);
        let (rx, ry) = ((0.03 + rng.unit() * 0.2) * scale, (0.03 + rng.unit() * 0.2) * scale);
        let colour = [rng.unit(), rng.unit(), rng.unit()].map(|c| 255.0 * c);
        let soft = if rng.next().is_multiple_of(2) { 1.5 } else { 0.02 * scale };
        let opacity = 0.5 + rng.unit() * 0.5;
        let x0 = (cx - rx - soft).max(0.0) as usize;
        let x1 = ((cx + rx + soft).min(w - 1.0)) as usize;
        let y0 = (cy - ry - soft).max(0.0) as usize;
        let y1 = ((cy + ry + soft).min(h - 1.0)) as usize;
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
                // Signed distance to the edge, roughly in pixels.
                let d = ((dx * dx + dy * dy).sqrt() - 1.0) * rx.min(ry);
                let a = opacity * (0.5 - d / (2.0 * soft)).clamp(0.0, 1.0);
                if a > 0.0 {
                    let i = (y * width as usize + x) * 3;
                    for c in 0..3 {
                        rgb[i + c] = rgb[i + c] * (1.0 - a) + colour[c] * a;
                    }
                }
            }
        }
    }
    // Grain: a few levels of independent noise per pixel, as a sensor adds.
    rgb.iter()
        .map(|v| {
            let grain = (rng.next() % 9) as f32 - 4.0;
            (v + grain).round().clamp(0.0, 255.0) as u8
        })
        .collect()
}

/// The photo as a JPEG file.
///
/// # Errors
/// libjpeg-turbo's message when it fails to encode (a size of zero, or over 65535).
pub fn photo_jpeg(spec: &PhotoSpec) -> Result<Vec<u8>, turbojpeg::Error> {
    let rgb = photo_rgb(spec.width, spec.height, spec.seed);
    let (width, height) = (spec.width as usize, spec.height as usize);
    let mut compressor = Compressor::new()?;
    compressor.set_quality(i32::from(spec.quality));
    compressor.set_subsamp(match spec.sampling {
        Sampling::S420 => Subsamp::Sub2x2,
        Sampling::S444 => Subsamp::None,
        Sampling::Gray => Subsamp::Gray,
    });
    let image = Image { pixels: &rgb[..], width, pitch: width * 3, height, format: PixelFormat::RGB };
    let baseline = compressor.compress_to_vec(image)?;
    if !spec.progressive {
        return Ok(baseline);
    }
    let transform = Transform { progressive: true, ..Transform::default() };
    Transformer::new()?.transform_to_vec(&transform, &baseline)
}

/// The drift corpus: 24 photos from 0.3 to 12 megapixels (landscape and portrait), qualities 50
/// to 95, 4:2:0, 4:4:4 and greyscale, baseline and progressive; then four photos of 1,024 to
/// 1,280 pixels a side whose ⅛ decode drifts 6–8 bits (found among 225 such photos: they keep
/// [`crate::MIN_EIGHTH_SIDE`] honest).
pub fn drift_corpus() -> Vec<PhotoSpec> {
    const SIZES: [(u32, u32); 8] =
        [(640, 480), (480, 640), (1152, 864), (1280, 720), (1600, 1200), (1944, 2592), (3264, 2448), (4000, 3000)];
    const QUALITIES: [u8; 4] = [50, 70, 85, 95];
    (0..24u64)
        .map(|i| {
            let (width, height) = SIZES[i as usize % SIZES.len()];
            PhotoSpec {
                width,
                height,
                quality: QUALITIES[(i as usize / 2) % QUALITIES.len()],
                sampling: match i % 3 {
                    0 => Sampling::S420,
                    1 => Sampling::S444,
                    _ => Sampling::Gray,
                },
                progressive: (i / 3) % 2 == 1,
                seed: 1000 + i,
            }
        })
        .chain(
            [
                (1024, 1024, 50, Sampling::S420, 90_001),
                (1365, 1024, 95, Sampling::S420, 90_038),
                (1088, 1088, 85, Sampling::Gray, 90_070),
                (1280, 1280, 95, Sampling::Gray, 90_223),
            ]
            .map(|(width, height, quality, sampling, seed)| PhotoSpec {
                width,
                height,
                quality,
                sampling,
                progressive: false,
                seed,
            }),
        )
        .collect()
}
