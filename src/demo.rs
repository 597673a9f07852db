//! `klachtenbot demo`: the local demo on the mail sandbox.

use crate::config::Settings;

/// Runs the demo until Ctrl-C.
pub async fn run(_settings: Settings) -> anyhow::Result<()> {
    anyhow::bail!("the demo is not available in this build")
}
