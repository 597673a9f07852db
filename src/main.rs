//! klachtenbot's entry point: wiring only (arguments, configuration, logging, exit code).

use std::process::ExitCode;

use clap::Parser;
use klachtenbot::cli::{self, Cli, Command, ConfigAction, exit};
use klachtenbot::config::LogFormat;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Cli::parse();
    // The doctor reports a broken configuration as its first line instead of refusing.
    if let Command::Doctor { json } = args.command {
        return cli::doctor::run(args.config.as_ref(), json).await;
    }
    let settings = match cli::load_settings(args.config.as_ref()) {
        Ok(s) => s,
        Err(e) => {
            cli::print_problems(&e.path, &e.problems);
            return ExitCode::from(exit::CONFIG);
        }
    };
    if matches!(
        args.command,
        Command::Config {
            action: ConfigAction::Check
        }
    ) {
        for warning in settings.warnings() {
            println!("warning: {warning}");
        }
        println!("configuration is valid");
        return ExitCode::from(exit::OK);
    }
    init_tracing(settings.log_format, &settings.log_level);
    klachtenbot::privacy::redact::set_enabled(settings.redact_addresses);
    let result = match args.command {
        Command::Run => klachtenbot::daemon::run(settings)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Demo => klachtenbot::demo::run(settings)
            .await
            .map(|()| ExitCode::SUCCESS),
        ref other => cli::dispatch(other, settings).await,
    };
    result.unwrap_or_else(|e| {
        tracing::error!(error = %format!("{e:#}"), "klachtenbot stopped");
        eprintln!("klachtenbot: {e:#}");
        ExitCode::from(exit::SOFTWARE)
    })
}

fn init_tracing(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
