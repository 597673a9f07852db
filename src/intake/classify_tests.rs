use super::*;
use crate::intake::parse::parse;

fn mail(headers: &str) -> InboundMail {
    let raw = format!("{headers}\r\n\r\nTekst.\r\n")
        .replace('\n', "\r\n")
        .replace("\r\r\n", "\r\n");
    parse(raw.as_bytes()).unwrap()
}

#[test]
fn a_plain_mail_from_a_person_is_not_automated() {
    assert_eq!(
        automated(&mail("From: klaas@klant.nl\nSubject: Klacht")),
        None
    );
}

#[test]
fn auto_submitted_no_means_a_person() {
    assert_eq!(
        automated(&mail("From: klaas@klant.nl\nAuto-Submitted: no")),
        None
    );
}

#[test]
fn auto_submitted_values_mean_a_machine() {
    assert_eq!(
        automated(&mail("From: a@b.nl\nAuto-Submitted: auto-replied")),
        Some(Automated::AutoReply)
    );
    assert_eq!(
        automated(&mail("From: a@b.nl\nAuto-Submitted: auto-generated")),
        Some(Automated::Generated)
    );
    assert_eq!(
        automated(&mail(
            "From: a@b.nl\nAuto-Submitted: Auto-Notified; owner-email=x@y"
        )),
        Some(Automated::Generated)
    );
}

#[test]
fn x_auto_response_suppress_alone_does_not_make_a_mail_automated() {
    let m = mail("From: klaas@klant.nl\nX-Auto-Response-Suppress: All");
    assert_eq!(automated(&m), None);
}

#[test]
fn out_of_office_subjects_are_auto_replies() {
    for s in [
        "Automatisch antwoord: Uw klacht",
        "Automatic reply: x",
        "Out of Office: x",
    ] {
        assert_eq!(
            automated(&mail(&format!("From: a@b.nl\nSubject: {s}"))),
            Some(Automated::AutoReply),
            "{s}"
        );
    }
    assert_eq!(
        automated(&mail("From: a@b.nl\nX-Autoreply: yes")),
        Some(Automated::AutoReply)
    );
}

#[test]
fn lists_and_bulk_are_automated_but_a_noreply_sender_alone_is_not() {
    assert_eq!(
        automated(&mail("From: a@b.nl\nList-Id: <x.lists.b.nl>")),
        Some(Automated::MailingList)
    );
    assert_eq!(
        automated(&mail("From: a@b.nl\nPrecedence: bulk")),
        Some(Automated::Bulk)
    );
    assert_eq!(automated(&mail("From: no-reply@shop.nl")), None);
    assert_eq!(
        automated(&mail("From: MAILER-DAEMON@mx.nl")),
        Some(Automated::Bounce)
    );
    assert_eq!(automated(&mail("From: noreplyjan@b.nl")), None);
}

#[test]
fn bounce_signals_win_over_auto_submitted_and_noreply() {
    let gmx = "From: MAILER-DAEMON@gmx.net\nReturn-Path: <>\nAuto-Submitted: auto-replied";
    assert_eq!(automated(&mail(gmx)), Some(Automated::Bounce));
    assert_eq!(
        automated(&mail("From: postmaster@x.nl")),
        Some(Automated::Bounce)
    );
    let exchange = "From: Systeembeheerder <beheer@x.nl>\nSubject: Undeliverable: [KL-2026-0001] x";
    assert_eq!(automated(&mail(exchange)), Some(Automated::Bounce));
}

#[test]
fn a_null_return_path_alone_is_machine_mail() {
    assert_eq!(
        automated(&mail("Return-Path: <>\nFrom: someone@x.nl")),
        Some(Automated::Generated)
    );
}

#[test]
fn our_own_address_is_a_loop() {
    let own = EmailAddress::parse("klantenservice@concreet.nl").unwrap();
    assert!(is_own(
        &mail("From: Klantenservice <KLANTENSERVICE@concreet.nl>"),
        &[&own]
    ));
    assert!(!is_own(&mail("From: klaas@klant.nl"), &[&own]));
}

#[test]
fn a_delay_warning_is_not_a_bounce() {
    let raw = "From: MAILER-DAEMON@x.nl\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nDelayed.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n\
Reporting-MTA: dns; x.nl\r\n\r\nFinal-Recipient: rfc822; a@b.nl\r\nAction: delayed\r\nStatus: 4.4.1\r\n--b--\r\n";
    let m = parse(raw.as_bytes()).unwrap();
    assert_eq!(m.automation.dsn_actions, vec!["delayed".to_string()]);
    assert_eq!(automated(&m), Some(Automated::DeliveryNotice));
    let failed = parse(raw.replace("delayed", "failed").as_bytes()).unwrap();
    assert_eq!(automated(&failed), Some(Automated::Bounce));
}
