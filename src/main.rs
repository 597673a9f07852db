//! klachtenbot's entry point: wiring only (arguments, configuration, logging, exit code).

use std::process::ExitCode;

use clap::Parser;
use klachtenbot::cli::{self, Cli, Command, ConfigAction, exit};
use klachtenbot::config::LogFormat;

fn main() -> ExitCode {
    limit_malloc_arenas();
    // One thread for all async work: the daemon waits on the network and on its database,
    // and whatever needs CPU for long (the report) runs on blocking threads. Every SQL
    // statement is a round trip to sqlx's SQLite thread, and waking a task from another
    // thread costs a multi-threaded runtime more: a trivial statement took 31 µs of CPU with
    // it and 19 µs with this one, on the 2-core test machine, and a registration makes a
    // dozen statements.
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("klachtenbot: cannot start the async runtime: {e}");
            ExitCode::from(exit::SOFTWARE)
        }
    }
}

/// glibc gives every thread that allocates its own malloc arena (up to 8 per core), and
/// each arena keeps what was freed in it. The daemon's threads (the runtime, SQLite
/// workers, blocking tasks) then hold several partly used arenas: two are enough for a
/// daemon that is mostly waiting on the network, and keep its resident memory flat.
///
/// glibc also raises its mmap threshold to the size of the largest block freed so far
/// (a batch of fetched mail is a few hundred KiB), after which such blocks come from the
/// heap and freed ones stay there. Fixed thresholds keep large blocks in mappings of their
/// own, given back when freed, so the resident size after a long backlog is the one after
/// a short one.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets tunables of the allocator; called before any other thread
    // exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 * 1024);
    }
}

async fn run() -> ExitCode {
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
