//! Several `klachtenbot run` processes on one PostgreSQL register and the real mail sandbox:
//! the test of the takeover (`tests/e2e_instances.rs`) and its benchmark
//! (`benches/instances.rs`) share these.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::Result;
use sqlx::Row;

use super::postgres::PostgresDatabase;
use super::sandbox::{SpawnOptions, TestApp, complaint_mail, new_message_id};
use super::{BIN, KLAAS, MARIE, SERVICE};

/// Another `klachtenbot run` on the same configuration, killed with SIGKILL when dropped.
pub struct ExtraBot(pub Child);

impl ExtraBot {
    /// Starts the binary on the app's configuration; its output goes to `bot-<tag>.log` beside
    /// the configuration.
    pub fn start(app: &TestApp, tag: &str) -> Result<ExtraBot> {
        let log = app
            .config_path
            .parent()
            .map_or_else(|| PathBuf::from("."), PathBuf::from)
            .join(format!("bot-{tag}.log"));
        let log = std::fs::File::create(log)?;
        let child = Command::new(BIN)
            .arg("--config")
            .arg(&app.config_path)
            .arg("run")
            .env_remove("KLACHTENBOT_CONFIG")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        Ok(ExtraBot(child))
    }
}

impl Drop for ExtraBot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Ids of the live instances with their roles.
pub async fn live_instances(app: &TestApp) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT id, role FROM instances WHERE stopped_at IS NULL \
         AND last_seen >= CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT) - 5",
    )
    .fetch_all(app.store.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// One live instance that says it is active, if any.
pub async fn active(app: &TestApp) -> Result<Option<String>> {
    Ok(actives(app).await?.pop())
}

/// Every live instance that says it is active (a killed one still looks live for 5 s).
pub async fn actives(app: &TestApp) -> Result<Vec<String>> {
    Ok(live_instances(app)
        .await?
        .into_iter()
        .filter(|(_, role)| role == "active")
        .map(|(id, _)| id)
        .collect())
}

/// The sandbox on a fresh PostgreSQL database, the bot to run as the binary; `claim_lease`
/// long, so only the instances' heartbeats can explain a quick recovery.
pub async fn prepare(db: &PostgresDatabase) -> Result<TestApp> {
    let app = TestApp::prepare(SpawnOptions {
        binary: true,
        database_url: Some(db.url().to_owned()),
        ..SpawnOptions::default()
    })
    .await?;
    let toml = std::fs::read_to_string(&app.config_path)?;
    std::fs::write(
        &app.config_path,
        toml.replace("claim_lease = \"2s\"", "claim_lease = \"10m\""),
    )?;
    Ok(app)
}

/// Puts `n` complaints (from Klaas and Marie by turns) into the watched inbox.
pub async fn backlog(app: &TestApp, n: usize, tag: &str) -> Result<()> {
    for i in 0..n {
        let from = if i % 2 == 0 { KLAAS } else { MARIE };
        let id = new_message_id(tag);
        let raw = complaint_mail(from, &format!("Klacht {tag} {i}"), &id, "Klacht.");
        app.sandbox.append(SERVICE, "INBOX", &raw).await?;
    }
    Ok(())
}

/// The pid in an instance id (`<host>/<pid>/<start ms>`).
pub fn pid_of(id: &str) -> Option<u32> {
    id.split('/').nth(1)?.parse().ok()
}
