//! Who wrote this mail: a person, a machine, or ourselves? Pure functions over
//! [`InboundMail`], tested without I/O.
//!
//! The rules follow RFC 3834 (automatic responses), RFC 3464 (DSN), RFC 8098 (MDN) and
//! RFC 2369/2919 (list headers), plus the de-facto headers of common mailers. A wrong
//! "automated" costs a complainant their acknowledgement, a wrong "human" costs a mail loop
//! with an out-of-office, so each rule below is a signal that mailers really set.

use super::bounce;
use super::parse::InboundMail;
pub use crate::domain::Automated;
use crate::domain::EmailAddress;

// Subject prefixes that clients without Auto-Submitted (older Exchange, Outlook rules, some
// webmails) put on automatic replies, in the languages our complainants use.
const AUTO_REPLY_SUBJECTS: &[&str] = &[
    "automatic reply:",
    "automatisch antwoord:",
    "automatisch antwoord",
    "auto reply:",
    "autoreply:",
    "auto-reply:",
    "out of office:",
    "out of office reply",
    "afwezigheidsmelding",
    "afwezig:",
    "abwesenheitsnotiz",
    "automatische antwort",
    "réponse automatique",
];

// Local parts that mean "nobody reads replies here". Matched on the whole local part or
// with a separator, so "noreplyjan" is not caught but "no-reply.facturen" is.
const NOREPLY_LOCAL_PARTS: &[&str] = &[
    "noreply",
    "no-reply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "do_not_reply",
    "mailer-daemon",
    "postmaster",
    "bounce",
    "bounces",
];

/// Decides whether a mail was written by a machine, and if so what kind.
///
/// Bounce signals are checked first: many bounces also carry `Auto-Submitted:
/// auto-replied` or come from `postmaster@`, and the officer must learn that a mail of ours
/// did not arrive, which only a bounce tells.
pub fn automated(mail: &InboundMail) -> Option<Automated> {
    let h = &mail.automation;
    match h.report_type.as_deref() {
        Some("disposition-notification") => return Some(Automated::ReadReceipt),
        // Only a failure is a bounce; a "delayed" warning or a "delivered" receipt is not,
        // and must not tell the officer that our mail did not arrive.
        Some("delivery-status")
            if !h.dsn_actions.is_empty() && !h.dsn_actions.iter().any(|a| a == "failed") =>
        {
            return Some(Automated::DeliveryNotice);
        }
        // A report without report-type is in practice a DSN.
        Some("delivery-status" | "unknown") => return Some(Automated::Bounce),
        Some(_) => return Some(Automated::Generated),
        None => {}
    }
    if h.failed_recipients || bounce::looks_like_bounce(mail) {
        return Some(Automated::Bounce);
    }
    let subject = mail.subject.to_lowercase();
    // RFC 3834 §5: any value other than "no" means automatic; "no" explicitly means a person.
    if let Some(v) = h.auto_submitted.as_deref() {
        let keyword = v.split(';').next().unwrap_or("").trim();
        match keyword {
            "no" | "" => {}
            "auto-replied" => return Some(Automated::AutoReply),
            _ => return Some(Automated::Generated),
        }
    }
    if h.x_autoreply || AUTO_REPLY_SUBJECTS.iter().any(|p| subject.starts_with(p)) {
        return Some(Automated::AutoReply);
    }
    if h.precedence.as_deref() == Some("auto_reply") {
        return Some(Automated::AutoReply);
    }
    if h.mailing_list || h.precedence.as_deref() == Some("list") {
        return Some(Automated::MailingList);
    }
    if matches!(h.precedence.as_deref(), Some("bulk" | "junk")) {
        return Some(Automated::Bulk);
    }
    // A no-reply sender alone is no machine: contact forms send people's complaints from
    // such addresses (see `person`). Bounce handlers' own addresses are.
    if mail
        .from
        .as_ref()
        .is_some_and(|f| matches!(f.address.local_part(), "bounce" | "bounces"))
    {
        return Some(Automated::Generated);
    }
    // The null envelope sender is for DSNs, MDNs and auto-replies (RFC 5321 §4.5.5, RFC 3834
    // §3.3); a person's client never uses it.
    if h.null_return_path {
        return Some(Automated::Generated);
    }
    None
}

/// Whether the address is one nobody reads replies at.
pub fn is_noreply(a: &EmailAddress) -> bool {
    let local = a.local_part();
    NOREPLY_LOCAL_PARTS.iter().any(|p| {
        local == *p
            || local
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with(['.', '-', '_', '+']))
    })
}

/// Whether the mail comes from our own address (a loop through a forward or a bounce of our
/// own mail sent back to us).
pub fn is_own(mail: &InboundMail, own: &[&EmailAddress]) -> bool {
    mail.from
        .as_ref()
        .is_some_and(|f| own.contains(&&f.address))
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
