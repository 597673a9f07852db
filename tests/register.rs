//! What the register does with mail, through `intake::process`, on SQLite on disk and on
//! PostgreSQL. Each behaviour is one generic async fn; `on_both_backends!` runs it as
//! `<behaviour>::on_sqlite` and `<behaviour>::on_postgres`.
//!
//! PostgreSQL: a fresh database per test on 127.0.0.1:5432 (see `common`); when the server
//! is not reachable the PostgreSQL variants fail, unless `KLACHTENBOT_SKIP_POSTGRES=1`.

mod common;

use common::{Backend, OFFICER, SERVICE, TestBot, TestMail, dutch_date};
use jiff::{SignedDuration, Timestamp};
use klachtenbot::clock::Clock;
use klachtenbot::domain::{Reference, Status};
use klachtenbot::intake::Outcome;
use mail_parser::MessageParser;
use rand::{RngCore, SeedableRng};

macro_rules! on_both_backends {
    ($($name:ident $(with $extra:literal)?),* $(,)?) => {$(
        mod $name {
            use super::*;

            #[tokio::test]
            async fn on_sqlite() {
                if let Some(t) = TestBot::on(Backend::Sqlite, concat!("" $(, $extra)?)).await {
                    super::$name(t).await;
                }
            }

            #[tokio::test]
            async fn on_postgres() {
                if let Some(t) = TestBot::on(Backend::Postgres, concat!("" $(, $extra)?)).await {
                    super::$name(t).await;
                }
            }
        }
    )*};
}

on_both_backends!(
    a_new_complaint_gets_the_next_reference_of_its_year_in_amsterdam_time,
    the_acknowledgement_is_threaded_marked_automatic_and_names_the_explain_by_date,
    a_reply_with_the_reference_in_the_subject_is_a_follow_up_without_a_second_acknowledgement,
    a_reply_naming_only_the_acknowledgement_in_in_reply_to_joins_the_same_complaint,
    a_mail_naming_the_reference_from_a_stranger_is_flagged_and_not_added,
    an_out_of_office_gets_no_answer_and_is_recorded_as_suppressed,
    mail_from_our_own_address_is_a_loop_and_gets_no_answer,
    auto_submitted_no_is_treated_as_a_person,
    x_auto_response_suppress_alone_still_gets_an_acknowledgement,
    the_fourth_complaint_from_one_sender_within_24_hours_gets_no_acknowledgement,
    the_same_message_processed_twice_changes_nothing,
    a_message_without_message_id_deduplicates_by_its_bytes,
    garbage_bytes_are_stored_and_flagged_and_the_call_succeeds,
    a_message_over_the_size_limit_is_stored_raw_and_flagged_too_large with "[limits]\nmax_message_bytes = 4096\n",
    attachments_are_kept_under_safe_names,
    the_same_message_with_other_line_endings_is_a_duplicate,
    a_message_stored_before_a_crash_is_interpreted_on_its_next_delivery,
    a_complaint_with_a_nul_character_in_its_text_is_registered,
    a_bounce_of_our_acknowledgement_is_flagged_for_the_officer,
    an_outbox_row_is_claimed_by_one_sender_only_until_its_lease_ends,
);

/// Two bots on one database: the first claim of a due row wins; the row is hidden from
/// everyone until the lease ends, then due again (a crashed claimer's mail is retried).
async fn an_outbox_row_is_claimed_by_one_sender_only_until_its_lease_ends(t: TestBot) {
    use klachtenbot::store::outbox;
    t.register(&klaas_complaint()).await;
    let row = t
        .outbox()
        .await
        .into_iter()
        .next()
        .expect("an acknowledgement row");
    let now = t.clock.now();
    let lease = now + SignedDuration::from_mins(5);
    let mut conn = t.bot.store.pool().acquire().await.unwrap();
    assert!(
        outbox::claim_attempt(&mut conn, row.id, now, lease, "a")
            .await
            .unwrap()
    );
    assert!(
        !outbox::claim_attempt(&mut conn, row.id, now, lease, "a")
            .await
            .unwrap(),
        "claimed twice"
    );
    assert!(
        outbox::due(&mut conn, now, 10).await.unwrap().is_empty(),
        "a claimed row is not due"
    );
    let after = lease + SignedDuration::from_secs(1);
    assert_eq!(
        outbox::due(&mut conn, after, 10).await.unwrap().len(),
        1,
        "due again after the lease"
    );
    assert!(
        outbox::claim_attempt(
            &mut conn,
            row.id,
            after,
            after + SignedDuration::from_mins(5),
            "b"
        )
        .await
        .unwrap()
    );
    let attempts = outbox::list(&mut conn, None, None).await.unwrap()[0].attempts;
    assert_eq!(attempts, 2);
}

const KLAAS: &str = "Klaas Klant <klaas@klant.example>";
const KLAAS_ADDRESS: &str = "klaas@klant.example";

fn klaas_complaint() -> TestMail {
    TestMail::new(KLAAS, "Examen niet ontvangen", "vraag-1@klant.example")
}

fn reference(year: i16, number: u32) -> Reference {
    Reference::new(year, number).expect("valid reference")
}

async fn a_new_complaint_gets_the_next_reference_of_its_year_in_amsterdam_time(t: TestBot) {
    // 23:30 on New Year's Eve in Amsterdam is still 2025 there...
    t.clock.set("2025-12-31T22:30:00Z".parse().unwrap());
    let first = TestMail::new("a@klant.example", "Levering te laat", "a1@klant.example");
    assert_eq!(t.register(&first).await, reference(2025, 1));
    // ...and 00:30 is 2026, while it is still 2025 in UTC: a new year, numbered from 1.
    t.clock.set("2025-12-31T23:30:00Z".parse().unwrap());
    let second = TestMail::new("b@klant.example", "Factuur klopt niet", "b1@klant.example");
    assert_eq!(t.register(&second).await, reference(2026, 1));
    let third = TestMail::new("c@klant.example", "Verkeerd boek", "c1@klant.example");
    assert_eq!(t.register(&third).await, reference(2026, 2));

    let stored = t.complaint(reference(2026, 2)).await.complaint;
    assert_eq!(
        stored.complainant.email.as_ref().map(AsRef::as_ref),
        Some("c@klant.example")
    );
    assert_eq!(stored.subject, "Verkeerd boek");
    assert_eq!(stored.status, Status::Acknowledged);
    assert_eq!(t.complaint_count().await, 3);
}

async fn the_acknowledgement_is_threaded_marked_automatic_and_names_the_explain_by_date(
    t: TestBot,
) {
    let r = t.register(&klaas_complaint()).await;
    assert_eq!(r, reference(2026, 1));
    let acks = t.acknowledgements().await;
    assert_eq!(acks.len(), 1, "one acknowledgement: {acks:?}");
    let ack = &acks[0];
    assert_eq!(ack.recipients, KLAAS_ADDRESS);
    assert_eq!(
        ack.subject,
        "[KL-2026-0001] Ontvangstbevestiging: Examen niet ontvangen"
    );
    assert_eq!(ack.status, "pending");
    assert!(
        ack.message_id.ends_with("@concreet.test"),
        "Message-ID {}",
        ack.message_id
    );

    let mail = MessageParser::default()
        .parse(&ack.raw)
        .expect("the outbox row holds a mail");
    let header = |name: &str| -> String {
        let value = mail
            .header_raw(name.to_string())
            .map(|v| v.trim().to_string());
        value.unwrap_or_else(|| panic!("no {name} header"))
    };
    assert_eq!(header("Auto-Submitted"), "auto-replied");
    assert_eq!(header("X-Auto-Response-Suppress"), "All");
    assert_eq!(header("In-Reply-To"), "<vraag-1@klant.example>");
    assert_eq!(header("Message-ID"), format!("<{}>", ack.message_id));
    assert_eq!(mail.subject(), Some(ack.subject.as_str()));
    assert!(header("From").contains(SERVICE), "From: {}", header("From"));
    assert!(header("To").contains(KLAAS_ADDRESS), "To: {}", header("To"));

    // Explanation within 2 weeks of receipt (Monday 2 March 2026): Monday 16 March 2026.
    let c = t.complaint(r).await.complaint;
    let start: Timestamp = common::START.parse().unwrap();
    assert_eq!(c.received_at, start);
    assert_eq!(dutch_date(c.deadlines.explain_by), "maandag 16 maart 2026");
    let body = mail.body_text(0).expect("a text body");
    assert!(
        body.contains("maandag 16 maart 2026"),
        "explain-by date missing from:\n{body}"
    );
    assert!(
        body.contains("KL-2026-0001"),
        "reference missing from:\n{body}"
    );
    assert_eq!(c.status, Status::Acknowledged);
    assert_eq!(c.deadlines.acknowledged_at, Some(start));
}

async fn a_reply_with_the_reference_in_the_subject_is_a_follow_up_without_a_second_acknowledgement(
    t: TestBot,
) {
    let r = t.register(&klaas_complaint()).await;
    let prefixes = ["Antw: RE[2]: ", "AW: ", "Doorst: ", "Re: "];
    for (i, prefix) in prefixes.iter().enumerate() {
        let subject = format!("{prefix}[KL-2026-0001] Ontvangstbevestiging: Examen niet ontvangen");
        // The complainant's client may write the address in another case.
        let from = if i % 2 == 0 {
            KLAAS
        } else {
            "KLAAS@Klant.Example"
        };
        let reply = TestMail::new(from, &subject, &format!("antw-{i}@klant.example"))
            .body(&format!("Aanvulling {i}: het ging om bestelling 4711.\n"));
        assert_eq!(
            t.process(&reply.bytes()).await,
            Outcome::FollowUp(r),
            "subject {subject:?}"
        );
    }
    assert_eq!(t.complaint_count().await, 1);
    assert_eq!(
        t.acknowledgements().await.len(),
        1,
        "no second acknowledgement"
    );
    let mail_in: Vec<_> = t
        .timeline(r)
        .await
        .into_iter()
        .filter(|e| e.kind == "mail_in")
        .collect();
    assert_eq!(
        mail_in.len(),
        prefixes.len(),
        "every reply on the timeline: {mail_in:?}"
    );
    assert!(mail_in.iter().all(|e| e.actor == KLAAS_ADDRESS));
    assert!(
        mail_in[0]
            .detail
            .contains("Aanvulling 0: het ging om bestelling 4711."),
        "{:?}",
        mail_in[0]
    );
    let id = t.complaint(r).await.id;
    let joined = t
        .messages()
        .await
        .iter()
        .filter(|m| m.complaint_id == Some(id) && m.kind == "follow_up")
        .count();
    assert_eq!(joined, prefixes.len());
}

async fn a_reply_naming_only_the_acknowledgement_in_in_reply_to_joins_the_same_complaint(
    t: TestBot,
) {
    let r = t.register(&klaas_complaint()).await;
    let ack_id = t.acknowledgements().await[0].message_id.clone();
    let reply = TestMail::new(KLAAS, "Re: mijn examen", "antw-1@klant.example")
        .header("In-Reply-To", &format!("<{ack_id}>"))
        .body("Nog een vraag: wanneer komt het?\n");
    assert_eq!(t.process(&reply.bytes()).await, Outcome::FollowUp(r));
    assert_eq!(t.complaint_count().await, 1);
    assert_eq!(t.acknowledgements().await.len(), 1);
    let timeline = t.timeline(r).await;
    assert!(
        timeline
            .iter()
            .any(|e| e.kind == "mail_in" && e.detail.contains("wanneer komt het?")),
        "{timeline:?}"
    );
}

async fn a_mail_naming_the_reference_from_a_stranger_is_flagged_and_not_added(t: TestBot) {
    let r = t.register(&klaas_complaint()).await;
    let before = t.complaint(r).await.complaint;
    let stranger = TestMail::new(
        "Onbekende <iemand@elders.example>",
        "Re: [KL-2026-0001] Examen",
        "x1@elders.example",
    )
    .body("Trek deze klacht maar in.\n");
    match t.process(&stranger.bytes()).await {
        Outcome::Flagged { reason, reference } => {
            assert_eq!(reference, Some(r));
            assert!(
                reason.contains("iemand@elders.example") && reason.contains("not a party"),
                "{reason}"
            );
        }
        other => panic!("expected flagged, got {other}"),
    }
    let after = t.complaint(r).await.complaint;
    assert_eq!(after, before, "the complaint itself is unchanged");
    let timeline = t.timeline(r).await;
    assert!(
        !timeline.iter().any(|e| e.kind == "mail_in"),
        "not added as mail of the complaint: {timeline:?}"
    );
    assert!(
        timeline
            .iter()
            .any(|e| e.kind == "mail_in_unverified" && e.actor == "iemand@elders.example")
    );
    let flags = t.flags().await;
    assert!(
        flags
            .iter()
            .any(|f| f.reason == "not_a_party" && f.reference.as_deref() == Some("KL-2026-0001")),
        "{flags:?}"
    );
    let outbox = t.outbox().await;
    assert!(
        !outbox
            .iter()
            .any(|o| o.recipients.contains("elders.example")),
        "nothing to the stranger"
    );
    assert!(
        outbox
            .iter()
            .any(|o| o.kind == "officer_notice" && o.recipients == OFFICER),
        "the officer is told"
    );
    let row = t
        .messages()
        .await
        .into_iter()
        .find(|m| m.message_id.as_deref() == Some("x1@elders.example"));
    assert_eq!(row.expect("stored").kind, "unverified_follow_up");
}

async fn an_out_of_office_gets_no_answer_and_is_recorded_as_suppressed(t: TestBot) {
    let ooo = TestMail::new(
        "Piet <piet@klant.example>",
        "Afwezig tot 9 maart",
        "ooo-1@klant.example",
    )
    .header("Auto-Submitted", "auto-replied")
    .body("Ik ben afwezig tot 9 maart.\n");
    assert_eq!(
        t.process(&ooo.bytes()).await,
        Outcome::Suppressed {
            reason: "auto_reply".into(),
            reference: None
        }
    );
    assert_eq!(t.complaint_count().await, 0);
    assert!(t.outbox().await.is_empty(), "no answer, no notice");
    let rows = t.messages().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, "automated:auto_reply");
    assert_eq!(rows[0].outcome.as_deref(), Some("suppressed: auto_reply"));
    assert!(rows[0].processed_at.is_some());

    // An out-of-office answering our acknowledgement lands on the complaint's timeline only.
    let r = t.register(&klaas_complaint()).await;
    let ack_id = t.acknowledgements().await[0].message_id.clone();
    let outbox_before = t.outbox().await.len();
    let status_before = t.complaint(r).await.complaint.status;
    let ooo = TestMail::new(
        KLAAS,
        "Automatisch antwoord: [KL-2026-0001] Ontvangstbevestiging",
        "ooo-2@klant.example",
    )
    .header("Auto-Submitted", "auto-replied")
    .header("In-Reply-To", &format!("<{ack_id}>"));
    assert_eq!(
        t.process(&ooo.bytes()).await,
        Outcome::Suppressed {
            reason: "auto_reply".into(),
            reference: Some(r)
        }
    );
    assert_eq!(t.outbox().await.len(), outbox_before, "nothing sent");
    assert_eq!(t.complaint(r).await.complaint.status, status_before);
    assert!(
        t.timeline(r)
            .await
            .iter()
            .any(|e| e.kind == "mail_in" && e.detail.contains("auto_reply"))
    );
}

async fn mail_from_our_own_address_is_a_loop_and_gets_no_answer(t: TestBot) {
    let own = TestMail::new(
        &format!("Klantenservice <{SERVICE}>"),
        "Ontvangstbevestiging",
        "kb.1@concreet.test",
    )
    .header("To", SERVICE);
    match t.process(&own.bytes()).await {
        Outcome::Suppressed {
            reason,
            reference: None,
        } => assert!(reason.starts_with("loop"), "{reason}"),
        other => panic!("expected a suppressed loop, got {other}"),
    }
    assert_eq!(t.complaint_count().await, 0);
    assert!(t.outbox().await.is_empty());
    assert_eq!(t.messages().await[0].kind, "loop");
}

async fn auto_submitted_no_is_treated_as_a_person(t: TestBot) {
    let mail = klaas_complaint().header("Auto-Submitted", "no");
    let r = t.register(&mail).await;
    let acks = t.acknowledgements().await;
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].recipients, KLAAS_ADDRESS);
    assert_eq!(t.complaint(r).await.complaint.status, Status::Acknowledged);
}

async fn x_auto_response_suppress_alone_still_gets_an_acknowledgement(t: TestBot) {
    let mail = klaas_complaint().header("X-Auto-Response-Suppress", "All");
    let r = t.register(&mail).await;
    let acks = t.acknowledgements().await;
    assert_eq!(
        acks.len(),
        1,
        "a person sent it; Outlook adds this header to ordinary mail too"
    );
    assert_eq!(acks[0].recipients, KLAAS_ADDRESS);
    assert_eq!(t.complaint(r).await.complaint.status, Status::Acknowledged);
}

async fn the_fourth_complaint_from_one_sender_within_24_hours_gets_no_acknowledgement(t: TestBot) {
    let mut references = Vec::new();
    for i in 1..=4 {
        let mail = TestMail::new(
            KLAAS,
            &format!("Klacht nummer {i}"),
            &format!("k{i}@klant.example"),
        );
        references.push(t.register(&mail).await);
        t.clock.advance(SignedDuration::from_hours(1));
    }
    assert_eq!(
        references,
        (1..=4).map(|n| reference(2026, n)).collect::<Vec<_>>()
    );
    let acks = t.acknowledgements().await;
    assert_eq!(acks.len(), 3, "limit \"3 per 24h\": {acks:?}");
    assert!(!acks.iter().any(|a| a.subject.contains("KL-2026-0004")));

    let fourth = t.complaint(references[3]).await.complaint;
    assert_eq!(fourth.status, Status::New, "registered, not acknowledged");
    assert_eq!(fourth.deadlines.acknowledged_at, None);
    let timeline = t.timeline(references[3]).await;
    let said = timeline
        .iter()
        .find(|e| e.kind == "suppressed")
        .unwrap_or_else(|| panic!("{timeline:?}"));
    assert!(
        said.detail.contains("no acknowledgement") && said.detail.contains(KLAAS_ADDRESS),
        "{said:?}"
    );

    // 24 hours after the first acknowledgement only two remain in the window: answered again.
    t.clock.set("2026-03-03T09:00:01Z".parse().unwrap());
    let fifth = TestMail::new(KLAAS, "Klacht nummer 5", "k5@klant.example");
    let r5 = t.register(&fifth).await;
    assert_eq!(t.acknowledgements().await.len(), 4);
    assert_eq!(t.complaint(r5).await.complaint.status, Status::Acknowledged);
}

async fn the_same_message_processed_twice_changes_nothing(t: TestBot) {
    let raw = klaas_complaint().bytes();
    let r = t.register(&klaas_complaint()).await;
    let timeline = t.timeline(r).await.len();
    assert_eq!(t.process(&raw).await, Outcome::Duplicate);
    // Delivered again by another route: an extra Received line in front.
    let mut redelivered =
        b"Received: from mx2.klant.example by mx.concreet.test; Mon, 2 Mar 2026 10:01:00 +0100\r\n"
            .to_vec();
    redelivered.extend_from_slice(&raw);
    assert_eq!(t.process(&redelivered).await, Outcome::Duplicate);

    assert_eq!(t.complaint_count().await, 1);
    assert_eq!(
        t.outbox().await.len(),
        1,
        "one outbox row (the acknowledgement)"
    );
    assert_eq!(t.messages().await.len(), 1);
    assert_eq!(t.timeline(r).await.len(), timeline);
}

async fn a_message_without_message_id_deduplicates_by_its_bytes(t: TestBot) {
    let mail = klaas_complaint().without("Message-ID");
    let first = t.register(&mail).await;
    assert_eq!(t.process(&mail.bytes()).await, Outcome::Duplicate);
    // One byte more is another message.
    let other = mail
        .clone()
        .body("Beste klantenservice,\n\nMijn examenpakket is niet aangekomen!\n\nKlaas\n");
    let second = t.register(&other).await;
    assert_ne!(first, second);
    let rows = t.messages().await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|m| m.message_id.is_none()));
    assert_eq!(t.acknowledgements().await.len(), 2);
}

async fn garbage_bytes_are_stored_and_flagged_and_the_call_succeeds(t: TestBot) {
    let mut random = vec![0u8; 1024];
    rand::rngs::StdRng::seed_from_u64(20260302).fill_bytes(&mut random);
    let no_headers = b"\r\n\r\nIk heb geen kopregels, alleen tekst.\r\n".to_vec();
    let half_header = b"From\r\nSubject\r\n\r\n".to_vec();
    for raw in [random, no_headers, half_header] {
        match t.process(&raw).await {
            Outcome::Flagged {
                reference: None, ..
            } => {}
            other => panic!(
                "expected flagged for {:?}, got {other}",
                String::from_utf8_lossy(&raw[..raw.len().min(40)])
            ),
        }
        let rows = t.messages().await;
        let row = rows
            .iter()
            .find(|m| m.raw == raw)
            .expect("the exact bytes are stored");
        assert!(row.processed_at.is_some());
        assert!(
            t.flags().await.iter().any(|f| f.message_id == Some(row.id)),
            "a flag for message {}",
            row.id
        );
    }
    assert_eq!(t.complaint_count().await, 0);
    assert!(t.acknowledgements().await.is_empty());
    assert!(
        t.outbox()
            .await
            .iter()
            .all(|o| o.kind == "officer_notice" && o.recipients == OFFICER)
    );
}

async fn a_message_over_the_size_limit_is_stored_raw_and_flagged_too_large(t: TestBot) {
    let fits = |size: usize, id: &str| {
        let mut mail = TestMail::new(KLAAS, "Grote bijlage", id).body("");
        let base = mail.bytes().len();
        mail = mail.body(&"x".repeat(size - base));
        let raw = mail.bytes();
        assert_eq!(raw.len(), size);
        raw
    };
    // Exactly at the limit is fine.
    let at_limit = fits(4096, "groot-1@klant.example");
    assert!(matches!(t.process(&at_limit).await, Outcome::Registered(_)));

    let too_big = fits(4097, "groot-2@klant.example");
    match t.process(&too_big).await {
        Outcome::Flagged {
            reason,
            reference: None,
        } => assert!(reason.starts_with("too large"), "{reason}"),
        other => panic!("expected flagged too large, got {other}"),
    }
    let rows = t.messages().await;
    let row = rows
        .iter()
        .find(|m| m.sha256 == common::sha256_hex(&too_big))
        .expect("stored");
    assert_eq!(row.raw, too_big, "stored byte for byte");
    assert_eq!(row.kind, "too_large");
    assert!(
        t.flags()
            .await
            .iter()
            .any(|f| f.reason == "too_large" && f.message_id == Some(row.id))
    );
    assert_eq!(t.complaint_count().await, 1);
    assert_eq!(
        t.acknowledgements().await.len(),
        1,
        "only the one that fits is answered"
    );
}

async fn attachments_are_kept_under_safe_names(t: TestBot) {
    let body = "--grens\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n\
Zie bijlage.\r\n\
--grens\r\n\
Content-Type: application/x-sh\r\n\
Content-Disposition: attachment; filename=\"../../evil.sh\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n\
IyEvYmluL3NoCmVjaG8gcHduZWQK\r\n\
--grens\r\n\
Content-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"C:\\\\Users\\\\klaas\\\\scan.pdf\"\r\n\r\n\
%PDF-1.4 nep\r\n\
--grens--\r\n";
    let mail = klaas_complaint()
        .header("Content-Type", "multipart/mixed; boundary=\"grens\"")
        .body(body);
    let r = t.register(&mail).await;
    let kept = t.attachments().await;
    let names: Vec<&str> = kept.iter().map(|a| a.1.as_str()).collect();
    assert_eq!(names, ["evil.sh", "scan.pdf"]);
    assert_eq!(kept[0].3, b"#!/bin/sh\necho pwned\n");
    assert_eq!(kept[0].2, "application/x-sh");
    let id = t.complaint(r).await.id;
    let message = t
        .messages()
        .await
        .into_iter()
        .find(|m| m.complaint_id == Some(id))
        .expect("stored");
    assert!(kept.iter().all(|a| a.0 == message.id));
    assert_eq!(t.complaint(r).await.complaint.description, "Zie bijlage.");
}

async fn the_same_message_with_other_line_endings_is_a_duplicate(t: TestBot) {
    // The MTA pipe hands over LF line ends, IMAP (and a replay of the quarantine) CRLF; a
    // folded From header must not make them two messages.
    let lf = "From: \"Klaas Klant, afdeling inkoop van Stichting Scholengroep Noord\"\n <klaas@klant.example>\n\
To: klantenservice@concreet.test\nSubject: Examen niet ontvangen\nMessage-ID: <gevouwen-1@klant.example>\n\
Date: Mon, 2 Mar 2026 09:55:00 +0100\n\nMijn examenpakket is niet aangekomen.\n";
    let crlf = lf.replace('\n', "\r\n");
    assert!(matches!(
        t.process(lf.as_bytes()).await,
        Outcome::Registered(_)
    ));
    assert_eq!(t.process(crlf.as_bytes()).await, Outcome::Duplicate);
    assert_eq!(t.complaint_count().await, 1);
    assert_eq!(t.acknowledgements().await.len(), 1);
}

async fn a_message_stored_before_a_crash_is_interpreted_on_its_next_delivery(t: TestBot) {
    // Step 1 of the door committed (raw stored), step 2 never ran: the row is unclaimed.
    let raw = klaas_complaint().bytes();
    let mail = klachtenbot::intake::parse::parse(&raw).expect("parses");
    let key = klachtenbot::intake::dedupe_key(&raw, Some(&mail));
    let sha = common::sha256_hex(&raw);
    let record = klachtenbot::store::messages::RawMessage {
        dedupe_key: &key,
        message_id: Some("vraag-1@klant.example"),
        sha256: &sha,
        raw: &raw,
        source: "pipe",
        received_at: t.clock.now(),
    };
    let mut conn = t.bot.store.pool().acquire().await.unwrap();
    klachtenbot::store::messages::store_raw(&mut conn, &record)
        .await
        .expect("store raw");
    drop(conn);

    assert_eq!(
        t.process(&raw).await,
        Outcome::Registered(reference(2026, 1))
    );
    assert_eq!(t.messages().await.len(), 1, "the stored row is reused");
    assert_eq!(t.acknowledgements().await.len(), 1);
    assert_eq!(t.process(&raw).await, Outcome::Duplicate);
}

async fn a_complaint_with_a_nul_character_in_its_text_is_registered(t: TestBot) {
    // Broken clients and HTML entities (&#0;) put U+0000 in a text body; PostgreSQL TEXT
    // cannot hold it, SQLite can. The complaint must be registered on both.
    let plain = klaas_complaint().body("Beste,\n\nDe factuur toont \0 als bedrag.\n");
    match t.process(&plain.bytes()).await {
        Outcome::Registered(r) => {
            let description = t.complaint(r).await.complaint.description;
            assert!(
                description.contains("De factuur toont") && description.contains("als bedrag."),
                "{description:?}"
            );
        }
        other => panic!("expected registered, got {other}"),
    }
    let html = TestMail::new(KLAAS, "HTML met nul", "html-nul@klant.example")
        .header("Content-Type", "text/html; charset=utf-8")
        .body("<p>Bedrag: &#0; euro</p>\n");
    assert!(matches!(
        t.process(&html.bytes()).await,
        Outcome::Registered(_)
    ));
    assert_eq!(t.acknowledgements().await.len(), 2);
}

async fn a_bounce_of_our_acknowledgement_is_flagged_for_the_officer(t: TestBot) {
    let r = t.register(&klaas_complaint()).await;
    let subject = "Undeliverable: [KL-2026-0001] Ontvangstbevestiging: Examen niet ontvangen";
    // An RFC 3464 report, and an Exchange 2003 NDR (text only, from postmaster@, envelope
    // from MAILER-DAEMON@) as in testdata/corpus/bounces/sisimai-lhost-exchange2003-02.eml.
    let dsn = TestMail::new("postmaster@klant.example", subject, "ndr-1@klant.example")
        .header("Return-Path", "<>")
        .header(
            "Content-Type",
            "multipart/report; report-type=delivery-status; boundary=\"b\"",
        )
        .body(
            "--b\nContent-Type: text/plain\n\nDelivery has failed to klaas@klant.example\n\
--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.klant.example\n\n\
Final-Recipient: rfc822; klaas@klant.example\nAction: failed\nStatus: 5.1.1\n--b--\n",
        );
    let exchange = TestMail::new("postmaster@klant.example", subject, "ndr-2@klant.example")
        .header("Return-Path", "<MAILER-DAEMON@klant.example>")
        .body(
            "Your message did not reach some or all of the intended recipients.\n\n\
      The following recipient(s) could not be reached:\n\n      klaas@klant.example\n",
        );
    for (i, ndr) in [dsn, exchange].iter().enumerate() {
        let outcome = t.process(&ndr.bytes()).await;
        let expected = Outcome::Suppressed {
            reason: "bounce".into(),
            reference: Some(r),
        };
        assert_eq!(outcome, expected, "bounce {i}");
        let bounce_flags = t
            .flags()
            .await
            .into_iter()
            .filter(|f| f.reason == "bounce")
            .count();
        assert_eq!(
            bounce_flags,
            i + 1,
            "the officer must learn that the acknowledgement bounced"
        );
    }
    assert_eq!(
        t.acknowledgements().await.len(),
        1,
        "a bounce is never answered"
    );
}
