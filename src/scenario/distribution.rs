//! Time distributions as a scenario writes them (by mean and standard deviation, in minutes)
//! and as the engine samples them. Parametrising by mean and sd, not by shape and scale, keeps
//! scenario files in the units published sources use ("median 43 min, mean 55").

use rand::Rng;
use rand_distr::{Distribution, Exp, Gamma, LogNormal};
use serde::{Deserialize, Serialize};

/// A duration distribution as written in a scenario: `{ dist = "lognormal", mean = 45, sd = 30 }`.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize)]
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
}

impl DurationSpec {
    pub fn mean(&self) -> f64 {
        match *self {
            Self::Exponential { mean }
            | Self::Lognormal { mean, .. }
            | Self::Gamma { mean, .. }
            | Self::Fixed { mean } => mean,
        }
    }

    pub fn sd(&self) -> f64 {
        match *self {
            Self::Exponential { mean } => mean,
            Self::Lognormal { sd, .. } | Self::Gamma { sd, .. } => sd,
            Self::Fixed { .. } => 0.0,
        }
    }

    /// Checks the parameters; returns the name of the bad field and what was expected.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
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
            Self::Fixed { mean } => Sampler::Fixed(mean),
            Self::Exponential { mean } => Exp::new(1.0 / mean).map_or(fixed, Sampler::Exponential),
            Self::Lognormal { mean, sd } if sd > 0.0 => {
                LogNormal::from_mean_cv(mean, sd / mean).map_or(fixed, Sampler::Lognormal)
            }
            Self::Gamma { mean, sd } if sd > 0.0 => {
                let shape = (mean / sd).powi(2);
                Gamma::new(shape, mean / shape).map_or(fixed, Sampler::Gamma)
            }
            Self::Lognormal { .. } | Self::Gamma { .. } => fixed,
        }
    }
}

/// A ready-to-sample distribution of minutes.
#[derive(Clone, Copy, Debug)]
pub enum Sampler {
    Fixed(f64),
    Exponential(Exp<f64>),
    Lognormal(LogNormal<f64>),
    Gamma(Gamma<f64>),
}

impl Sampler {
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Self::Fixed(value) => *value,
            Self::Exponential(d) => d.sample(rng),
            Self::Lognormal(d) => d.sample(rng),
            Self::Gamma(d) => d.sample(rng),
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
}

impl TravelVariation {
    /// The sampler of the factor (mean 1, sd `cv`).
    pub fn factor_sampler(self, cv: f64) -> Sampler {
        let spec = match self {
            Self::Fixed => DurationSpec::Fixed { mean: 1.0 },
            Self::Lognormal => DurationSpec::Lognormal { mean: 1.0, sd: cv },
            Self::Gamma => DurationSpec::Gamma { mean: 1.0, sd: cv },
        };
        spec.sampler()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

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
            let (mean, sd) = moments(spec);
            assert!(
                (mean / spec.mean() - 1.0).abs() < 0.01,
                "{spec:?}: mean {mean}"
            );
            assert!((sd / spec.sd() - 1.0).abs() < 0.03, "{spec:?}: sd {sd}");
        }
        assert_eq!(moments(DurationSpec::Fixed { mean: 12.5 }), (12.5, 0.0));
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
        let sampler = TravelVariation::Lognormal.factor_sampler(0.3);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let n = 200_000;
        let mean = (0..n).map(|_| sampler.sample(&mut rng)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.005, "{mean}");
        assert!(TravelVariation::Fixed.factor_sampler(0.3).is_fixed());
    }
}
