//! The database lines: can we connect, and does the schema match this binary's migrations.

use sqlx::{AnyConnection, Connection, Row};

use super::{Line, Report};
use crate::cli::exit;
use crate::config::Settings;

/// Connects without changing anything (no file created, no migration applied).
pub(super) async fn check(settings: &Settings, report: &mut Report) {
    sqlx::any::install_default_drivers();
    let url = &settings.database_url;
    let sqlite = url.starts_with("sqlite:");
    if sqlite
        && let Some(path) = sqlite_path(url)
        && !std::path::Path::new(&path).exists()
    {
        report.add(Line::pass(
            "database",
            format!("{path} does not exist yet: the bot creates it at its first start"),
        ));
        return;
    }
    let mut conn = match AnyConnection::connect(url).await {
        Ok(c) => c,
        Err(e) => {
            report.add(Line::fail("database", exit::UNAVAILABLE, e.to_string()));
            return;
        }
    };
    let backend = if sqlite { "SQLite" } else { "PostgreSQL" };
    report.add(Line::pass("database", format!("connected ({backend})")));
    let migrator = if sqlite {
        sqlx::migrate!("./migrations/sqlite")
    } else {
        sqlx::migrate!("./migrations/postgres")
    };
    let known: Vec<i64> = migrator.iter().map(|m| m.version).collect();
    let applied: Vec<i64> = match sqlx::query("SELECT version FROM _sqlx_migrations")
        .fetch_all(&mut conn)
        .await
    {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| r.try_get("version").ok())
            .collect(),
        // No table yet: an empty database, migrated at the first start.
        Err(_) => Vec::new(),
    };
    let _ = conn.close().await;
    report.add(migrations(&known, &applied));
}

/// Pending migrations are applied when the bot starts; a migration this binary does not
/// know means the database belongs to a newer version.
fn migrations(known: &[i64], applied: &[i64]) -> Line {
    let unknown: Vec<&i64> = applied.iter().filter(|v| !known.contains(v)).collect();
    if !unknown.is_empty() {
        return Line::fail(
            "database migrations",
            exit::CONFIG,
            format!(
                "the database has migrations this version does not know ({unknown:?}): it belongs to a newer klachtenbot"
            ),
        );
    }
    let pending = known.iter().filter(|v| !applied.contains(v)).count();
    if pending == 0 {
        Line::pass(
            "database migrations",
            format!("up to date ({} applied)", applied.len()),
        )
    } else {
        Line::pass(
            "database migrations",
            format!("{pending} pending: applied when the bot starts"),
        )
    }
}

/// The file of a `sqlite://path?options` URL (none for in-memory databases).
fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_read_from_the_url() {
        assert_eq!(
            sqlite_path("sqlite:///var/lib/kb.db?mode=rwc").as_deref(),
            Some("/var/lib/kb.db")
        );
        assert_eq!(sqlite_path("sqlite:kb.db").as_deref(), Some("kb.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }

    #[test]
    fn a_database_from_a_newer_version_fails_and_pending_ones_pass() {
        assert!(migrations(&[1, 2], &[1, 2, 3]).failed());
        assert!(!migrations(&[1, 2, 3], &[1]).failed());
        assert!(migrations(&[1, 2], &[1, 2]).detail.contains("up to date"));
    }
}
