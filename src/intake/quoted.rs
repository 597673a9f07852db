//! The references our own mail carries when someone quotes or attaches it: an autoresponder
//! that answers our acknowledgement without our headers and without the reference in its
//! subject still quotes our text ("Uw klacht is geregistreerd onder KL-2026-0042") or
//! attaches our headers (a bounce's `text/rfc822-headers`, with our Message-ID
//! `kb.KL-2026-0042...@our.domain`). Pure; the caller checks that the sender is a party.

use super::parse::InboundMail;
use super::strip;
use crate::domain::Reference;

/// The references found in the quoted part of the text and in attached messages or
/// headers, in order of appearance, without repeats. The author's own new text is not
/// searched: a customer who mentions an old reference in a new mail is not quoting us.
pub fn quoted_references(mail: &InboundMail) -> Vec<Reference> {
    let mut found: Vec<Reference> = Vec::new();
    let stripped = strip::new_text(&mail.text);
    if stripped.quote_found {
        let new_lines: Vec<&str> = stripped.text.lines().map(str::trim).collect();
        let quoted: String = mail
            .text
            .lines()
            .filter(|l| !new_lines.contains(&l.trim()))
            .collect::<Vec<_>>()
            .join("\n");
        found.extend(Reference::find_all(&quoted));
    }
    for raw in &mail.attached_messages {
        found.extend(Reference::find_all(&String::from_utf8_lossy(raw)));
    }
    for a in &mail.attachments {
        if a.content_type.starts_with("text/rfc822-headers")
            || a.content_type.starts_with("message/")
        {
            found.extend(Reference::find_all(&String::from_utf8_lossy(&a.data)));
        }
    }
    let mut unique = Vec::new();
    for r in found {
        if !unique.contains(&r) {
            unique.push(r);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::parse::parse;

    fn refs(raw: &str) -> Vec<String> {
        let m = parse(raw.replace('\n', "\r\n").as_bytes()).unwrap();
        quoted_references(&m)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_reference_in_quoted_text_is_found() {
        let raw = "From: a@b.nl\nSubject: Re: uw bericht\n\nIk ben afwezig.\n\n> Uw klacht is geregistreerd onder KL-2026-0042.\n";
        assert_eq!(refs(raw), ["KL-2026-0042"]);
    }

    #[test]
    fn a_reference_in_the_new_text_is_not_a_quote() {
        let raw =
            "From: a@b.nl\nSubject: Nieuwe klacht\n\nNet als bij KL-2026-0042 is het weer mis.\n";
        assert!(refs(raw).is_empty());
    }

    #[test]
    fn our_message_id_in_attached_headers_is_found() {
        let raw = "From: MAILER-DAEMON@x.nl\nSubject: failure notice\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <kb.KL-2026-0007.ack@concreet.nl>\nSubject: Ontvangstbevestiging\n--b--\n";
        assert_eq!(refs(raw), ["KL-2026-0007"]);
    }
}
