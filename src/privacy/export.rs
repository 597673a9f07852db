//! An access request answered: everything the register holds about one person, as a zip.
//!
//! ```text
//! samenvatting.txt / summary.txt   what is kept, why, until when (organisation's language)
//! data.json                        the same, machine-readable, with records and timelines
//! mails/in-<n>.eml                 every received mail of their complaints, as received
//! mails/out-<n>.eml                every mail we wrote about them, as sent
//! attachments/<n>-<file>           the attachments kept
//! ```

use std::io::Write as _;

use anyhow::Context;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use super::audit::{self, Entry};
use super::person::{self, Found, Person};
use crate::app::Bot;
use crate::config::Language;
use crate::store::complaints::{self, StoredComplaint};
use crate::store::{events, messages};

/// One complaint in the export.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportedComplaint {
    /// Where they appear and the complaint's state.
    #[serde(flatten)]
    pub found: Found,
    /// The record.
    pub record: crate::domain::Complaint,
    /// Until when it is kept as it is (then anonymised); none while open or without a term.
    pub kept_until: Option<Timestamp>,
    /// The timeline.
    pub timeline: Vec<events::Event>,
    /// Received mails (the `.eml` files are in `mails/`).
    pub messages: Vec<messages::MessageSummary>,
    /// Mails we wrote: (file in the zip, subject).
    pub sent: Vec<(String, String)>,
}

/// What the export holds, as `data.json` has it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// The organisation.
    pub organisation: String,
    /// When the export was made.
    pub made_at: Timestamp,
    /// Whom it is about.
    pub address: Option<String>,
    /// The retention term ("2y"), none when the organisation set none.
    pub retention_term: Option<String>,
    /// The complaints.
    pub complaints: Vec<ExportedComplaint>,
    /// Mails of no complaint from or to them: files in the zip.
    pub other_mails: Vec<String>,
}

/// The zip and what it holds.
#[derive(Debug, Clone)]
pub struct Export {
    /// The zip file's bytes.
    pub zip: Vec<u8>,
    /// Its contents.
    pub summary: Summary,
}

/// Files of the zip, in order.
type Files = Vec<(String, Vec<u8>)>;

/// Builds the export of `p` and audits it.
pub async fn export(bot: &Bot, p: &Person, actor: &str) -> anyhow::Result<Export> {
    let mut conn = bot.store.pool().acquire().await?;
    export_on(bot, &mut conn, p, actor, bot.clock.now()).await
}

/// [`export`] on the caller's connection (by mail: inside the intake's transaction).
pub async fn export_on(
    bot: &Bot,
    conn: &mut AnyConnection,
    p: &Person,
    actor: &str,
    now: Timestamp,
) -> anyhow::Result<Export> {
    let found = person::complaints_of(conn, p).await?;
    let mut files: Files = Vec::new();
    let mut complaints = Vec::new();
    for f in found {
        complaints.push(complaint(bot, conn, f, &mut files).await?);
    }
    let other_mails = match &p.address {
        Some(a) => unlinked(conn, a.as_ref(), &mut files).await?,
        None => Vec::new(),
    };
    let summary = Summary {
        organisation: bot.settings.organisation.name.clone(),
        made_at: now,
        address: p.address.as_ref().map(ToString::to_string),
        retention_term: bot.settings.privacy.anonymise_after.map(|t| t.to_string()),
        complaints,
        other_mails,
    };
    let text = summary_text(bot, &summary);
    let name = match bot.settings.organisation.language {
        Language::Nl => "samenvatting.txt",
        Language::En => "summary.txt",
    };
    files.insert(0, (name.into(), text.into_bytes()));
    let json = serde_json::to_vec_pretty(&summary).context("Failed to write data.json")?;
    files.insert(1, ("data.json".into(), json));
    let zip = write_zip(&files)?;
    let entry = Entry {
        action: "export",
        actor,
        person: p.address.as_ref().map(|a| a.as_ref()),
        complaints: summary.complaints.len(),
        detail: "",
    };
    audit::record(conn, &entry, now).await?;
    Ok(Export { zip, summary })
}

async fn complaint(
    bot: &Bot,
    conn: &mut AnyConnection,
    found: Found,
    files: &mut Files,
) -> anyhow::Result<ExportedComplaint> {
    let StoredComplaint { id, complaint } = complaints::load_by_id(conn, found.id)
        .await?
        .with_context(|| format!("{} vanished", found.reference))?;
    let rows = sqlx::query("SELECT id, raw FROM messages WHERE complaint_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    for r in rows {
        let raw: Vec<u8> = r.try_get(1)?;
        if !raw.is_empty() {
            files.push((format!("mails/in-{}.eml", r.try_get::<i64, _>(0)?), raw));
        }
    }
    let rows = sqlx::query(
        "SELECT a.message_pk, a.filename, a.data FROM attachments a \
         JOIN messages m ON m.id = a.message_pk WHERE m.complaint_id = $1 ORDER BY a.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    for r in rows {
        let name = safe_name(&r.try_get::<String, _>(1)?);
        files.push((
            format!("attachments/{}-{name}", r.try_get::<i64, _>(0)?),
            r.try_get(2)?,
        ));
    }
    let sent = outgoing(conn, "complaint_id = $1", Arg::Id(id), files).await?;
    let kept_until = match (bot.settings.privacy.anonymise_after, complaint.closed_at) {
        (Some(term), Some(closed)) => closed
            .to_zoned(bot.settings.organisation.timezone.clone())
            .checked_add(term.span())
            .ok()
            .map(|z| z.timestamp()),
        _ => None,
    };
    Ok(ExportedComplaint {
        found,
        kept_until,
        timeline: events::timeline(conn, id).await?,
        messages: messages::for_complaint(conn, id).await?,
        sent,
        record: complaint,
    })
}

/// The one parameter of [`outgoing`]'s filter.
enum Arg {
    Id(i64),
    Text(String),
}

/// Outbox rows matching `filter` (with `$1`) into `mails/out-<n>.eml`.
async fn outgoing(
    conn: &mut AnyConnection,
    filter: &str,
    arg: Arg,
    files: &mut Files,
) -> anyhow::Result<Vec<(String, String)>> {
    let sql = format!("SELECT id, subject, raw FROM outbox WHERE {filter} ORDER BY id");
    let query = sqlx::query(&sql);
    let query = match arg {
        Arg::Id(id) => query.bind(id),
        Arg::Text(text) => query.bind(text),
    };
    let rows = query.fetch_all(&mut *conn).await?;
    let mut out = Vec::new();
    for r in rows {
        let raw: Vec<u8> = r.try_get(2)?;
        if raw.is_empty() {
            continue;
        }
        let file = format!("mails/out-{}.eml", r.try_get::<i64, _>(0)?);
        out.push((file.clone(), r.try_get(1)?));
        files.push((file, raw));
    }
    Ok(out)
}

/// Mails of no complaint from or to the address.
async fn unlinked(
    conn: &mut AnyConnection,
    address: &str,
    files: &mut Files,
) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id, raw FROM messages WHERE complaint_id IS NULL AND lower(from_address) = $1 \
         ORDER BY id",
    )
    .bind(address.to_lowercase())
    .fetch_all(&mut *conn)
    .await?;
    let mut names = Vec::new();
    for r in rows {
        let name = format!("mails/in-{}.eml", r.try_get::<i64, _>(0)?);
        names.push(name.clone());
        files.push((name, r.try_get(1)?));
    }
    let pattern = format!("%{}%", address.to_lowercase());
    let sent = outgoing(
        conn,
        "complaint_id IS NULL AND lower(recipients) LIKE $1",
        Arg::Text(pattern),
        files,
    )
    .await?;
    names.extend(sent.into_iter().map(|(f, _)| f));
    Ok(names)
}

/// A file name safe inside the zip: no folders, no dot-dot, not empty.
fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "bijlage".into() } else { s }
}

fn write_zip(files: &Files) -> anyhow::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o600);
    for (name, bytes) in files {
        zip.start_file(name.as_str(), options)
            .with_context(|| format!("Failed to add {name} to the zip"))?;
        zip.write_all(bytes)?;
    }
    Ok(zip
        .finish()
        .context("Failed to finish the zip")?
        .into_inner())
}

/// The readable summary: what is kept, why, until when.
fn summary_text(bot: &Bot, s: &Summary) -> String {
    let date = |t: Timestamp| bot.renderer.date(t);
    let nl = bot.settings.organisation.language == Language::Nl;
    let who = s.address.clone().unwrap_or_default();
    let mut out = if nl {
        format!(
            "Inzage in persoonsgegevens - {}\nOpgesteld op {} over {who}.\n\n\
             WAT WIJ BEWAREN\n",
            s.organisation,
            date(s.made_at)
        )
    } else {
        format!(
            "Access to personal data - {}\nMade on {} about {who}.\n\nWHAT WE KEEP\n",
            s.organisation,
            date(s.made_at)
        )
    };
    for c in &s.complaints {
        out.push_str(&complaint_line(bot, c, nl));
    }
    if !s.other_mails.is_empty() {
        let label = if nl { "andere mails" } else { "other mails" };
        out.push_str(&format!("- {label}: {}\n", s.other_mails.join(", ")));
    }
    out.push_str(&closing_text(
        s.retention_term.as_deref().unwrap_or("-"),
        nl,
    ));
    out
}

/// One complaint in the summary: reference, role, state, what is kept and until when.
fn complaint_line(bot: &Bot, c: &ExportedComplaint, nl: bool) -> String {
    let date = |t: Timestamp| bot.renderer.date(t);
    let until = match c.kept_until {
        Some(t) if nl => format!("bewaard tot {}", date(t)),
        Some(t) => format!("kept until {}", date(t)),
        None if nl => "bewaard zolang de klacht loopt, daarna de bewaartermijn".into(),
        None => "kept while the complaint is open, then for the retention term".into(),
    };
    let role = match (c.found.role, nl) {
        ("complainant", true) => "als klager",
        ("complainant", false) => "as complainant",
        (_, true) => "als betrokkene",
        (_, false) => "as the person concerned",
    };
    let (received, sent, events) = (c.messages.len(), c.sent.len(), c.timeline.len());
    if nl {
        format!(
            "- {} ({role}, {}): {received} ontvangen mails, {sent} mails van ons, \
             {events} gebeurtenissen; {until}.\n",
            c.found.reference, c.found.status
        )
    } else {
        format!(
            "- {} ({role}, {}): {received} mails received, {sent} mails sent, {events} \
             events; {until}.\n",
            c.found.reference, c.found.status
        )
    }
}

/// Why and how long, and where the files are.
fn closing_text(term: &str, nl: bool) -> String {
    if nl {
        format!(
            "\nWAAROM\nWij behandelen klachten volgens onze klachtenprocedure en rapporteren er \
             jaarlijks over. Daarvoor bewaren wij uw gegevens, de mails en bijlagen.\n\n\
             HOE LANG\nTot {term} na het afsluiten van de klacht. Daarna verwijderen wij naam, \
             adres, telefoonnummer, mails, bijlagen en wat u schreef; alleen de tellingen voor \
             het jaarverslag blijven (datum, soort, afdeling, uitkomst).\n\n\
             De mails staan als .eml in mails/, de bijlagen in attachments/, alles ook in \
             data.json.\n"
        )
    } else {
        format!(
            "\nWHY\nWe handle complaints under our complaints procedure and report on them \
             yearly. For that we keep your details, the mails and attachments.\n\n\
             HOW LONG\nUntil {term} after the complaint is closed. Then we remove name, \
             address, phone number, mails, attachments and what you wrote; only the counts of \
             the annual report stay (date, kind, department, outcome).\n\n\
             The mails are .eml files in mails/, the attachments in attachments/, everything \
             also in data.json.\n"
        )
    }
}
