//! Scenario settings a sweep may vary besides a pool's units and shifts: a facility's beds,
//! stay and handover, outcome time, and the cost ledger's lines (several rest on one study, so
//! they are the first to vary). Each value is checked with the scenario checker's rules when
//! it is set, so a sweep cannot run a scenario the checker would refuse.

use super::distribution::DurationSpec;
use super::{Costs, MAX_BEDS, MAX_COST_PER_EVENT, Scenario};

/// A setting by its path, e.g. `facility.crisis_center.beds` or `costs.jail_bed_day`.
#[derive(Clone, Debug, PartialEq)]
pub enum Parameter {
    /// A facility's beds (a whole number, or unlimited).
    Beds(usize),
    /// The mean of a facility's length of stay, in hours (its coefficient of variation kept).
    StayHours(usize),
    /// The mean of a facility's handover time, in minutes (its coefficient of variation kept).
    HandoverMinutes(usize),
    /// The mean of an outcome time: kind (0 police, 1 care) and outcome.
    OutcomeTime(usize, &'static str),
    /// A line of `[costs]`.
    Cost(&'static str),
    /// The mean call-processing time of one priority (1-9), or of every priority (`None`).
    DispatchDelay(Option<u8>),
}

/// One value of a parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    /// For beds: no limit.
    Unlimited,
}

/// The `[costs]` fields a sweep may set, as the scenario file names them.
const COST_FIELDS: [&str; 11] = [
    "booking",
    "jail_bed_day",
    "jail_days_per_booking",
    "ed_visit",
    "ambulance_transport",
    "ambulance_share",
    "crisis_center_admission",
    "sobering_admission",
    "call_988",
    "force_claim_probability",
    "force_claim_mean",
];

/// What the paths look like, for messages.
pub const PARAMETER_PATHS: &str = "facility.NAME.beds, facility.NAME.length_of_stay_hours, facility.NAME.handover_minutes, outcome_time.police|care.arrest|er_transport|report, costs.FIELD, dispatch_delay.PRIORITY|all";

impl Parameter {
    /// The parameter at `path`, `None` when the path is not one of these (it may name a pool's
    /// setting), or why it names none of this scenario's.
    pub fn parse(path: &str, scenario: &Scenario) -> Option<Result<Self, String>> {
        let parts: Vec<&str> = path.split('.').collect();
        Some(match parts.as_slice() {
            ["facility", rest @ ..] if rest.len() >= 2 => {
                let (field, name) = (rest[rest.len() - 1], rest[..rest.len() - 1].join("."));
                let Some(f) = scenario.facilities.iter().position(|f| f.name == name) else {
                    let known: Vec<&str> = scenario
                        .facilities
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect();
                    return Some(Err(format!(
                        "no facility `{name}`; the scenario's facilities are {}",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    )));
                };
                match field {
                    "beds" => Ok(Self::Beds(f)),
                    "length_of_stay_hours" => Ok(Self::StayHours(f)),
                    "handover_minutes" => Ok(Self::HandoverMinutes(f)),
                    other => Err(format!(
                        "no facility setting `{other}`; expected beds, length_of_stay_hours or handover_minutes"
                    )),
                }
            }
            ["outcome_time", kind, outcome] => {
                let kind = match *kind {
                    "police" => 0,
                    "care" => 1,
                    other => return Some(Err(format!("expected police or care, found `{other}`"))),
                };
                match ["arrest", "er_transport", "report"]
                    .into_iter()
                    .find(|o| o == outcome)
                {
                    Some(outcome) => Ok(Self::OutcomeTime(kind, outcome)),
                    None => Err(format!(
                        "expected arrest, er_transport or report, found `{outcome}`"
                    )),
                }
            }
            ["costs", field] => match COST_FIELDS.into_iter().find(|f| f == field) {
                Some(field) => Ok(Self::Cost(field)),
                None => Err(format!(
                    "no cost `{field}`; expected one of {}",
                    COST_FIELDS.join(", ")
                )),
            },
            ["dispatch_delay", which] => {
                if scenario.dispatch_delay.is_none() {
                    Err("the scenario has no [dispatch_delay] section: give it one (its distributions are kept, their means varied)".to_string())
                } else if *which == "all" {
                    Ok(Self::DispatchDelay(None))
                } else {
                    match which.parse::<u8>() {
                        Ok(p) if scenario.priorities().contains(&p) => {
                            Ok(Self::DispatchDelay(Some(p)))
                        }
                        _ => Err(format!(
                            "expected `all` or a priority the call types use ({}), found `{which}`",
                            scenario
                                .priorities()
                                .iter()
                                .map(u8::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    }
                }
            }
            ["facility" | "outcome_time" | "costs" | "dispatch_delay", ..] => {
                Err(format!("expected one of {PARAMETER_PATHS}"))
            }
            _ => return None,
        })
    }

    /// Sets the parameter in `scenario`, checked as the scenario file's value would be.
    pub fn apply(&self, scenario: &mut Scenario, value: Value) -> Result<(), String> {
        let number = match value {
            Value::Number(n) => n,
            Value::Unlimited if matches!(self, Self::Beds(_)) => {
                if let Self::Beds(f) = self {
                    scenario.facilities[*f].beds = None;
                }
                return Ok(());
            }
            Value::Unlimited => return Err("`unlimited` is a value for beds only".to_string()),
        };
        if !number.is_finite() {
            return Err(format!("expected a finite number, found {number}"));
        }
        match self {
            Self::Beds(f) => {
                if number.fract() != 0.0 || !(1.0..=f64::from(MAX_BEDS)).contains(&number) {
                    return Err(format!(
                        "a whole number of beds from 1 to {MAX_BEDS}, or unlimited; found {number}"
                    ));
                }
                scenario.facilities[*f].beds = Some(number as u32);
            }
            Self::StayHours(f) => {
                let spec = &mut scenario.facilities[*f].length_of_stay_hours;
                *spec = with_mean(spec, number, MAX_HOURS)?;
            }
            Self::HandoverMinutes(f) => {
                let spec = &mut scenario.facilities[*f].handover_minutes;
                *spec = with_mean(spec, number, MAX_MINUTES)?;
            }
            Self::OutcomeTime(kind, outcome) => {
                let times = &mut scenario.outcome_time[*kind];
                let spec = match *outcome {
                    "arrest" => &mut times.arrest,
                    "er_transport" => &mut times.er_transport,
                    _ => &mut times.report,
                };
                let Some(current) = spec else {
                    return Err(format!(
                        "the scenario declares no {outcome} time for {}: give it one in [outcome_time.{}] (its distribution is kept, its mean varied)",
                        ["police", "care"][*kind],
                        ["police", "care"][*kind]
                    ));
                };
                *current = with_mean(current, number, MAX_MINUTES)?;
            }
            Self::DispatchDelay(priority) => {
                let Some(by_priority) = scenario.dispatch_delay.as_mut() else {
                    return Err("the scenario has no [dispatch_delay] section".to_string());
                };
                for (p, spec) in by_priority.iter_mut().enumerate() {
                    if let Some(spec) = spec
                        && priority.is_none_or(|only| usize::from(only) == p)
                    {
                        *spec = with_mean(spec, number, MAX_MINUTES)?;
                    }
                }
            }
            Self::Cost(field) => set_cost(
                scenario.costs.get_or_insert_with(Costs::default),
                field,
                number,
            )?,
        }
        Ok(())
    }
}

/// The longest mean an after-the-scene duration may have, in hours, minutes or days: the
/// checker's ceiling (the longest horizon), so a draw stays a finite time.
const MAX_HOURS: f64 = super::MAX_HORIZON_DAYS * 24.0;
const MAX_MINUTES: f64 = super::MAX_HORIZON_DAYS * super::MINUTES_PER_DAY;
const MAX_DAYS: f64 = super::MAX_HORIZON_DAYS;

/// `spec` with its mean set to `mean` (at most `max`), its coefficient of variation kept.
fn with_mean(spec: &DurationSpec, mean: f64, max: f64) -> Result<DurationSpec, String> {
    let changed = spec.with_mean(mean);
    if mean > max {
        return Err(format!(
            "a mean of at most {max} (the longest horizon, {} days), found {mean}",
            super::MAX_HORIZON_DAYS
        ));
    }
    changed
        .check()
        .map(|()| changed)
        .map_err(|(_, expected)| format!("a mean that is {expected}"))
}

fn set_cost(costs: &mut Costs, field: &str, value: f64) -> Result<(), String> {
    let dollars = || {
        if (0.0..=MAX_COST_PER_EVENT).contains(&value) {
            Ok(value)
        } else {
            Err(format!(
                "a cost from 0 to {MAX_COST_PER_EVENT} dollars, found {value}"
            ))
        }
    };
    let probability = || {
        if (0.0..=1.0).contains(&value) {
            Ok(value)
        } else {
            Err(format!("a probability in [0, 1], found {value}"))
        }
    };
    let partner = |field: &str, other: &str| {
        format!("set `{other}` in the scenario's [costs] too: `{field}` means nothing without it")
    };
    match field {
        "booking" => costs.booking = Some(dollars()?),
        "ed_visit" => costs.ed_visit = Some(dollars()?),
        "crisis_center_admission" => costs.crisis_center_admission = Some(dollars()?),
        "sobering_admission" => costs.sobering_admission = Some(dollars()?),
        "call_988" => costs.call_988 = Some(dollars()?),
        "jail_bed_day" => match &mut costs.jail_bed_days {
            Some((cost, _)) => *cost = dollars()?,
            None => return Err(partner(field, "jail_days_per_booking")),
        },
        "jail_days_per_booking" => match &mut costs.jail_bed_days {
            Some((_, days)) => *days = with_mean(days, value, MAX_DAYS)?,
            None => return Err(partner(field, "jail_bed_day")),
        },
        "ambulance_transport" => match &mut costs.ambulance {
            Some((cost, _)) => *cost = dollars()?,
            None => return Err(partner(field, "ambulance_share")),
        },
        "ambulance_share" => match &mut costs.ambulance {
            Some((_, share)) => *share = probability()?,
            None => return Err(partner(field, "ambulance_transport")),
        },
        "force_claim_probability" => match &mut costs.force_claims {
            Some((p, _)) => *p = probability()?,
            None => return Err(partner(field, "force_claim_mean")),
        },
        _ => match &mut costs.force_claims {
            Some((_, mean)) => *mean = dollars()?,
            None => return Err(partner(field, "force_claim_probability")),
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_parameter_sets_its_value_and_refuses_bad_ones() {
        let base = Scenario::default_scenario();
        let parse = |path: &str| Parameter::parse(path, &base).unwrap().unwrap();
        let mut s = base.clone();
        parse("facility.crisis_center.beds")
            .apply(&mut s, Value::Number(40.0))
            .unwrap();
        let center = s
            .facilities
            .iter()
            .find(|f| f.name == "crisis_center")
            .unwrap();
        assert_eq!(center.beds, Some(40));
        parse("facility.crisis_center.beds")
            .apply(&mut s, Value::Unlimited)
            .unwrap();
        assert_eq!(s.facilities[1].beds, None);
        let beds = parse("facility.crisis_center.beds");
        for bad in [0.0, -3.0, 2.5, 1e7] {
            assert!(beds.apply(&mut s, Value::Number(bad)).is_err(), "{bad}");
        }
        parse("costs.jail_bed_day")
            .apply(&mut s, Value::Number(300.0))
            .unwrap();
        assert_eq!(
            s.costs.as_ref().unwrap().jail_bed_days.as_ref().unwrap().0,
            300.0
        );
        assert!(
            parse("costs.booking")
                .apply(&mut s, Value::Number(-1.0))
                .is_err()
        );
        assert!(
            parse("costs.ambulance_share")
                .apply(&mut s, Value::Number(1.5))
                .is_err()
        );
        // The mean moves, the spread keeps its coefficient of variation.
        parse("outcome_time.police.arrest")
            .apply(&mut s, Value::Number(40.0))
            .unwrap();
        let arrest = s.outcome_time[0].arrest.clone().unwrap();
        assert_eq!((arrest.mean(), arrest.sd()), (40.0, 30.0));
        // Care teams have no report time in the default: nothing to vary.
        let error = parse("outcome_time.care.report")
            .apply(&mut s, Value::Number(10.0))
            .unwrap_err();
        assert!(error.contains("declares no report time"), "{error}");
        // Call processing: one priority's mean, or every priority's.
        parse("dispatch_delay.2")
            .apply(&mut s, Value::Number(1.5))
            .unwrap();
        let delays = s.dispatch_delay.clone().unwrap();
        let mean = |p: usize| delays[p].as_ref().unwrap().mean();
        assert_eq!((mean(1), mean(2), mean(3)), (0.6, 1.5, 0.6));
        parse("dispatch_delay.all")
            .apply(&mut s, Value::Number(2.0))
            .unwrap();
        let delays = s.dispatch_delay.clone().unwrap();
        assert!(
            delays[1..=3]
                .iter()
                .all(|d| d.as_ref().unwrap().mean() == 2.0)
        );
        assert!(
            Parameter::parse("dispatch_delay.7", &base)
                .unwrap()
                .is_err()
        );
        assert!(
            parse("dispatch_delay.1")
                .apply(&mut s, Value::Number(-1.0))
                .is_err()
        );
        assert!(Parameter::parse("care.count", &base).is_none());
        for bad in [
            "facility.nowhere.beds",
            "costs.lunch",
            "outcome_time.police.lunch",
        ] {
            assert!(Parameter::parse(bad, &base).unwrap().is_err(), "{bad}");
        }
    }
}
