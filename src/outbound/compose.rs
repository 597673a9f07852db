//! Builds complete RFC 5322 messages (lettre) with our Message-IDs and the headers that keep
//! machines from answering machines.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
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
}

/// A new Message-ID on our mail domain: `kb.<reference>.<random>@<domain>`. The reference in
/// the id lets a reply that lost its subject still find its complaint.
pub fn new_message_id(reference: Option<Reference>, domain: &str) -> MessageId {
    let random: u64 = rand::rng().random();
    let text = match reference {
        Some(r) => format!("kb.{r}.{random:016x}@{domain}"),
        None => format!("kb.{random:016x}@{domain}"),
    };
    // The parts are all header-safe, so parsing cannot fail; fall back to a fixed-shape id
    // rather than panic if the configured domain were odd.
    MessageId::parse(&text).unwrap_or_else(|_| fallback_id(random))
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
    let message = b
        .header(ContentType::TEXT_PLAIN)
        .body(draft.body.to_string())?;
    Ok(message.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_mail_carries_threading_and_anti_loop_headers() {
        let from = EmailAddress::parse("klantenservice@concreet.nl").unwrap();
        let to = vec![EmailAddress::parse("klaas@klant.nl").unwrap()];
        let parent = MessageId::parse("<abc@klant.nl>").unwrap();
        let id = new_message_id(Reference::new(2026, 42).ok(), "concreet.nl");
        assert!(id.as_ref().starts_with("kb.KL-2026-0042."));
        let draft = Draft {
            from: ("Klantenservice Concreet", &from),
            to: &to,
            subject: "[KL-2026-0042] Ontvangstbevestiging: Examen ✓",
            body: "Beste Klaas,\n\nOntvangen.\n",
            in_reply_to: Some(&parent),
            references: std::slice::from_ref(&parent),
            auto_reply: true,
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
}
