//! The free-space floor of a SQLite register (`[database] min_free`): below it the bot takes
//! no mail (the watcher leaves it in the inbox, `ingest` exits 75), says why in the log and
//! in `klachtenbot status`, tells the officers once, and goes on by itself when space is back.
//!
//! Seen before it bites: SQLite on a full disk fails mid-transaction, after the floor the
//! register still has room for the officers' notice and for every mail already taken.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::Bot;
use crate::config::Settings;
use crate::outbound::queue::{Notice, notify_officers};
use crate::store::cursors;

/// How often a held watcher looks at the free space again: a freed disk is used within
/// seconds, and one `statvfs` call costs nothing.
pub const RECHECK: Duration = Duration::from_secs(2);

/// The `worker_status` row that remembers a low-space episode, so the officers are told
/// once per episode even across restarts, and `status` shows it.
pub const WORKER: &str = "disk";

/// The register's file system is below the floor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowSpace {
    /// The folder of the database file.
    pub dir: PathBuf,
    /// Free bytes (for unprivileged users).
    pub free: u64,
    /// The configured floor.
    pub floor: u64,
}

impl fmt::Display for LowSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "only {} free on the register's file system ({}), below min_free {}: no mail is taken until space is freed",
            human(self.free),
            self.dir.display(),
            human(self.floor)
        )
    }
}

/// Bytes as people read them ("3.2 MB").
pub fn human(bytes: u64) -> String {
    const MB: f64 = 1_000_000.0;
    format!("{:.1} MB", bytes as f64 / MB)
}

/// The folder holding a SQLite database file, from `sqlite://path?...` or `sqlite:path`;
/// `None` for PostgreSQL and in-memory databases.
pub fn sqlite_dir(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    let parent = Path::new(path).parent().map(Path::to_path_buf);
    Some(match parent {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => PathBuf::from("."),
    })
}

/// Free bytes on the file system holding `dir`.
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    let stat = nix::sys::statvfs::statvfs(dir).map_err(std::io::Error::from)?;
    Ok(stat.blocks_available().saturating_mul(stat.fragment_size()))
}

/// The register's file system when it is below the floor; `None` when there is room, no
/// floor, a PostgreSQL register, or the space cannot be read (then SQLite itself reports).
pub fn low(settings: &Settings) -> Option<LowSpace> {
    let floor = settings.database_min_free;
    if floor == 0 {
        return None;
    }
    let dir = sqlite_dir(&settings.database_url)?;
    let free = free_bytes(&dir).ok()?;
    (free < floor).then_some(LowSpace { dir, free, floor })
}

/// Waits while the register is below the floor: logs it, records it for `status`, tells the
/// officers once per episode, and returns when space is back (or on cancel).
pub async fn hold(bot: &Bot, cancel: &CancellationToken) {
    let Some(first) = low(&bot.settings) else {
        return;
    };
    tracing::warn!(free = first.free, floor = first.floor, "{first}");
    if let Err(e) = announce(bot, &first).await {
        tracing::warn!(error = %format!("{e:#}"), "could not record the low-space episode");
    }
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(RECHECK) => {}
        }
        if low(&bot.settings).is_none() {
            break;
        }
    }
    tracing::info!(
        "free space on the register's file system is back above min_free; taking mail again"
    );
    if let Ok(mut conn) = bot.store.pool().acquire().await {
        let _ = cursors::worker_ok(&mut conn, WORKER, bot.clock.now()).await;
    }
}

/// Records the episode and, when it is a new one, queues one notice to the officers.
async fn announce(bot: &Bot, low: &LowSpace) -> anyhow::Result<()> {
    let now = bot.clock.now();
    let mut tx = bot.store.begin().await?;
    let known = cursors::workers(&mut tx)
        .await?
        .into_iter()
        .find(|w| w.worker == WORKER)
        .is_some_and(|w| match (w.last_error_at, w.last_ok_at) {
            (Some(err), Some(ok)) => err > ok,
            (Some(_), None) => true,
            (None, _) => false,
        });
    cursors::worker_error(&mut tx, WORKER, &low.to_string(), now).await?;
    if !known {
        let text = format!(
            "Er is nog {} vrij op de schijf van het register ({}), minder dan min_free {}.\n\
             De bot neemt geen nieuwe mail aan: berichten blijven in de inbox tot er weer \
             ruimte is, en worden dan vanzelf verwerkt. Maak ruimte vrij op die schijf.",
            human(low.free),
            low.dir.display(),
            human(low.floor)
        );
        notify_officers(bot, &mut tx, None, Notice::LowDisk, &text, now).await?;
    }
    tx.commit().await?;
    if !known {
        bot.outbox_ready.notify_one();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_folder_is_read_from_sqlite_urls_only() {
        assert_eq!(
            sqlite_dir("sqlite:///var/lib/kb/register.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/kb"))
        );
        assert_eq!(sqlite_dir("sqlite://kb.db"), Some(PathBuf::from(".")));
        assert_eq!(sqlite_dir("sqlite:data/kb.db"), Some(PathBuf::from("data")));
        assert_eq!(sqlite_dir("sqlite::memory:"), None);
        assert_eq!(sqlite_dir("postgres://kb@db/kb"), None);
    }

    #[test]
    fn free_space_of_an_existing_folder_is_read() {
        assert!(free_bytes(Path::new(".")).is_ok());
    }
}
