//! Is this a bounce, however the MTA wrote it? RFC 3464 DSNs are recognised by their
//! headers (see `classify`); this module knows the rest: the senders MTAs use, the subjects
//! and the template sentences of MTAs that send no DSN (GroupWise, Exchange, Notes, qmail,
//! Exim, security gateways) in English, Dutch, German and French.
//!
//! A wrong "bounce" costs a complaint, so a subject or body sentence alone counts only when
//! it is one an MTA writes and a person does not ("Onbestelbaar:" as a prefix, not "mijn pakket
//! was onbestelbaar"), and body sentences are not read in replies or forwards, where a
//! person may quote a bounce they got.

use super::parse::InboundMail;

/// Subject starts (lower case) that MTAs use for delivery failures.
const SUBJECT_STARTS: &[&str] = &[
    "undeliverable:",
    "undeliverable mail",
    "undeliverable message",
    "undelivered mail",
    "undelivered message",
    "onbestelbaar:",
    "onbestelbaar bericht",
    "niet bezorgd:",
    "niet-bezorgbaar",
    "bezorging mislukt",
    "bericht kon niet worden bezorgd",
    "unzustellbar:",
    "unzustellbare nachricht",
    "nicht zustellbar:",
    "ihre mail konnte nicht zugestellt werden",
    "ihre nachricht konnte nicht zugestellt werden",
    "zustellung fehlgeschlagen",
    "non remis :",
    "non remis:",
    "non distribuable",
    "échec de la remise",
    "echec de la remise",
    "message non remis",
    "delivery status notification",
    "delivery notification: delivery has failed",
    "delivery failure",
    "delivery failed",
    "delivery has failed",
    "failure delivery",
    "failure notice",
    "mail delivery failed",
    "mail delivery failure",
    "mail failed",
    "mail could not be delivered",
    "could not be delivered",
    "returned mail",
    "mail system error",
    "message delivery failure",
    "nondeliverable mail",
    "non-deliverable",
    "warning: could not send message",
    "delayed mail",
    "mail delivery warning",
    "warning: message delayed",
    "benachrichtung zum übermittlungsstatus",
    "übermittlungsstatusbenachrichtigung",
    "notification d'état de remise",
    "status van bezorging",
];

/// What gateways append (lower case) to the original subject as their verdict.
/// (Not ": undeliverable": "Re: Undeliverable: ..." is a person answering a bounce.)
const SUBJECT_VERDICTS: &[&str] = &[": non remis", "(delivery failed)"];

/// Display names of the sender that MTAs use.
const SENDER_NAMES: &[&str] = &[
    "mail delivery system",
    "mail delivery subsystem",
    "mail delivery service",
    "mailer-daemon",
    "mail administrator",
    "postmaster",
    "e-mail-übermittlung",
];

/// Sentences that MTA templates open with, lower case; a person does not write these.
const BODY_SENTENCES: &[&str] = &[
    "this is the mail system at host",
    "this is the postfix program",
    "this is the qmail-send program",
    "i'm afraid i wasn't able to deliver",
    "this message was created automatically by mail delivery software",
    "the original message was received at",
    "your message did not reach some or all of the intended recipients",
    "delivery has failed to these recipients or groups",
    "the following message to <",
    "could not be delivered to one or more recipients",
    "the following addresses had permanent fatal errors",
    "message could not be delivered",
    "your message could not be delivered",
    "delivery to the following recipient failed permanently",
    "delivery to the following recipients failed",
    "your message cannot be delivered",
    "uw bericht heeft sommige of alle geadresseerden niet bereikt",
    "de bezorging aan de volgende geadresseerden is mislukt",
    "ihre nachricht hat einige oder alle empfänger nicht erreicht",
    "die zustellung an folgende empfänger ist fehlgeschlagen",
    "votre message n'a pas pu être remis",
    "la remise à ces destinataires ou groupes a échoué",
];

/// Replies and forwards start with these; their body may quote a bounce a person got.
const REPLY_OR_FORWARD: &[&str] = &[
    "re:", "aw:", "antw:", "sv:", "fw:", "fwd:", "wg:", "tr:", "doorst:", "fw ", "fwd ",
];

/// How many leading lines of the body are read for template sentences.
const BODY_LINES: usize = 25;

/// Whether the mail is a delivery failure written without (or besides) a DSN.
pub fn looks_like_bounce(mail: &InboundMail) -> bool {
    let subject = mail.subject.trim().to_lowercase();
    if mail.automation.daemon_return_path
        || SUBJECT_STARTS.iter().any(|p| subject.starts_with(p))
        || SUBJECT_VERDICTS.iter().any(|p| subject.contains(p))
        || (subject.starts_with("your message") && subject.contains("could not be delivered"))
    {
        return true;
    }
    if mail.from.as_ref().is_some_and(|f| {
        let local = f.address.local_part();
        local.contains("mailer-daemon") || local == "postmaster" || local == "mailerdaemon"
    }) {
        return true;
    }
    let name = mail
        .from
        .as_ref()
        .and_then(|f| f.name.as_deref())
        .map(str::to_lowercase)
        .unwrap_or_default();
    if SENDER_NAMES.iter().any(|n| name == *n) {
        return true;
    }
    let reply = REPLY_OR_FORWARD.iter().any(|p| subject.starts_with(p));
    !reply && body_has_template(&mail.text)
}

fn body_has_template(text: &str) -> bool {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .take(BODY_LINES)
        .any(|l| {
            let l = l.to_lowercase();
            BODY_SENTENCES.iter().any(|s| l.contains(s))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::parse::parse;

    fn mail(raw: &str) -> InboundMail {
        parse(raw.replace('\n', "\r\n").as_bytes()).unwrap()
    }

    #[test]
    fn mta_subjects_in_four_languages_are_bounces() {
        for subject in [
            "Onbestelbaar: Uw klacht KL-2026-0001",
            "Unzustellbar: Ihre Beschwerde",
            "Non remis : votre plainte",
            "Undeliverable Mail",
            "Delivery Status Notification (Failure)",
            "Returned mail: User unknown",
            "failure notice",
            "Mail delivery failed: returning message to sender",
        ] {
            let m = mail(&format!("From: a@b.nl\nSubject: {subject}\n\nx"));
            assert!(looks_like_bounce(&m), "{subject}");
        }
    }

    #[test]
    fn a_person_writing_about_an_undelivered_parcel_is_no_bounce() {
        for subject in [
            "Mijn pakket is niet bezorgd",
            "Pakket onbestelbaar volgens PostNL",
            "Re: Undeliverable: uw bericht",
        ] {
            let m = mail(&format!(
                "From: Jan <jan@x.nl>\nSubject: {subject}\n\nHet pakket kon niet worden bezorgd, zegt de bezorger."
            ));
            assert!(!looks_like_bounce(&m), "{subject}");
        }
    }

    #[test]
    fn groupwise_style_bounce_from_a_system_administrator_is_seen() {
        let m = mail(
            "From: System Administrator <beheer@x.nl>\nSubject: Undeliverable: [KL-2026-0001] Ontvangstbevestiging\n\nThe message that you sent was undeliverable to the following:\n\tjan@x.nl (user not found)",
        );
        assert!(looks_like_bounce(&m));
    }

    #[test]
    fn a_template_sentence_in_the_body_is_a_bounce_unless_forwarded() {
        let raw = "From: Gateway <gw@x.nl>\nSubject: Bericht\n\nUw bericht heeft sommige of alle geadresseerden niet bereikt.";
        assert!(looks_like_bounce(&mail(raw)));
        let fwd = "From: Jan <jan@x.nl>\nSubject: Fwd: Bericht\n\nZie hieronder.\n\nUw bericht heeft sommige of alle geadresseerden niet bereikt.";
        assert!(!looks_like_bounce(&mail(fwd)));
    }
}
