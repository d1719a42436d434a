//! Runtime CPU feature detection and the kernel table of each instruction set.
//!
//! Every instruction set provides the same few kernels (see [`Kernels`]). A
//! table is only handed out after the CPU reported the features its
//! kernels were compiled for, which is what makes calling them sound.

use std::ops::Range;
use std::sync::OnceLock;

use half::bf16;

use crate::bf16::Bf16Matrix;
use crate::format::Mxfp4Matrix;
use crate::quant::{Q16Layout, Q16Row};

/// Defines a SIMD instruction set's safe entry points for its [`Kernels`]
/// table (`mxfp4_pack`, `bf16_pack`, `gemm_tile`) over its unsafe kernels
/// (`mxfp4_pack_simd`, `bf16_pack_simd`, `gemm_tile_m`) and constants `MR` /
/// `NR`. Each entry point checks the bounds the kernel relies on, then
/// calls it. That is sound because the module hands out its table, the
/// only way to reach the entry points, only after the CPU reported the
/// features the kernels are compiled for. `tile_rows` lists 1..=MR.
macro_rules! simd_entry_points {
    (tile_rows: [$($m:literal),+]) => {
        fn mxfp4_pack(w: &$crate::format::Mxfp4Matrix<'_>, r0: usize, nr: usize, panel: &mut [f32]) {
            assert!(nr <= NR && r0 + nr <= w.rows() && panel.len() >= w.cols() * NR);
            // SAFETY: the CPU reported this module's features before its
            // table was handed out; rows and panel bounds were checked above.
            unsafe { mxfp4_pack_simd(w, r0, nr, panel) }
        }

        fn bf16_pack(w: &$crate::bf16::Bf16Matrix<'_>, r0: usize, nr: usize, panel: &mut [f32]) {
            assert!(nr <= NR && r0 + nr <= w.rows() && panel.len() >= w.cols() * NR);
            // SAFETY: the CPU reported this module's features before its
            // table was handed out; rows and panel bounds were checked above.
            unsafe { bf16_pack_simd(w, r0, nr, panel) }
        }

        fn gemm_tile(a: &[&[f32]], panel: &[f32], k: usize, tile: &mut [f32]) {
            assert!(a.iter().all(|row| row.len() >= k) && panel.len() >= k * NR && tile.len() >= a.len() * NR);
            // SAFETY: the CPU reported this module's features before its
            // table was handed out; the kernel reads `k` values of each row,
            // `k * NR` of the panel and `a.len() * NR` of the tile, checked
            // above.
            unsafe {
                match a.len() {
                    $($m => gemm_tile_m::<$m>(a, panel, k, tile),)+
                    m => unreachable!("a tile has 1 to {MR} activation rows, not {m}"),
                }
            }
        }
    };
}
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) use simd_entry_points;

/// Defines the safe entry point `bf16_dot` (see [`Bf16DotFn`]) of an
/// instruction set's bf16 kernel `bf16_tile::<R, T>(rows: [&[bf16]; R],
/// xs: [&[f32]; T]) -> [[f32; T]; R]`, and the constant `BF16_DOT`, its
/// [`DotShape`], as [`simd_entry_points`] does for the others. `rows` and
/// `tokens` list 1..=R and 1..=T.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
macro_rules! bf16_dot_entry_point {
    (rows: [$($r:literal),+], tokens: $tokens:tt) => {
        const BF16_DOT: $crate::cpu::DotShape = $crate::cpu::DotShape { rows: [$($r),+].len(), tokens: $tokens.len() };

        fn bf16_dot(w: &$crate::bf16::Bf16Matrix<'_>, rows: std::ops::Range<usize>, xs: &[&[f32]], out: &mut [f32]) {
            assert!(rows.end <= w.rows() && out.len() >= rows.len() * xs.len());
            assert!(xs.iter().all(|x| x.len() >= w.cols()));
            // SAFETY: the CPU reported this module's features before its
            // table was handed out; every weight row is in the matrix and
            // each activation row as long as a weight row.
            unsafe {
                match rows.len() {
                    $($r => $crate::cpu::bf16_tile_tokens!($r, $tokens, w, rows.start, xs, out),)+
                    n => unreachable!("1 to {} weight rows per bf16 dot, not {n}", BF16_DOT.rows),
                }
            }
        }
    };
}
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) use bf16_dot_entry_point;

/// `bf16_tile::<R, T>` on weight rows `r0 .. r0 + R` of `w` for `T` in
/// `tokens` chosen by `xs.len()`, written to `out` (`R x T`): the body of a
/// [`bf16_dot_entry_point`] arm, in the caller's unsafe block.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
macro_rules! bf16_tile_tokens {
    ($r:literal, [$($t:literal),+], $w:ident, $r0:expr, $xs:ident, $out:ident) => {
        match $xs.len() {
            $($t => {
                let dots = bf16_tile::<$r, $t>(std::array::from_fn(|i| $w.row($r0 + i)), std::array::from_fn(|t| $xs[t]));
                for (o, d) in $out.chunks_exact_mut($t).zip(dots) {
                    o.copy_from_slice(&d);
                }
            })+
            n => unreachable!("1 to {} activation rows per bf16 dot, not {n}", BF16_DOT.tokens),
        }
    };
}
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) use bf16_tile_tokens;

/// Defines the safe entry point `mxfp4_dot` of an instruction set's f32
/// MXFP4 kernel `mxfp4_dot_n` (for [`Mxfp4Decode::F32`]), as
/// [`simd_entry_points`] does for the others.
#[cfg(target_arch = "aarch64")]
macro_rules! f32_mxfp4_entry_point {
    () => {
        fn mxfp4_dot(blocks: &[u8], scales: &[u8], xs: &[&[f32]], out: &mut [f32]) {
            use $crate::format::{BLOCK_BYTES, BLOCK_ELEMS};
            let nb = scales.len();
            assert!(blocks.len() == nb * BLOCK_BYTES && xs.iter().all(|x| x.len() >= nb * BLOCK_ELEMS));
            // SAFETY: the CPU reported this module's features before its
            // table was handed out; the lengths the kernel reads were
            // checked above.
            unsafe {
                match xs {
                    [x] => out[0] = mxfp4_dot_n::<1>(blocks, scales, [*x])[0],
                    [x0, x1] => out[..2].copy_from_slice(&mxfp4_dot_n::<2>(blocks, scales, [*x0, *x1])),
                    _ => unreachable!("at most {} activation rows per dot", $crate::cpu::DOT_MAX_TOKENS),
                }
            }
        }
    };
}
#[cfg(target_arch = "aarch64")]
pub(crate) use f32_mxfp4_entry_point;

/// Defines the safe entry point `mxfp4_dot_q16` of an instruction set's
/// integer MXFP4 kernel `mxfp4_dot_q16_n` (for its [`Q16Kernel`]), as
/// [`simd_entry_points`] does for the others.
macro_rules! q16_entry_point {
    () => {
        fn mxfp4_dot_q16(blocks: &[u8], scales: &[u8], xs: &[$crate::quant::Q16Row<'_>], out: &mut [f32]) {
            use $crate::format::{BLOCK_BYTES, BLOCK_ELEMS};
            let nb = scales.len();
            assert!(
                blocks.len() == nb * BLOCK_BYTES
                    && xs.iter().all(|x| x.values.len() >= nb * BLOCK_ELEMS && x.scales.len() >= nb * Q16.layout.scale_copies())
            );
            // SAFETY: the CPU reported this module's features before its
            // table was handed out; the lengths the kernel reads were
            // checked above.
            unsafe {
                match xs {
                    [x] => out[0] = mxfp4_dot_q16_n::<1>(blocks, scales, [*x])[0],
                    [x0, x1] => out[..2].copy_from_slice(&mxfp4_dot_q16_n::<2>(blocks, scales, [*x0, *x1])),
                    _ => unreachable!("at most {} activation rows per dot", $crate::cpu::DOT_MAX_TOKENS),
                }
            }
        }
    };
}
#[cfg(target_arch = "x86_64")]
pub(crate) use q16_entry_point;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "aarch64")]
mod neon;
mod scalar;
pub mod vector;

/// An instruction set the kernels are written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Portable Rust, any CPU.
    Scalar,
    /// x86-64 AVX2 with FMA (Haswell, Zen and later).
    Avx2,
    /// x86-64 AVX-512 F, BW and VL (Skylake-X, Ice Lake, Zen 4 and later).
    Avx512,
    /// aarch64 Advanced SIMD (every 64-bit Arm CPU).
    Neon,
}

impl Isa {
    pub const ALL: [Isa; 4] = [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon];

    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
        }
    }

    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|isa| isa.name().eq_ignore_ascii_case(name))
    }

    /// Whether this CPU can run the instruction set's kernels.
    pub fn is_available(self) -> bool {
        self.kernels().is_some()
    }

    /// The instruction sets this CPU can run, slowest first.
    pub fn available() -> Vec<Isa> {
        Isa::ALL.into_iter().filter(|isa| isa.is_available()).collect()
    }

    /// The fastest instruction set this CPU can run.
    pub fn detect() -> Isa {
        *Isa::available().last().expect("the scalar kernels run everywhere")
    }

    /// The instruction set the kernels use by default: the one named by the
    /// `MXFP4_ISA` environment variable when set and available (for
    /// comparing paths), else the fastest. Decided once per process.
    pub fn active() -> Isa {
        static ACTIVE: OnceLock<Isa> = OnceLock::new();
        *ACTIVE.get_or_init(|| {
            let forced = std::env::var("MXFP4_ISA").ok().and_then(|name| Isa::from_name(&name));
            forced.filter(|isa| isa.is_available()).unwrap_or_else(Isa::detect)
        })
    }

    /// Whether MXFP4 decode (up to [`crate::DECODE_MAX_ROWS`] activation rows) on this instruction
    /// set rounds the activations to 16-bit integers per block of 32 (see
    /// [`crate::linear`](mod@crate::linear)) instead of multiplying them as f32. False where
    /// the CPU cannot run it.
    pub fn quantizes_mxfp4_decode(self) -> bool {
        self.kernels().is_some_and(|k| matches!(k.mxfp4_decode, Mxfp4Decode::Q16(_)))
    }

    pub(crate) fn kernels(self) -> Option<&'static Kernels> {
        match self {
            Isa::Scalar => Some(&scalar::KERNELS),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => avx2::kernels(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => avx512::kernels(),
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => neon::kernels(),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

impl std::fmt::Display for Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Most activation rows a `*_dot` kernel other than `bf16_dot` takes in
/// one pass over the weights.
pub(crate) const DOT_MAX_TOKENS: usize = 2;

/// How many weight rows and activation rows a dot kernel takes at most in
/// one call: each weight row is read once per call and meets every
/// activation row in registers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DotShape {
    pub rows: usize,
    pub tokens: usize,
}

/// The shape of the dot kernels that take one weight row at a time.
pub(crate) const ONE_ROW: DotShape = DotShape { rows: 1, tokens: DOT_MAX_TOKENS };

/// How far ahead of the block in use the integer MXFP4 kernels prefetch
/// the weights, in bytes (into the next row). A decode of one activation
/// row consumes weights slower than the memory streams them, and the
/// hardware prefetcher, which stops at each 4 KiB page, falls behind:
/// with it, the AVX-512 kernel read the roofline's MXFP4 rows about 20 %
/// faster on Zen 4 and the model's 1-stream decode ran 4-14 % faster. The
/// AVX2 kernel, compute-bound there, measured the same with and without.
#[cfg(target_arch = "x86_64")]
pub(crate) const PREFETCH_MXFP4: usize = 2048;

/// The kernels of one instruction set.
///
/// Kernels may consume the activations in any fixed order of the input
/// dimension that suits their unpacking: `mxfp4_order[j]` is the input
/// index (within a 32-value block) that position `j` of every permuted
/// block holds, and likewise `bf16_order` for each chunk of
/// `bf16_order.len()` columns (columns past the last whole chunk stay in
/// place). Packed GEMM panels use the same orders, so one permuted copy of
/// `x` serves every kernel of a call.
pub(crate) struct Kernels {
    pub mxfp4_order: [u8; 32],
    pub bf16_order: &'static [u8],
    /// How MXFP4 decode (up to [`crate::DECODE_MAX_ROWS`] activation rows)
    /// multiplies.
    pub mxfp4_decode: Mxfp4Decode,
    /// Dot products of bf16 weight rows with activation rows permuted to
    /// `bf16_order`, as many of each per call as `bf16_dot_shape` allows.
    pub bf16_dot: Bf16DotFn,
    pub bf16_dot_shape: DotShape,
    /// Dot products of one 8-bit row ([`crate::Q8Matrix`]: its values and
    /// block scales) with 1 or 2 activation rows quantized to 16-bit
    /// integers in natural order, into `out[t]`.
    pub q8_dot: Q8DotFn,
    /// The same for one 12-bit row ([`crate::Q12Matrix`]: its high and low
    /// planes and block scales).
    pub q12_dot: Q12DotFn,
    /// The same for the coarse values of one 12-bit row
    /// ([`crate::Q12Coarse`]: its high plane and block scales).
    pub q12_coarse_dot: Q12CoarseDotFn,
    /// Dequantizes rows `r0 .. r0 + nr` (nr <= gemm_nr) into a panel laid
    /// out `[cols][gemm_nr]` in the permuted column order, zero-padding
    /// missing rows.
    pub mxfp4_pack: fn(w: &Mxfp4Matrix<'_>, r0: usize, nr: usize, panel: &mut [f32]),
    /// The same for bf16 rows.
    pub bf16_pack: fn(w: &Bf16Matrix<'_>, r0: usize, nr: usize, panel: &mut [f32]),
    /// `tile[m][i] += sum_k a[m][k] * panel[k][i]` for `m < a.len() <= gemm_mr`
    /// activation rows of `k` permuted columns each; `tile` is
    /// `a.len() x gemm_nr`.
    pub gemm_tile: GemmTileFn,
    pub gemm_mr: usize,
    pub gemm_nr: usize,
}

/// An instruction set's MXFP4 decode kernel.
#[derive(Clone, Copy)]
pub(crate) enum Mxfp4Decode {
    /// Dot products of one MXFP4 row (its blocks and scales) with 1 or 2
    /// activation rows permuted to `mxfp4_order`, into `out[t]`.
    F32(Mxfp4DotFn),
    /// Over activations quantized to 16-bit integers ([`crate::quant`]):
    /// integer products need far fewer shuffles than f32 ones.
    Q16(&'static Q16Kernel),
}

/// An integer MXFP4 dot kernel: dot products of one row with 1 or 2
/// activation rows quantized into `layout`.
pub(crate) struct Q16Kernel {
    pub layout: Q16Layout,
    pub dot: Q16DotFn,
}

pub(crate) type Mxfp4DotFn = fn(blocks: &[u8], scales: &[u8], xs: &[&[f32]], out: &mut [f32]);
/// `out[i * xs.len() + t]` = row `rows.start + i` of `w` dotted with `xs[t]`.
pub(crate) type Bf16DotFn = fn(w: &Bf16Matrix<'_>, rows: Range<usize>, xs: &[&[f32]], out: &mut [f32]);
pub(crate) type Q16DotFn = fn(blocks: &[u8], scales: &[u8], xs: &[Q16Row<'_>], out: &mut [f32]);
pub(crate) type Q8DotFn = fn(values: &[i8], scales: &[f32], xs: &[Q16Row<'_>], out: &mut [f32]);
pub(crate) type Q12DotFn = fn(high: &[i8], low: &[u8], scales: &[bf16], xs: &[Q16Row<'_>], out: &mut [f32]);
pub(crate) type Q12CoarseDotFn = fn(high: &[i8], scales: &[bf16], xs: &[Q16Row<'_>], out: &mut [f32]);
pub(crate) type GemmTileFn = fn(a: &[&[f32]], panel: &[f32], k: usize, tile: &mut [f32]);

/// Identity order, for kernels that read activations as they come.
pub(crate) const NATURAL_ORDER: [u8; 32] = {
    let mut order = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        order[i] = i as u8;
        i += 1;
    }
    order
};

/// Quantized activations in natural order, blocks one after another: what
/// the requantized dense kernels and the scalar reference read.
pub(crate) const NATURAL_Q16: Q16Layout = Q16Layout::blockwise(NATURAL_ORDER);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{BLOCK_BYTES, BLOCK_ELEMS};
    use crate::quant::Q16Rows;

    /// xorshift64 from a nonzero seed.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// Each bf16 dot kernel at every shape up to its limit (weight rows x
    /// activation rows per call) against the scalar one, on row lengths
    /// with and without a tail past the last whole chunk.
    #[test]
    fn bf16_dots_match_the_scalar_reference_at_every_shape() {
        let mut next = xorshift(0x2545_F491_4F6C_DD1D);
        let (rows, max_tokens) = (4, 8);
        for cols in [32, 64, 96, 200, 2880] {
            let data: Vec<bf16> =
                (0..rows * cols).map(|_| bf16::from_f32((next() % 2001) as f32 / 100.0 - 10.0)).collect();
            let w = Bf16Matrix::new("w", &data, rows, cols).unwrap();
            let x: Vec<f32> = (0..max_tokens * cols).map(|_| (next() % 20001) as f32 / 1000.0 - 10.0).collect();
            for isa in Isa::available() {
                let k = isa.kernels().unwrap();
                let xp = crate::linear::permute(&x, cols, k.bf16_order);
                for r in 1..=k.bf16_dot_shape.rows {
                    for t in 1..=k.bf16_dot_shape.tokens {
                        let xs: Vec<&[f32]> = (0..t).map(|i| &xp[i * cols..(i + 1) * cols]).collect();
                        let plain: Vec<&[f32]> = (0..t).map(|i| &x[i * cols..(i + 1) * cols]).collect();
                        let (mut got, mut want) = (vec![f32::NAN; r * t], vec![0.0f32; r * t]);
                        (k.bf16_dot)(&w, rows - r..rows, &xs, &mut got);
                        (scalar::KERNELS.bf16_dot)(&w, rows - r..rows, &plain, &mut want);
                        for (i, (g, e)) in got.iter().zip(&want).enumerate() {
                            let (row, tok) = (rows - r + i / t, i % t);
                            let sum_abs: f32 = data[row * cols..(row + 1) * cols]
                                .iter()
                                .zip(plain[tok])
                                .map(|(w, x)| (w.to_f32() * x).abs())
                                .sum();
                            assert!(
                                (g - e).abs() <= 1e-6 * sum_abs,
                                "{isa}, {r}x{t}, {cols} columns, dot {i}: {g} vs {e}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Each integer MXFP4 kernel against the scalar integer reference: the
    /// same integer sums, so only the order of the f32 block sums differs.
    #[test]
    fn q16_dots_match_the_scalar_reference() {
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        let kernels: Vec<(Isa, &Q16Kernel)> = Isa::available()
            .into_iter()
            .filter_map(|isa| match isa.kernels()?.mxfp4_decode {
                Mxfp4Decode::Q16(q16) => Some((isa, q16)),
                Mxfp4Decode::F32(_) => None,
            })
            .collect();
        // Odd and even block counts, past several unrolled steps, and gpt-oss's 90.
        for blocks in (1..=17).chain([90]) {
            let cols = blocks * BLOCK_ELEMS;
            let codes: Vec<u8> = (0..blocks * BLOCK_BYTES).map(|_| next() as u8).collect();
            // Mostly near 1, and E8M0's smallest scale, a subnormal, in some blocks.
            let scales: Vec<u8> = (0..blocks).map(|b| if b % 5 == 3 { 0 } else { 118 + (next() % 13) as u8 }).collect();
            let x: Vec<f32> = (0..2 * cols).map(|_| (next() % 20001) as f32 / 1000.0 - 10.0).collect();
            let reference = Q16Rows::quantize(&x, cols, &scalar::Q16.layout);
            for &(isa, q16) in &kernels {
                let ours = Q16Rows::quantize(&x, cols, &q16.layout);
                for n in [1, 2] {
                    let (mut got, mut want) = ([0.0f32; 2], [0.0f32; 2]);
                    let rows: Vec<Q16Row<'_>> = (0..n).map(|t| ours.row(t)).collect();
                    (q16.dot)(&codes, &scales, &rows, &mut got[..n]);
                    let rows: Vec<Q16Row<'_>> = (0..n).map(|t| reference.row(t)).collect();
                    (scalar::Q16.dot)(&codes, &scales, &rows, &mut want[..n]);
                    for t in 0..n {
                        let sum_abs: f32 = x[t * cols..(t + 1) * cols].iter().map(|v| v.abs()).sum::<f32>() * 96.0;
                        assert!(
                            (got[t] - want[t]).abs() <= 1e-6 * sum_abs,
                            "{isa}, {blocks} blocks, row {t}: {} vs {}",
                            got[t],
                            want[t]
                        );
                    }
                }
            }
        }
    }
}
