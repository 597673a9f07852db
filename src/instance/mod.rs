//! Several `klachtenbot run` on one register: who this instance is, whether it watches the
//! mailbox, and the bookkeeping that lets another instance take over when it dies.
//!
//! - [`Identity`]: the configured name or the host name, the pid and the start time.
//! - [`Role`] / [`RoleCell`]: `active` (this instance holds the watcher lock and watches the
//!   mailbox) or `standby`; shared through `Bot` so `/healthz` and `status` can read it.
//! - [`store`]: the `instances` table (heartbeats) and handing back the outbox claims of
//!   instances that stopped beating.
//! - [`lock`]: the watcher lock: a PostgreSQL session advisory lock on a connection of its
//!   own, or, on SQLite, a file lock that makes a second `run` refuse to start.
//! - [`supervise`]: the heartbeat task and the watcher that runs only while the lock is held.

pub mod lock;
pub mod store;
pub mod supervise;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use jiff::Timestamp;

/// How often an instance writes its heartbeat and looks for claims of dead instances.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// An instance whose heartbeat is older than this is taken for dead: its outbox claims are
/// handed back. Five missed beats: a busy database or a long GC pause on the host does not
/// count as death, and a dead instance's acknowledgements still go out within seconds.
pub const STALE_AFTER_SECS: i64 = 5;

/// Who this instance is, written into its heartbeat row and onto every claim it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Unique per process: `<name or host>/<pid>/<start in Unix milliseconds>`.
    pub id: String,
    /// The host name.
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// `[instance] name`, when configured.
    pub name: Option<String>,
    /// When this process started.
    pub started_at: Timestamp,
}

impl Identity {
    /// The identity of this process.
    pub fn of_this_process(name: Option<&str>) -> Identity {
        // Linux's own answer to gethostname(2), without another dependency.
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        let pid = std::process::id();
        let started_at = Timestamp::now();
        let label = name.unwrap_or(&host);
        Identity {
            id: format!("{label}/{pid}/{}", started_at.as_millisecond()),
            host,
            pid,
            name: name.map(str::to_string),
            started_at,
        }
    }
}

/// What an instance does with the mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Holds the watcher lock and watches the mailbox.
    Active,
    /// Waits for the lock; sends and schedules, but holds no IMAP connection.
    Standby,
}

impl Role {
    /// The word stored in `instances.role` and shown by `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Active => "active",
            Role::Standby => "standby",
        }
    }
}

/// This instance's current role, shared between the lock holder (which sets it) and the
/// readers (heartbeat, `/healthz`). Cheap to clone; starts as standby.
#[derive(Debug, Clone, Default)]
pub struct RoleCell(Arc<AtomicU8>);

impl RoleCell {
    /// The current role.
    pub fn get(&self) -> Role {
        if self.0.load(Ordering::Acquire) == 1 {
            Role::Active
        } else {
            Role::Standby
        }
    }

    /// Sets the role (only the watcher supervisor does).
    pub fn set(&self, role: Role) {
        self.0
            .store(u8::from(role == Role::Active), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_starts_as_standby_and_is_shared_between_clones() {
        let cell = RoleCell::default();
        let reader = cell.clone();
        assert_eq!(reader.get(), Role::Standby);
        cell.set(Role::Active);
        assert_eq!(reader.get(), Role::Active);
    }

    #[test]
    fn a_configured_name_replaces_the_host_in_the_id() {
        let me = Identity::of_this_process(Some("kb-a"));
        assert!(me.id.starts_with(&format!("kb-a/{}/", std::process::id())));
        assert_eq!(me.name.as_deref(), Some("kb-a"));
    }
}
