//! A PostgreSQL database made for one test on the server at 127.0.0.1:5432 (trust, database
//! `test`; `KLACHTENBOT_TEST_POSTGRES_URL` names another), dropped again afterwards.

use std::time::Duration;

use sqlx::Connection;

/// The PostgreSQL server the PostgreSQL variants use (override with
/// `KLACHTENBOT_TEST_POSTGRES_URL`); each test makes its own database on it.
pub const DEFAULT_POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A PostgreSQL database made for one test and dropped afterwards (best effort, also when
/// the test panics).
pub struct PostgresDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PostgresDatabase {
    /// Makes a new database on the test server. `None` (the caller passes without running)
    /// only when `KLACHTENBOT_SKIP_POSTGRES=1`; otherwise an unreachable server panics with a
    /// message that says what to do.
    pub async fn create() -> Option<PostgresDatabase> {
        let admin_url = std::env::var("KLACHTENBOT_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_ADMIN_URL.into());
        let skip = std::env::var("KLACHTENBOT_SKIP_POSTGRES").is_ok_and(|v| v == "1");
        let mut admin = match connect_admin(&admin_url).await {
            Ok(c) => c,
            Err(e) if skip => {
                eprintln!("KLACHTENBOT_SKIP_POSTGRES=1: skipping the PostgreSQL variant ({e})");
                return None;
            }
            Err(e) => panic!(
                "PostgreSQL is not reachable at {admin_url}: {e}\n\
                 Start it (trust auth, database `test`), point KLACHTENBOT_TEST_POSTGRES_URL at \
                 another server, or set KLACHTENBOT_SKIP_POSTGRES=1 to skip the PostgreSQL variants."
            ),
        };
        let name = format!(
            "kb_test_{}_{:016x}",
            std::process::id(),
            rand::random::<u64>()
        );
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name} on {admin_url}: {e}"));
        let _ = admin.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("{admin_url} has no database part"),
        };
        Some(PostgresDatabase {
            admin_url,
            name,
            url,
        })
    }

    /// The database's URL, for a configuration.
    pub fn url(&self) -> &str {
        &self.url
    }
}

async fn connect_admin(url: &str) -> Result<sqlx::PgConnection, String> {
    match tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(url)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 5 s".into()),
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime (or while it unwinds), so the database is
        // dropped from a thread with its own runtime. FORCE ends the bot's pool connections.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = connect_admin(&admin_url).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let result = sqlx::query(&sql).execute(&mut admin).await;
                let _ = admin.close().await;
                result.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!(
                "could not drop test database {} (best effort; drop it by hand)",
                self.name
            );
        }
    }
}
