//! What happens after the scene, as a scenario declares it: the time outcomes add to the
//! responding unit, the facilities people are taken to (beds, stays, handover), where transports
//! go, and the downstream cost ledger. Every part is optional: a scenario without them runs
//! exactly as before and reports no new figures.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::distribution::DurationSpec;
use super::raw::{RawCosts, RawFacility, RawScenario, RawTransport};
use super::{
    CallType, Checker, FieldPath, MAX_HORIZON_DAYS, MINUTES_PER_DAY, ResponderKind, Zone, ZoneId,
};
use crate::policy::{Policy, WithTransport};

/// The most beds or places a facility may have (a state's whole psychiatric capacity is a few
/// thousand; a jail system tens of thousands). Use `"unlimited"` for no limit.
pub const MAX_BEDS: u32 = 1_000_000;
/// The highest cost of one event (a booking, a visit, a claim), in dollars: far above any real
/// one, low enough that yearly sums stay finite.
pub const MAX_COST_PER_EVENT: f64 = 1.0e9;
/// The most facilities a scenario may declare (they are indexed by `u16`).
pub const MAX_FACILITIES: usize = 1_000;

/// What a receiving facility is; it decides which cost line an admission falls under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilityKind {
    /// A hospital emergency department.
    Ed,
    /// A crisis stabilization center (Crisis Now model).
    CrisisCenter,
    /// A sobering center.
    Sobering,
    /// A jail: takes booked arrests only.
    Jail,
}

impl FacilityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ed => "ed",
            Self::CrisisCenter => "crisis_center",
            Self::Sobering => "sobering",
            Self::Jail => "jail",
        }
    }
}

/// How long each outcome keeps the responding unit busy after its on-scene time, for one
/// responder kind; `None` adds no time (as before outcome time existed).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutcomeTime {
    /// Transport and booking after an arrest (with a `[transport] booking` list: what comes on
    /// top of the drive to the jail and its handover, such as paperwork).
    pub arrest: Option<DurationSpec>,
    /// Transport to the emergency department and the wait for handover, for calls with no
    /// facility list (with one, the drive and the facility's handover take its place).
    pub er_transport: Option<DurationSpec>,
    /// Report writing after a reportable incident: an arrest, a use of force or a transport.
    pub report: Option<DurationSpec>,
}

impl OutcomeTime {
    pub fn is_empty(&self) -> bool {
        self.arrest.is_none() && self.er_transport.is_none() && self.report.is_none()
    }
}

/// A place people are taken to, with a limited (or unlimited) number of beds.
#[derive(Clone, Debug, PartialEq)]
pub struct Facility {
    pub name: String,
    pub kind: FacilityKind,
    pub zone: ZoneId,
    /// `None`: unlimited (never turns anyone away).
    pub beds: Option<u32>,
    /// How long a person admitted stays, in hours.
    pub length_of_stay_hours: DurationSpec,
    /// Minutes the transporting unit spends there: handover at an ED, drop-off at a crisis
    /// center, booking at a jail.
    pub handover_minutes: DurationSpec,
    /// Which responder kinds may bring people here, indexed police, care.
    pub used_by: [bool; 2],
}

impl Facility {
    /// Whether a unit of `kind` may bring people here.
    pub fn takes_from(&self, kind: ResponderKind) -> bool {
        match kind {
            ResponderKind::Police => self.used_by[0],
            ResponderKind::Care => self.used_by[1],
            _ => false,
        }
    }
}

/// Where transports go: facility indices in order of preference. A transport goes to the first
/// one (that its unit's kind may use) with room; a full one sends it on to the next.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transport {
    /// For the `er_transport` outcome (a call type's `transport_to` overrides it).
    pub treatment: Vec<u16>,
    /// For a booked arrest.
    pub booking: Vec<u16>,
}

/// The downstream cost ledger: dollars per event. `None` is a line "not costed" (shown as
/// such, never as zero).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Costs {
    pub booking: Option<f64>,
    /// Cost of a jail bed-day and the days a booking stays (both or neither).
    pub jail_bed_days: Option<(f64, DurationSpec)>,
    pub ed_visit: Option<f64>,
    /// Cost of an ambulance ride and the share of ED visits that arrive by one.
    pub ambulance: Option<(f64, f64)>,
    pub crisis_center_admission: Option<f64>,
    pub sobering_admission: Option<f64>,
    /// A crisis-line (988) call resolved by phone.
    pub call_988: Option<f64>,
    /// Probability that a use of force ends in a paid claim, and the mean payment.
    pub force_claims: Option<(f64, f64)>,
}

/// The ledger's lines, in the order figures and charts list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CostLine {
    Booking,
    JailBedDays,
    EdVisits,
    Ambulance,
    CrisisCenter,
    Sobering,
    CrisisLine,
    ForceClaims,
}

impl CostLine {
    pub const ALL: [CostLine; 8] = [
        Self::Booking,
        Self::JailBedDays,
        Self::EdVisits,
        Self::Ambulance,
        Self::CrisisCenter,
        Self::Sobering,
        Self::CrisisLine,
        Self::ForceClaims,
    ];

    /// The figure key's last part (`downstream_cost.booking`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Booking => "booking",
            Self::JailBedDays => "jail_bed_days",
            Self::EdVisits => "ed_visits",
            Self::Ambulance => "ambulance",
            Self::CrisisCenter => "crisis_center",
            Self::Sobering => "sobering",
            Self::CrisisLine => "crisis_line",
            Self::ForceClaims => "force_claims",
        }
    }

    /// How a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Booking => "Jail bookings",
            Self::JailBedDays => "Jail bed-days",
            Self::EdVisits => "Emergency-department visits",
            Self::Ambulance => "Ambulance transports",
            Self::CrisisCenter => "Crisis-center admissions",
            Self::Sobering => "Sobering-center admissions",
            Self::CrisisLine => "Crisis-line (988) calls",
            Self::ForceClaims => "Use-of-force claims",
        }
    }
}

impl Costs {
    /// Whether the scenario gives a cost for `line`.
    pub fn costs(&self, line: CostLine) -> bool {
        match line {
            CostLine::Booking => self.booking.is_some(),
            CostLine::JailBedDays => self.jail_bed_days.is_some(),
            CostLine::EdVisits => self.ed_visit.is_some(),
            CostLine::Ambulance => self.ambulance.is_some(),
            CostLine::CrisisCenter => self.crisis_center_admission.is_some(),
            CostLine::Sobering => self.sobering_admission.is_some(),
            CostLine::CrisisLine => self.call_988.is_some(),
            CostLine::ForceClaims => self.force_claims.is_some(),
        }
    }
}

/// The checked consequence sections of a scenario.
pub(super) struct Consequences {
    pub facilities: Vec<Facility>,
    pub transport: Transport,
    pub costs: Option<Costs>,
}

impl Checker {
    /// `[outcome_time.police]`, `[outcome_time.care]`: durations, checked like on-scene times;
    /// a care team does not book anyone; no ER time when transports go to facilities.
    pub(super) fn outcome_time(&mut self, root: &FieldPath, raw: &RawScenario) -> [OutcomeTime; 2] {
        let path = root.key("outcome_time");
        let has_treatment_list = raw
            .transport
            .as_ref()
            .is_some_and(|t| !t.treatment.is_empty());
        let mut kinds: [OutcomeTime; 2] = Default::default();
        let sections = [
            ("police", &raw.outcome_time.police),
            ("care", &raw.outcome_time.care),
        ];
        for (index, (name, durations)) in sections.into_iter().enumerate() {
            let Some(durations) = durations else { continue };
            let kind = path.key(name);
            if name == "care" && durations.arrest.is_some() {
                self.fail(
                    kind.key("arrest"),
                    "no arrest time for care teams: a care team does not arrest or book anyone",
                );
            }
            if has_treatment_list && durations.er_transport.is_some() {
                self.fail(
                    kind.key("er_transport"),
                    "no er_transport time when [transport] treatment lists facilities: the drive there and the facility's handover_minutes take its place",
                );
            }
            let mut check = |field: &str, spec: Option<DurationSpec>| {
                spec.map(|spec| {
                    self.bounded_duration(kind.key(field), spec, MAX_HORIZON_DAYS * MINUTES_PER_DAY)
                })
            };
            kinds[index] = OutcomeTime {
                arrest: check("arrest", durations.arrest.clone()),
                er_transport: check("er_transport", durations.er_transport.clone()),
                report: check("report", durations.report.clone()),
            };
        }
        kinds
    }

    /// `[[facilities]]`, `[transport]`, each call type's `transport_to`, and `[costs]`.
    pub(super) fn consequences(
        &mut self,
        root: &FieldPath,
        raw: &RawScenario,
        zones: &[Zone],
        call_types: &mut [CallType],
    ) -> Consequences {
        let facilities = self.facilities(root, &raw.facilities, zones);
        let transport = match &raw.transport {
            Some(transport) => self.transport(&root.key("transport"), transport, &facilities),
            None => Transport::default(),
        };
        if !facilities.is_empty() && transport.treatment.is_empty() && transport.booking.is_empty()
        {
            self.fail(
                root.key("facilities"),
                "a [transport] section that lists them (treatment = [...] or booking = [...]): facilities are used only through its lists",
            );
        }
        let types_path = root.key("call_types");
        for (i, (raw_type, call_type)) in raw.call_types.iter().zip(call_types).enumerate() {
            let Some(names) = &raw_type.transport_to else {
                continue;
            };
            let path = types_path.index(i).key("transport_to");
            if transport.treatment.is_empty() {
                self.fail(
                    path,
                    "no transport_to unless [transport] treatment gives the default list",
                );
                continue;
            }
            call_type.transport_to =
                Some(self.preference_list(&path, names, &facilities, Leg::Treatment));
        }
        let costs = raw
            .costs
            .as_ref()
            .map(|costs| self.costs(&root.key("costs"), costs));
        Consequences {
            facilities,
            transport,
            costs,
        }
    }

    /// A policy's own `transport_to` list: facility names, as a call type's.
    pub(super) fn policy_transport(
        &mut self,
        path: &FieldPath,
        value: &toml::Value,
        facilities: &[Facility],
        transport: &Transport,
        rule: Arc<dyn Policy>,
    ) -> Arc<dyn Policy> {
        let names: Option<Vec<String>> = value.as_array().and_then(|items| {
            items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect()
        });
        let Some(names) = names else {
            self.fail(
                path.clone(),
                "a list of facility names, e.g. transport_to = [\"general_ed\"]",
            );
            return rule;
        };
        if transport.treatment.is_empty() {
            self.fail(
                path.clone(),
                "no transport_to unless [transport] treatment gives the default list",
            );
            return rule;
        }
        let treatment = self.preference_list(path, &names, facilities, Leg::Treatment);
        Arc::new(WithTransport { rule, treatment })
    }

    fn facilities(
        &mut self,
        root: &FieldPath,
        raw_facilities: &[RawFacility],
        zones: &[Zone],
    ) -> Vec<Facility> {
        let path = root.key("facilities");
        if raw_facilities.len() > MAX_FACILITIES {
            self.fail(
                path.clone(),
                format!(
                    "at most {MAX_FACILITIES} facilities, found {}",
                    raw_facilities.len()
                ),
            );
            return Vec::new();
        }
        self.unique_names(
            &path,
            "facility",
            raw_facilities.iter().map(|f| f.name.as_str()),
        );
        raw_facilities
            .iter()
            .enumerate()
            .map(|(i, raw)| self.facility(&path.index(i), raw, zones))
            .collect()
    }

    fn facility(&mut self, path: &FieldPath, raw: &RawFacility, zones: &[Zone]) -> Facility {
        let zone = match zones.iter().position(|z| z.name == raw.zone) {
            Some(z) => ZoneId(z as u16),
            None => {
                let known: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
                self.fail(
                    path.key("zone"),
                    format!(
                        "a zone defined in [[zones]] ({}), found `{}`",
                        known.join(", "),
                        raw.zone
                    ),
                );
                ZoneId(0)
            }
        };
        let beds = match &raw.beds {
            toml::Value::String(s) if s == "unlimited" => None,
            toml::Value::Integer(n) if (1..=i64::from(MAX_BEDS)).contains(n) => Some(*n as u32),
            other => {
                self.fail(
                    path.key("beds"),
                    format!(
                        "a whole number of beds from 1 to {MAX_BEDS}, or \"unlimited\"; found {other}"
                    ),
                );
                None
            }
        };
        let mut required = |field: &str, spec: Option<DurationSpec>, what: &str| match spec {
            Some(spec) => {
                let max = if field == "length_of_stay_hours" {
                    MAX_HORIZON_DAYS * 24.0
                } else {
                    MAX_HORIZON_DAYS * MINUTES_PER_DAY
                };
                self.bounded_duration(path.key(field), spec, max)
            }
            None => {
                self.fail(
                    path.key(field),
                    format!("{what}, e.g. {{ dist = \"lognormal\", mean = 8, sd = 6 }}"),
                );
                DurationSpec::Fixed { mean: 0.0 }
            }
        };
        let length_of_stay_hours = required(
            "length_of_stay_hours",
            raw.length_of_stay_hours.clone(),
            "how long a person stays, in hours (a distribution)",
        );
        let handover_minutes = required(
            "handover_minutes",
            raw.handover_minutes.clone(),
            "the minutes a unit spends there at handover or drop-off (a distribution)",
        );
        let used_by = match &raw.used_by {
            None if raw.kind == FacilityKind::Jail => [true, false],
            None => [true, true],
            Some(kinds) => {
                let mut used_by = [false; 2];
                for (k, kind) in kinds.iter().enumerate() {
                    match kind {
                        ResponderKind::Police => used_by[0] = true,
                        ResponderKind::Care if raw.kind == FacilityKind::Jail => self.fail(
                            path.key("used_by").index(k),
                            "police only at a jail: a care team does not book anyone",
                        ),
                        ResponderKind::Care => used_by[1] = true,
                        other => self.fail(
                            path.key("used_by").index(k),
                            format!(
                                "\"police\" or \"care\" (units that transport people), found \"{}\"",
                                other.as_str()
                            ),
                        ),
                    }
                }
                if kinds.is_empty() {
                    self.fail(path.key("used_by"), "at least one of \"police\", \"care\"");
                }
                used_by
            }
        };
        Facility {
            name: raw.name.clone(),
            kind: raw.kind,
            zone,
            beds,
            length_of_stay_hours,
            handover_minutes,
            used_by,
        }
    }

    fn transport(
        &mut self,
        path: &FieldPath,
        raw: &RawTransport,
        facilities: &[Facility],
    ) -> Transport {
        Transport {
            treatment: self.preference_list(
                &path.key("treatment"),
                &raw.treatment,
                facilities,
                Leg::Treatment,
            ),
            booking: self.preference_list(
                &path.key("booking"),
                &raw.booking,
                facilities,
                Leg::Booking,
            ),
        }
    }

    /// Facility names to indices: each must exist, appear once, and suit the leg (a jail takes
    /// bookings only, and bookings go only to jails).
    fn preference_list(
        &mut self,
        path: &FieldPath,
        names: &[String],
        facilities: &[Facility],
        leg: Leg,
    ) -> Vec<u16> {
        let mut list = Vec::with_capacity(names.len());
        for (k, name) in names.iter().enumerate() {
            let Some(f) = facilities.iter().position(|f| &f.name == name) else {
                let known: Vec<&str> = facilities.iter().map(|f| f.name.as_str()).collect();
                let known = if known.is_empty() {
                    "none is declared".to_string()
                } else {
                    known.join(", ")
                };
                self.fail(
                    path.index(k),
                    format!("a facility defined in [[facilities]] ({known}), found `{name}`"),
                );
                continue;
            };
            let is_jail = facilities[f].kind == FacilityKind::Jail;
            match leg {
                Leg::Treatment if is_jail => self.fail(
                    path.index(k),
                    format!("a place of care, not the jail `{name}` (jails take bookings)"),
                ),
                Leg::Booking if !is_jail => self.fail(
                    path.index(k),
                    format!("a facility of kind \"jail\" for bookings, found `{name}`"),
                ),
                _ if list.contains(&(f as u16)) => self.fail(
                    path.index(k),
                    format!("each facility once, but `{name}` is listed twice"),
                ),
                _ => list.push(f as u16),
            }
        }
        list
    }

    fn costs(&mut self, path: &FieldPath, raw: &RawCosts) -> Costs {
        let mut dollars = |field: &str, value: Option<f64>| {
            value.map(|v| self.number(path.key(field), v, 0.0, false, MAX_COST_PER_EVENT))
        };
        let booking = dollars("booking", raw.booking);
        let jail_bed_day = dollars("jail_bed_day", raw.jail_bed_day);
        let ed_visit = dollars("ed_visit", raw.ed_visit);
        let ambulance_transport = dollars("ambulance_transport", raw.ambulance_transport);
        let crisis_center_admission =
            dollars("crisis_center_admission", raw.crisis_center_admission);
        let sobering_admission = dollars("sobering_admission", raw.sobering_admission);
        let call_988 = dollars("call_988", raw.call_988);
        let force_claim_mean = dollars("force_claim_mean", raw.force_claim_mean);
        let jail_days = raw.jail_days_per_booking.clone().map(|spec| {
            self.bounded_duration(path.key("jail_days_per_booking"), spec, MAX_HORIZON_DAYS)
        });
        let ambulance_share = raw
            .ambulance_share
            .map(|p| self.probability(path.key("ambulance_share"), p));
        let claim_probability = raw
            .force_claim_probability
            .map(|p| self.probability(path.key("force_claim_probability"), p));
        Costs {
            booking,
            jail_bed_days: self.pair(
                path,
                ("jail_bed_day", jail_bed_day),
                ("jail_days_per_booking", jail_days),
            ),
            ed_visit,
            ambulance: self.pair(
                path,
                ("ambulance_transport", ambulance_transport),
                ("ambulance_share", ambulance_share),
            ),
            crisis_center_admission,
            sobering_admission,
            call_988,
            force_claims: self.pair(
                path,
                ("force_claim_probability", claim_probability),
                ("force_claim_mean", force_claim_mean),
            ),
        }
    }

    /// A duration checked as on-scene times are, with a mean of at most `max` (in its own
    /// unit: the longest horizon a scenario may have), so every draw stays a finite time.
    fn bounded_duration(&mut self, path: FieldPath, spec: DurationSpec, max: f64) -> DurationSpec {
        let spec = self.duration(path.clone(), spec);
        if spec.mean() > max {
            self.fail(
                path.key("mean"),
                format!(
                    "a mean of at most {max} (the longest horizon, {MAX_HORIZON_DAYS} days), found {}",
                    spec.mean()
                ),
            );
        }
        spec
    }

    /// Two fields that only mean something together: both, or neither.
    fn pair<A, B>(
        &mut self,
        path: &FieldPath,
        (a_name, a): (&str, Option<A>),
        (b_name, b): (&str, Option<B>),
    ) -> Option<(A, B)> {
        match (a, b) {
            (Some(a), Some(b)) => Some((a, b)),
            (None, None) => None,
            (Some(_), None) => {
                self.fail(path.key(a_name), format!("`{b_name}` beside `{a_name}`"));
                None
            }
            (None, Some(_)) => {
                self.fail(path.key(b_name), format!("`{a_name}` beside `{b_name}`"));
                None
            }
        }
    }
}

/// Which kind of trip a preference list is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leg {
    Treatment,
    Booking,
}
