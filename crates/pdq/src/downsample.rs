//! Luminance plane → 64×64 block: two rounds of Jarosz box filters, then decimation.
//!
//! Implements step 2 of `specs/pdq.md` ("The algorithm, in outline") bit-exactly. The reference runs
//! four full-image passes (box along rows, box along columns, twice) over two full-size float
//! buffers and then keeps 64×64 samples. We produce the same floats in a different schedule:
//!
//! * **Streaming.** Rows flow through the passes in groups; the column pass keeps one running sum
//!   per column and a ring of the last `window + group` row-pass outputs, so the working set stays
//!   in cache instead of sweeping two W×H buffers four times.
//! * **Only what is sampled.** After the first round every value is needed, but the second round
//!   feeds only 64×64 samples: its row pass must still run each running sum along the whole row
//!   (the sums are sequential float operations), yet it divides only at the 64 sampled columns, and
//!   its column pass runs on those 64 columns alone.
//! * **Independent chains side by side.** A running sum along a row is a chain of dependent
//!   additions; several rows advance together so that the chains overlap in the pipeline, and the
//!   divisions are done afterwards in a separate, vectorisable loop.
//!
//! Each output value still sees exactly the reference's sequence of f32 operations: add the entering
//! value, then subtract the leaving one, then divide by the number of values in the window.

use crate::dct::Block64;

/// A source of luminance rows (f32, as the reference's `fullBuffer1`).
pub(crate) trait LumaSource {
    fn width(&self) -> usize;
    fn height(&self) -> usize;
    /// Writes the luminance of row `row` into `out` (`out.len() == width`).
    fn luma_row(&self, row: usize, out: &mut [f32]);
}

/// How many rows advance together through the row passes; 8 independent add/subtract chains are
/// enough to cover the latency of the floating-point adder.
const GROUP: usize = 8;

/// The reference's window: about half the ratio of the input size to 64, rounded up, so that two
/// passes together cover one output cell.
pub(crate) fn jarosz_window(old_dimension: usize) -> usize {
    old_dimension.div_ceil(2 * 64)
}

/// The sampled positions: the centre of each of 64 equal strips, `⌊(k + ½)·n / 64⌋`, computed in
/// integers (the reference's double arithmetic is exact here).
pub(crate) fn sample_positions(n: usize) -> [usize; 64] {
    std::array::from_fn(|k| (2 * k + 1) * n / 128)
}

/// One dimension of the box filter: a running sum that looks `ahead` values forward and drops values
/// `lag` behind, so that output `i` averages inputs `i - lag + 1 ..= i + ahead` clipped to the
/// vector, and the count it divides by.
#[derive(Debug)]
pub(crate) struct BoxPlan {
    n: usize,
    ahead: usize,
    lag: usize,
    /// The divisor of output `i`, as f32 (exact: counts are small integers).
    counts: Vec<f32>,
}

impl BoxPlan {
    pub(crate) fn new(n: usize, window: usize) -> Self {
        debug_assert!(window >= 1 && window <= n);
        // The reference splits the window as half = (window + 2) / 2: it reads half - 1 values
        // before writing the first output.
        let half = (window + 2) / 2;
        let ahead = half - 1;
        let lag = window - ahead;
        let counts = (0..n)
            .map(|i| {
                let hi = (i + ahead).min(n - 1);
                let lo = (i + 1).saturating_sub(lag);
                (hi - lo + 1) as f32
            })
            .collect();
        BoxPlan {
            n,
            ahead,
            lag,
            counts,
        }
    }
}

/// Running (undivided) window sums along `G` rows at once: `outs[g][i]` is the reference's `sum`
/// at the moment it writes output `i` of row `g`.
// Index loops on purpose: `g` walks G parallel rows in lock step, which iterators cannot express.
#[allow(clippy::needless_range_loop)]
fn running_sums<const G: usize>(ins: [&[f32]; G], outs: [&mut [f32]; G], plan: &BoxPlan) {
    let (n, ahead, lag) = (plan.n, plan.ahead, plan.lag);
    let mut sum = [0f32; G];
    let ins: [&[f32]; G] = ins.map(|row| &row[..n]);
    let mut outs: [&mut [f32]; G] = outs.map(|row| &mut row[..n]);

    // Phase 1: accumulate the first `ahead` values, no output.
    for j in 0..ahead {
        for g in 0..G {
            sum[g] += ins[g][j];
        }
    }
    // Phase 2: the window grows; add and write.
    for i in 0..lag {
        for g in 0..G {
            sum[g] += ins[g][i + ahead];
            outs[g][i] = sum[g];
        }
    }
    // Phase 3: full window; add the entering value, then subtract the leaving one.
    let len = n - ahead - lag;
    let enter: [&[f32]; G] = ins.map(|row| &row[ahead + lag..][..len]);
    let leave: [&[f32]; G] = ins.map(|row| &row[..len]);
    {
        let out: [&mut [f32]; G] = outs.each_mut().map(|row| &mut row[lag..][..len]);
        for t in 0..len {
            for g in 0..G {
                sum[g] += enter[g][t];
                sum[g] -= leave[g][t];
                out[g][t] = sum[g];
            }
        }
    }
    // Phase 4: the window shrinks; subtract and write.
    for i in n - ahead..n {
        for g in 0..G {
            sum[g] -= ins[g][i - lag];
            outs[g][i] = sum[g];
        }
    }
}

/// Divides running sums by their window counts, in place (one vectorisable loop).
fn divide_by_counts(row: &mut [f32], counts: &[f32]) {
    for (v, &c) in row.iter_mut().zip(counts) {
        *v /= c;
    }
}

/// Splits a buffer of `G` consecutive rows of length `width` into row slices.
fn rows_mut<const G: usize>(buf: &mut [f32], width: usize) -> [&mut [f32]; G] {
    let mut chunks = buf.chunks_exact_mut(width);
    // Every caller passes a buffer of exactly G·width values, so there are G chunks.
    std::array::from_fn(|_| chunks.next().expect("buffer holds G rows"))
}

fn rows<const G: usize>(buf: &[f32], width: usize) -> [&[f32]; G] {
    std::array::from_fn(|g| &buf[g * width..(g + 1) * width])
}

/// One output row of a column pass: `sum += enter; sum -= leave; out = sum / count`, each step
/// optional (growing and shrinking phases), over all columns at once.
fn column_step(sum: &mut [f32], enter: Option<&[f32]>, leave: Option<&[f32]>) {
    match (enter, leave) {
        (Some(enter), Some(leave)) => {
            for ((s, &e), &l) in sum.iter_mut().zip(enter).zip(leave) {
                *s += e;
                *s -= l;
            }
        }
        (Some(enter), None) => {
            for (s, &e) in sum.iter_mut().zip(enter) {
                *s += e;
            }
        }
        (None, Some(leave)) => {
            for (s, &l) in sum.iter_mut().zip(leave) {
                *s -= l;
            }
        }
        (None, None) => {}
    }
}

/// Blur and decimate the luminance of `src` to 64×64, bit-exactly as the reference's
/// `jaroszFilterFloat` (two rounds) followed by `decimateFloat`, or a plain copy for a 64×64 input
/// (the reference skips filtering at exactly that size).
pub(crate) fn downsample(src: &impl LumaSource) -> Box<Block64> {
    let (width, height) = (src.width(), src.height());
    let mut block: Box<Block64> = Box::new([[0f32; 64]; 64]);
    if width == 64 && height == 64 {
        for (r, row) in block.iter_mut().enumerate() {
            src.luma_row(r, row);
        }
        return block;
    }

    let along_rows = BoxPlan::new(width, jarosz_window(width));
    let along_cols = BoxPlan::new(height, jarosz_window(height));
    let sample_cols = sample_positions(width);
    let sample_rows = sample_positions(height);
    let col_counts: [f32; 64] = std::array::from_fn(|k| along_rows.counts[sample_cols[k]]);

    // Ring of first-round row-pass outputs: the column pass needs rows i - lag ..= i + ahead, and
    // rows arrive GROUP at a time; a multiple of GROUP keeps each group contiguous.
    let window_rows = along_cols.ahead + along_cols.lag;
    let ring_rows = (window_rows + GROUP).div_ceil(GROUP) * GROUP;
    let mut ring = vec![0f32; ring_rows * width];
    let mut luma = vec![0f32; GROUP * width];
    let mut col_sum = vec![0f32; width];
    // Second round: rows of the first-round output waiting for their row pass, and its sums.
    let mut pending = vec![0f32; GROUP * width];
    let mut pending_rows = 0usize;
    let mut sums = vec![0f32; GROUP * width];
    // Second-round row-pass output at the 64 sampled columns, for every row.
    let mut sampled: Vec<[f32; 64]> = vec![[0f32; 64]; height];
    let mut next_out = 0usize; // next row of first-round column-pass output

    let mut row_pass_2 = |pending: &mut [f32], first: usize, count: usize, sums: &mut [f32]| {
        if count == GROUP {
            running_sums::<GROUP>(
                rows::<GROUP>(pending, width),
                rows_mut::<GROUP>(sums, width),
                &along_rows,
            );
        } else {
            for g in 0..count {
                let row = &pending[g * width..(g + 1) * width];
                let out = &mut sums[g * width..(g + 1) * width];
                running_sums::<1>([row], [out], &along_rows);
            }
        }
        for g in 0..count {
            let row_sums = &sums[g * width..(g + 1) * width];
            for (k, value) in sampled[first + g].iter_mut().enumerate() {
                *value = row_sums[sample_cols[k]] / col_counts[k];
            }
        }
    };

    let mut first_row = 0usize;
    while first_row < height {
        let count = GROUP.min(height - first_row);
        let slot = first_row % ring_rows;
        // Luminance and first-round row pass for `count` rows, into the ring.
        for g in 0..count {
            src.luma_row(first_row + g, &mut luma[g * width..(g + 1) * width]);
        }
        let ring_group = &mut ring[slot * width..(slot + count) * width];
        if count == GROUP {
            running_sums::<GROUP>(
                rows::<GROUP>(&luma, width),
                rows_mut::<GROUP>(ring_group, width),
                &along_rows,
            );
        } else {
            for g in 0..count {
                let row = &luma[g * width..(g + 1) * width];
                let out = &mut ring_group[g * width..(g + 1) * width];
                running_sums::<1>([row], [out], &along_rows);
            }
        }
        for row in ring_group.chunks_exact_mut(width) {
            divide_by_counts(row, &along_rows.counts);
        }
        first_row += count;

        // First-round column pass for every output row whose window is now complete.
        while next_out < height && (next_out + along_cols.ahead).min(height - 1) < first_row {
            let i = next_out;
            let ring_row = |r: usize| {
                let s = r % ring_rows;
                &ring[s * width..(s + 1) * width]
            };
            if i == 0 {
                // Phase 1 of the column pass: the first `ahead` rows, no output.
                for r in 0..along_cols.ahead {
                    column_step(&mut col_sum, Some(ring_row(r)), None);
                }
            }
            let enter = (i + along_cols.ahead < height).then(|| ring_row(i + along_cols.ahead));
            let leave = (i >= along_cols.lag).then(|| ring_row(i - along_cols.lag));
            column_step(&mut col_sum, enter, leave);
            let out = &mut pending[pending_rows * width..(pending_rows + 1) * width];
            let count_i = along_cols.counts[i];
            for (o, &s) in out.iter_mut().zip(&col_sum) {
                *o = s / count_i;
            }
            pending_rows += 1;
            next_out += 1;
            if pending_rows == GROUP {
                row_pass_2(&mut pending, next_out - GROUP, GROUP, &mut sums);
                pending_rows = 0;
            }
        }
    }
    if pending_rows > 0 {
        row_pass_2(
            &mut pending,
            next_out - pending_rows,
            pending_rows,
            &mut sums,
        );
    }

    // Second-round column pass on the 64 sampled columns, dividing only at the sampled rows.
    let mut sum = [0f32; 64];
    for row in &sampled[..along_cols.ahead] {
        column_step(&mut sum, Some(row), None);
    }
    let mut k = 0usize;
    for i in 0..height {
        let enter = sampled.get(i + along_cols.ahead).map(|r| &r[..]);
        let leave = (i >= along_cols.lag).then(|| &sampled[i - along_cols.lag][..]);
        column_step(&mut sum, enter, leave);
        while k < 64 && sample_rows[k] == i {
            let count_i = along_cols.counts[i];
            for (b, &s) in block[k].iter_mut().zip(&sum) {
                *b = s / count_i;
            }
            k += 1;
        }
    }
    block
}
