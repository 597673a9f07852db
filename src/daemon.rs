//! `klachtenbot run`: watcher and sender under one cancellation token.

use crate::config::Settings;

/// Runs the daemon until SIGINT/SIGTERM.
pub async fn run(_settings: Settings) -> anyhow::Result<()> {
    anyhow::bail!("the daemon is not available in this build")
}
