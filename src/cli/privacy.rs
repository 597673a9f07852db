//! `klachtenbot privacy sweep|export|erase`: retention now, an access request answered, an
//! erasure request carried out. Each is audited with the OS user as actor.

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;

use anyhow::Context;

use super::exit;
use crate::app::Bot;
use crate::config::Settings;
use crate::domain::EmailAddress;
use crate::privacy::{self, Person, audit};

/// sysexits(3) EX_USAGE: an argument is not usable.
const USAGE: u8 = 64;

/// `privacy` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PrivacyAction {
    /// Anonymise now every complaint closed longer ago than `[privacy] anonymise_after`
    /// (the scheduler does this once a day) and list them.
    Sweep {
        /// List what would be anonymised; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Everything the register holds about a person, as a zip: complaints, timelines, every
    /// mail as .eml, attachments, a readable summary and data.json.
    Export {
        /// The person's e-mail address.
        #[arg(long)]
        person: String,
        /// Also match complaints by this phone number.
        #[arg(long)]
        phone: Option<String>,
        /// Also match complaints by this name.
        #[arg(long)]
        name: Option<String>,
        /// The zip file to write (created readable by the owner only).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Anonymise, now, the person's closed complaints and every mail to or from them.
    Erase {
        /// The person's e-mail address.
        #[arg(long)]
        person: String,
        /// Also match complaints by this phone number.
        #[arg(long)]
        phone: Option<String>,
        /// Also match complaints by this name.
        #[arg(long)]
        name: Option<String>,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
        /// Close open complaints as withdrawn first, then erase them too.
        #[arg(long)]
        include_open: bool,
    },
}

/// Runs a `privacy` subcommand.
pub async fn run(settings: Settings, action: &PrivacyAction) -> anyhow::Result<u8> {
    let bot = Bot::open(settings).await?;
    let code = match action {
        PrivacyAction::Sweep { dry_run, json } => sweep(&bot, *dry_run, *json).await?,
        PrivacyAction::Export {
            person,
            phone,
            name,
            out,
        } => match who(person, phone, name) {
            Some(p) => export(&bot, &p, out.clone()).await?,
            None => USAGE,
        },
        PrivacyAction::Erase {
            person,
            phone,
            name,
            yes,
            include_open,
        } => match who(person, phone, name) {
            Some(p) => erase(&bot, &p, *yes, *include_open).await?,
            None => USAGE,
        },
    };
    bot.store.close().await;
    Ok(code)
}

fn who(address: &str, phone: &Option<String>, name: &Option<String>) -> Option<Person> {
    match EmailAddress::parse(address) {
        Ok(a) => Some(Person {
            address: Some(a),
            phone: phone.clone(),
            name: name.clone(),
        }),
        Err(e) => {
            eprintln!("klachtenbot privacy: --person {address}: {e}");
            None
        }
    }
}

async fn sweep(bot: &Bot, dry_run: bool, json: bool) -> anyhow::Result<u8> {
    let report = privacy::sweep::sweep(bot, dry_run, &audit::os_user()).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(exit::OK);
    }
    let Some(term) = &report.term else {
        println!("no retention term: set [privacy] anonymise_after to anonymise closed complaints");
        return Ok(exit::OK);
    };
    let verb = if dry_run {
        "would anonymise"
    } else {
        "anonymised"
    };
    println!(
        "term {term}: {verb} {} complaint(s)",
        report.complaints.len()
    );
    for c in &report.complaints {
        let closed = c
            .closed_at
            .map(|t| bot.renderer.date(t))
            .unwrap_or_default();
        println!("  {}  closed {closed}", c.reference);
    }
    if let Some(note) = &report.note {
        println!("note: {note}");
    }
    Ok(exit::OK)
}

async fn export(bot: &Bot, p: &Person, out: Option<PathBuf>) -> anyhow::Result<u8> {
    let export = privacy::export::export(bot, p, &audit::os_user()).await?;
    let path = out.unwrap_or_else(|| {
        let day = bot
            .clock
            .now()
            .to_zoned(bot.settings.organisation.timezone.clone())
            .date();
        PathBuf::from(format!("inzage-{day}.zip"))
    });
    write_private(&path, &export.zip)?;
    println!(
        "{} complaint(s), {} other mail(s): written to {}",
        export.summary.complaints.len(),
        export.summary.other_mails.len(),
        path.display()
    );
    Ok(exit::OK)
}

/// Writes a file readable by the owner only (it holds personal data).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("Failed to create {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("Failed to write {}", path.display()))
}

async fn erase(bot: &Bot, p: &Person, yes: bool, include_open: bool) -> anyhow::Result<u8> {
    let found = privacy::person::complaints_of(&mut *bot.store.pool().acquire().await?, p).await?;
    for f in &found {
        let what = match (f.anonymised, f.status == "closed", include_open) {
            (true, _, _) => "already anonymised",
            (false, true, _) => "anonymise",
            (false, false, true) => "close as withdrawn, then anonymise",
            (false, false, false) => "open: left alone (use --include-open)",
        };
        println!("  {}  {}  {}: {what}", f.reference, f.role, f.status);
    }
    println!("and every mail of no complaint to or from the address");
    if !yes && !confirm()? {
        println!("nothing erased");
        return Ok(exit::OK);
    }
    let report = privacy::person::erase(bot, p, include_open, &audit::os_user()).await?;
    println!(
        "erased {}; withdrawn first {}; left open {}",
        report.erased.len(),
        report.withdrawn.len(),
        report.left_open.len()
    );
    if let Some(note) = &report.note {
        println!("note: {note}");
    }
    Ok(exit::OK)
}

fn confirm() -> anyhow::Result<bool> {
    print!("Erase? This cannot be undone. [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_lowercase().as_str(),
        "y" | "yes" | "j" | "ja"
    ))
}
