//! Deterministic random numbers: a sample is a pure function of (seed, pixel, sample index,
//! frame), never of time, thread or tile, so any split of the samples merges to the same image.

use glam::Vec2;

/// A small counter-based generator: the stream for one camera sample is fixed by the hash of
/// its coordinates, then advanced by SplitMix64 for each dimension the path consumes.
pub struct Sampler {
    state: u64,
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Sampler {
    pub fn new(seed: u64, px: u32, py: u32, sample: u32, frame: i32) -> Sampler {
        let mut h = mix(seed ^ 0x9e37_79b9_7f4a_7c15);
        h = mix(h ^ u64::from(px));
        h = mix(h ^ (u64::from(py) << 1));
        h = mix(h ^ (u64::from(sample) << 2));
        h = mix(h ^ (frame as u32 as u64) << 3);
        Sampler { state: h }
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

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<f32> = (0..4).map({ let mut s = Sampler::new(1, 3, 4, 5, 0); move |_| s.uniform() }).collect();
        let b: Vec<f32> = (0..4).map({ let mut s = Sampler::new(1, 3, 4, 5, 0); move |_| s.uniform() }).collect();
        let c: Vec<f32> = (0..4).map({ let mut s = Sampler::new(1, 3, 4, 6, 0); move |_| s.uniform() }).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn values_are_uniform_in_the_unit_interval() {
        let mut s = Sampler::new(7, 0, 0, 0, 0);
        let n = 100_000;
        let mut sum = 0.0f64;
        for _ in 0..n {
            let v = s.uniform();
            assert!((0.0..1.0).contains(&v));
            sum += f64::from(v);
        }
        assert!((sum / f64::from(n) - 0.5).abs() < 0.01);
    }
}
