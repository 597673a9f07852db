//! `klachtenbot demo`: the whole bot on one machine. Starts the mail sandbox (real Dovecot
//! and Postfix in a temporary folder), runs the bot against it on SQLite, delivers a few
//! sample complaints, shows the acknowledgements as they arrive, and keeps running with the
//! ports and accounts printed until Ctrl-C.

use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::app::Bot;
use crate::config::Settings;
use crate::sandbox::{MailSandbox, SandboxConfig};

const BOT: &str = "klantenservice@concreet.test";
const OFFICER: &str = "functionaris@concreet.test";
const CUSTOMERS: [&str; 2] = ["klaas@klant.test", "marie@klant.test"];
const STAFF: &str = "jan@concreet.test";

const SAMPLES: &[(&str, &[u8])] = &[
    (
        "klaas@klant.test",
        include_bytes!("../testdata/demo/01-examen-niet-ontvangen.eml"),
    ),
    (
        "marie@klant.test",
        include_bytes!("../testdata/demo/02-factuur-dubbel.eml"),
    ),
    (
        "klaas@klant.test",
        include_bytes!("../testdata/demo/03-out-of-office.eml"),
    ),
];

/// Runs the demo until Ctrl-C. The given settings only contribute the organisation name
/// and language; mailbox, SMTP and database are the sandbox's.
pub async fn run(base: Settings) -> anyhow::Result<()> {
    println!("Starting Dovecot and Postfix in a temporary folder...");
    let users = [BOT, OFFICER, STAFF]
        .into_iter()
        .chain(CUSTOMERS)
        .map(String::from)
        .collect();
    let sandbox = MailSandbox::start(SandboxConfig {
        tls: false,
        users,
        password: "demo".into(),
        ..SandboxConfig::default()
    })
    .await
    .context(
        "Failed to start the mail sandbox (run scripts/demo, which installs Dovecot and Postfix)",
    )?;
    let settings = demo_settings(&sandbox, &base)?;
    let bot = Bot::open(settings).await?;
    let cancel = CancellationToken::new();
    let daemon = tokio::spawn(crate::daemon::run_until_cancelled(
        bot.clone(),
        cancel.clone(),
    ));

    println!("Delivering {} sample messages over SMTP...", SAMPLES.len());
    for (from, raw) in SAMPLES {
        sandbox.deliver(from, &[BOT], raw).await?;
    }
    for customer in CUSTOMERS {
        let arrived = sandbox
            .wait_for(customer, "INBOX", Duration::from_secs(30), |m| {
                !m.is_empty()
            })
            .await?;
        for raw in arrived {
            show_mail(customer, &raw);
        }
    }
    print_instructions(&sandbox);
    tokio::signal::ctrl_c()
        .await
        .context("Failed to wait for Ctrl-C")?;
    println!("\nStopping...");
    cancel.cancel();
    daemon.await??;
    sandbox.shutdown().await?;
    println!("Stopped; the temporary folder is removed.");
    Ok(())
}

fn demo_settings(sandbox: &MailSandbox, base: &Settings) -> anyhow::Result<Settings> {
    let dir = sandbox.dir();
    let password_file = dir.join("bot-password");
    std::fs::write(&password_file, sandbox.password())?;
    let toml = format!(
        r#"
[organisation]
name = "{name}"
language = "{lang}"
mail_domain = "concreet.test"
[mailbox]
address = "{BOT}"
host = "127.0.0.1"
port = {imap}
security = "plain"
user = "{user}"
password_file = "{password}"
idle_timeout = "60s"
[smtp]
host = "127.0.0.1"
port = {smtp}
security = "plain"
retry_initial = "2s"
retry_max = "10s"
[database]
url = "sqlite://{db}"
[people]
officers = ["{OFFICER}"]
staff_domains = ["concreet.test"]
"#,
        name = base.organisation.name.replace('"', ""),
        lang = base.organisation.language.code(),
        imap = sandbox.imap_port(),
        user = sandbox.login_for(BOT),
        password = password_file.display(),
        smtp = sandbox.smtp_port(),
        db = dir.join("klachtenbot.db").display(),
    );
    // Written out so a second terminal can look into the register while the demo runs.
    std::fs::write(dir.join("klachtenbot.toml"), &toml)?;
    Settings::from_toml(&toml, dir).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("demo settings are invalid: {}", list.join("; "))
    })
}

fn show_mail(to: &str, raw: &[u8]) {
    let Some(mail) = crate::intake::parse::parse(raw) else {
        return;
    };
    println!("\n--- arrived in {to}'s INBOX ---");
    println!("Subject: {}", mail.subject);
    for line in mail.text.lines().take(8) {
        println!("  {line}");
    }
}

fn print_instructions(sandbox: &MailSandbox) {
    println!("\n=== klachtenbot is running ===");
    println!(
        "IMAP  127.0.0.1:{}   SMTP 127.0.0.1:{} (no auth, no TLS)",
        sandbox.imap_port(),
        sandbox.smtp_port()
    );
    println!(
        "Accounts (password \"{}\"; IMAP login is the part before @):",
        sandbox.password()
    );
    for a in [BOT, OFFICER, STAFF].into_iter().chain(CUSTOMERS) {
        println!("  {a}");
    }
    println!("Send a complaint from a customer account to {BOT} with any mail client,");
    println!("then read the customer's INBOX for the acknowledgement.");
    println!(
        "Register: sqlite {}/klachtenbot.db (klachtenbot --config ... list)",
        sandbox.dir().display()
    );
    println!("Ctrl-C stops everything and removes the temporary folder.");
}
