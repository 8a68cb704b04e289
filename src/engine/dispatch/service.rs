//! How long things take: travel from a unit's zone to the call (the travel matrix's mean times
//! a per-trip factor), on-scene time by call type and responder kind, and a crisis-line call's
//! length. Every draw comes from the call's own key and a purpose of its own, so two policies
//! that send different units still see the same draws for the same call.

use crate::calls::Call;
use crate::calls::rng::{self, Purpose};
use crate::engine::record::Outcomes;
use crate::scenario::distribution::{DurationSpec, Sampler};
use crate::scenario::{PoolId, ResponderKind, Scenario, Travel, ZoneId};

use super::queues::Job;

/// One draw of `sampler` from the call's stream for `purpose` (no stream for a fixed value).
#[inline(always)]
pub fn draw(sampler: &Sampler, call_key: u64, purpose: Purpose) -> f64 {
    match sampler {
        Sampler::Fixed(value) => *value,
        _ => sampler.sample(&mut rng::stream(call_key, purpose)),
    }
}

/// A call type's travel: its priority's factor, and its own variation (if the priority has one).
type TypeTravel = (f64, Option<Sampler>);

/// The samplers of one scenario's service times.
#[derive(Clone, Debug)]
pub struct ServiceTimes<'a> {
    travel: &'a Travel,
    travel_factor: Sampler,
    /// Per call type, its priority's factor on every trip and, where the priority has its
    /// own, the sampler of the trip's variation; `None` when no priority has either, so the
    /// common case does no lookup.
    travel_by_type: Option<Box<[TypeTravel]>>,
    /// Per call type: on-scene time for police (index 0) and care teams (index 1).
    on_scene: Vec<[Sampler; 2]>,
    /// Call length of each pool whose units work by phone (counsellors).
    call_minutes: Vec<Option<Sampler>>,
    /// Outcome time by kind (police, care) and outcome (arrest, ER transport, report); `None`
    /// when the scenario declares none, so the engine takes today's path.
    outcome_time: Option<[[Option<Sampler>; 3]; 2]>,
    /// Per facility: length of stay (minutes) and handover.
    stay: Vec<Sampler>,
    handover: Vec<Sampler>,
    /// Call-processing time by priority (index 1-9); `None` without `[dispatch_delay]`.
    dispatch_delay: Option<[Sampler; 10]>,
}

impl<'a> ServiceTimes<'a> {
    pub fn new(scenario: &'a Scenario) -> Self {
        Self {
            travel: &scenario.travel,
            travel_factor: scenario
                .travel
                .variation
                .factor_sampler(scenario.travel.cv, &scenario.travel.quantiles),
            travel_by_type: {
                let travel = &scenario.travel;
                (travel.priority_factor.iter().any(|&f| f != 1.0)
                    || travel.priority_quantiles.iter().any(Option::is_some))
                .then(|| {
                    scenario
                        .call_types
                        .iter()
                        .map(|t| {
                            let p = usize::from(t.priority);
                            (
                                travel.priority_factor[p],
                                travel.priority_quantiles[p].as_ref().map(|quantiles| {
                                    DurationSpec::Empirical {
                                        quantiles: quantiles.clone(),
                                    }
                                    .sampler()
                                }),
                            )
                        })
                        .collect()
                })
            },
            on_scene: scenario.on_scene_samplers(),
            call_minutes: scenario
                .pools
                .iter()
                .map(|p| p.call_minutes.as_ref().map(|d| d.sampler()))
                .collect(),
            outcome_time: scenario
                .outcome_time
                .iter()
                .any(|t| !t.is_empty())
                .then(|| {
                    scenario.outcome_time.clone().map(|t| {
                        [
                            t.arrest.map(|d| d.sampler()),
                            t.er_transport.map(|d| d.sampler()),
                            t.report.map(|d| d.sampler()),
                        ]
                    })
                }),
            stay: scenario
                .facilities
                .iter()
                .map(|f| f.length_of_stay_hours.sampler())
                .collect(),
            handover: scenario
                .facilities
                .iter()
                .map(|f| f.handover_minutes.sampler())
                .collect(),
            dispatch_delay: scenario.dispatch_delay.as_ref().map(|by_priority| {
                by_priority
                    .each_ref()
                    .map(|spec| spec.as_ref().map_or(Sampler::Fixed(0.0), |d| d.sampler()))
            }),
        }
    }

    /// Whether calls wait for call processing before they are dispatched.
    #[inline(always)]
    pub fn has_dispatch_delay(&self) -> bool {
        self.dispatch_delay.is_some()
    }

    /// Minutes from a call's receipt until it can be dispatched.
    pub fn dispatch_delay_minutes(&self, priority: u8, call: &Call) -> f64 {
        self.dispatch_delay.as_ref().map_or(0.0, |by_priority| {
            draw(
                &by_priority[usize::from(priority).min(9)],
                call.draw_key,
                Purpose::DispatchDelay,
            )
        })
    }

    /// Minutes a person admitted to `facility` stays (`booking`: a booked arrest at a jail).
    pub fn stay_minutes(&self, facility: usize, call: &Call, booking: bool) -> f64 {
        let purpose = if booking {
            Purpose::BookingStay
        } else {
            Purpose::TreatmentStay
        };
        draw(&self.stay[facility], call.draw_key, purpose) * 60.0
    }

    /// Minutes the transporting unit spends at `facility` handing the person over.
    pub fn handover_minutes(&self, facility: usize, call: &Call, booking: bool) -> f64 {
        let purpose = if booking {
            Purpose::BookingHandover
        } else {
            Purpose::TreatmentHandover
        };
        draw(&self.handover[facility], call.draw_key, purpose)
    }

    /// Minutes the outcomes of `call` keep a unit of `kind` (police or care) busy after the
    /// scene, besides any facility trip: an arrest's transport and booking, an ER transport's
    /// (for calls with no facility list; the checker allows no ER time with one), and a report
    /// after a reportable incident, each when declared.
    pub fn outcome_minutes(&self, kind: ResponderKind, outcomes: &Outcomes, call: &Call) -> f64 {
        let Some(times) = &self.outcome_time else {
            return 0.0;
        };
        let [arrest, er, report] = &times[usize::from(kind == ResponderKind::Care)];
        let mut minutes = 0.0;
        if outcomes.arrest
            && let Some(sampler) = arrest
        {
            minutes += draw(sampler, call.draw_key, Purpose::ArrestMinutes);
        }
        if outcomes.er_transport
            && let Some(sampler) = er
        {
            minutes += draw(sampler, call.draw_key, Purpose::ErTransportMinutes);
        }
        if (outcomes.arrest || outcomes.force || outcomes.er_transport)
            && let Some(sampler) = report
        {
            minutes += draw(sampler, call.draw_key, Purpose::ReportMinutes);
        }
        minutes
    }

    /// The travel matrix's mean minutes from one zone to another (the drive back to base).
    #[inline]
    pub fn mean_travel(&self, from: ZoneId, to: ZoneId) -> f64 {
        self.travel.mean_minutes(from, to)
    }

    /// This trip's minutes from `from` to the call, for a unit doing `job`.
    #[inline(always)]
    pub fn travel_minutes(&self, from: ZoneId, call: &Call, job: Job) -> f64 {
        let purpose = match job {
            Job::Primary => Purpose::TravelPrimary,
            Job::Backup => Purpose::TravelBackup,
            Job::FollowUp => Purpose::TravelFollowUp,
            Job::Companion => Purpose::TravelCompanion,
        };
        let mean = self.travel.mean_minutes(from, call.zone);
        match &self.travel_by_type {
            None => mean * draw(&self.travel_factor, call.draw_key, purpose),
            Some(by_type) => {
                let (scale, own) = &by_type[usize::from(call.call_type.0)];
                let factor = own.as_ref().unwrap_or(&self.travel_factor);
                mean * draw(factor, call.draw_key, purpose) * scale
            }
        }
    }

    /// Minutes on scene for a unit of `kind` doing `job` (police and clinicians use the call
    /// type's police time, care teams the care time).
    #[inline(always)]
    pub fn on_scene_minutes(&self, kind: ResponderKind, job: Job, call: &Call) -> f64 {
        let purpose = match (kind, job) {
            (ResponderKind::Care, Job::FollowUp) => Purpose::OnSceneFollowUp,
            (ResponderKind::Care, _) => Purpose::OnSceneCare,
            _ => Purpose::OnScenePolice,
        };
        let scene = usize::from(kind == ResponderKind::Care);
        draw(
            &self.on_scene[usize::from(call.call_type.0)][scene],
            call.draw_key,
            purpose,
        )
    }

    /// How long a crisis-line call takes a counsellor of `pool`.
    #[inline(never)]
    pub fn phone_minutes(&self, pool: PoolId, call: &Call) -> f64 {
        self.call_minutes[usize::from(pool.0)]
            .as_ref()
            .map_or(0.0, |sampler| {
                draw(sampler, call.draw_key, Purpose::PhoneMinutes)
            })
    }
}
