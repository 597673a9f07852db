//! Privacy commands by mail: `#inzage` mails the export to the officer, `#vergeten` erases
//! only after the officer replies to the confirmation.

mod common;

use common::privacy_story::*;
use common::*;
use klachtenbot::intake::Outcome;
use klachtenbot::privacy;

#[tokio::test]
async fn inzage_by_mail_sends_the_export_to_the_officer_not_to_the_person() {
    let t = TestBot::sqlite("").await;
    let (r, _phone) = story(&t).await;
    let command = TestMail::new(OFFICER, &format!("#inzage {MAIL}"), "a1@concreet.test");
    let outcome = t.process(&command.bytes()).await;
    let Outcome::Commanded {
        applied: true,
        summary,
        ..
    } = &outcome
    else {
        panic!("{outcome}")
    };
    assert!(summary.contains("2 complaints"), "{summary}");
    let exports: Vec<_> = t
        .outbox()
        .await
        .into_iter()
        .filter(|o| o.kind == "privacy_export")
        .collect();
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0].recipients, OFFICER);
    let raw = String::from_utf8_lossy(&exports[0].raw).into_owned();
    assert!(
        raw.contains("inzage.zip") && raw.contains("application/zip"),
        "{raw}"
    );
    assert!(exports[0].body.contains(MAIL), "{}", exports[0].body);
    // A staff member who is no officer gets nothing.
    let staff = TestMail::new(
        "kees@concreet.test",
        &format!("#inzage {MAIL}"),
        "a2@concreet.test",
    );
    let outcome = t.process(&staff.bytes()).await;
    assert!(
        matches!(outcome, Outcome::Commanded { applied: false, .. }),
        "{outcome}"
    );
    // The export mail and the command are erased with the person.
    privacy::person::erase(&t.bot, &person(), false, "os:test")
        .await
        .expect("erase");
    let dir = t.sqlite_dir().expect("sqlite").to_path_buf();
    assert_eq!(found_in(&dir), Vec::<(String, String)>::new());
    let _ = r;
}

#[tokio::test]
async fn vergeten_by_mail_erases_only_after_the_officer_replies_to_the_confirmation() {
    let t = TestBot::sqlite("").await;
    let (r, _phone) = story(&t).await;
    let before = report_2026(&t).await;
    let ask = TestMail::new(OFFICER, &format!("#vergeten {MAIL}"), "e1@concreet.test");
    let outcome = t.process(&ask.bytes()).await;
    assert!(
        matches!(outcome, Outcome::Commanded { applied: true, .. }),
        "{outcome}"
    );
    let confirm = t
        .outbox()
        .await
        .into_iter()
        .find(|o| o.kind == "privacy_erase_confirm")
        .expect("a confirmation mail");
    assert_eq!(confirm.recipients, OFFICER);
    assert!(confirm.body.contains(&r.to_string()), "{}", confirm.body);
    klachtenbot::scheduler::tick(&t.bot).await.expect("a round");
    assert!(
        t.complaint(r).await.complaint.complainant.email.is_some(),
        "not yet"
    );
    let reply = TestMail::new(
        OFFICER,
        &format!("Re: {}", confirm.subject),
        "e2@concreet.test",
    )
    .header("In-Reply-To", &format!("<{}>", confirm.message_id));
    let outcome = t.process(&reply.bytes()).await;
    let Outcome::Commanded {
        applied: true,
        summary,
        ..
    } = &outcome
    else {
        panic!("{outcome}")
    };
    assert!(summary.contains("confirmed"), "{summary}");
    klachtenbot::scheduler::tick(&t.bot).await.expect("a round");
    assert_anonymised(&t, r, "erasure").await;
    let dir = t.sqlite_dir().expect("sqlite").to_path_buf();
    assert_eq!(found_in(&dir), Vec::<(String, String)>::new());
    assert_eq!(report_2026(&t).await, before);
}
