//! Randomness: the sensor's small SplitMix64 generator (`vagt_sensor::
//! synth::rng`, already used by the packet generators), and independent
//! streams derived from the seed per day, host and purpose, so that one
//! day's traffic can be drawn without drawing the days before it, and
//! adding a kind of traffic does not shift every other draw.

pub use vagt_sensor::synth::rng::Rng;

/// SplitMix64's finaliser: a good 64-bit mix of `x`.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The stream for (`seed`, `a`, `b`, `c`).
pub fn stream(seed: u64, a: u64, b: u64, c: u64) -> Rng {
    Rng::new(mix(
        seed ^ mix(a ^ mix(b.wrapping_add(1) ^ mix(c.wrapping_add(2))))
    ))
}

/// A normally distributed draw (Box-Muller), for arrival times.
pub fn normal(rng: &mut Rng, mean: f64, sd: f64) -> f64 {
    let u1 = rng.unit().max(1e-12);
    let u2 = rng.unit();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
