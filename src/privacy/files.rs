//! Files the bot creates are readable by the service user only: the SQLite register (and
//! with it its WAL and shared-memory files, which SQLite creates with the database file's
//! mode) is made 0600 before SQLite opens it.

use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;

use anyhow::Context;

/// The file of a `sqlite:` url, unless it is in memory.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Creates the SQLite file of `url` empty with mode 0600 when it does not exist yet, so
/// SQLite never creates it with the umask's (often world-readable) mode.
pub fn create_private_sqlite(url: &str) -> anyhow::Result<()> {
    let Some(path) = sqlite_path(url) else {
        return Ok(());
    };
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("Failed to create {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file_and_memory_has_none() {
        assert_eq!(
            sqlite_path("sqlite:///var/lib/kb/r.db?mode=rwc"),
            Some("/var/lib/kb/r.db".into())
        );
        assert_eq!(sqlite_path("sqlite://kb.db"), Some("kb.db".into()));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }
}
