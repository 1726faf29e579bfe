//! PDQ's 64×64 grid of an image from its DCT-scaled decode (issue 16): see [`pdq_grid`].

/// PDQ's 64×64 luminance grid (specs/pdq.md step 2) of the original `width × height` image, from
/// its decode at `1/denominator` scale.
///
/// The exact path filters each axis of the full image twice with a box of
/// `w = ⌈n / 128⌉` pixels (output `i` averages inputs `i − lag + 1 ..= i + ahead`, clipped to
/// the image, with `ahead = ⌊(w + 2) / 2⌋ − 1` and `lag = w − ahead`, as the reference does), and
/// keeps the samples at `⌊(k + ½)·n / 64⌋`. Filtering the reduced image with PDQ's own
/// window would both widen the blur and move the sample points by up to `denominator` pixels,
/// which flips the bits of coefficients near the median (up to 24 bits measured). Instead each
/// grid value is the same two-pass box kernel, computed on the original pixel positions, summed
/// over the pixels each reduced pixel stands for (a reduced pixel is the mean of its
/// `denominator × denominator` block: exactly so at ⅛, the block's DC; nearly so at ½ and ¼).
pub(crate) fn pdq_grid(luma: &[u8], reduced: (u32, u32), original: (u32, u32), denominator: u32) -> Vec<f32> {
    let (rw, rh) = (reduced.0 as usize, reduced.1 as usize);
    let d = denominator as usize;
    let across = axis_weights(original.0 as usize, rw, d);
    let down = axis_weights(original.1 as usize, rh, d);
    // Along each row first: tmp[i][c] for every reduced row i.
    let mut tmp = vec![0f32; rh * 64];
    for (i, row) in luma.chunks_exact(rw).enumerate() {
        for (c, (start, weights)) in across.iter().enumerate() {
            tmp[i * 64 + c] =
                row[*start..*start + weights.len()].iter().zip(weights).map(|(&v, w)| f32::from(v) * w).sum();
        }
    }
    let mut grid = vec![0f32; 64 * 64];
    for (r, (start, weights)) in down.iter().enumerate() {
        for (k, w) in weights.iter().enumerate() {
            let row = &tmp[(start + k) * 64..(start + k + 1) * 64];
            for (g, v) in grid[r * 64..(r + 1) * 64].iter_mut().zip(row) {
                *g += w * v;
            }
        }
    }
    grid
}

/// For each of the 64 samples along an axis of `n` original pixels: the first reduced pixel it
/// reads and the weights of the reduced pixels from there (see [`pdq_grid`]).
fn axis_weights(n: usize, reduced: usize, d: usize) -> Vec<(usize, Vec<f32>)> {
    let w = n.div_ceil(128).clamp(1, n);
    let ahead = (w + 2) / 2 - 1;
    let lag = w - ahead;
    // The inputs a box output at `p` averages, clipped to the axis.
    let span = |p: usize| ((p + 1).saturating_sub(lag), (p + ahead).min(n - 1));
    (0..64)
        .map(|k| {
            let s = (2 * k + 1) * n / 128;
            let (p_lo, p_hi) = span(s);
            let second = (p_hi - p_lo + 1) as f64;
            let (x_lo, x_hi) = (span(p_lo).0, span(p_hi).1);
            // The first pass's weights as a difference array over x_lo..=x_hi.
            let mut diff = vec![0f64; x_hi - x_lo + 2];
            for p in p_lo..=p_hi {
                let (a, b) = span(p);
                let v = 1.0 / ((b - a + 1) as f64 * second);
                diff[a - x_lo] += v;
                diff[b - x_lo + 1] -= v;
            }
            let j_lo = x_lo / d;
            let j_hi = (x_hi / d).min(reduced - 1);
            let mut out = vec![0f32; j_hi - j_lo + 1];
            let mut weight = 0f64;
            for x in x_lo..=x_hi {
                weight += diff[x - x_lo];
                out[(x / d).min(reduced - 1) - j_lo] += weight as f32;
            }
            (j_lo, out)
        })
        .collect()
}
