//! From the 64×64 downsample to bits: quality metric, 16×16 DCT, median threshold, dihedral variants.
//!
//! Implements steps 3–6 of `specs/pdq.md` ("The algorithm, in outline"). Every float operation is
//! done in the order Meta's C++ core does it (products summed one by one from k = 0, no fused
//! multiply-add, f32 accumulators), because the hash compares coefficients against their median and
//! a single rounding difference can flip a bit that sits next to it.

use std::sync::OnceLock;

use crate::hash::PdqHash;

/// The 64×64 blurred and decimated luminance block, row-major.
pub(crate) type Block64 = [[f32; 64]; 64];
/// The 16×16 block of DCT coefficients (frequencies 1..=16 in both directions), row-major.
pub(crate) type Block16 = [[f32; 16]; 16];

/// The 16×64 DCT-II basis without the DC row, scaled by √(2/64), as the reference builds it:
/// each entry is computed in f64 (scale factor first rounded to f32) and then rounded to f32.
fn dct_matrix() -> &'static [[f32; 64]; 16] {
    static MATRIX: OnceLock<[[f32; 64]; 16]> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let scale = (2.0f64 / 64.0).sqrt() as f32;
        let mut m = [[0f32; 64]; 16];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, value) in row.iter_mut().enumerate() {
                let angle = (std::f64::consts::PI / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64;
                *value = (f64::from(scale) * angle.cos()) as f32;
            }
        }
        m
    })
}

/// The transposed basis (`[k][j]` = basis row `j`, column `k`), for the second product.
fn dct_matrix_transposed() -> &'static [[f32; 16]; 64] {
    static MATRIX_T: OnceLock<[[f32; 16]; 64]> = OnceLock::new();
    MATRIX_T.get_or_init(|| {
        let d = dct_matrix();
        let mut t = [[0f32; 16]; 64];
        for (k, row) in t.iter_mut().enumerate() {
            for (j, value) in row.iter_mut().enumerate() {
                *value = d[j][k];
            }
        }
        t
    })
}

/// `B = D · A · Dᵀ` restricted to the 16 lowest non-DC frequencies.
///
/// The reference computes each output as a dot product accumulated from k = 0 upwards; here the
/// loops are reordered so that whole rows are updated at once (which vectorises), but every
/// individual output still sees exactly the same sequence of f32 multiply-then-add steps.
pub(crate) fn dct64_to_16(a: &Block64) -> Block16 {
    let d = dct_matrix();
    // T = D · A, T[i][j] = Σₖ D[i][k]·A[k][j], summed in k order.
    let mut t = [[0f32; 64]; 16];
    for (t_row, d_row) in t.iter_mut().zip(d) {
        for (a_row, &dk) in a.iter().zip(d_row) {
            for (t_ij, &a_kj) in t_row.iter_mut().zip(a_row) {
                *t_ij += dk * a_kj;
            }
        }
    }
    // B = T · Dᵀ, B[i][j] = Σₖ T[i][k]·D[j][k], summed in k order.
    let dt = dct_matrix_transposed();
    let mut b = [[0f32; 16]; 16];
    for (b_row, t_row) in b.iter_mut().zip(&t) {
        for (&t_ik, dt_row) in t_row.iter().zip(dt) {
            for (b_ij, &d_jk) in b_row.iter_mut().zip(dt_row) {
                *b_ij += t_ik * d_jk;
            }
        }
    }
    b
}

/// The reference's image-domain quality metric: the sum of quantised absolute differences between
/// neighbouring samples of the 64×64 block, divided by 90 and capped at 100.
pub(crate) fn quality(a: &Block64) -> u8 {
    // Truncation toward zero of ((u - v) * 100) / 255 in f32, as the C++ int conversion does;
    // |u - v| ≤ 255 so the value always fits.
    fn step(u: f32, v: f32) -> i32 {
        (((u - v) * 100.0) / 255.0) as i32
    }
    let mut gradient_sum: i32 = 0;
    for (row, next) in a.iter().zip(&a[1..]) {
        for (&u, &v) in row.iter().zip(next) {
            gradient_sum += step(u, v).abs();
        }
    }
    for row in a {
        for (&u, &v) in row.iter().zip(&row[1..]) {
            gradient_sum += step(u, v).abs();
        }
    }
    // gradient_sum ≤ 8064·100, so the quotient is non-negative and the cap makes it fit in u8.
    (gradient_sum / 90).min(100) as u8
}

/// One bit per coefficient: set when the coefficient is strictly greater than the median.
///
/// The reference's median (Torben's method over 256 values) is the 128th smallest value, i.e. the
/// lower median; a selection on a copy gives the same value.
pub(crate) fn to_bits(b: &Block16) -> PdqHash {
    let mut values = [0f32; 256];
    for (chunk, row) in values.chunks_exact_mut(16).zip(b) {
        chunk.copy_from_slice(row);
    }
    let (_, &mut median, _) = values.select_nth_unstable_by(127, f32::total_cmp);
    let mut hash = PdqHash::ZERO;
    for (i, row) in b.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            if v > median {
                hash.set_bit(i * 16 + j);
            }
        }
    }
    hash
}

/// The eight dihedral transforms of the image (rotations and flips), expressed on the DCT block.
///
/// A transform of the image permutes and negates DCT coefficients: mirroring along one axis negates
/// the odd-numbered frequencies of that axis (our rows/columns 0, 2, 4… are frequencies 1, 3, 5…),
/// and the diagonal flips transpose the block. The table below is the reference's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dihedral {
    Original,
    Rotate90,
    Rotate180,
    Rotate270,
    FlipX,
    FlipY,
    FlipPlus1,
    FlipMinus1,
}

impl Dihedral {
    pub(crate) const ALL: [Dihedral; 8] = [
        Dihedral::Original,
        Dihedral::Rotate90,
        Dihedral::Rotate180,
        Dihedral::Rotate270,
        Dihedral::FlipX,
        Dihedral::FlipY,
        Dihedral::FlipPlus1,
        Dihedral::FlipMinus1,
    ];

    /// Applies the transform: coefficient `(i, j)` of the original goes to `(i, j)` or, for
    /// transposing transforms, to `(j, i)`, negated where the table says so. Negation is exact in
    /// floating point, so the median of the result is the negated or same median.
    pub(crate) fn apply(self, a: &Block16) -> Block16 {
        let mut out = [[0f32; 16]; 16];
        for (i, row) in a.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let (i_odd, j_odd) = (i % 2 == 1, j % 2 == 1);
                let (transpose, keep_sign) = match self {
                    Dihedral::Original => (false, true),
                    Dihedral::Rotate90 => (true, j_odd),
                    Dihedral::Rotate180 => (false, !(i_odd ^ j_odd)),
                    Dihedral::Rotate270 => (true, i_odd),
                    Dihedral::FlipX => (false, i_odd),
                    Dihedral::FlipY => (false, j_odd),
                    Dihedral::FlipPlus1 => (true, true),
                    Dihedral::FlipMinus1 => (true, !(i_odd ^ j_odd)),
                };
                let v = if keep_sign { v } else { -v };
                if transpose {
                    out[j][i] = v;
                } else {
                    out[i][j] = v;
                }
            }
        }
        out
    }
}
