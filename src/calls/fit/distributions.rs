//! How `fit` fits a duration to a log's sample and says how well: the Kolmogorov-Smirnov
//! distance (steps compared at ties), lognormals by maximum likelihood or through two
//! quantiles, and the sample's own percentiles where no lognormal passes.

use super::*;

/// A Kolmogorov-Smirnov comparison of a sample with a fitted distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KsDistance {
    pub distance: f64,
    pub samples: usize,
}

impl KsDistance {
    /// The distance a sample of this size exceeds with 5% probability when the fit is right
    /// (asymptotic; the fitted parameters make the test conservative).
    pub fn critical_5pct(&self) -> f64 {
        1.358 / (self.samples as f64).sqrt()
    }

    pub fn fits(&self) -> bool {
        self.distance <= self.critical_5pct()
    }
}

/// A call type's fitted on-scene time.
#[derive(Clone, Debug, PartialEq)]
pub struct OnSceneFit {
    pub call_type: String,
    pub fit: DurationFit,
}

/// A lognormal fitter: sorts the samples, returns (mean, sd, KS distance).
pub(super) type LognormalFit = fn(&mut [f64]) -> Option<(f64, f64, KsDistance)>;

/// Points of an empirical distribution `fit` writes: the 0th to 100th percentiles.
pub const EMPIRICAL_POINTS: usize = 101;

/// A duration fitted to a log's sample: the lognormal where it passes a KS test at 5%, else
/// the sample's own distribution (its percentiles), and what the log's sample says.
#[derive(Clone, Debug, PartialEq)]
pub struct DurationFit {
    /// What the scenario gets.
    pub spec: DurationSpec,
    /// The lognormal's distance from the sample (the empirical fallback when it fails).
    pub lognormal: (f64, f64, KsDistance),
    /// The distance of `spec` from the sample.
    pub ks: KsDistance,
    /// The sample's mean and its 95% interval, and its median.
    pub sample_mean: f64,
    pub mean_ci: (f64, f64),
    pub median: f64,
}

impl DurationFit {
    /// Fits `samples` (any order) with `lognormal` (maximum likelihood, or through two
    /// quantiles), falling back to the empirical distribution.
    pub(super) fn new(samples: &mut [f64], lognormal: LognormalFit) -> Option<Self> {
        spread_within_seconds(samples);
        let (mean, sd, ks) = lognormal(samples)?;
        // `lognormal` sorted the samples.
        let sorted: &[f64] = samples;
        let (spec, chosen) = if ks.fits() {
            (DurationSpec::Lognormal { mean, sd }, ks)
        } else {
            let quantiles = percentiles(sorted, EMPIRICAL_POINTS);
            let ks = ks_distance(sorted, |x| empirical_cdf(&quantiles, x));
            (DurationSpec::Empirical { quantiles }, ks)
        };
        Some(Self {
            spec,
            lognormal: (mean, sd, ks),
            ks: chosen,
            sample_mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
            mean_ci: crate::stats::backtest::mean_interval(sorted),
            median: crate::stats::backtest::quantile(sorted, 0.5),
        })
    }

    /// True when the lognormal failed its test and the empirical distribution stands in.
    pub fn is_empirical(&self) -> bool {
        matches!(self.spec, DurationSpec::Empirical { .. })
    }

    /// One line for the report and the fitted file's comment.
    pub fn describe(&self) -> String {
        let (mean, sd, ks) = self.lognormal;
        let sample = format!(
            "{} times, mean {:.2} [{:.2}, {:.2}], median {:.2}",
            ks.samples, self.sample_mean, self.mean_ci.0, self.mean_ci.1, self.median
        );
        if self.is_empirical() {
            format!(
                "{sample}; lognormal (mean {mean:.2}, sd {sd:.2}) fails KS ({:.3} > {:.3} at 5%): empirical percentiles used (KS {:.3})",
                ks.distance,
                ks.critical_5pct(),
                self.ks.distance
            )
        } else {
            format!(
                "{sample}; lognormal mean {mean:.2}, sd {sd:.2}: KS {:.3} (5% critical {:.3}), fits",
                ks.distance,
                ks.critical_5pct()
            )
        }
    }
}

/// Spreads times a log recorded to the second evenly within their second (deterministically),
/// as the arrivals test does: a dispatch "in the same second" is a time under a second, not
/// an atom at exactly 0 that no continuous distribution has and that a KS test would read as
/// a misfit. Times not all in whole seconds are left as they are.
pub(super) fn spread_within_seconds(samples: &mut [f64]) {
    // Streams keep chain times as f32: whole seconds to within a thousandth of a second.
    let whole_seconds = samples
        .iter()
        .all(|m| (m * 60.0 - (m * 60.0).round()).abs() < 1e-3);
    if !whole_seconds {
        return;
    }
    for (i, m) in samples.iter_mut().enumerate() {
        let u = crate::calls::rng::uniform(
            crate::calls::rng::call_key(0x7365_636f, i as u64),
            crate::calls::rng::Purpose::Zone,
        );
        *m = ((*m * 60.0).round() + u) / 60.0;
    }
}

/// `points` quantiles of sorted values at evenly spaced probabilities from 0 to 1 (linear
/// between order statistics), rounded to the thousandth of a minute.
pub(super) fn percentiles(sorted: &[f64], points: usize) -> Vec<f64> {
    let n = sorted.len();
    (0..points)
        .map(|k| {
            let position = k as f64 / (points - 1) as f64 * (n - 1) as f64;
            let i = (position as usize).min(n - 1);
            let next = sorted[(i + 1).min(n - 1)];
            let value = sorted[i] + (next - sorted[i]) * (position - i as f64);
            round(value.max(0.0), 3)
        })
        .collect()
}

/// The CDF of the piecewise-linear distribution through `quantiles` (evenly spaced
/// probabilities) at `x`: the largest probability whose quantile is at most `x`.
pub(super) fn empirical_cdf(quantiles: &[f64], x: f64) -> f64 {
    let stretches = (quantiles.len() - 1) as f64;
    // The last quantile at or below x.
    let i = quantiles.partition_point(|&q| q <= x);
    if i == 0 {
        return 0.0;
    }
    if i == quantiles.len() {
        return 1.0;
    }
    let (low, high) = (quantiles[i - 1], quantiles[i]);
    let within = if high > low {
        (x - low) / (high - low)
    } else {
        0.0
    };
    ((i - 1) as f64 + within) / stretches
}

/// KS distance of `sorted` samples from a `cdf`: the largest gap between the two, just below
/// and at each distinct value (so that ties in the sample, and atoms in the distribution such
/// as an empirical one's run of zeros, are compared as the steps they are).
pub(super) fn ks_distance(sorted: &[f64], cdf: impl Fn(f64) -> f64) -> KsDistance {
    let n = sorted.len() as f64;
    let mut distance = 0.0f64;
    let mut i = 0;
    while i < sorted.len() {
        let x = sorted[i];
        let mut j = i;
        while j < sorted.len() && sorted[j] == x {
            j += 1;
        }
        // Just below x: the sample's CDF is i/n; at x, j/n.
        let below = cdf(x - x.abs().max(1.0) * 1e-12);
        distance = distance
            .max((below - i as f64 / n).abs())
            .max((cdf(x) - j as f64 / n).abs());
        i = j;
    }
    KsDistance {
        distance,
        samples: sorted.len(),
    }
}

/// Lognormal by maximum likelihood (the mean and sd of the logs), as mean and sd in minutes.
pub(super) fn fit_lognormal(samples: &mut [f64]) -> Option<(f64, f64, KsDistance)> {
    samples.sort_by(f64::total_cmp);
    let logs: Vec<f64> = samples.iter().map(|x| x.max(0.05).ln()).collect();
    let n = logs.len() as f64;
    let mu = logs.iter().sum::<f64>() / n;
    let sigma = (logs.iter().map(|l| (l - mu).powi(2)).sum::<f64>() / n).sqrt();
    let distribution = LogNormal::new(mu, sigma.max(1e-6)).ok()?;
    let ks = ks_distance(samples, |x| distribution.cdf(x.max(0.05)));
    let mean = (mu + sigma * sigma / 2.0).exp();
    let sd = mean * ((sigma * sigma).exp() - 1.0).sqrt();
    Some((mean, sd, ks))
}

/// Lognormal through the sample's median and 90th percentile (as mean and sd in minutes): a
/// fit that a few extreme records (a stamp hours late) cannot pull, and that reproduces the two
/// quantiles a back-test compares. Maximum likelihood on such logs puts the mean far out in the
/// tail.
pub(super) fn fit_lognormal_quantiles(samples: &mut [f64]) -> Option<(f64, f64, KsDistance)> {
    samples.sort_by(f64::total_cmp);
    let at =
        |q: f64| samples[((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    // Times of 0 (a dispatch in the same second) sit at the floor of a few seconds.
    let (median, p90) = (at(0.5).max(0.05), at(0.9).max(0.05));
    let mu = median.ln();
    let sigma = ((p90.ln() - mu) / 1.281_551_6).max(1e-6);
    let distribution = LogNormal::new(mu, sigma).ok()?;
    let ks = ks_distance(samples, |x| distribution.cdf(x.max(0.05)));
    let mean = (mu + sigma * sigma / 2.0).exp();
    let sd = mean * ((sigma * sigma).exp() - 1.0).sqrt();
    Some((mean, sd, ks))
}
