use super::*;

#[test]
fn a_plain_mail_is_read_into_owned_fields() {
    let raw = b"From: Klaas Klant <Klaas@Klant.NL>\r\nTo: klantenservice@concreet.nl\r\n\
Subject: =?utf-8?q?Examen_niet_ontvangen_=E2=9C=93?=\r\nMessage-ID: <abc@klant.nl>\r\n\
In-Reply-To: <x1@concreet.nl>\r\nReferences: <x0@concreet.nl> <x1@concreet.nl>\r\n\
Date: Mon, 2 Mar 2026 10:00:00 +0100\r\n\r\nBeste,\r\n\r\nMijn examen is niet aangekomen.\r\n";
    let m = parse(raw).unwrap();
    assert_eq!(m.from.as_ref().unwrap().address.as_ref(), "klaas@klant.nl");
    assert_eq!(
        m.from.as_ref().unwrap().name.as_deref(),
        Some("Klaas Klant")
    );
    assert_eq!(m.subject, "Examen niet ontvangen ✓");
    assert_eq!(m.message_id.unwrap().as_ref(), "abc@klant.nl");
    assert_eq!(m.in_reply_to.len(), 1);
    assert_eq!(m.references.len(), 2);
    assert_eq!(m.date.unwrap().to_string(), "2026-03-02T09:00:00Z");
    assert!(m.text.contains("Mijn examen is niet aangekomen."));
    assert!(!m.text.contains('\r'));
    assert!(!m.html_only);
}

#[test]
fn an_html_only_mail_becomes_text() {
    let raw =
        b"From: a@b.nl\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hallo <b>daar</b></p>";
    let m = parse(raw).unwrap();
    assert!(m.html_only);
    assert!(m.text.contains("Hallo"));
    assert!(!m.text.contains("<b>"));
}

#[test]
fn leading_blank_lines_and_an_mbox_separator_are_skipped() {
    let raw = b"   \r\nFrom jan@x.nl Mon Jan  1 00:00:00 2024\r\nFrom: jan@x.nl\r\nSubject: Hoi\r\n\r\nTekst\r\n";
    let m = parse(raw).unwrap();
    assert_eq!(m.subject, "Hoi");
    assert_eq!(m.from.unwrap().address.as_ref(), "jan@x.nl");
}

#[test]
fn bare_cr_line_ends_and_nul_characters_are_read() {
    let m = parse(b"From: a@b.nl\rSubject: Hoi\r\rTekst\0 hier\r").unwrap();
    assert_eq!(m.subject, "Hoi");
    assert_eq!(m.text.trim(), "Tekst hier");
    let folded_lf = parse(b"From: Jan\n Jansen <j@x.nl>\nSubject: a\n\nx\n").unwrap();
    let folded_crlf = parse(b"From: Jan\r\n Jansen <j@x.nl>\r\nSubject: a\r\n\r\nx\r\n").unwrap();
    assert_eq!(folded_lf.from_raw, folded_crlf.from_raw);
}

#[test]
fn unsafe_file_names_are_made_safe() {
    assert_eq!(safe_filename(Some("../../etc/passwd"), 1), "passwd");
    assert_eq!(safe_filename(Some("C:\\Users\\x\\scan.pdf"), 1), "scan.pdf");
    assert_eq!(safe_filename(Some("..."), 2), "attachment-2.bin");
    assert_eq!(safe_filename(None, 3), "attachment-3.bin");
    assert_eq!(safe_filename(Some("a\u{0}b?.txt"), 1), "a_b_.txt");
    let long = format!("{}.pdf", "x".repeat(300));
    let safe = safe_filename(Some(&long), 1);
    assert!(safe.ends_with(".pdf") && safe.chars().count() <= 100);
}

#[test]
fn a_null_return_path_and_report_type_are_seen() {
    let raw = b"Return-Path: <>\r\nFrom: MAILER-DAEMON@x.nl\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n";
    let m = parse(raw).unwrap();
    assert!(m.automation.null_return_path);
    assert_eq!(m.automation.report_type.as_deref(), Some("delivery-status"));
}
