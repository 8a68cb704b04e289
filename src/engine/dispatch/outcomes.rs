//! What happens to the person at a call, drawn once when the call ends: a pure function of the
//! call's own uniforms and the probabilities of the kind of responder that was there. Police
//! probabilities apply if any police unit was on scene (as the first unit or as backup), care
//! probabilities if only a care team was; a call resolved by phone or never reached has none.

use crate::calls::Call;
use crate::calls::rng::Purpose;
use crate::engine::record::{CallRecord, Outcomes};
use crate::scenario::{OutcomeProbabilities, ResponderKind};

/// Whose outcome probabilities apply to a call that ended, given the horizon: `None` for a
/// call no unit reached in time or one resolved by phone.
#[inline(always)]
pub fn scene_kind(record: &CallRecord, horizon: f64) -> Option<ResponderKind> {
    let primary = record.primary.filter(|p| p.on_scene_minutes < horizon)?;
    match primary.kind {
        ResponderKind::Counsellor => None,
        ResponderKind::Police => Some(ResponderKind::Police),
        _ if record.backup.is_some_and(|b| b.on_scene_minutes < horizon) => {
            Some(ResponderKind::Police)
        }
        _ => Some(ResponderKind::Care),
    }
}

/// Draws the outcomes of `call` with `probabilities`. Arrest and booking share one uniform, so a
/// booking is always an arrest; a zero probability needs no draw (`u < 0` never holds).
#[inline(always)]
pub fn draw(probabilities: &OutcomeProbabilities, call: &Call) -> Outcomes {
    let p = probabilities;
    let happens = |p: f64, purpose| p > 0.0 && call.uniform(purpose) < p;
    let arrest_draw = if p.arrest > 0.0 {
        call.uniform(Purpose::Arrest)
    } else {
        1.0
    };
    Outcomes {
        arrest: arrest_draw < p.arrest,
        booking: arrest_draw < p.booking,
        force: happens(p.force, Purpose::Force),
        injury: happens(p.injury, Purpose::Injury),
        er_transport: happens(p.er_transport, Purpose::ErTransport),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::record::Assignment;
    use crate::scenario::{CallTypeId, PoolId, UnitId, ZoneId};

    fn call(key: u64) -> Call {
        Call {
            id: key,
            received_minutes: 0.0,
            call_type: CallTypeId(0),
            zone: ZoneId(0),
            draw_key: key,
        }
    }

    fn probabilities(arrest: f64, booking: f64, force: f64) -> OutcomeProbabilities {
        OutcomeProbabilities {
            arrest,
            booking,
            force,
            injury: 0.0,
            er_transport: 0.0,
        }
    }

    #[test]
    fn certain_and_impossible_outcomes() {
        for key in 0..50 {
            let always = draw(&probabilities(1.0, 1.0, 1.0), &call(key));
            assert!(always.arrest && always.booking && always.force);
            assert_eq!(
                draw(&probabilities(0.0, 0.0, 0.0), &call(key)),
                Outcomes::default()
            );
        }
    }

    #[test]
    fn rates_follow_the_probabilities_and_bookings_are_arrests() {
        let n = 20_000;
        let (mut arrests, mut bookings, mut force) = (0, 0, 0);
        for key in 0..n {
            let o = draw(&probabilities(0.3, 0.1, 0.05), &call(key * 7919 + 1));
            assert!(!o.booking || o.arrest, "a booking is an arrest");
            arrests += u32::from(o.arrest);
            bookings += u32::from(o.booking);
            force += u32::from(o.force);
        }
        let rate = |k: u32| f64::from(k) / n as f64;
        assert!((rate(arrests) - 0.3).abs() < 0.015, "{}", rate(arrests));
        assert!((rate(bookings) - 0.1).abs() < 0.01, "{}", rate(bookings));
        assert!((rate(force) - 0.05).abs() < 0.008, "{}", rate(force));
    }

    fn assignment(kind: ResponderKind, on_scene: f64) -> Assignment {
        Assignment {
            unit: UnitId(0),
            pool: PoolId(0),
            kind,
            dispatched_minutes: 0.0,
            on_scene_minutes: on_scene,
            cleared_minutes: on_scene + 10.0,
        }
    }

    #[test]
    fn the_kind_on_scene_decides_whose_probabilities_apply() {
        let mut record = CallRecord::new(call(1), 3, true);
        assert_eq!(scene_kind(&record, 100.0), None, "never reached");
        record.primary = Some(assignment(ResponderKind::Care, 5.0));
        assert_eq!(scene_kind(&record, 100.0), Some(ResponderKind::Care));
        assert_eq!(scene_kind(&record, 4.0), None, "on scene after the horizon");
        record.backup = Some(assignment(ResponderKind::Police, 50.0));
        assert_eq!(scene_kind(&record, 100.0), Some(ResponderKind::Police));
        assert_eq!(
            scene_kind(&record, 40.0),
            Some(ResponderKind::Care),
            "backup too late"
        );
        record.backup = None;
        record.primary = Some(assignment(ResponderKind::Police, 5.0));
        assert_eq!(scene_kind(&record, 100.0), Some(ResponderKind::Police));
        record.primary = Some(assignment(ResponderKind::Clinician, 5.0));
        assert_eq!(scene_kind(&record, 100.0), Some(ResponderKind::Care));
        record.primary = Some(assignment(ResponderKind::Counsellor, 5.0));
        assert_eq!(scene_kind(&record, 100.0), None, "resolved by phone");
    }
}
