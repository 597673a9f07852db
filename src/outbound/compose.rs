//! Builds complete RFC 5322 messages (lettre) with our Message-IDs and the headers that keep
//! machines from answering machines.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, Message, MultiPart, SinglePart};
use rand::Rng;

use crate::domain::{EmailAddress, MessageId, Reference};

/// What to put in one outgoing mail.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    /// Sender (display name + address).
    pub from: (&'a str, &'a EmailAddress),
    /// Recipients.
    pub to: &'a [EmailAddress],
    /// Subject.
    pub subject: &'a str,
    /// Plain-text body.
    pub body: &'a str,
    /// The mail we answer, for In-Reply-To.
    pub in_reply_to: Option<&'a MessageId>,
    /// The thread so far, for References.
    pub references: &'a [MessageId],
    /// An automatic reply (acknowledgement): marked `Auto-Submitted: auto-replied`.
    pub auto_reply: bool,
    /// Files to attach (the report): name, content type, bytes.
    pub attachments: &'a [FileAttachment],
}

/// A file attached to one of our mails.
#[derive(Debug, Clone)]
pub struct FileAttachment {
    /// File name shown to the recipient.
    pub filename: String,
    /// `type/subtype; parameters`.
    pub content_type: String,
    /// The bytes.
    pub data: Vec<u8>,
}

/// A new Message-ID on our mail domain: `kb.<reference>.<random>.<token>@<domain>`. The
/// reference in the id lets a reply that lost its subject still find its complaint.
///
/// The token ([`crate::auth::token_proves`]) is the first 16 hex digits of
/// HMAC-SHA256(secret, "REF\nrecipient\nrandom"): a reply that carries it proves its sender
/// received this mail. It is added only when a reference, a single recipient and a non-empty
/// secret are given; otherwise the id is `kb.<reference>.<random>@<domain>` (or
/// `kb.<random>@<domain>` without a reference).
pub fn new_message_id(
    reference: Option<Reference>,
    recipient: Option<&EmailAddress>,
    domain: &str,
    secret: Option<&[u8]>,
) -> MessageId {
    let n: u64 = rand::rng().random();
    let random = format!("{n:016x}");
    let text = match reference {
        Some(r) => {
            let token = recipient
                .zip(secret)
                .and_then(|(to, key)| crate::auth::message_token(key, r, to, &random));
            match token {
                Some(token) => format!("kb.{r}.{random}.{token}@{domain}"),
                None => format!("kb.{r}.{random}@{domain}"),
            }
        }
        None => format!("kb.{random}@{domain}"),
    };
    // The parts are all header-safe, so parsing cannot fail; fall back to a fixed-shape id
    // rather than panic if the configured domain were odd.
    MessageId::parse(&text).unwrap_or_else(|_| fallback_id(n))
}

fn fallback_id(random: u64) -> MessageId {
    match MessageId::parse(&format!("kb.{random:016x}@klachtenbot.invalid")) {
        Ok(id) => id,
        Err(_) => fallback_id(random.wrapping_add(1)),
    }
}

/// Builds the message bytes.
pub fn compose(draft: &Draft<'_>, message_id: &MessageId) -> anyhow::Result<Vec<u8>> {
    let from_box = Mailbox::new(
        Some(draft.from.0.to_string()),
        draft.from.1.as_ref().parse()?,
    );
    let mut b = Message::builder()
        .from(from_box)
        .subject(draft.subject)
        .message_id(Some(message_id.bracketed()))
        .date_now();
    for to in draft.to {
        b = b.to(Mailbox::new(None, to.as_ref().parse()?));
    }
    if let Some(parent) = draft.in_reply_to {
        b = b.in_reply_to(parent.bracketed());
    }
    if !draft.references.is_empty() {
        let refs: Vec<String> = draft.references.iter().map(MessageId::bracketed).collect();
        b = b.references(refs.join(" "));
    }
    // Every mail of ours is machine-written: RFC 3834 says auto-replied for answers,
    // auto-generated for notices; both stop well-behaved autoresponders from answering.
    let auto = if draft.auto_reply {
        "auto-replied"
    } else {
        "auto-generated"
    };
    b = b
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            auto.into(),
        ))
        // Microsoft's equivalent: no out-of-office, no read receipts in return.
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
            "All".into(),
        ));
    if draft.attachments.is_empty() {
        let message = b
            .header(ContentType::TEXT_PLAIN)
            .body(draft.body.to_string())?;
        return Ok(message.formatted());
    }
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(draft.body.to_string()));
    for a in draft.attachments {
        let content_type = ContentType::parse(&a.content_type)?;
        parts = parts
            .singlepart(Attachment::new(a.filename.clone()).body(a.data.clone(), content_type));
    }
    Ok(b.multipart(parts)?.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_mail_carries_threading_and_anti_loop_headers() {
        let from = EmailAddress::parse("klantenservice@concreet.nl").unwrap();
        let to = vec![EmailAddress::parse("klaas@klant.nl").unwrap()];
        let parent = MessageId::parse("<abc@klant.nl>").unwrap();
        let id = new_message_id(Reference::new(2026, 42).ok(), None, "concreet.nl", None);
        assert!(id.as_ref().starts_with("kb.KL-2026-0042."));
        let draft = Draft {
            from: ("Klantenservice Concreet", &from),
            to: &to,
            subject: "[KL-2026-0042] Ontvangstbevestiging: Examen ✓",
            body: "Beste Klaas,\n\nOntvangen.\n",
            in_reply_to: Some(&parent),
            references: std::slice::from_ref(&parent),
            auto_reply: true,
            attachments: &[],
        };
        let raw = compose(&draft, &id).unwrap();
        let parsed = crate::intake::parse::parse(&raw).unwrap();
        assert_eq!(parsed.message_id.as_ref(), Some(&id));
        assert_eq!(parsed.in_reply_to, vec![parent.clone()]);
        assert_eq!(
            parsed.subject,
            "[KL-2026-0042] Ontvangstbevestiging: Examen ✓"
        );
        assert_eq!(
            parsed.automation.auto_submitted.as_deref(),
            Some("auto-replied")
        );
        assert_eq!(
            parsed.automation.suppress_auto_response.as_deref(),
            Some("all")
        );
        assert!(parsed.text.contains("Ontvangen."));
    }

    #[test]
    fn a_mail_to_one_recipient_with_a_secret_carries_a_token_that_proves_the_recipient() {
        let r = Reference::new(2026, 42).unwrap();
        let to = EmailAddress::parse("Jan@Concreet.nl").unwrap();
        let secret = b"0123456789abcdef-test-secret";
        let id = new_message_id(Some(r), Some(&to), "bot.concreet.nl", Some(secret));
        let (local, domain) = id.as_ref().rsplit_once('@').unwrap();
        assert_eq!(domain, "bot.concreet.nl");
        let parts: Vec<&str> = local.split('.').collect();
        assert_eq!(parts.len(), 4, "{id}");
        assert_eq!(&parts[..2], ["kb", "KL-2026-0042"]);
        assert!(parts[2..].iter().all(|p| p.len() == 16));
        assert!(crate::auth::token_proves(
            &[id],
            r,
            &to,
            "bot.concreet.nl",
            secret
        ));
    }

    #[test]
    fn without_a_secret_recipient_or_reference_the_id_has_the_old_form() {
        let r = Reference::new(2026, 42).ok();
        let to = EmailAddress::parse("jan@concreet.nl").unwrap();
        let secret: &[u8] = b"0123456789abcdef";
        let dots = |id: MessageId| id.as_ref().split('@').next().unwrap().matches('.').count();
        assert_eq!(dots(new_message_id(r, Some(&to), "c.nl", None)), 2);
        assert_eq!(dots(new_message_id(r, Some(&to), "c.nl", Some(b""))), 2);
        assert_eq!(dots(new_message_id(r, None, "c.nl", Some(secret))), 2);
        assert_eq!(
            dots(new_message_id(None, Some(&to), "c.nl", Some(secret))),
            1
        );
    }
}
