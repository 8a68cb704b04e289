//! Across replications: the mean of a figure with its 95% confidence interval (Student t), and
//! the same for paired differences between policies. Sums run sequentially in replication
//! order so the result is bit-identical whatever the thread count that produced the inputs.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The confidence level of every interval this crate reports.
pub const CONFIDENCE_LEVEL: f64 = 0.95;

/// A mean over replications and its 95% confidence interval.
/// In JSON an undefined value (NaN) is `null`, and reads back as NaN.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    #[serde(deserialize_with = "number_or_nan")]
    pub mean: f64,
    /// Half-width of the 95% CI (NaN with fewer than two replications).
    #[serde(deserialize_with = "number_or_nan")]
    pub half_width: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub ci_low: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub ci_high: f64,
    /// Sample standard deviation across replications.
    #[serde(deserialize_with = "number_or_nan")]
    pub sd: f64,
    /// Replications with a defined value (a figure can be undefined, e.g. no eligible calls).
    pub n: usize,
}

/// A number, or NaN for `null` (how serde_json writes a non-finite float).
fn number_or_nan<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

impl Estimate {
    /// From per-replication values; non-finite values (undefined figures) are left out.
    pub fn from_samples(values: &[f64]) -> Self {
        let mut n = 0usize;
        let mut sum = 0.0;
        for &v in values.iter().filter(|v| v.is_finite()) {
            n += 1;
            sum += v;
        }
        if n == 0 {
            return Self {
                mean: f64::NAN,
                half_width: f64::NAN,
                ci_low: f64::NAN,
                ci_high: f64::NAN,
                sd: f64::NAN,
                n,
            };
        }
        let mean = sum / n as f64;
        let squares: f64 = values
            .iter()
            .filter(|v| v.is_finite())
            .map(|v| (v - mean) * (v - mean))
            .sum();
        let (sd, half_width) = if n >= 2 {
            let sd = (squares / (n - 1) as f64).sqrt();
            (sd, t_quantile(n - 1) * sd / (n as f64).sqrt())
        } else {
            (f64::NAN, f64::NAN)
        };
        Self {
            mean,
            half_width,
            ci_low: mean - half_width,
            ci_high: mean + half_width,
            sd,
            n,
        }
    }

    /// Paired differences `values[r] - baseline[r]`, replication by replication.
    pub fn paired_difference(values: &[f64], baseline: &[f64]) -> Self {
        let differences: Vec<f64> = values.iter().zip(baseline).map(|(v, b)| v - b).collect();
        Self::from_samples(&differences)
    }

    /// How much one paired difference costs per unit of another: `mean(y) / mean(x)` with
    /// `y = numerator - numerator_baseline` and `x = denominator_baseline - denominator` (what
    /// was avoided), replication by replication, and a delta-method 95% interval (the ratio
    /// estimator's: the t quantile times the sd of `y - R x` over `sqrt(n) mean(x)`).
    /// Undefined (NaN) when the change in the denominator is not clearly different from zero:
    /// its interval then holds 0 and the ratio has no finite bound.
    pub fn ratio_of_differences(
        (numerator, numerator_baseline): (&[f64], &[f64]),
        (denominator, denominator_baseline): (&[f64], &[f64]),
    ) -> Self {
        let pairs: Vec<(f64, f64)> = (0..numerator.len())
            .map(|r| {
                (
                    numerator[r] - numerator_baseline[r],
                    denominator_baseline[r] - denominator[r],
                )
            })
            .filter(|(y, x)| y.is_finite() && x.is_finite())
            .collect();
        let n = pairs.len();
        let avoided: Vec<f64> = pairs.iter().map(|(_, x)| *x).collect();
        let avoided = Self::from_samples(&avoided);
        let undefined = Self {
            n,
            ..Self::from_samples(&[])
        };
        if n < 2 || !avoided.excludes_zero() {
            return undefined;
        }
        let mean_y = pairs.iter().map(|(y, _)| y).sum::<f64>() / n as f64;
        let ratio = mean_y / avoided.mean;
        let squares: f64 = pairs
            .iter()
            .map(|(y, x)| (y - ratio * x) * (y - ratio * x))
            .sum();
        let residual_sd = (squares / (n - 1) as f64).sqrt();
        let half_width = t_quantile(n - 1) * residual_sd / ((n as f64).sqrt() * avoided.mean.abs());
        Self {
            mean: ratio,
            half_width,
            ci_low: ratio - half_width,
            ci_high: ratio + half_width,
            sd: f64::NAN,
            n,
        }
    }

    /// True when the interval excludes zero.
    pub fn excludes_zero(&self) -> bool {
        self.ci_low > 0.0 || self.ci_high < 0.0
    }
}

/// The two-sided 95% Student t quantile with `df` degrees of freedom.
pub(crate) fn t_quantile(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .map(|t| t.inverse_cdf(0.5 + CONFIDENCE_LEVEL / 2.0))
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        assert!((t_quantile(9) - 2.262157).abs() < 1e-6);
        assert!((t_quantile(1) - 12.706205).abs() < 1e-5);
        assert!((t_quantile(1000) - 1.962339).abs() < 1e-5);
    }

    #[test]
    fn interval_of_known_samples() {
        // mean 3, sd sqrt(2.5), n 5: half-width = 2.776445 * 1.5811388 / sqrt(5)
        let e = Estimate::from_samples(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(e.mean, 3.0);
        assert!((e.sd - 2.5f64.sqrt()).abs() < 1e-12);
        assert!((e.half_width - 1.963243).abs() < 1e-6, "{}", e.half_width);
        assert_eq!(e.n, 5);
        assert!(e.excludes_zero());
    }

    #[test]
    fn undefined_values_are_left_out_and_single_values_have_no_interval() {
        let e = Estimate::from_samples(&[f64::NAN, 4.0, 6.0]);
        assert_eq!((e.mean, e.n), (5.0, 2));
        let single = Estimate::from_samples(&[7.0]);
        assert_eq!(single.mean, 7.0);
        assert!(single.half_width.is_nan());
        assert!(Estimate::from_samples(&[]).mean.is_nan());
    }

    #[test]
    fn a_ratio_of_differences_recovers_a_constant_price_and_refuses_a_zero_change() {
        // Every replication: the policy costs 250 more per hour it frees, around shared noise.
        let hours_base = [1000.0, 1200.0, 900.0, 1100.0, 1050.0];
        let freed = [100.0, 110.0, 95.0, 105.0, 90.0];
        let hours: Vec<f64> = hours_base.iter().zip(freed).map(|(h, f)| h - f).collect();
        let cost_base = [5e6, 5.2e6, 4.9e6, 5.1e6, 5.0e6];
        let cost: Vec<f64> = cost_base
            .iter()
            .zip(freed)
            .map(|(c, f)| c + 250.0 * f)
            .collect();
        let price = Estimate::ratio_of_differences((&cost, &cost_base), (&hours, &hours_base));
        assert!((price.mean - 250.0).abs() < 1e-6, "{price:?}");
        assert!(price.half_width < 1e-6, "exact: no residual spread");
        // Hours that do not change: no price per hour freed.
        let none = Estimate::ratio_of_differences((&cost, &cost_base), (&hours_base, &hours_base));
        assert!(none.mean.is_nan() && none.ci_low.is_nan());
    }

    #[test]
    fn paired_differences_remove_shared_noise() {
        // Large shared noise, constant difference of 1: the paired CI is tight around 1.
        let baseline = [10.0, 50.0, 30.0, 70.0];
        let policy = [11.0, 51.0, 31.0, 71.0];
        let d = Estimate::paired_difference(&policy, &baseline);
        assert_eq!(d.mean, 1.0);
        assert_eq!(d.half_width, 0.0);
    }
}
