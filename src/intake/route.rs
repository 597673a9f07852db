//! What a message is, decided in one place and returned as a value: [`route`] reads the
//! mail and what the register already knows about it ([`Found`], looked up before by
//! `lookup`), and names the one handler that carries it out. Pure: the routing table is
//! unit-tested over real mail without a database (`route_tests.rs`).
//!
//! The order of the questions is the order of their cost when answered wrongly: a loop or a
//! machine must never be answered, a command must never be taken for a customer's words (nor
//! a customer's `#word` for a command), and a complaint must never be missed.

use super::classify::{self, Automated};
use super::parse::{InboundMail, Mailbox};
use super::person::{self, Speaker};
use crate::commands::{self, Name, Parsed, Role};
use crate::config::{AuthSettings, People};
use crate::domain::{Channel, Complaint, EmailAddress, MessageId, Reference};
use crate::store::complaints::StoredComplaint;

/// The complaints a mail may belong to, as the register holds them.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The complaint the mail names: a reference in its subject, an In-Reply-To/References id
    /// of a mail of the complaint, or one of our own Message-IDs (which carry the reference).
    pub named: Option<StoredComplaint>,
    /// The complaints whose references stand in the quoted part of the text or in attached
    /// copies of our mail, in order of appearance. Looked up only when nothing is named.
    pub quoted: Vec<StoredComplaint>,
}

/// Everything besides the mail that the decision needs.
#[derive(Debug, Clone, Copy)]
pub struct RouteContext<'a> {
    /// Our own address: mail from it is a loop, a Reply-To of it names nobody.
    pub own: &'a EmailAddress,
    /// Officers, management and the staff domains.
    pub people: &'a People,
    /// Whether commands need proof beyond the address, and how it is given.
    pub auth: &'a AuthSettings,
    /// Our mail domain (our Message-IDs, the tokens in them).
    pub mail_domain: &'a str,
    /// What the register knows about the mail.
    pub found: &'a Found,
}

/// What a message is, and what its handler needs to know.
#[derive(Debug, Clone)]
pub enum Route {
    /// No mail could be read from the bytes: flag it.
    Unreadable,
    /// From our own address (a forward or a bounce of our own mail): keep it, do nothing.
    Loop,
    /// Written by a machine: never answered; a bounce on a complaint is flagged.
    Automated {
        /// What kind of machine mail.
        kind: Automated,
        /// The complaint it concerns, if any.
        complaint: Option<StoredComplaint>,
    },
    /// A person's mail without a usable From address: flag it.
    NoSender {
        /// The complaint it concerns, if any.
        complaint: Option<StoredComplaint>,
    },
    /// Commands from an officer's or staff address without the proof the settings require:
    /// not executed, the officer told, the (possibly forged) sender gets nothing.
    Forged {
        /// The claimed sender.
        sender: Mailbox,
        /// Why the proof failed, for the officer.
        why: String,
        /// The complaint it concerns, if any.
        complaint: Option<StoredComplaint>,
    },
    /// A staff member's phone note or scanned letter (`#telefoon`, `#brief`): a new
    /// complaint of the customer in it.
    Note {
        /// The staff member.
        sender: Mailbox,
        /// The subject's commands.
        parsed: Parsed,
        /// `Phone` or `Letter`.
        channel: Channel,
    },
    /// A customer mail forwarded by staff: a new complaint of its original sender.
    Forward {
        /// The staff member.
        sender: Mailbox,
        /// The subject's commands (`#klant`, `#structureel`).
        parsed: Parsed,
    },
    /// Commands from someone who may give them.
    Commands {
        /// Who gave them.
        sender: Mailbox,
        /// The subject's commands and what could not be read.
        parsed: Parsed,
        /// The complaint they are about, if the mail names one.
        complaint: Option<StoredComplaint>,
    },
    /// A party's mail about their complaint.
    FollowUp {
        /// The complaint.
        complaint: StoredComplaint,
        /// Whose mail it is (the person a form sent it for, else the sender).
        author: Mailbox,
    },
    /// A mail naming a complaint its author is no party to: flagged, not added.
    NotAParty {
        /// The complaint named.
        complaint: StoredComplaint,
        /// Whose mail it is.
        author: Mailbox,
    },
    /// A new complaint of the person the mail speaks for.
    NewComplaint {
        /// That person (and how we found them).
        speaker: Speaker,
    },
}

impl Route {
    /// A short name, for logs and tests.
    pub fn name(&self) -> &'static str {
        match self {
            Route::Unreadable => "unreadable",
            Route::Loop => "loop",
            Route::Automated { .. } => "automated",
            Route::NoSender { .. } => "no_sender",
            Route::Forged { .. } => "forged",
            Route::Note { .. } => "note",
            Route::Forward { .. } => "forward",
            Route::Commands { .. } => "commands",
            Route::FollowUp { .. } => "follow_up",
            Route::NotAParty { .. } => "not_a_party",
            Route::NewComplaint { .. } => "new_complaint",
        }
    }
}

/// Decides what the message is. `None` is a message no mail could be read from.
pub fn route(mail: Option<&InboundMail>, cx: &RouteContext<'_>) -> Route {
    let Some(mail) = mail else {
        return Route::Unreadable;
    };
    if classify::is_own(mail, &[cx.own]) {
        return Route::Loop;
    }
    let named = cx.found.named.clone();
    if let Some(kind) = classify::automated(mail) {
        // A bounce quoting our mail belongs to that complaint, whoever the MTA is.
        let complaint = match named {
            None if kind == Automated::Bounce => cx.found.quoted.first().cloned(),
            named => named,
        };
        return Route::Automated { kind, complaint };
    }
    let Some(from) = mail.from.clone() else {
        return Route::NoSender { complaint: named };
    };
    if let Some(commands) = commanded(mail, &from, named.as_ref(), cx) {
        return commands;
    }
    let speaker = person::speaker(mail, &from, &[cx.own]);
    let author = speaker.mailbox();
    // An autoresponder without our headers still quotes our mail: from a party to the
    // complaint it quotes, it is a follow-up of it, not a new complaint.
    let complaint = named.or_else(|| {
        cx.found
            .quoted
            .iter()
            .find(|c| is_party(cx.people, &c.complaint, &author.address))
            .cloned()
    });
    match complaint {
        Some(complaint) if is_party(cx.people, &complaint.complaint, &author.address) => {
            Route::FollowUp { complaint, author }
        }
        Some(complaint) => Route::NotAParty { complaint, author },
        None => Route::NewComplaint { speaker },
    }
}

/// The route of a mail with commands (or a staff forward) from someone who may give them;
/// `None` when the mail is no command mail. Anyone else's `#words` are plain text of their
/// mail.
fn commanded(
    mail: &InboundMail,
    from: &Mailbox,
    named: Option<&StoredComplaint>,
    cx: &RouteContext<'_>,
) -> Option<Route> {
    let role = Role::of(cx.people, &from.address, named.map(|c| &c.complaint));
    if !role.may_command() {
        return None;
    }
    let parsed = commands::parse_subject(&mail.subject);
    let forward = role.staff && named.is_none() && looks_forwarded(mail);
    // An officer is told about a mistyped command; for anyone else a `#word` that is no
    // command at all ("#urgent") is just part of their subject.
    let commanded = !parsed.commands.is_empty() || (role.officer && parsed.any());
    if !(commanded || forward) {
        return None;
    }
    let sender = from.clone();
    if let Err(why) = proof(mail, from, named, cx) {
        let complaint = named.cloned();
        return Some(Route::Forged {
            sender,
            why,
            complaint,
        });
    }
    if parsed.has(Name::Phone) || parsed.has(Name::Letter) {
        let channel = if parsed.has(Name::Letter) {
            Channel::Letter
        } else {
            Channel::Phone
        };
        return Some(Route::Note {
            sender,
            parsed,
            channel,
        });
    }
    if named.is_none() && (parsed.has(Name::Customer) || looks_forwarded(mail)) {
        return Some(Route::Forward { sender, parsed });
    }
    let complaint = named.cloned();
    Some(Route::Commands {
        sender,
        parsed,
        complaint,
    })
}

/// Whether the sender of a command mail is who they say (see `auth::check_sender`).
fn proof(
    mail: &InboundMail,
    from: &Mailbox,
    named: Option<&StoredComplaint>,
    cx: &RouteContext<'_>,
) -> Result<crate::auth::Proof, String> {
    let reference = named
        .map(|c| c.complaint.reference)
        .or_else(|| Reference::find(&mail.subject));
    let reply_ids: Vec<MessageId> = mail
        .in_reply_to
        .iter()
        .chain(&mail.references)
        .cloned()
        .collect();
    crate::auth::check_sender(
        &mail.authentication_results,
        &reply_ids,
        &from.address,
        reference,
        cx.auth,
        cx.mail_domain,
    )
}

/// Whether a staff member's mail is a forward of someone else's: a forward prefix in the
/// subject, or an attached message. (Outlook writes the same header block for replies and
/// forwards, so the body alone does not decide.)
pub fn looks_forwarded(mail: &InboundMail) -> bool {
    let lower = mail.subject.trim_start().to_lowercase();
    let prefixed = ["fw:", "fwd:", "doorst:", "wg:", "tr:", "rv:", "fw ", "[fwd"]
        .iter()
        .any(|p| lower.starts_with(p));
    prefixed || !mail.attached_messages.is_empty()
}

/// Whether `who` may add to this complaint: its complainant, the staff on it (assignee,
/// concerned person, who received it), the officers. Other staff are not parties:
/// PROCEDURE.md lets staff add only to complaints assigned to them.
pub fn is_party(people: &People, c: &Complaint, who: &EmailAddress) -> bool {
    [
        &c.complainant.email,
        &c.assignee,
        &c.concerned,
        &c.received_by,
    ]
    .into_iter()
    .any(|a| a.as_ref() == Some(who))
        || people.is_officer(who)
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;
