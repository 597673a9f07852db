//! Staff forward customers' mail: every real-world forward in `testdata/corpus/forwards/`
//! that names its original sender (inline header or attached message) becomes that sender's
//! complaint, with the staff member recorded as who received it. And command mails: the
//! same command mail delivered twice applies once.

mod common;

use common::*;
use klachtenbot::domain::EmailAddress;
use klachtenbot::intake::Outcome;

const STAFF: &str = "kees@concreet.test";

/// The corpus message as if a staff member forwarded it to us: the top-level From becomes
/// the staff member, list and automation headers (which a personal forward does not carry)
/// go, and the subject gets a forward prefix when it has none.
fn as_staff_forward(raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut fields: Vec<String> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.push('\n');
                last.push_str(line);
            }
        } else {
            fields.push(line.to_string());
        }
    }
    let drop = [
        "from:",
        "sender:",
        "reply-to:",
        "return-path:",
        "precedence:",
        "auto-submitted:",
        "list-",
        "errors-to:",
        "x-",
    ];
    let mut out: Vec<String> = fields
        .into_iter()
        .filter(|f| !drop.iter().any(|d| f.to_ascii_lowercase().starts_with(d)))
        .map(|f| {
            let lower = f.to_ascii_lowercase();
            if lower.starts_with("subject:")
                && ![
                    "subject: fw",
                    "subject: fwd",
                    "subject: doorst",
                    "subject: wg",
                ]
                .iter()
                .any(|p| lower.starts_with(p))
            {
                format!("Subject: Fwd: {}", f[8..].trim())
            } else {
                f
            }
        })
        .collect();
    if !out
        .iter()
        .any(|f| f.to_ascii_lowercase().starts_with("subject:"))
    {
        out.push("Subject: Fwd: (doorgestuurd)".into());
    }
    out.insert(0, format!("From: Kees Collega <{STAFF}>"));
    format!("{}\n\n{body}", out.join("\n"))
        .replace('\n', "\r\n")
        .into_bytes()
}

fn expected_sender(eml: &std::path::Path, raw: &[u8]) -> Option<String> {
    let expectation =
        std::fs::read_to_string(eml.with_extension("forward.txt")).unwrap_or_default();
    let inline = expectation
        .lines()
        .find_map(|l| l.strip_prefix("from_address: "))
        .filter(|a| !a.starts_with('('))
        .map(str::to_lowercase);
    let attached = klachtenbot::intake::parse::parse(raw)
        .and_then(|m| m.attached_messages.first().cloned())
        .and_then(|inner| klachtenbot::intake::parse::parse(&inner))
        .and_then(|inner| inner.from)
        .map(|f| f.address.to_string());
    attached
        .or(inline)
        .filter(|a| EmailAddress::parse(a).is_ok())
}

#[tokio::test]
async fn every_corpus_forward_that_names_its_original_sender_becomes_that_senders_complaint() {
    let files = eml_files(&crate_dir().join("testdata/corpus/forwards"));
    assert!(
        files.len() >= 10,
        "forward fixtures missing: {}",
        files.len()
    );
    let mut checked = 0;
    for eml in files {
        let raw = std::fs::read(&eml).unwrap();
        let Some(sender) = expected_sender(&eml, &raw) else {
            continue;
        };
        // A fresh register per forward: forwards of the same original must not dedupe.
        let t = TestBot::sqlite("").await;
        let outcome = t.process(&as_staff_forward(&raw)).await;
        let Outcome::Registered(reference) = outcome else {
            panic!("{}: expected a registration, got {outcome}", eml.display());
        };
        let c = t.complaint(reference).await.complaint;
        assert_eq!(
            c.complainant.email.as_ref().map(|e| e.to_string()),
            Some(sender.clone()),
            "{}",
            eml.display()
        );
        assert_eq!(
            c.received_by.as_ref().map(|e| e.to_string()).as_deref(),
            Some(STAFF),
            "{}",
            eml.display()
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} forwards named their sender");
}

#[tokio::test]
async fn the_same_command_mail_delivered_twice_applies_once() {
    let t = TestBot::sqlite("").await;
    let reference = t
        .register(&TestMail::new(
            "klaas@klant.test",
            "Boek kwijt",
            "<c1@klant.test>",
        ))
        .await;
    let command = TestMail::new(
        OFFICER,
        &format!("[{reference}] #toewijzen jan@concreet.test"),
        "<cmd1@concreet.test>",
    );
    let first = t.process(&command.bytes()).await;
    assert!(
        matches!(first, Outcome::Commanded { applied: true, .. }),
        "{first}"
    );
    assert_eq!(t.process(&command.bytes()).await, Outcome::Duplicate);
    let commands = t
        .timeline(reference)
        .await
        .into_iter()
        .filter(|e| e.kind == "command")
        .count();
    assert_eq!(commands, 1);
    let assignments = t
        .outbox()
        .await
        .into_iter()
        .filter(|o| o.kind == "assignment")
        .count();
    assert_eq!(assignments, 1);
}

#[tokio::test]
async fn commands_apply_all_or_none_and_the_sender_is_told_why() {
    let t = TestBot::sqlite("").await;
    let reference = t
        .register(&TestMail::new(
            "klaas@klant.test",
            "Boek kwijt",
            "<c2@klant.test>",
        ))
        .await;
    // #akkoord is refused (no proposal pending), so #toewijzen must not apply either.
    let command = TestMail::new(
        OFFICER,
        &format!("[{reference}] #toewijzen jan@concreet.test #akkoord"),
        "<cmd2@concreet.test>",
    );
    let outcome = t.process(&command.bytes()).await;
    assert!(
        matches!(outcome, Outcome::Commanded { applied: false, .. }),
        "{outcome}"
    );
    assert_eq!(t.complaint(reference).await.complaint.assignee, None);
    let replies: Vec<_> = t
        .outbox()
        .await
        .into_iter()
        .filter(|o| o.kind == "command_reply")
        .collect();
    assert_eq!(replies.len(), 1);
    assert!(replies[0].body.contains("#akkoord"), "{}", replies[0].body);
    assert!(
        replies[0].body.contains("#toewijzen"),
        "the reply carries the help: {}",
        replies[0].body
    );
    assert_eq!(replies[0].recipients, OFFICER);
}

#[tokio::test]
async fn staff_may_not_close_and_unknown_commands_are_answered() {
    let t = TestBot::sqlite("").await;
    let reference = t
        .register(&TestMail::new(
            "klaas@klant.test",
            "Boek kwijt",
            "<c3@klant.test>",
        ))
        .await;
    let outcome = t
        .process(
            &TestMail::new(
                STAFF,
                &format!("[{reference}] #afsluiten #vliegen"),
                "<cmd3@concreet.test>",
            )
            .bytes(),
        )
        .await;
    let Outcome::Commanded {
        applied: false,
        summary,
        ..
    } = outcome
    else {
        panic!("{outcome}")
    };
    assert!(
        summary.contains("not allowed") && summary.contains("unknown command #vliegen"),
        "{summary}"
    );
    assert_eq!(
        t.complaint(reference).await.complaint.status.as_str(),
        "acknowledged"
    );
}

#[tokio::test]
async fn rapport_mails_the_report_back_with_html_and_csv_attached() {
    let t = TestBot::sqlite("").await;
    t.register(&TestMail::new(
        "klaas@klant.test",
        "Boek kwijt",
        "<c4@klant.test>",
    ))
    .await;
    let outcome = t
        .process(&TestMail::new(OFFICER, "#rapport 2026", "<cmd4@concreet.test>").bytes())
        .await;
    assert!(
        matches!(outcome, Outcome::Commanded { applied: true, .. }),
        "{outcome}"
    );
    let reports: Vec<_> = t
        .outbox()
        .await
        .into_iter()
        .filter(|o| o.kind == "report")
        .collect();
    assert_eq!(reports.len(), 1);
    let mail = klachtenbot::intake::parse::parse(&reports[0].raw).expect("the report mail parses");
    let names: Vec<&str> = mail
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    assert_eq!(names, vec!["klachten-2026.html", "klachten-2026.csv"]);
    let html = String::from_utf8_lossy(&mail.attachments[0].data);
    assert!(html.contains("<svg"), "the HTML carries its charts");
    assert!(
        !html.contains("klaas@klant.test"),
        "no personal data without --with-names"
    );
}

#[tokio::test]
async fn a_measure_is_recorded_and_its_status_changed_by_mail() {
    use sqlx::Row;
    let t = TestBot::sqlite("").await;
    let recorded = t
        .process(
            &TestMail::new(OFFICER, "#maatregel", "<m1@concreet.test>")
                .body("Adrescontrole bij elke bestelling.")
                .bytes(),
        )
        .await;
    let Outcome::Commanded {
        applied: true,
        summary,
        ..
    } = recorded
    else {
        panic!("{recorded}")
    };
    assert!(summary.contains("measure 1 recorded"), "{summary}");
    let changed = t
        .process(&TestMail::new(OFFICER, "#maatregel 1 uitgevoerd", "<m2@concreet.test>").bytes())
        .await;
    let Outcome::Commanded {
        applied: true,
        summary,
        ..
    } = changed
    else {
        panic!("{changed}")
    };
    assert!(summary.contains("measure 1 is now done"), "{summary}");
    let row = sqlx::query("SELECT text, status FROM measures")
        .fetch_one(t.bot.store.pool())
        .await
        .unwrap();
    assert_eq!(
        row.try_get::<String, _>(0).unwrap(),
        "Adrescontrole bij elke bestelling."
    );
    assert_eq!(row.try_get::<String, _>(1).unwrap(), "done");
}

#[tokio::test]
async fn a_staff_members_hashtag_that_is_no_command_is_plain_text() {
    let t = TestBot::sqlite("").await;
    let outcome = t
        .process(
            &TestMail::new(STAFF, "Printer #urgent kapot", "<s1@concreet.test>")
                .body("De printer doet het niet.")
                .bytes(),
        )
        .await;
    assert!(matches!(outcome, Outcome::Registered(_)), "{outcome}");
}
