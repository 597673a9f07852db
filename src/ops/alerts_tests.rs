use super::*;

const AFTER: Duration = Duration::from_secs(600);

fn t(s: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + s).unwrap()
}

fn down(since: i64, error: Option<&str>) -> PartState {
    PartState {
        up: false,
        since: t(since),
        last_error: error.map(String::from),
    }
}

fn up(since: i64) -> PartState {
    PartState {
        up: true,
        since: t(since),
        last_error: Some("old".into()),
    }
}

#[test]
fn a_failure_is_tracked_then_alerted_once_after_the_delay() {
    let seen = down(0, Some("connection refused"));
    let tracked = match decide(false, &seen, None, t(1), AFTER) {
        Action::Track(o) => o,
        other => panic!("{other:?}"),
    };
    assert_eq!(tracked.since, t(0));
    assert_eq!(
        decide(false, &seen, Some(&tracked), t(599), AFTER),
        Action::Nothing
    );
    let alerted = match decide(false, &seen, Some(&tracked), t(600), AFTER) {
        Action::Alert(o) => o,
        other => panic!("{other:?}"),
    };
    assert_eq!(alerted.error.as_deref(), Some("connection refused"));
    assert_eq!(
        decide(false, &seen, Some(&alerted), t(99_999), AFTER),
        Action::Nothing
    );
}

#[test]
fn a_restart_keeps_the_stored_start_of_the_outage() {
    // After a restart the worker's record starts anew; the stored outage is older.
    let stored = Outage {
        since: t(0),
        error: Some("auth failed".into()),
        alerted_at: None,
    };
    let fresh = down(500, None);
    match decide(false, &fresh, Some(&stored), t(601), AFTER) {
        Action::Alert(o) => {
            assert_eq!(o.since, t(0));
            assert_eq!(o.error.as_deref(), Some("auth failed"));
        }
        other => panic!("{other:?}"),
    }
    let alerted = Outage {
        alerted_at: Some(t(600)),
        ..stored
    };
    assert_eq!(
        decide(false, &fresh, Some(&alerted), t(900), AFTER),
        Action::Nothing
    );
}

#[test]
fn recovery_is_mailed_only_after_an_alert() {
    let tracked = Outage {
        since: t(0),
        error: None,
        alerted_at: None,
    };
    assert_eq!(
        decide(true, &up(30), Some(&tracked), t(31), AFTER),
        Action::Forget
    );
    let alerted = Outage {
        alerted_at: Some(t(600)),
        ..tracked
    };
    assert_eq!(
        decide(true, &up(700), Some(&alerted), t(701), AFTER),
        Action::Recovered {
            since: t(0),
            until: t(700)
        }
    );
    assert_eq!(decide(true, &up(700), None, t(701), AFTER), Action::Nothing);
}

#[test]
fn starting_without_an_error_is_not_tracked_but_a_hang_is_alerted() {
    let starting = down(0, None);
    assert_eq!(decide(false, &starting, None, t(5), AFTER), Action::Nothing);
    assert!(matches!(
        decide(false, &starting, None, t(600), AFTER),
        Action::Alert(_)
    ));
}

#[test]
fn durations_read_like_people_write_them() {
    assert_eq!(human(SignedDuration::from_secs(12)), "12 s");
    assert_eq!(human(SignedDuration::from_secs(200)), "3 min 20 s");
    assert_eq!(human(SignedDuration::from_secs(7500)), "2 h 05 min");
}
