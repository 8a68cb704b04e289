//! Every figure key, in one place. A key names a figure in `results.json`, `sweep.json`, the
//! CSVs, `--target` expressions and charts, so keys are stable; code refers to them by these
//! names (a typo is a compile error, not a figure that silently goes missing).
//!
//! Keys of a family (per priority, per pool, per hour) are built by the functions below.

/// Calls received in the measured period.
pub const CALLS: &str = "calls";
/// Truly care-eligible calls received.
pub const ELIGIBLE_CALLS: &str = "eligible_calls";
/// Prefix of the eligible-call figures (`eligible.response_p90`, ...).
pub const ELIGIBLE: &str = "eligible.";

pub const RESPONSE_MEAN: &str = "response_mean";
pub const RESPONSE_MEDIAN: &str = "response_median";
pub const RESPONSE_P90: &str = "response_p90";
pub const ELIGIBLE_RESPONSE_P90: &str = "eligible.response_p90";

/// With `[dispatch_delay]`: a response taken apart (call processing + queue wait + travel).
pub const DISPATCH_DELAY_MEAN: &str = "dispatch_delay_mean";
pub const DISPATCH_DELAY_P90: &str = "dispatch_delay_p90";
pub const TRAVEL_MEAN: &str = "travel_mean";
pub const TRAVEL_P90: &str = "travel_p90";

pub const WAIT_MEAN: &str = "wait_mean";
pub const WAIT_P90: &str = "wait_p90";
pub const WAITED_SHARE: &str = "waited_share";

pub const CARE_SHARE: &str = "care_share";
pub const ELIGIBLE_CARE_SHARE: &str = "eligible.care_share";
pub const ELIGIBLE_OVERFLOW_SHARE: &str = "eligible.overflow_share";
pub const PHONE_SHARE: &str = "phone_share";
pub const CO_RESPONSE_SHARE: &str = "co_response_share";
pub const FOLLOW_UPS_PER_1000: &str = "follow_ups_per_1000";
pub const FOLLOW_UP_MISSED_SHARE: &str = "follow_up_missed_share";

/// Police unit-hours a year on truly care-eligible calls: the time a care program can free.
pub const POLICE_HOURS_ON_ELIGIBLE: &str = "police_hours_on_eligible_per_year";

pub const ARRESTS_PER_1000: &str = "arrests_per_1000";
pub const BOOKINGS_PER_1000: &str = "bookings_per_1000";
pub const FORCE_PER_1000: &str = "force_per_1000";
pub const INJURIES_PER_1000: &str = "injuries_per_1000";
pub const ER_TRANSPORTS_PER_1000: &str = "er_transports_per_1000";
pub const BACKUPS_PER_1000: &str = "backups_per_1000";
pub const UNSERVED_AT_HORIZON: &str = "unserved_at_horizon";

/// The fleet's annual cost (every pool the policy uses).
pub const ANNUAL_COST: &str = "annual_cost";

/// Police and care unit-hours a year after the scene: transport, handover, booking, reports.
pub const POLICE_HOURS_AFTER_SCENE: &str = "police_hours_after_scene_per_year";
pub const CARE_HOURS_AFTER_SCENE: &str = "care_hours_after_scene_per_year";
/// Transports a year that found no facility with room on their list.
pub const TRANSPORTS_WITHOUT_PLACE: &str = "transports_without_place_per_year";

/// The cost ledger (with a `[costs]` section): yearly counts its ratios rest on, each line's
/// cost, their sum, and the net public cost (fleet plus downstream).
pub const POLICE_BUSY_HOURS: &str = "police_busy_hours_per_year";
pub const BOOKINGS_PER_YEAR: &str = "bookings_per_year";
pub const ED_VISITS_PER_YEAR: &str = "ed_visits_per_year";
pub const DOWNSTREAM_COST: &str = "downstream_cost";
pub const NET_PUBLIC_COST: &str = "net_public_cost";
pub const ANNUAL_COST_PER_100K: &str = "annual_cost_per_100k";
pub const DOWNSTREAM_COST_PER_100K: &str = "downstream_cost_per_100k";
pub const NET_PUBLIC_COST_PER_100K: &str = "net_public_cost_per_100k";

/// Comparison figures (a policy against the baseline), not per replication.
pub const COST_PER_POLICE_HOUR_FREED: &str = "cost_per_police_hour_freed";
pub const COST_PER_BOOKING_AVOIDED: &str = "cost_per_booking_avoided";
pub const COST_PER_ED_VISIT_AVOIDED: &str = "cost_per_ed_visit_avoided";

/// One line of the ledger (`downstream_cost.booking`).
pub fn downstream_cost(line: &str) -> String {
    format!("{DOWNSTREAM_COST}.{line}")
}

/// Whether `key` is a line of the cost ledger (undefined there means "not costed").
pub fn is_cost_line(key: &str) -> bool {
    key.strip_prefix(DOWNSTREAM_COST)
        .is_some_and(|rest| rest.starts_with('.'))
}

/// One facility's figure (`facility.county_ed.admissions_per_year`).
pub fn facility(name: &str, figure: &str) -> String {
    format!("facility.{name}.{figure}")
}

/// Sweep figures, derived per point.
pub const CARE_TEAMS_PER_100K: &str = "care_teams_per_100k";
pub const COST_PER_CARE_CALL: &str = "cost_per_care_call";
pub const POLICE_HOURS_FREED: &str = "police_hours_freed_per_year";

/// The response figures of a group: `{prefix}response_mean`, `_median`, `_p90`.
pub fn response(prefix: &str) -> [String; 3] {
    ["mean", "median", "p90"].map(|stat| format!("{prefix}response_{stat}"))
}

/// Prefix of one priority's response figures (`priority_1.`).
pub fn priority_prefix(priority: u8) -> String {
    format!("priority_{priority}.")
}

/// A pool's utilization (`police.utilization`).
pub fn pool_utilization(pool: &str) -> String {
    format!("{pool}.utilization")
}

/// Whether `key` is a pool's utilization.
pub fn is_pool_utilization(key: &str) -> bool {
    key.ends_with(".utilization")
}

/// A pool's annual cost (`care.annual_cost`).
pub fn pool_annual_cost(pool: &str) -> String {
    format!("{pool}.annual_cost")
}

/// A pool's utilization in one hour of the day (detail figure).
pub fn pool_utilization_by_hour(pool: &str, hour: usize) -> String {
    format!("{pool}.utilization_by_hour.{hour:02}")
}

/// Mean calls waiting for a unit in one hour of the day (detail figure).
pub fn queue_length_by_hour(hour: usize) -> String {
    format!("queue_length_by_hour.{hour:02}")
}

/// Prefix of the eligible-unmet-share hourly family.
pub const ELIGIBLE_UNMET_SHARE_BY_HOUR: &str = "eligible.unmet_share_by_hour";

/// Share of eligible calls not handled by care in one hour of the day (detail figure).
pub fn eligible_unmet_share_by_hour(hour: usize) -> String {
    format!("{ELIGIBLE_UNMET_SHARE_BY_HOUR}.{hour:02}")
}

/// One percentile of a response-time distribution (detail figure); `prefix` is `""` or
/// [`ELIGIBLE`].
pub fn response_percentile(prefix: &str, percent: u32) -> String {
    format!("{prefix}response_percentile.{percent:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_keys_read_as_the_files_spell_them() {
        assert_eq!(response(ELIGIBLE)[2], ELIGIBLE_RESPONSE_P90);
        assert_eq!(response("")[0], RESPONSE_MEAN);
        assert_eq!(priority_prefix(1), "priority_1.");
        assert_eq!(pool_utilization("police"), "police.utilization");
        assert!(is_pool_utilization(&pool_utilization("care")));
        assert_eq!(
            pool_utilization_by_hour("care", 7),
            "care.utilization_by_hour.07"
        );
        assert_eq!(queue_length_by_hour(23), "queue_length_by_hour.23");
        assert_eq!(
            eligible_unmet_share_by_hour(0),
            "eligible.unmet_share_by_hour.00"
        );
        assert_eq!(
            response_percentile(ELIGIBLE, 5),
            "eligible.response_percentile.05"
        );
    }
}
