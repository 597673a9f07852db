//! What the workers last saw of the services they need, and the verdict `/healthz` gives.
//!
//! The workers report at their edges ([`Health::ok`], [`Health::failed`]); [`assess`] is a
//! pure function of that record, the instance's role and the time, so its rules are tested
//! without servers.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// A service the bot depends on, as `/healthz` and the alerts name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// The watched mailbox (connect and login).
    Imap,
    /// The outgoing mail server.
    Smtp,
    /// The register.
    Database,
    /// The scheduler's rounds.
    Scheduler,
}

impl Part {
    /// Every part, in the order of the JSON body.
    pub const ALL: [Part; 4] = [Part::Imap, Part::Smtp, Part::Database, Part::Scheduler];

    /// The stable name (JSON key, alert table key).
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Imap => "imap",
            Part::Smtp => "smtp",
            Part::Database => "database",
            Part::Scheduler => "scheduler",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Whether this instance does the mailbox work (kept by [`crate::instance`]): with several
/// instances on one database only one watches the mailbox; the others wait as standby, which
/// is healthy.
pub use crate::instance::Role;

/// One part's record: working or not, since when, and the last error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartState {
    /// Worked at its last attempt. IMAP starts as not up until the first login.
    pub up: bool,
    /// When `up` last changed (or the start).
    pub since: Timestamp,
    /// The last error, with the server's own words.
    pub last_error: Option<String>,
}

/// What the workers have seen; shared by every task of one bot.
#[derive(Debug)]
pub struct Health {
    parts: Mutex<[PartState; 4]>,
    /// Mails given up (5xx) recently, for the alert about failed mails.
    failures: Mutex<VecDeque<Timestamp>>,
    /// Seconds since the epoch of the last watchdog-worthy progress of the IMAP loop.
    imap_alive: AtomicU64,
}

impl Health {
    /// A fresh record at start: everything up except IMAP, which has not logged in yet.
    pub fn new(now: Timestamp) -> Health {
        let state = |up| PartState {
            up,
            since: now,
            last_error: None,
        };
        Health {
            parts: Mutex::new([state(false), state(true), state(true), state(true)]),
            failures: Mutex::new(VecDeque::new()),
            imap_alive: AtomicU64::new(secs(now)),
        }
    }

    /// The part worked just now.
    pub fn ok(&self, part: Part, now: Timestamp) {
        let mut parts = lock(&self.parts);
        let p = &mut parts[part.index()];
        if !p.up {
            p.up = true;
            p.since = now;
        }
        if part == Part::Imap {
            self.imap_alive.store(secs(now), Ordering::Relaxed);
        }
    }

    /// The part failed just now with `error` (the server's words).
    pub fn failed(&self, part: Part, error: &str, now: Timestamp) {
        let mut parts = lock(&self.parts);
        let p = &mut parts[part.index()];
        if p.up {
            p.up = false;
            p.since = now;
        }
        p.last_error = Some(error.to_string());
    }

    /// The IMAP loop made progress (a drained inbox, an IDLE cycle): the watchdog's proof
    /// that it does not hang.
    pub fn imap_alive(&self, now: Timestamp) {
        self.imap_alive.store(secs(now), Ordering::Relaxed);
    }

    /// When the IMAP loop last made progress.
    pub fn imap_alive_at(&self) -> Timestamp {
        let s = i64::try_from(self.imap_alive.load(Ordering::Relaxed)).unwrap_or(0);
        Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// A mail was given up; returns how many were given up within the last hour.
    pub fn mail_failed(&self, now: Timestamp) -> usize {
        let mut f = lock(&self.failures);
        f.push_back(now);
        prune(&mut f, now);
        f.len()
    }

    /// How many mails were given up within the last hour.
    pub fn failed_last_hour(&self, now: Timestamp) -> usize {
        let mut f = lock(&self.failures);
        prune(&mut f, now);
        f.len()
    }

    /// A copy of one part's record.
    pub fn part(&self, part: Part) -> PartState {
        lock(&self.parts)[part.index()].clone()
    }

    /// A copy of every part's record.
    pub fn snapshot(&self) -> [PartState; 4] {
        lock(&self.parts).clone()
    }
}

fn prune(f: &mut VecDeque<Timestamp>, now: Timestamp) {
    let hour_ago = now - SignedDuration::from_hours(1);
    while f.front().is_some_and(|t| *t < hour_ago) {
        f.pop_front();
    }
}

fn secs(t: Timestamp) -> u64 {
    u64::try_from(t.as_second()).unwrap_or(0)
}

/// A poisoned lock only means another task panicked while holding it; the record itself is
/// still a valid value.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The verdict on the whole bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Everything works.
    Ok,
    /// Something fails, but not yet for long: probably a reconnect.
    Degraded,
    /// Something has failed for longer than the grace period: people must act.
    Down,
}

/// One part as `/healthz` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartReport {
    /// `up`, `standby`, `failing` (within the grace period), `starting` (IMAP before its
    /// first login) or `down`.
    pub state: &'static str,
    /// Whether the part counts as healthy.
    pub up: bool,
    /// Since when it is in this state.
    pub since: Timestamp,
    /// The last error seen, even when it works again.
    pub last_error: Option<String>,
}

/// The JSON body of `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    /// The verdict.
    pub status: Status,
    /// In words: which parts are down or failing.
    pub reason: Option<String>,
    /// Every part.
    pub parts: BTreeMap<&'static str, PartReport>,
}

impl HealthReport {
    /// 200 unless the bot is down.
    pub fn http_status(&self) -> u16 {
        if self.status == Status::Down {
            503
        } else {
            200
        }
    }
}

/// Judges the record: a part that failed for `grace` or longer is down, a part failing for
/// less is degraded; on a standby instance IMAP is not used, so it is healthy.
pub fn assess(parts: &[PartState; 4], role: Role, now: Timestamp, grace: Duration) -> HealthReport {
    let grace = SignedDuration::try_from(grace).unwrap_or(SignedDuration::MAX);
    let mut report = BTreeMap::new();
    let (mut down, mut failing) = (Vec::new(), Vec::new());
    for part in Part::ALL {
        let p = &parts[part.index()];
        let state = if part == Part::Imap && role == Role::Standby {
            "standby"
        } else if p.up {
            "up"
        } else if now.duration_since(p.since) >= grace {
            down.push(part.as_str());
            "down"
        } else {
            failing.push(part.as_str());
            if p.last_error.is_none() {
                "starting"
            } else {
                "failing"
            }
        };
        report.insert(
            part.as_str(),
            PartReport {
                state,
                up: matches!(state, "up" | "standby"),
                since: p.since,
                last_error: p.last_error.clone(),
            },
        );
    }
    let (status, reason) = if !down.is_empty() {
        (Status::Down, Some(format!("down: {}", down.join(", "))))
    } else if !failing.is_empty() {
        (
            Status::Degraded,
            Some(format!("failing: {}", failing.join(", "))),
        )
    } else {
        (Status::Ok, None)
    };
    HealthReport {
        status,
        reason,
        parts: report,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn imap_is_starting_then_up_then_down_after_the_grace_period() {
        let h = Health::new(t(0));
        let grace = Duration::from_secs(120);
        let r = assess(&h.snapshot(), Role::Active, t(10), grace);
        assert_eq!(r.status, Status::Degraded);
        assert_eq!(r.parts["imap"].state, "starting");
        h.ok(Part::Imap, t(11));
        let r = assess(&h.snapshot(), Role::Active, t(12), grace);
        assert_eq!((r.status, r.http_status()), (Status::Ok, 200));
        h.failed(Part::Imap, "connection refused", t(20));
        h.failed(Part::Imap, "connection refused again", t(50));
        let r = assess(&h.snapshot(), Role::Active, t(139), grace);
        assert_eq!(r.parts["imap"].state, "failing");
        let r = assess(&h.snapshot(), Role::Active, t(140), grace);
        assert_eq!((r.status, r.http_status()), (Status::Down, 503));
        assert_eq!(r.reason.as_deref(), Some("down: imap"));
        assert_eq!(r.parts["imap"].since, t(20));
        assert_eq!(
            r.parts["imap"].last_error.as_deref(),
            Some("connection refused again")
        );
    }

    #[test]
    fn a_standby_instance_is_healthy_without_imap() {
        let h = Health::new(t(0));
        let r = assess(
            &h.snapshot(),
            Role::Standby,
            t(1000),
            Duration::from_secs(120),
        );
        assert_eq!(r.status, Status::Ok);
        assert_eq!(r.parts["imap"].state, "standby");
    }

    #[test]
    fn failed_mails_are_counted_over_one_hour() {
        let h = Health::new(t(0));
        assert_eq!(h.mail_failed(t(0)), 1);
        assert_eq!(h.mail_failed(t(1800)), 2);
        assert_eq!(h.failed_last_hour(t(3601)), 1);
    }
}
