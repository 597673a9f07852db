//! `klachtenbot ingest`: the door from the shell and from an MTA pipe.

use std::io::Read;
use std::path::PathBuf;

use super::exit;
use crate::app::Bot;
use crate::config::Settings;
use crate::intake::{self, IntakeError, Source};

/// Ingests files (or standard input) and returns the sysexits code: the worst of all
/// inputs, temporary failure first because it asks the caller to retry.
pub async fn run(settings: Settings, files: &[PathBuf]) -> anyhow::Result<u8> {
    if let Some(low) = crate::space::low(&settings) {
        eprintln!("klachtenbot: temporary failure, try again later: {low}");
        return Ok(exit::TEMPFAIL);
    }
    let bot = match Bot::open(settings).await {
        Ok(bot) => bot,
        Err(e) => {
            eprintln!("klachtenbot: cannot open the register: {e:#}");
            // Every storage failure is temporary (see store::fault): the MTA keeps the mail.
            return Ok(if crate::store::is_transient(&e) || is_unavailable(&e) {
                exit::TEMPFAIL
            } else {
                exit::SOFTWARE
            });
        }
    };
    let stdin = [PathBuf::from("-")];
    let inputs = if files.is_empty() { &stdin[..] } else { files };
    let mut worst = exit::OK;
    for path in inputs {
        let code = ingest_one(&bot, path).await;
        worst = worse(worst, code);
    }
    bot.store.close().await;
    Ok(worst)
}

async fn ingest_one(bot: &Bot, path: &PathBuf) -> u8 {
    let (raw, source) = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        if let Err(e) = std::io::stdin().lock().read_to_end(&mut buf) {
            eprintln!("klachtenbot: cannot read standard input: {e}");
            return exit::TEMPFAIL;
        }
        (buf, Source::Pipe)
    } else {
        match std::fs::read(path) {
            Ok(b) => (b, Source::File(path.display().to_string())),
            Err(e) => {
                eprintln!("klachtenbot: {}: {e}", path.display());
                return exit::NOINPUT;
            }
        }
    };
    if raw.iter().all(u8::is_ascii_whitespace) {
        eprintln!("klachtenbot: {source}: empty input, nothing to store");
        return exit::DATAERR;
    }
    let started = std::time::Instant::now();
    match intake::process(bot, &raw, &source).await {
        Ok(outcome) => {
            crate::ops::metrics::message(&outcome, started.elapsed());
            tracing::debug!(%source, %outcome, "message processed");
            println!("{source}: {outcome}");
            exit::OK
        }
        Err(IntakeError::Transient(e)) => {
            eprintln!("klachtenbot: {source}: temporary failure, try again later: {e:#}");
            exit::TEMPFAIL
        }
        Err(e @ IntakeError::Permanent(_)) => {
            eprintln!("klachtenbot: {source}: {e}");
            exit::SOFTWARE
        }
    }
}

fn is_unavailable(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|c| c.downcast_ref::<std::io::Error>().is_some())
}

fn worse(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        exit::TEMPFAIL => 4,
        exit::SOFTWARE => 3,
        exit::NOINPUT | exit::DATAERR => 2,
        exit::OK => 0,
        _ => 1,
    };
    if rank(b) > rank(a) { b } else { a }
}
