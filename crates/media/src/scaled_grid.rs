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
    // Down the columns first, into the 64 sample rows: each step adds a whole reduced row times
    // one weight, which the compiler vectorises (filtering each reduced row along its length
    // first, the reference's order, cannot be; the two differ only in float rounding).
    let mut tmp = vec![0f32; 64 * rw];
    for (out, (start, weights)) in tmp.chunks_exact_mut(rw).zip(&down) {
        for (k, w) in weights.iter().enumerate() {
            let row = &luma[(start + k) * rw..(start + k + 1) * rw];
            for (o, &v) in out.iter_mut().zip(row) {
                *o += w * f32::from(v);
            }
        }
    }
    let mut grid = vec![0f32; 64 * 64];
    for (cells, row) in grid.chunks_exact_mut(64).zip(tmp.chunks_exact(rw)) {
        for (cell, (start, weights)) in cells.iter_mut().zip(&across) {
            *cell = row[*start..*start + weights.len()].iter().zip(weights).map(|(v, w)| v * w).sum();
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
