//! Scenario loading: the default is valid, and every kind of bad input is named precisely.

use super::*;

fn default_with(from: &str, to: &str) -> String {
    assert!(
        DEFAULT_SCENARIO_TOML.contains(from),
        "the default scenario no longer contains {from:?}"
    );
    DEFAULT_SCENARIO_TOML.replacen(from, to, 1)
}

/// Loads text that must fail; returns the error's full message.
fn error_of(text: &str) -> String {
    match Scenario::from_toml_str(text, "city.toml") {
        Ok(_) => panic!("expected an error"),
        Err(err) => err.to_string(),
    }
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).expect("needle in text")]
        .matches('\n')
        .count()
        + 1
}

#[test]
fn the_default_scenario_is_valid_and_as_documented() {
    let scenario = Scenario::default_scenario();
    assert_eq!(scenario.zones.len(), 5);
    assert_eq!(scenario.policies[0].label, "police_only");
    assert_eq!(scenario.policies[1].label, "care_first");
    assert!((scenario.eligible_share() - 0.14).abs() < 1e-9);
    assert_eq!(scenario.measured_days(), 365.0);
    assert_eq!(
        scenario.start_date.weekday_index(),
        0,
        "2024-01-01 is a Monday"
    );
    assert_eq!(scenario.priorities(), vec![1, 2, 3]);
    let sum: f64 = scenario.demand.hour_of_day.iter().sum();
    assert!((sum - 1.0).abs() < 1e-12);
    // The file in scenarios/ and the built-in are the same text.
    let on_disk = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/default.toml"
    ))
    .unwrap();
    assert_eq!(on_disk, DEFAULT_SCENARIO_TOML);
}

#[test]
fn unknown_key_is_a_syntax_error_at_its_line() {
    let text = default_with("warmup_days = 7", "warmup_days = 7\nwarmpu = 3");
    let message = error_of(&text);
    let line = line_of(&text, "warmpu");
    assert!(
        message.starts_with(&format!("city.toml:{line}:1:")),
        "{message}"
    );
    assert!(message.contains("unknown field `warmpu`"), "{message}");
    assert!(
        message.contains("warmup_days"),
        "lists valid keys: {message}"
    );
}

#[test]
fn missing_field_is_named() {
    let text = default_with("calls_per_day = 1100\n", "");
    let message = error_of(&text);
    assert!(
        message.contains("missing field `calls_per_day`"),
        "{message}"
    );
    assert!(message.starts_with("city.toml:"), "{message}");
}

#[test]
fn wrong_type_is_located() {
    let text = default_with("population = 400_000", "population = \"many\"");
    let message = error_of(&text);
    let line = line_of(&text, "population = \"many\"");
    assert!(
        message.starts_with(&format!("city.toml:{line}:")),
        "{message}"
    );
}

#[test]
fn shares_that_do_not_sum_to_one() {
    let text = default_with(
        "name = \"downtown\"\nshare = 0.30",
        "name = \"downtown\"\nshare = 0.35",
    );
    let message = error_of(&text);
    assert!(
        message.contains("zones: expected zone shares that sum to 1"),
        "{message}"
    );
    assert!(message.contains("1.050000"), "{message}");
}

#[test]
fn zero_and_negative_rates() {
    let message = error_of(&default_with("calls_per_day = 1100", "calls_per_day = 0"));
    assert!(
        message.contains("demand.calls_per_day: expected a number > 0"),
        "{message}"
    );
    let text = default_with("mean = 75, sd = 60", "mean = -75, sd = 60");
    let message = error_of(&text);
    let line = line_of(&text, "mean = -75");
    assert!(
        message.contains(&format!("city.toml:{line}:"))
            && message.contains("call_types[0].on_scene.police.mean"),
        "{message}"
    );
}

#[test]
fn probability_outside_zero_one_points_at_the_value() {
    let text = default_with("arrest = 0.15,", "arrest = 1.5,");
    let message = error_of(&text);
    let line = line_of(&text, "arrest = 1.5");
    let column = text.lines().nth(line - 1).unwrap().find("1.5").unwrap() + 1;
    assert!(
        message.contains(&format!("city.toml:{line}:{column}: call_types[0].outcomes.police.arrest: expected a probability in [0, 1], found 1.5")),
        "{message}"
    );
    assert!(message.contains('^'), "draws a caret: {message}");
}

#[test]
fn undefined_zone_lists_the_defined_ones() {
    let text = default_with(
        "\"south\", \"east\", \"west\"]",
        "\"south\", \"east\", \"uptown\"]",
    );
    let message = error_of(&text);
    assert!(message.contains("fleet[1].home_zones[4]"), "{message}");
    assert!(message.contains("found `uptown`"), "{message}");
    assert!(
        message.contains("downtown, north, south, east, west"),
        "{message}"
    );
}

#[test]
fn pool_with_no_units() {
    let message = error_of(&default_with("count = 8", "count = 0"));
    assert!(
        message.contains("fleet[1].count: expected at least one unit"),
        "{message}"
    );
}

#[test]
fn warmup_longer_than_horizon() {
    let message = error_of(&default_with("warmup_days = 7", "warmup_days = 400"));
    assert!(
        message.contains(
            "city.warmup_days: expected a warm-up shorter than the horizon (372 days), found 400"
        ),
        "{message}"
    );
}

#[test]
fn unknown_policy_and_parameter() {
    let message = error_of(&default_with(
        "policy = \"care_first\"",
        "policy = \"care_fist\"",
    ));
    assert!(message.contains("policies[1].policy"), "{message}");
    assert!(message.contains("`police_only`, `care_first`"), "{message}");
    let message = error_of(&default_with("max_care_wait_minutes = 10", "max_wait = 10"));
    assert!(message.contains("unknown field `max_wait`"), "{message}");
    let message = error_of(&default_with(
        "ineligible_sent_to_care = 0.01",
        "ineligible_sent_to_care = 2",
    ));
    assert!(
        message.contains("policies[1].ineligible_sent_to_care"),
        "{message}"
    );
}

#[test]
fn several_problems_are_reported_together() {
    let text = default_with("calls_per_day = 1100", "calls_per_day = -1").replacen(
        "count = 8",
        "count = 0",
        1,
    );
    let message = error_of(&text);
    assert!(message.contains("has 2 problems"), "{message}");
}

#[test]
fn travel_matrix_must_match_the_zones() {
    let message = error_of(&default_with(
        "[  6,       10,   10,   9,   9 ],",
        "[  6,       10,   10,   9 ],",
    ));
    assert!(
        message.contains("travel.minutes[0]: expected 5 travel times"),
        "{message}"
    );
}

#[test]
fn booking_cannot_exceed_arrest() {
    let message = error_of(&default_with(
        "arrest = 0.15, booking = 0.10",
        "arrest = 0.05, booking = 0.10",
    ));
    assert!(
        message.contains("call_types[0].outcomes.police.booking"),
        "{message}"
    );
}

#[test]
fn profile_lengths_are_checked() {
    let message = error_of(&default_with(
        "day_of_week = [1.00, 0.98,",
        "day_of_week = [0.98,",
    ));
    assert!(
        message.contains("demand.day_of_week: expected 7 day-of-week weights, found 6"),
        "{message}"
    );
}

#[test]
fn a_police_pool_is_required() {
    let text = default_with(
        "name = \"police\"\nkind = \"police\"",
        "name = \"police\"\nkind = \"care\"",
    );
    assert!(error_of(&text).contains("at least one pool of kind \"police\""));
}

#[test]
fn missing_file_is_a_read_error_naming_it() {
    let err = Scenario::from_file(Path::new("/no/such/city.toml")).unwrap_err();
    assert!(err.to_string().contains("/no/such/city.toml"), "{err}");
}

#[test]
fn minimal_single_zone_scenario_is_valid() {
    let text = r#"
        [city]
        name = "Tiny"
        population = 1000
        horizon_days = 10
        [demand]
        calls_per_day = 24
        [[zones]]
        name = "all"
        share = 1
        [travel]
        minutes = [[0]]
        [[call_types]]
        name = "any"
        share = 1
        priority = 1
        care_eligible = false
        on_scene.police = { dist = "exponential", mean = 30 }
        [[fleet]]
        name = "police"
        kind = "police"
        count = 2
        cost_per_unit_year = 100000
        [[policies]]
        policy = "police_only"
    "#;
    let scenario = Scenario::from_toml_str(text, "tiny.toml").unwrap();
    assert_eq!(scenario.replications, 10);
    assert_eq!(scenario.warmup_days, 0.0);
    assert_eq!(scenario.demand.hour_of_day, [1.0 / 24.0; 24]);
    assert_eq!(
        scenario.call_types[0].on_scene[1],
        scenario.call_types[0].on_scene[0]
    );
}

#[test]
fn weekday_of_known_dates() {
    let date = |year, month, day| CivilDate { year, month, day };
    assert_eq!(date(1970, 1, 1).weekday_index(), 3); // Thursday
    assert_eq!(date(2026, 11, 23).weekday_index(), 0); // Monday
    assert_eq!(date(2000, 2, 29).weekday_index(), 1); // Tuesday
}

#[test]
fn dates_round_trip_and_timestamps_count_from_midnight() {
    for days in [-800_000, -1, 0, 1, 59, 60, 10_957, 19_723, 2_932_896] {
        assert_eq!(
            CivilDate::from_days_since_epoch(days).days_since_epoch(),
            days
        );
    }
    let start = CivilDate {
        year: 2024,
        month: 2,
        day: 28,
    };
    assert_eq!(start.timestamp(0.0), "2024-02-28T00:00:00");
    assert_eq!(start.timestamp(7.0 * 60.0 + 32.25), "2024-02-28T07:32:15");
    assert_eq!(
        start.timestamp(1440.0 + 1.0),
        "2024-02-29T00:01:00",
        "leap day"
    );
    assert_eq!(start.timestamp(2.0 * 1440.0), "2024-03-01T00:00:00");
}

/// Issue #14: a pool too large was refused as "expected at least one unit".
#[test]
fn a_pool_too_large_is_refused_as_too_large() {
    let error = error_of(&default_with("count = 58", "count = 100000000"));
    assert!(error.contains("at most 16777215 units"), "{error}");
    assert!(!error.contains("at least one unit"), "{error}");
}

/// Issue #14: a control character in a name made the SVG charts ill-formed XML and put raw
/// NULs into the report. Names with them are refused where they are written.
#[test]
fn names_with_control_characters_are_refused() {
    let error = error_of(&default_with(
        "name = \"downtown\"",
        "name = \"down\\u000Btown\"",
    ));
    assert!(error.contains("zones[0].name"), "{error}");
    assert!(
        error.contains("control characters") && error.contains("U+000B at character 5"),
        "{error}"
    );
    let error = error_of(&default_with(
        "name = \"Mid-size US city (default)\"",
        "name = \"Mid\\u0000size\"",
    ));
    assert!(
        error.contains("city.name") && error.contains("U+0000"),
        "{error}"
    );
}

/// Issue #14: a cost of 2e302 passed, made the annual cost null and hung the charts.
#[test]
fn costs_have_a_ceiling() {
    let text = DEFAULT_SCENARIO_TOML;
    let at = text
        .find("cost_per_unit_hour = ")
        .expect("an hourly cost in the default");
    let end = at + text[at..].find('\n').unwrap();
    let changed = format!("{}cost_per_unit_hour = 2e302{}", &text[..at], &text[end..]);
    let error = error_of(&changed);
    assert!(
        error.contains("cost_per_unit_hour") && error.contains("<= 1000000"),
        "{error}"
    );
}

/// Issue #14, item 11: a 1 MB city name made `run` take a minute drawing chart text. Names
/// and labels have a ceiling, checked with the rest of the scenario.
#[test]
fn names_past_the_ceiling_are_refused() {
    let long = "x".repeat(MAX_NAME_CHARS + 1);
    let error = error_of(&default_with(
        "name = \"Mid-size US city (default)\"",
        &format!("name = \"{long}\""),
    ));
    assert!(
        error.contains("city.name") && error.contains("201 characters (at most 200)"),
        "{error}"
    );
    let error = error_of(&default_with(
        "name = \"downtown\"",
        &format!("name = \"{long}\""),
    ));
    assert!(error.contains("zones[0].name"), "{error}");
    let fits = "y".repeat(MAX_NAME_CHARS);
    Scenario::from_toml_str(
        &default_with(
            "name = \"Mid-size US city (default)\"",
            &format!("name = \"{fits}\""),
        ),
        "city.toml",
    )
    .expect("200 characters fit");
}

/// Every ceiling the checker enforces, at its edge: the limit itself passes, one past it fails.
#[test]
fn ceilings_are_checked_at_their_edges() {
    let calls = |n: &str| {
        let at = DEFAULT_SCENARIO_TOML.find("calls_per_day = ").unwrap();
        let end = at + DEFAULT_SCENARIO_TOML[at..].find('\n').unwrap();
        format!(
            "{}calls_per_day = {n}{}",
            &DEFAULT_SCENARIO_TOML[..at],
            &DEFAULT_SCENARIO_TOML[end..]
        )
    };
    Scenario::from_toml_str(&calls("1000000"), "city.toml").expect("a million a day");
    let population = |n: &str| default_with("population = 400_000", &format!("population = {n}"));
    Scenario::from_toml_str(&population("1e10"), "city.toml").expect("ten billion");
    assert!(error_of(&population("1.1e10")).contains("population"));
    assert!(error_of(&calls("1000001")).contains("<= 1000000"));
    let replications = |n: u32| default_with("replications = 10", &format!("replications = {n}"));
    Scenario::from_toml_str(&replications(MAX_REPLICATIONS), "city.toml").unwrap();
    assert!(
        error_of(&replications(MAX_REPLICATIONS + 1)).contains("a whole number from 1 to 100000,")
    );
}

/// The default scenario without its consequence sections (outcome time, facilities, transport,
/// costs): the shape every scenario had before issue #15.
fn default_without_consequences() -> String {
    let at = DEFAULT_SCENARIO_TOML
        .find("# What happens after the scene")
        .expect("the default scenario has a consequences part");
    // Also drop the rule line above the heading.
    let cut = DEFAULT_SCENARIO_TOML[..at - 1].rfind('\n').unwrap_or(0);
    DEFAULT_SCENARIO_TOML[..cut]
        .lines()
        .filter(|line| !line.starts_with("transport_to"))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Issue #15: outcome time is checked like on-scene time, and a care team books no one.
#[test]
fn outcome_time_is_checked() {
    let base = default_without_consequences();
    let with = |section: &str| format!("{base}\n{section}\n");
    let scenario = Scenario::from_toml_str(
        &with("[outcome_time.police]\narrest = { dist = \"fixed\", mean = 90 }"),
        "city.toml",
    )
    .unwrap();
    assert_eq!(
        scenario.outcome_time[0].arrest.as_ref().map(|d| d.mean()),
        Some(90.0)
    );
    assert!(scenario.outcome_time[1].is_empty());
    let error = error_of(&with(
        "[outcome_time.care]\narrest = { dist = \"fixed\", mean = 90 }",
    ));
    assert!(
        error.contains("outcome_time.care.arrest") && error.contains("does not arrest"),
        "{error}"
    );
    let error = error_of(&with(
        "[outcome_time.police]\ner_transport = { dist = \"lognormal\", mean = -5, sd = 1 }",
    ));
    assert!(
        error.contains("outcome_time.police.er_transport.mean"),
        "{error}"
    );
    // Without the section, nothing is added.
    let plain = Scenario::from_toml_str(&base, "city.toml").unwrap();
    assert!(plain.outcome_time.iter().all(OutcomeTime::is_empty));
    assert!(plain.facilities.is_empty() && plain.costs.is_none());
}

/// Issue #15: what happens after the scene is checked like everything else, each problem named
/// by its path; and the default's sections read as written.
#[test]
fn after_the_scene_sections_are_checked() {
    let scenario = Scenario::default_scenario();
    assert_eq!(scenario.facilities.len(), 3);
    let center = &scenario.facilities[1];
    assert_eq!(
        (center.kind, center.beds),
        (FacilityKind::CrisisCenter, Some(16))
    );
    assert_eq!(center.used_by, [true, true]);
    assert_eq!(
        scenario.facilities[2].used_by,
        [true, false],
        "a jail: police only"
    );
    assert_eq!(scenario.transport.treatment, vec![0]);
    let eligible = scenario
        .call_types
        .iter()
        .find(|t| t.care_eligible)
        .unwrap();
    assert_eq!(eligible.transport_to, Some(vec![1, 0]));
    let costs = scenario.costs.as_ref().unwrap();
    assert_eq!(costs.booking, Some(262.0));
    assert!(costs.crisis_center_admission.is_none(), "not costed");

    for (from, to, expected) in [
        (
            "length_of_stay_hours = { dist = \"lognormal\", mean = 18, sd = 8 }",
            "length_of_stay_hours = { dist = \"lognormal\", mean = 1e308, sd = 1 }",
            "facilities[1].length_of_stay_hours.mean: expected a mean of at most 2400000",
        ),
        (
            "zone = \"north\"",
            "zone = \"uptown\"",
            "facilities[1].zone: expected a zone defined in [[zones]]",
        ),
        (
            "booking = [\"county_jail\"]",
            "booking = [\"general_ed\"]",
            "transport.booking[0]: expected a facility of kind \"jail\"",
        ),
        (
            "treatment = [\"general_ed\"]",
            "treatment = [\"county_jail\"]",
            "transport.treatment[0]: expected a place of care",
        ),
        (
            "kind = \"jail\"\n",
            "kind = \"jail\"\nused_by = [\"care\"]\n",
            "facilities[2].used_by[0]: expected police only at a jail",
        ),
        (
            "ambulance_share = 0.5",
            "ambulance_share = 1.5",
            "costs.ambulance_share: expected a probability",
        ),
        (
            "booking = 262",
            "booking = 1e12",
            "costs.booking: expected a number >= 0 and <= 1000000000",
        ),
        (
            "report = { dist = \"lognormal\", mean = 25, sd = 15 }",
            "report = { dist = \"lognormal\", mean = 25, sd = 15 }\ner_transport = { dist = \"fixed\", mean = 60 }",
            "outcome_time.police.er_transport: expected no er_transport time when [transport] treatment",
        ),
    ] {
        let error = error_of(&default_with(from, to));
        assert!(error.contains(expected), "{to}: {error}");
    }
    // Facilities no list uses are a mistake, not a silent no-op.
    let unused = default_with(
        "treatment = [\"general_ed\"]\nbooking = [\"county_jail\"]",
        "",
    );
    assert!(
        error_of(&unused).contains("a [transport] section that lists them"),
        "{}",
        error_of(&unused)
    );
}

/// Issue #17: call processing per priority, with a default for the rest; every priority the
/// call types use must have one.
#[test]
fn dispatch_delay_is_checked() {
    let scenario = Scenario::default_scenario();
    let by_priority = scenario
        .dispatch_delay
        .clone()
        .expect("the default has one");
    for p in scenario.priorities() {
        assert_eq!(
            by_priority[usize::from(p)].as_ref().map(|d| d.mean()),
            Some(0.6)
        );
    }
    let with = |section: &str| {
        default_with(
            "default = { dist = \"lognormal\", mean = 0.6, sd = 0.4 }",
            section,
        )
    };
    let error = error_of(&with("1 = { dist = \"fixed\", mean = 1 }"));
    assert!(
        error.contains("dispatch_delay: expected a delay for priority 2"),
        "{error}"
    );
    let error = error_of(&with("urgent = { dist = \"fixed\", mean = 1 }"));
    assert!(
        error.contains("dispatch_delay.urgent: expected a priority from 1 to 9"),
        "{error}"
    );
    let error = error_of(&with("default = { dist = \"fixed\", mean = -1 }"));
    assert!(error.contains("dispatch_delay.default.mean"), "{error}");
    let one = Scenario::from_toml_str(
        &with("1 = { dist = \"fixed\", mean = 2 }\ndefault = { dist = \"fixed\", mean = 0.5 }"),
        "city.toml",
    )
    .unwrap();
    let by_priority = one.dispatch_delay.unwrap();
    assert_eq!(by_priority[1].as_ref().map(|d| d.mean()), Some(2.0));
    assert_eq!(by_priority[3].as_ref().map(|d| d.mean()), Some(0.5));
    assert!(default_without_consequences().contains("[dispatch_delay]"));
}

/// Issue #17: a travel factor from a log's quantiles (scaled to mean 1), a factor per
/// priority, and empirical durations anywhere a distribution goes.
#[test]
fn empirical_travel_and_priority_factors_are_checked() {
    let with = |section: &str| default_with("variation = \"lognormal\"", section);
    let scenario = Scenario::from_toml_str(
        &with("variation = \"empirical\"\nquantiles = [0, 1, 3]\npriority_factor = { 3 = 1.5 }"),
        "city.toml",
    )
    .unwrap();
    // Mean of 0-1-3 is 1.25: scaled to 1.
    assert_eq!(scenario.travel.quantiles, vec![0.0, 0.8, 2.4]);
    assert_eq!(scenario.travel.priority_factor[3], 1.5);
    assert_eq!(scenario.travel.priority_factor[1], 1.0);
    for (section, expected) in [
        (
            "variation = \"empirical\"",
            "travel.quantiles: expected the factor's quantiles",
        ),
        (
            "variation = \"empirical\"\nquantiles = [2, 1]",
            "travel.quantiles: expected quantiles in increasing order",
        ),
        (
            "variation = \"empirical\"\nquantiles = [0, 0]",
            "travel.quantiles: expected quantiles of the factor on the matrix's mean",
        ),
        (
            "variation = \"lognormal\"\nquantiles = [0, 1]",
            "travel.quantiles: expected no quantiles unless",
        ),
        (
            "variation = \"lognormal\"\npriority_factor = { 0 = 2 }",
            "travel.priority_factor.0: expected a priority from 1 to 9",
        ),
        (
            "variation = \"lognormal\"\npriority_factor = { 2 = 0 }",
            "travel.priority_factor.2: expected a number > 0",
        ),
    ] {
        let error = error_of(&with(section));
        assert!(error.contains(expected), "{section}: {error}");
    }
    let empirical = default_with(
        "default = { dist = \"lognormal\", mean = 0.6, sd = 0.4 }",
        "default = { dist = \"empirical\", quantiles = [0, 0.5, 3] }",
    );
    let scenario = Scenario::from_toml_str(&empirical, "city.toml").unwrap();
    let delay = scenario.dispatch_delay.unwrap()[1].clone().unwrap();
    assert!((delay.mean() - 1.0).abs() < 1e-12);
    let error = error_of(&default_with(
        "default = { dist = \"lognormal\", mean = 0.6, sd = 0.4 }",
        "default = { dist = \"empirical\", quantiles = [3, 0.5] }",
    ));
    assert!(
        error.contains("dispatch_delay.default.quantiles: expected quantiles in increasing order"),
        "{error}"
    );
}

/// Issue #17: zones may have centres (all or none); a point belongs to the nearest.
#[test]
fn zone_centres_are_all_or_none_and_the_nearest_wins() {
    let text = default_with(
        "name = \"downtown\"",
        "name = \"downtown\"\ncenter = [0.0, 0.0]",
    );
    let error = error_of(&text);
    assert!(
        error.contains("zones: expected a center for every zone or for none (1 of 5 have one)"),
        "{error}"
    );
    let centers = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]];
    assert_eq!(nearest_center(&centers, 6.0, 1.0), Some(1));
    assert_eq!(nearest_center(&centers, 1.0, 6.0), Some(2));
    // Equidistant: the first.
    assert_eq!(nearest_center(&centers, 5.0, 0.0), Some(0));
    assert_eq!(nearest_center(&[], 5.0, 0.0), None);
}
