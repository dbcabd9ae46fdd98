//! Deterministic random numbers: a sample is a pure function of (seed, pixel, sample index,
//! frame), never of time, thread or tile, so any split of the samples merges to the same image.
//!
//! Camera paths draw from [`Sampler`]: Owen-scrambled Sobol points (Burley, "Practical
//! Hash-based Owen Scrambling", 2020), one independently scrambled and shuffled 1D or 2D
//! point set per dimension the path consumes, indexed by the sample index. A pixel's first
//! n samples are then stratified in every pair of dimensions, which lowers the noise at equal
//! sample count, and sample i is still computed from i alone. [`Rng`] is a plain stream
//! for everything else (tests, Monte Carlo checks).

use glam::Vec2;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn seed_of(seed: u64, px: u32, py: u32, frame: i32) -> u64 {
    let mut h = mix(seed ^ 0x9e37_79b9_7f4a_7c15);
    h = mix(h ^ u64::from(px));
    h = mix(h ^ (u64::from(py) << 1));
    mix(h ^ ((frame as u32 as u64) << 3))
}

/// Laine and Karras' hash, which permutes the bits of x as a nested uniform (Owen) scramble
/// would when applied to the bit-reversed value.
#[inline]
fn laine_karras(mut x: u32, seed: u32) -> u32 {
    x = x.wrapping_add(seed);
    x ^= x.wrapping_mul(0x6c50_b47c);
    x ^= x.wrapping_mul(0xb82f_1e52);
    x ^= x.wrapping_mul(0xc7af_e638);
    x ^= x.wrapping_mul(0x8d22_f6e6);
    x
}

#[inline]
fn owen_scramble(x: u32, seed: u32) -> u32 {
    laine_karras(x.reverse_bits(), seed).reverse_bits()
}

/// The second Sobol dimension (the first is the bit reversal of the index): the XOR of the
/// direction numbers of the index's set bits, looked up a byte at a time.
#[inline]
fn sobol1(i: u32) -> u32 {
    let t = &SOBOL1_BYTES;
    t[0][(i & 0xff) as usize]
        ^ t[1][((i >> 8) & 0xff) as usize]
        ^ t[2][((i >> 16) & 0xff) as usize]
        ^ t[3][(i >> 24) as usize]
}

/// `SOBOL1_BYTES[k][b]`: the contribution of byte k of the index when it equals b.
static SOBOL1_BYTES: [[u32; 256]; 4] = sobol1_tables();

const fn sobol1_tables() -> [[u32; 256]; 4] {
    // Direction number j of the second dimension: v_0 = 1 << 31, v_{j+1} = v_j ^ (v_j >> 1).
    let mut dirs = [0u32; 32];
    let mut v = 1u32 << 31;
    let mut j = 0;
    while j < 32 {
        dirs[j] = v;
        v ^= v >> 1;
        j += 1;
    }
    let mut t = [[0u32; 256]; 4];
    let mut k = 0;
    while k < 4 {
        let mut b = 0;
        while b < 256 {
            let mut r = 0u32;
            let mut bit = 0;
            while bit < 8 {
                if b & (1 << bit) != 0 {
                    r ^= dirs[k * 8 + bit];
                }
                bit += 1;
            }
            t[k][b] = r;
            b += 1;
        }
        k += 1;
    }
    t
}

#[inline]
fn to_unit(x: u32) -> f32 {
    // The top 24 bits, so that the result is exactly representable and below 1.
    (x >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
}

/// The sample stream of one camera sample.
pub struct Sampler {
    /// Per (seed, pixel, frame).
    pixel_seed: u64,
    index: u32,
    /// The next dimension to draw.
    dim: u32,
}

impl Sampler {
    pub fn new(seed: u64, px: u32, py: u32, sample: u32, frame: i32) -> Sampler {
        Sampler {
            pixel_seed: seed_of(seed, px, py, frame),
            index: sample,
            dim: 0,
        }
    }

    /// Three seeds for the next dimension: the index shuffle and one scramble per axis.
    #[inline]
    fn next_seeds(&mut self) -> u64 {
        let h = mix(self.pixel_seed ^ (u64::from(self.dim).wrapping_mul(0xd6e8_feb8_6659_fd93)));
        self.dim += 1;
        h
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f32 {
        let h = self.next_seeds();
        let i = owen_scramble(self.index, h as u32);
        to_unit(owen_scramble(i.reverse_bits(), (h >> 32) as u32))
    }

    /// Uniform in [0, 1)^2, stratified jointly over the sample indices.
    pub fn uniform2(&mut self) -> Vec2 {
        let h = self.next_seeds();
        let h2 = mix(h);
        let i = owen_scramble(self.index, h as u32);
        Vec2::new(
            to_unit(owen_scramble(i.reverse_bits(), (h >> 32) as u32)),
            to_unit(owen_scramble(sobol1(i), h2 as u32)),
        )
    }
}

/// A small counter-based generator: SplitMix64 from a seed.
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64, px: u32, py: u32, sample: u32, frame: i32) -> Rng {
        Rng {
            state: mix(seed_of(seed, px, py, frame) ^ (u64::from(sample) << 2)),
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.state)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    pub fn uniform2(&mut self) -> Vec2 {
        Vec2::new(self.uniform(), self.uniform())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(seed: u64, sample: u32) -> Vec<f32> {
        let mut s = Sampler::new(seed, 3, 4, sample, 0);
        (0..6).map(|_| s.uniform()).collect()
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        assert_eq!(first(1, 5), first(1, 5));
        assert_ne!(first(1, 5), first(1, 6));
        assert_ne!(first(1, 5), first(2, 5));
        let mut r = Rng::new(1, 3, 4, 5, 0);
        let mut q = Rng::new(1, 3, 4, 5, 0);
        assert_eq!(r.uniform(), q.uniform());
    }

    #[test]
    fn values_are_uniform_in_the_unit_interval() {
        let mut s = Rng::new(7, 0, 0, 0, 0);
        let n = 100_000;
        let mut sum = 0.0f64;
        for _ in 0..n {
            let v = s.uniform();
            assert!((0.0..1.0).contains(&v));
            sum += f64::from(v);
        }
        assert!((sum / f64::from(n) - 0.5).abs() < 0.01);
    }

    #[test]
    fn the_sobol_tables_agree_with_the_direction_numbers() {
        let slow = |mut i: u32| {
            let (mut r, mut v) = (0u32, 1u32 << 31);
            while i != 0 {
                if i & 1 != 0 {
                    r ^= v;
                }
                i >>= 1;
                v ^= v >> 1;
            }
            r
        };
        let mut rng = Rng::new(1, 0, 0, 0, 0);
        for i in (0..1000).chain((0..1000).map(|_| (rng.next_u64() >> 32) as u32)) {
            assert_eq!(sobol1(i), slow(i), "{i}");
        }
        // The first points of the second dimension: 0, 1/2, 3/4, 1/4.
        assert_eq!(
            [sobol1(0), sobol1(1), sobol1(2), sobol1(3)],
            [0, 1 << 31, 3 << 30, 1 << 30]
        );
    }

    #[test]
    fn the_first_n_samples_of_a_pixel_are_stratified_in_each_dimension_pair() {
        // 64 samples: every 8 x 8 cell of each 2D dimension holds exactly one point, and each
        // 1D dimension has one point in each 1/64 interval.
        for (px, py) in [(0, 0), (17, 3)] {
            let mut cells2 = vec![[0u32; 64]; 4];
            let mut cells1 = vec![[0u32; 64]; 4];
            for i in 0..64 {
                let mut s = Sampler::new(42, px, py, i, 0);
                for d in 0..4 {
                    let p = s.uniform2();
                    cells2[d][(p.x * 8.0) as usize * 8 + (p.y * 8.0) as usize] += 1;
                    let u = s.uniform();
                    assert!(
                        (0.0..1.0).contains(&u)
                            && (0.0..1.0).contains(&p.x)
                            && (0.0..1.0).contains(&p.y)
                    );
                    cells1[d][(u * 64.0) as usize] += 1;
                }
            }
            assert!(
                cells2.iter().all(|c| c.iter().all(|&n| n == 1)),
                "{cells2:?}"
            );
            assert!(
                cells1.iter().all(|c| c.iter().all(|&n| n == 1)),
                "{cells1:?}"
            );
        }
    }
}
