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

/// How many rows advance together through the row passes. A running sum along a row is a chain of
/// dependent additions (latency-bound); with the rows interleaved, the chains of 16 rows are four
/// SIMD registers that progress side by side.
pub(crate) const GROUP: usize = 16;

/// One column position of a group of rows: lane `g` belongs to row `first + g`.
type Lanes = [f32; GROUP];

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
        BoxPlan { n, ahead, lag, counts }
    }
}

#[inline(always)]
fn add(sum: &mut Lanes, v: &Lanes) {
    for (s, v) in sum.iter_mut().zip(v) {
        *s += v;
    }
}

#[inline(always)]
fn sub(sum: &mut Lanes, v: &Lanes) {
    for (s, v) in sum.iter_mut().zip(v) {
        *s -= v;
    }
}

/// Running (undivided) window sums along a group of interleaved rows: `outs[i][g]` is the
/// reference's `sum` at the moment it writes output `i` of row `g`.
fn running_sums(ins: &[Lanes], outs: &mut [Lanes], plan: &BoxPlan) {
    let (n, ahead, lag) = (plan.n, plan.ahead, plan.lag);
    let (ins, outs) = (&ins[..n], &mut outs[..n]);
    let mut sum: Lanes = [0.0; GROUP];
    // Phase 1: accumulate the first `ahead` values, no output.
    for v in &ins[..ahead] {
        add(&mut sum, v);
    }
    // Phase 2: the window grows; add and write.
    for (out, v) in outs[..lag].iter_mut().zip(&ins[ahead..]) {
        add(&mut sum, v);
        *out = sum;
    }
    // Phase 3: full window; add the entering value, then subtract the leaving one.
    let len = n - ahead - lag;
    for ((out, enter), leave) in outs[lag..][..len].iter_mut().zip(&ins[ahead + lag..]).zip(&ins[..len]) {
        add(&mut sum, enter);
        sub(&mut sum, leave);
        *out = sum;
    }
    // Phase 4: the window shrinks; subtract and write.
    for (out, leave) in outs[n - ahead..].iter_mut().zip(&ins[len..]) {
        sub(&mut sum, leave);
        *out = sum;
    }
}

/// One output row of a column pass: `sum += enter; sum -= leave`, each step optional (growing and
/// shrinking phases), over all columns at once.
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

/// Columns per tile of the transposes below: 64 columns of a 16-row group are 4 KiB in and out,
/// comfortably inside L1.
const TILE: usize = 64;

/// Row-major `GROUP × width` → interleaved (`out[c][g] = rows[g][c]`), tile by tile, in 4×4 blocks
/// (which the compiler turns into register shuffles).
fn interleave(rows: &[f32], width: usize, out: &mut [Lanes]) {
    let full = width / 4 * 4;
    for c0 in (0..full).step_by(TILE) {
        let c1 = (c0 + TILE).min(full);
        let (cells, _) = out[c0..c1].as_chunks_mut::<4>();
        for g0 in (0..GROUP).step_by(4) {
            let row = |k: usize| rows[(g0 + k) * width + c0..(g0 + k) * width + c1].as_chunks::<4>().0;
            let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
            for ((cells, (a, b)), (c, d)) in cells.iter_mut().zip(r0.iter().zip(r1)).zip(r2.iter().zip(r3)) {
                for j in 0..4 {
                    cells[j][g0..g0 + 4].copy_from_slice(&[a[j], b[j], c[j], d[j]]);
                }
            }
        }
    }
    for (c, cell) in out.iter_mut().enumerate().take(width).skip(full) {
        for (g, v) in cell.iter_mut().enumerate() {
            *v = rows[g * width + c];
        }
    }
}

/// Interleaved → row-major rows, divided by the per-column counts on the way, for the first
/// `rows.len() / width` lanes.
fn deinterleave_divided(cells: &[Lanes], counts: &[f32], width: usize, rows: &mut [f32]) {
    let n_rows = rows.len() / width;
    for c0 in (0..width).step_by(TILE) {
        let c1 = (c0 + TILE).min(width);
        for (g, row) in rows.chunks_exact_mut(width).take(n_rows).enumerate() {
            for ((o, cell), &count) in row[c0..c1].iter_mut().zip(&cells[c0..c1]).zip(&counts[c0..c1]) {
                *o = cell[g] / count;
            }
        }
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

    // Ring of first-round row-pass outputs, row-major: the column pass needs rows
    // i - lag ..= i + ahead, and rows arrive GROUP at a time; a multiple of GROUP keeps each group
    // contiguous.
    let window_rows = along_cols.ahead + along_cols.lag;
    let ring_rows = (window_rows + GROUP).div_ceil(GROUP) * GROUP;
    let mut ring = vec![0f32; ring_rows * width];
    // Row-major staging rows and interleaved group buffers for the row passes.
    let mut staging = vec![0f32; GROUP * width];
    let mut lanes_in: Vec<Lanes> = vec![[0.0; GROUP]; width];
    let mut lanes_sum: Vec<Lanes> = vec![[0.0; GROUP]; width];
    let mut col_sum = vec![0f32; width];
    // Second round: first-round output rows waiting (row-major) for their row pass.
    let mut pending = vec![0f32; GROUP * width];
    let mut pending_rows = 0usize;
    // Second-round row-pass output at the 64 sampled columns, for every row.
    let mut sampled: Vec<[f32; 64]> = vec![[0f32; 64]; height];
    let mut next_out = 0usize; // next row of first-round column-pass output

    // Second-round row pass of the pending rows; only the 64 sampled columns are divided and kept.
    let mut row_pass_2 = |pending: &[f32], first: usize, count: usize, lanes: &mut [Lanes], sums: &mut [Lanes]| {
        interleave(pending, width, lanes);
        running_sums(lanes, sums, &along_rows);
        for (k, &col) in sample_cols.iter().enumerate() {
            let count_k = along_rows.counts[col];
            for (g, row) in sampled[first..first + count].iter_mut().enumerate() {
                row[k] = sums[col][g] / count_k;
            }
        }
    };

    let mut first_row = 0usize;
    while first_row < height {
        // Luminance of `count` rows; unused rows of a last, partial group hold stale values that
        // flow through their own lanes only and are never read back.
        let count = GROUP.min(height - first_row);
        for (g, row) in staging.chunks_exact_mut(width).take(count).enumerate() {
            src.luma_row(first_row + g, row);
        }
        // First-round row pass on interleaved rows, then divide and de-interleave into the ring.
        interleave(&staging, width, &mut lanes_in);
        running_sums(&lanes_in, &mut lanes_sum, &along_rows);
        let slot = first_row % ring_rows;
        deinterleave_divided(&lanes_sum, &along_rows.counts, width, &mut ring[slot * width..(slot + count) * width]);
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
            let count_i = along_cols.counts[i];
            let out = &mut pending[pending_rows * width..(pending_rows + 1) * width];
            for (o, &s) in out.iter_mut().zip(&col_sum) {
                *o = s / count_i;
            }
            pending_rows += 1;
            next_out += 1;
            if pending_rows == GROUP {
                row_pass_2(&pending, next_out - GROUP, GROUP, &mut lanes_in, &mut lanes_sum);
                pending_rows = 0;
            }
        }
    }
    if pending_rows > 0 {
        row_pass_2(&pending, next_out - pending_rows, pending_rows, &mut lanes_in, &mut lanes_sum);
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
