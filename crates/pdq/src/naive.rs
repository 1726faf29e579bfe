//! Test oracle: the reference's downsampling written the plain way (four full-image passes over two
//! W×H buffers, the box filter in its four explicit phases), to check the streaming schedule of
//! `downsample` against on many sizes. Shares nothing with `downsample` but the window formula.

use crate::dct::Block64;
use crate::downsample::{LumaSource, jarosz_window};

fn box_1d(input: &[f32], output: &mut [f32], len: usize, stride: usize, window: usize) {
    let half = (window + 2) / 2;
    let phase1 = half - 1;
    let phase2 = window - half + 1;
    let phase3 = len - window;
    let phase4 = half - 1;
    let (mut li, mut ri, mut oi) = (0, 0, 0);
    let mut sum = 0f32;
    let mut current = 0usize;
    for _ in 0..phase1 {
        sum += input[ri];
        current += 1;
        ri += stride;
    }
    for _ in 0..phase2 {
        sum += input[ri];
        current += 1;
        output[oi] = sum / current as f32;
        ri += stride;
        oi += stride;
    }
    for _ in 0..phase3 {
        sum += input[ri];
        sum -= input[li];
        output[oi] = sum / current as f32;
        li += stride;
        ri += stride;
        oi += stride;
    }
    for _ in 0..phase4 {
        sum -= input[li];
        current -= 1;
        output[oi] = sum / current as f32;
        li += stride;
        oi += stride;
    }
}

pub(crate) fn downsample(src: &impl LumaSource) -> Box<Block64> {
    let (w, h) = (src.width(), src.height());
    let mut buf1 = vec![0f32; w * h];
    for r in 0..h {
        src.luma_row(r, &mut buf1[r * w..(r + 1) * w]);
    }
    let mut block: Box<Block64> = Box::new([[0f32; 64]; 64]);
    if w == 64 && h == 64 {
        for (r, row) in block.iter_mut().enumerate() {
            row.copy_from_slice(&buf1[r * 64..(r + 1) * 64]);
        }
        return block;
    }
    let mut buf2 = vec![0f32; w * h];
    let (wr, wc) = (jarosz_window(w), jarosz_window(h));
    for _ in 0..2 {
        for r in 0..h {
            box_1d(&buf1[r * w..], &mut buf2[r * w..], w, 1, wr);
        }
        for c in 0..w {
            box_1d(&buf2[c..], &mut buf1[c..], h, w, wc);
        }
    }
    for (i, row) in block.iter_mut().enumerate() {
        let ini = (((i as f64 + 0.5) * h as f64) / 64.0) as usize;
        for (j, v) in row.iter_mut().enumerate() {
            let inj = (((j as f64 + 0.5) * w as f64) / 64.0) as usize;
            *v = buf1[ini * w + inj];
        }
    }
    block
}
