//! Time distributions as a scenario writes them (by mean and standard deviation, in minutes)
//! and as the engine samples them. Parametrising by mean and sd, not by shape and scale, keeps
//! scenario files in the units published sources use ("median 43 min, mean 55").

use std::sync::Arc;

use rand::Rng;
use rand_distr::{Distribution, Exp, Exp1, Gamma, LogNormal, StandardNormal};
use serde::{Deserialize, Serialize};

/// A duration distribution as written in a scenario: `{ dist = "lognormal", mean = 45, sd = 30 }`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum DurationSpec {
    /// Exponential with the given mean (its sd equals its mean).
    Exponential { mean: f64 },
    /// Lognormal with the given mean and standard deviation.
    Lognormal { mean: f64, sd: f64 },
    /// Gamma with the given mean and standard deviation.
    Gamma { mean: f64, sd: f64 },
    /// Always exactly `mean`.
    Fixed { mean: f64 },
    /// The distribution a log shows, as its quantiles at evenly spaced probabilities (the
    /// first at 0, the last at 1; `fit` writes the 101 percentiles), with straight lines
    /// between them: what `fit` writes where no parametric family passes its test.
    Empirical { quantiles: Vec<f64> },
}

/// The most points an empirical distribution may have.
pub const MAX_QUANTILES: usize = 1001;

impl DurationSpec {
    pub fn mean(&self) -> f64 {
        match *self {
            Self::Exponential { mean }
            | Self::Lognormal { mean, .. }
            | Self::Gamma { mean, .. }
            | Self::Fixed { mean } => mean,
            Self::Empirical { ref quantiles } => empirical_moments(quantiles).0,
        }
    }

    pub fn sd(&self) -> f64 {
        match *self {
            Self::Exponential { mean } => mean,
            Self::Lognormal { sd, .. } | Self::Gamma { sd, .. } => sd,
            Self::Fixed { .. } => 0.0,
            Self::Empirical { ref quantiles } => empirical_moments(quantiles).1,
        }
    }

    /// The same shape scaled to `mean` (its coefficient of variation kept).
    pub fn with_mean(&self, mean: f64) -> Self {
        let cv = if self.mean() > 0.0 {
            self.sd() / self.mean()
        } else {
            0.0
        };
        match self {
            Self::Exponential { .. } => Self::Exponential { mean },
            Self::Fixed { .. } => Self::Fixed { mean },
            Self::Lognormal { .. } => Self::Lognormal {
                mean,
                sd: mean * cv,
            },
            Self::Gamma { .. } => Self::Gamma {
                mean,
                sd: mean * cv,
            },
            Self::Empirical { quantiles } => {
                let current = self.mean();
                Self::Empirical {
                    quantiles: if current > 0.0 {
                        quantiles.iter().map(|q| q * mean / current).collect()
                    } else {
                        vec![mean; 2]
                    },
                }
            }
        }
    }

    /// An empirical distribution's quantiles (empty for the parametric ones).
    pub fn quantiles(&self) -> &[f64] {
        match self {
            Self::Empirical { quantiles } => quantiles,
            _ => &[],
        }
    }

    /// Checks the parameters; returns the name of the bad field and what was expected.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if let Self::Empirical { quantiles } = self {
            if !(2..=MAX_QUANTILES).contains(&quantiles.len()) {
                return Err((
                    "quantiles",
                    format!(
                        "from 2 to {MAX_QUANTILES} quantiles (the first at probability 0, the last at 1), found {}",
                        quantiles.len()
                    ),
                ));
            }
            if let Some((i, q)) = quantiles
                .iter()
                .enumerate()
                .find(|(_, q)| !(q.is_finite() && **q >= 0.0))
            {
                return Err((
                    "quantiles",
                    format!("finite minutes >= 0, found {q} at position {}", i + 1),
                ));
            }
            if let Some(i) = quantiles.windows(2).position(|w| w[1] < w[0]) {
                return Err((
                    "quantiles",
                    format!(
                        "quantiles in increasing order, but position {} ({}) is below position {} ({})",
                        i + 2,
                        quantiles[i + 1],
                        i + 1,
                        quantiles[i]
                    ),
                ));
            }
            return Ok(());
        }
        let mean = self.mean();
        if !(mean.is_finite() && mean >= 0.0) {
            return Err(("mean", format!("a finite number >= 0, found {mean}")));
        }
        let sd = self.sd();
        if !(sd.is_finite() && sd >= 0.0) {
            return Err(("sd", format!("a finite number >= 0, found {sd}")));
        }
        if matches!(self, Self::Exponential { .. }) && mean <= 0.0 {
            return Err(("mean", "a number > 0 for an exponential".to_string()));
        }
        if matches!(self, Self::Lognormal { .. } | Self::Gamma { .. }) && sd > 0.0 && mean <= 0.0 {
            return Err(("mean", format!("a number > 0 when sd > 0, found {mean}")));
        }
        Ok(())
    }

    /// Builds the sampler. Call only on a spec that passed [`DurationSpec::check`].
    pub fn sampler(&self) -> Sampler {
        let fixed = Sampler::Fixed(self.mean());
        match *self {
            Self::Empirical { ref quantiles } if quantiles.first() == quantiles.last() => fixed,
            Self::Empirical { ref quantiles } => Sampler::Empirical(quantiles.as_slice().into()),
            Self::Fixed { mean } => Sampler::Fixed(mean),
            // rand_distr's `Exp::new(1 / mean)` keeps `1 / (1 / mean)`: the same scale here.
            Self::Exponential { mean } => {
                Exp::new(1.0 / mean).map_or(fixed, |_| Sampler::Exponential {
                    scale: 1.0 / (1.0 / mean),
                })
            }
            Self::Lognormal { mean, sd } if sd > 0.0 => {
                let cv = sd / mean;
                LogNormal::from_mean_cv(mean, cv).map_or(fixed, |_| {
                    // rand_distr's `LogNormal::from_mean_cv`, step for step (its parameters
                    // are private); `samplers_draw_what_rand_distr_draws` holds the two equal.
                    let a = 1.0 + cv * cv;
                    Sampler::Lognormal {
                        mu: 0.5 * (mean * mean / a).ln(),
                        sigma: a.ln().sqrt(),
                    }
                })
            }
            Self::Gamma { mean, sd } if sd > 0.0 => {
                let shape = (mean / sd).powi(2);
                Gamma::new(shape, mean / shape).map_or(fixed, Sampler::Gamma)
            }
            Self::Lognormal { .. } | Self::Gamma { .. } => fixed,
        }
    }
}

/// The mean and standard deviation of the piecewise-linear quantile function through
/// `quantiles` (evenly spaced probabilities): each stretch between two quantiles is uniform.
fn empirical_moments(quantiles: &[f64]) -> (f64, f64) {
    let stretches = quantiles.len().saturating_sub(1);
    if stretches == 0 {
        return (quantiles.first().copied().unwrap_or(0.0), 0.0);
    }
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    for pair in quantiles.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        sum += (a + b) / 2.0;
        sum_sq += (a * a + a * b + b * b) / 3.0;
    }
    let mean = sum / stretches as f64;
    let variance = (sum_sq / stretches as f64 - mean * mean).max(0.0);
    (mean, variance.sqrt())
}

/// A ready-to-sample distribution of minutes.
///
/// The exponential and lognormal draw exactly what rand_distr's `Exp` and `LogNormal` draw (the
/// same ziggurat, the same arithmetic), but call its `Exp1` and `StandardNormal` directly: those
/// inline into the engine's draw, where `Exp` and `LogNormal` sample through two calls that do
/// not (about 40 instructions a draw; BENCHMARKS.md, issue #18).
#[derive(Clone, Debug)]
pub enum Sampler {
    Fixed(f64),
    /// `Exp1 x scale` (rand_distr's `Exp`: `scale` is its `1 / lambda`).
    Exponential {
        scale: f64,
    },
    /// `exp(mu + sigma x StandardNormal)` (rand_distr's `LogNormal`).
    Lognormal {
        mu: f64,
        sigma: f64,
    },
    Gamma(Gamma<f64>),
    /// Quantiles at evenly spaced probabilities, sampled by inverting the piecewise-linear
    /// distribution through them (shared, since every replication samples the same table).
    Empirical(Arc<[f64]>),
}

impl Sampler {
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match *self {
            Self::Fixed(value) => value,
            Self::Exponential { scale } => {
                let exp1: f64 = Exp1.sample(rng);
                exp1 * scale
            }
            Self::Lognormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Self::Gamma(ref d) => d.sample(rng),
            Self::Empirical(ref quantiles) => {
                let uniform: f64 = rand::distr::StandardUniform.sample(rng);
                let position = uniform * (quantiles.len() - 1) as f64;
                // `position` is in [0, len - 1): through i64, the cheaper float conversion.
                let i = (position as i64 as usize).min(quantiles.len() - 2);
                let (low, high) = (quantiles[i], quantiles[i + 1]);
                low + (high - low) * (position - i as f64)
            }
        }
    }

    /// True when sampling consumes no randomness (so callers may skip deriving a stream).
    pub fn is_fixed(&self) -> bool {
        matches!(self, Self::Fixed(_))
    }
}

/// How a trip's time varies around the travel matrix's mean: a multiplicative factor with
/// mean 1 and the given coefficient of variation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TravelVariation {
    /// Every trip takes exactly the matrix mean.
    #[default]
    Fixed,
    Lognormal,
    Gamma,
    /// The factor's quantiles as a log shows them (`[travel] quantiles`, scaled to mean 1).
    Empirical,
}

impl TravelVariation {
    /// The sampler of the factor (mean 1, sd `cv`; for an empirical factor, its quantiles).
    pub fn factor_sampler(self, cv: f64, quantiles: &[f64]) -> Sampler {
        let spec = match self {
            Self::Fixed => DurationSpec::Fixed { mean: 1.0 },
            Self::Lognormal => DurationSpec::Lognormal { mean: 1.0, sd: cv },
            Self::Gamma => DurationSpec::Gamma { mean: 1.0, sd: cv },
            Self::Empirical => DurationSpec::Empirical {
                quantiles: quantiles.to_vec(),
            },
        };
        spec.sampler()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// The exponential and lognormal samplers draw, bit for bit, what rand_distr's `Exp` and
    /// `LogNormal` built the way the scenario builds them draw from the same stream: results
    /// depend on it (a rand_distr upgrade that changed its arithmetic would fail here).
    #[test]
    fn samplers_draw_what_rand_distr_draws() {
        for (mean, sd) in [
            (45.0, 20.0),
            (1.0, 0.35),
            (60.0, 60.0),
            (0.7, 2.5),
            (1e-3, 1e-4),
        ] {
            let lognormal = DurationSpec::Lognormal { mean, sd }.sampler();
            let theirs = LogNormal::from_mean_cv(mean, sd / mean).unwrap();
            let exponential = DurationSpec::Exponential { mean }.sampler();
            let theirs_exp = Exp::new(1.0 / mean).unwrap();
            assert!(matches!(lognormal, Sampler::Lognormal { .. }));
            assert!(matches!(exponential, Sampler::Exponential { .. }));
            let (mut ours, mut reference) = (
                Xoshiro256PlusPlus::seed_from_u64(7),
                Xoshiro256PlusPlus::seed_from_u64(7),
            );
            // 200,000 draws reach the ziggurats' rare slow paths (the tails, the wedges).
            for _ in 0..100_000 {
                let (a, b) = (lognormal.sample(&mut ours), theirs.sample(&mut reference));
                assert_eq!(
                    a.to_bits(),
                    b.to_bits(),
                    "lognormal({mean}, {sd}): {a} vs {b}"
                );
                let (a, b) = (
                    exponential.sample(&mut ours),
                    theirs_exp.sample(&mut reference),
                );
                assert_eq!(a.to_bits(), b.to_bits(), "exponential({mean}): {a} vs {b}");
            }
        }
    }

    fn moments(spec: DurationSpec) -> (f64, f64) {
        let sampler = spec.sampler();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
        let n = 400_000;
        let (mut sum, mut sum_sq) = (0.0, 0.0);
        for _ in 0..n {
            let x = sampler.sample(&mut rng);
            assert!(x >= 0.0);
            sum += x;
            sum_sq += x * x;
        }
        let mean = sum / n as f64;
        (mean, (sum_sq / n as f64 - mean * mean).sqrt())
    }

    #[test]
    fn samplers_match_their_mean_and_sd() {
        for spec in [
            DurationSpec::Exponential { mean: 30.0 },
            DurationSpec::Lognormal {
                mean: 55.0,
                sd: 45.0,
            },
            DurationSpec::Gamma {
                mean: 40.0,
                sd: 20.0,
            },
            DurationSpec::Gamma {
                mean: 40.0,
                sd: 60.0,
            },
        ] {
            let (mean, sd) = moments(spec.clone());
            assert!(
                (mean / spec.mean() - 1.0).abs() < 0.01,
                "{spec:?}: mean {mean}"
            );
            assert!((sd / spec.sd() - 1.0).abs() < 0.03, "{spec:?}: sd {sd}");
        }
        assert_eq!(moments(DurationSpec::Fixed { mean: 12.5 }), (12.5, 0.0));
    }

    #[test]
    fn an_empirical_distribution_samples_its_quantiles() {
        // Half the mass on 0-1 minutes, half on 1-9: mean (0.5 + 5) / 2.
        let spec = DurationSpec::Empirical {
            quantiles: vec![0.0, 1.0, 9.0],
        };
        assert!(spec.check().is_ok());
        assert!((spec.mean() - 2.75).abs() < 1e-12);
        let (mean, sd) = moments(spec.clone());
        assert!((mean / spec.mean() - 1.0).abs() < 0.01, "mean {mean}");
        assert!(
            (sd / spec.sd() - 1.0).abs() < 0.01,
            "sd {sd} vs {}",
            spec.sd()
        );
        // The sampled median is the middle quantile.
        let sampler = spec.sampler();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let below = (0..100_000)
            .filter(|_| sampler.sample(&mut rng) < 1.0)
            .count();
        assert!((below as f64 / 100_000.0 - 0.5).abs() < 0.01, "{below}");
        // Scaling keeps the shape.
        let doubled = spec.with_mean(5.5);
        assert_eq!(
            doubled,
            DurationSpec::Empirical {
                quantiles: vec![0.0, 2.0, 18.0]
            }
        );
        // A table of one value is a fixed time.
        let flat = DurationSpec::Empirical {
            quantiles: vec![4.0, 4.0],
        };
        assert!(flat.sampler().is_fixed());
    }

    #[test]
    fn a_bad_empirical_table_is_named() {
        for (quantiles, expected) in [
            (vec![1.0], "from 2 to"),
            (vec![1.0, f64::NAN], "finite minutes"),
            (vec![-1.0, 2.0], "finite minutes"),
            (
                vec![1.0, 3.0, 2.0],
                "position 3 (2) is below position 2 (3)",
            ),
        ] {
            let err = DurationSpec::Empirical { quantiles }.check().unwrap_err();
            assert_eq!(err.0, "quantiles");
            assert!(err.1.contains(expected), "{}", err.1);
        }
    }

    #[test]
    fn zero_sd_degenerates_to_fixed() {
        let spec = DurationSpec::Lognormal {
            mean: 20.0,
            sd: 0.0,
        };
        assert!(spec.check().is_ok());
        assert!(spec.sampler().is_fixed());
    }

    #[test]
    fn bad_parameters_name_the_field() {
        let err = DurationSpec::Gamma {
            mean: 10.0,
            sd: -1.0,
        }
        .check()
        .unwrap_err();
        assert_eq!(err.0, "sd");
        let err = DurationSpec::Exponential { mean: 0.0 }.check().unwrap_err();
        assert_eq!(err.0, "mean");
    }

    #[test]
    fn travel_factor_has_mean_one() {
        let sampler = TravelVariation::Lognormal.factor_sampler(0.3, &[]);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let n = 200_000;
        let mean = (0..n).map(|_| sampler.sample(&mut rng)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.005, "{mean}");
        assert!(TravelVariation::Fixed.factor_sampler(0.3, &[]).is_fixed());
    }
}
