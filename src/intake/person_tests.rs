use super::*;
use crate::intake::parse::parse;

fn mail(raw: &str) -> InboundMail {
    parse(raw.replace('\n', "\r\n").as_bytes()).unwrap()
}

fn speaker_of(raw: &str) -> Speaker {
    let m = mail(raw);
    let from = m.from.clone().unwrap();
    let own = EmailAddress::parse("klachten@concreet.nl").unwrap();
    speaker(&m, &from, &[&own])
}

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

#[test]
fn a_person_writing_themselves_is_direct() {
    let s = speaker_of("From: Klaas <klaas@klant.nl>\nReply-To: k2@klant.nl\n\nHoi");
    assert!(matches!(s, Speaker::Direct(m) if m.address == addr("klaas@klant.nl")));
}

#[test]
fn a_contact_form_with_reply_to_speaks_for_that_person() {
    let s = speaker_of(
        "From: Website <noreply@concreet.nl>\nReply-To: Anna de Vries <anna@example.nl>\nSubject: Contactformulier\n\nNaam: Anna de Vries\nTelefoon: 06-12345678\nBericht: Mijn boek kwam beschadigd aan.",
    );
    let Speaker::OnBehalf {
        person,
        relay,
        found_in,
    } = s
    else {
        panic!("{s:?}");
    };
    assert_eq!(person.email, Some(addr("anna@example.nl")));
    assert_eq!(person.name.as_deref(), Some("Anna de Vries"));
    assert_eq!(person.phone.as_deref(), Some("06-12345678"));
    assert_eq!(relay, addr("noreply@concreet.nl"));
    assert_eq!(found_in, "reply-to");
}

#[test]
fn labelled_body_lines_name_the_person_when_there_is_no_reply_to() {
    let s = speaker_of(
        "From: formulier@concreet.nl\nSubject: Klacht via website\n\nNaam: Piet Jansen\nE-mail: piet@example.nl\n\nBericht:\nTe laat geleverd.",
    );
    let Speaker::OnBehalf {
        person, found_in, ..
    } = s
    else {
        panic!("{s:?}");
    };
    assert_eq!(person.email, Some(addr("piet@example.nl")));
    assert_eq!(person.name.as_deref(), Some("Piet Jansen"));
    assert_eq!(found_in, "body");
}

#[test]
fn an_html_only_form_with_a_table_is_read() {
    let s = speaker_of(
        "From: website@shop.nl\nSubject: Nieuw bericht\nContent-Type: text/html; charset=utf-8\n\n<table><tr><td>Naam</td></tr><tr><td>Els Bakker</td></tr><tr><td>E-mailadres</td></tr><tr><td><a href=\"mailto:els@example.nl\">els@example.nl</a></td></tr></table><p>Klacht: de doos was kapot.</p>",
    );
    let Speaker::OnBehalf { person, .. } = s else {
        panic!("{s:?}");
    };
    assert_eq!(person.email, Some(addr("els@example.nl")));
    assert_eq!(person.name.as_deref(), Some("Els Bakker"));
}

#[test]
fn a_no_reply_sender_naming_nobody_is_unanswerable() {
    let s = speaker_of("From: Bank <noreply@bank.nl>\nSubject: Uw klacht\n\nIk ben boos.");
    assert!(matches!(s, Speaker::Unanswerable(m) if m.address == addr("noreply@bank.nl")));
}

#[test]
fn a_reply_to_of_our_own_or_of_another_no_reply_address_names_nobody() {
    let s = speaker_of("From: noreply@x.nl\nReply-To: klachten@concreet.nl\n\nTekst");
    assert!(matches!(s, Speaker::Unanswerable(_)));
    let s = speaker_of("From: noreply@x.nl\nReply-To: no-reply@x.nl\n\nTekst");
    assert!(matches!(s, Speaker::Unanswerable(_)));
}

#[test]
fn a_form_address_without_a_person_is_still_answered() {
    let s = speaker_of("From: website@shop.nl\n\nDe site is kapot.");
    assert!(matches!(s, Speaker::Direct(_)));
}

#[test]
fn labels_are_only_read_as_whole_labels() {
    let p =
        labelled_fields("Mijn naam is Jan en mijn e-mail doet het niet: jan@x.nl\nNaam: \n\nJan");
    assert_eq!(p.email, None);
    assert_eq!(p.name.as_deref(), Some("Jan"));
    let p = labelled_fields("E-mail: geen\nName: a@b.nl");
    assert_eq!(p.email, None);
    assert_eq!(p.name, None);
}
