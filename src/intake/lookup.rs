//! The register's part of the decision, looked up before it: which complaints a mail names
//! or quotes ([`Found`]). The only database reads of the routing; `route` stays pure.

use sqlx::AnyConnection;

use super::parse::InboundMail;
use super::quoted;
use super::route::Found;
use crate::domain::Reference;
use crate::store::complaints::{self, StoredComplaint};
use crate::store::messages;

/// The complaints `mail` may belong to. `mail_domain` is ours: our Message-IDs carry the
/// reference (`kb.KL-2026-0042.x@our.domain`).
pub(super) async fn lookup(
    conn: &mut AnyConnection,
    mail: &InboundMail,
    mail_domain: &str,
) -> anyhow::Result<Found> {
    let named = named(conn, mail, mail_domain).await?;
    // The quoted references matter only when the mail names no complaint itself.
    let quoted = match named {
        Some(_) => Vec::new(),
        None => quoted_complaints(conn, mail).await?,
    };
    Ok(Found { named, quoted })
}

/// The complaint a mail belongs to: a reference in the subject, or any of its In-Reply-To /
/// References ids naming a mail of the complaint (ours or theirs).
async fn named(
    conn: &mut AnyConnection,
    mail: &InboundMail,
    mail_domain: &str,
) -> anyhow::Result<Option<StoredComplaint>> {
    for reference in Reference::find_all(&mail.subject) {
        if let Some(found) = complaints::load(conn, reference).await? {
            return Ok(Some(found));
        }
    }
    let ids: Vec<String> = mail
        .in_reply_to
        .iter()
        .chain(&mail.references)
        .map(|m| m.to_string())
        .collect();
    if let Some(cid) = messages::complaint_of_message_ids(conn, &ids).await? {
        return complaints::load_by_id(conn, cid).await;
    }
    // Our own Message-IDs carry the reference, so a reply still finds its complaint when
    // the referenced outbox row is gone.
    let domain = format!("@{mail_domain}");
    for id in mail.in_reply_to.iter().chain(&mail.references) {
        if id.as_ref().ends_with(&domain)
            && let Some(r) = Reference::find(id.as_ref())
            && let Some(found) = complaints::load(conn, r).await?
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The complaints whose references appear in the quoted part of the mail or in an attached
/// copy of our mail, in order; references the register does not hold are left out.
async fn quoted_complaints(
    conn: &mut AnyConnection,
    mail: &InboundMail,
) -> anyhow::Result<Vec<StoredComplaint>> {
    let mut found = Vec::new();
    for reference in quoted::quoted_references(mail) {
        found.extend(complaints::load(conn, reference).await?);
    }
    Ok(found)
}
