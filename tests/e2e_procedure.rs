//! The procedure driven by mail, end to end on real Dovecot and Postfix: every assertion is
//! about a mail that arrives in someone's mailbox or a record that is stored.

mod common;

use std::time::Duration;

use anyhow::Result;
use common::sandbox::{SpawnOptions, TestApp, complaint_mail, mail, new_message_id};
use common::{KLAAS, MANAGEMENT, MARIE, OFFICER, SERVICE};

const JAN: &str = "jan@concreet.test";
const PIET: &str = "piet@concreet.test";
const KEES: &str = "kees@concreet.test";
const WITHIN: Duration = Duration::from_secs(20);
const AUTH_OK: &str = "Authentication-Results: mx.concreet.test; dkim=pass header.d=concreet.test; dmarc=pass header.from=concreet.test";

async fn app() -> Result<TestApp> {
    TestApp::spawn(SpawnOptions {
        extra_users: [JAN, PIET, KEES, MANAGEMENT].map(String::from).to_vec(),
        extra_toml: "[auth]\nauthserv_id = \"mx.concreet.test\"\nrequire_authentication = true\n"
            .into(),
        ..SpawnOptions::default()
    })
    .await
}

/// Sends a mail as staff, with the pass our receiving server would have written.
async fn staff_mail(app: &TestApp, from: &str, subject: &str, body: &str) -> Result<()> {
    let raw = mail(from, subject, &new_message_id("staff"), &[AUTH_OK], body);
    app.sandbox.deliver(from, &[SERVICE], &raw).await
}

/// Waits until `who` has a mail whose subject contains `needle` (`n` of them) and returns
/// the newest such mail's text.
async fn arrives(app: &TestApp, who: &str, needle: &str, n: usize) -> Result<String> {
    let count = |raw: &[Vec<u8>]| {
        raw.iter()
            .filter_map(|r| klachtenbot::intake::parse::parse(r))
            .filter(|m| m.subject.contains(needle))
            .count()
    };
    let mails = app
        .wait_for_parsed(who, "INBOX", WITHIN, |raw| count(raw) >= n)
        .await?;
    let text = mails
        .iter()
        .rev()
        .find(|m| m.subject.contains(needle))
        .map(|m| m.text.clone())
        .unwrap_or_default();
    Ok(text)
}

async fn status_of(app: &TestApp, reference: &str) -> Result<(String, Option<String>)> {
    use sqlx::Row;
    let row = sqlx::query("SELECT status, outcome FROM complaints WHERE reference = $1")
        .bind(reference)
        .fetch_one(app.store.pool())
        .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

fn reference_in(subject_text: &str) -> String {
    klachtenbot::domain::Reference::find(subject_text)
        .map(|r| r.to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_whole_life_of_a_complaint_is_driven_by_mail_from_step_1_to_9() -> Result<()> {
    let mut app = app().await?;
    // Step 1 and 5: the complaint and its acknowledgement.
    let raw = complaint_mail(
        KLAAS,
        "Examenpakket niet ontvangen",
        &new_message_id("life"),
        "Mijn pakket is niet gekomen.",
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &raw).await?;
    let acks = app
        .wait_for_parsed(KLAAS, "INBOX", WITHIN, |m| !m.is_empty())
        .await?;
    let r = reference_in(&acks[0].subject);
    assert!(acks[0].subject.contains("Ontvangstbevestiging"));

    // Step 6: assign, department, classify; the assignee gets the complaint, the complainant
    // the explanation, the officer the answer.
    staff_mail(
        &app,
        OFFICER,
        &format!("Antw: [{r}] #toewijzen {JAN} #afdeling Examens #incident"),
        "",
    )
    .await?;
    let assignment = arrives(&app, JAN, "toegewezen", 1).await?;
    assert!(
        assignment.contains("Mijn pakket is niet gekomen."),
        "{assignment}"
    );
    let explanation = arrives(&app, KLAAS, "Behandeling van uw klacht", 1).await?;
    assert!(
        explanation.contains(JAN) && explanation.contains("Examens"),
        "{explanation}"
    );
    let answer = arrives(&app, OFFICER, "Verwerkt", 1).await?;
    assert!(answer.contains("in_progress"), "{answer}");

    // The concerned person is informed on request.
    staff_mail(
        &app,
        OFFICER,
        &format!("[{r}] #betrokkene {PIET} informeren"),
        "",
    )
    .await?;
    arrives(&app, PIET, "betreft", 1).await?;

    // Officer's task 2 and 4: root cause by the assignee, advice to the assignee.
    staff_mail(
        &app,
        JAN,
        &format!("[{r}] #oorzaak"),
        "Het adres is verkeerd overgenomen.",
    )
    .await?;
    arrives(&app, JAN, "Verwerkt", 1).await?;
    staff_mail(
        &app,
        OFFICER,
        &format!("[{r}] #advies"),
        "Bel de klant vandaag nog.",
    )
    .await?;
    let advice = arrives(&app, JAN, "Advies", 1).await?;
    assert!(advice.contains("Bel de klant vandaag nog."));

    // Step 7 and 8: a proposal, rejected; a new one, accepted.
    staff_mail(
        &app,
        JAN,
        &format!("[{r}] #oplossing"),
        "We sturen een nieuw pakket.",
    )
    .await?;
    let proposal = arrives(&app, KLAAS, "Voorstel", 1).await?;
    assert!(proposal.contains("We sturen een nieuw pakket."));
    assert_eq!(status_of(&app, &r).await?.0, "awaiting_verdict");
    let reply = complaint_mail(
        KLAAS,
        &format!("Re: [{r}] Voorstel"),
        &new_message_id("verdict"),
        "Nee, dat is te laat.",
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &reply).await?;
    let forwarded = arrives(&app, OFFICER, "Reactie van de klager", 1).await?;
    assert!(forwarded.contains("Nee, dat is te laat.") && forwarded.contains("#nietakkoord"));
    staff_mail(&app, OFFICER, &format!("[{r}] #nietakkoord"), "").await?;
    arrives(&app, JAN, "niet geaccepteerd", 1).await?;
    assert_eq!(status_of(&app, &r).await?.0, "in_progress");
    staff_mail(
        &app,
        JAN,
        &format!("[{r}] #oplossing"),
        "Een koerier brengt het morgen.",
    )
    .await?;
    arrives(&app, KLAAS, "Voorstel", 2).await?;
    let yes = complaint_mail(
        KLAAS,
        &format!("Re: [{r}] Voorstel"),
        &new_message_id("verdict2"),
        "Prima, dank u.",
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &yes).await?;
    arrives(&app, OFFICER, "Reactie van de klager", 2).await?;

    // Step 9: accepted and closed; everyone involved gets a copy.
    staff_mail(
        &app,
        OFFICER,
        &format!("[{r}] #akkoord #afsluiten"),
        "Pakket per koerier geleverd.",
    )
    .await?;
    for who in [KLAAS, JAN, OFFICER, PIET] {
        let copy = arrives(&app, who, "Afschrift", 1).await?;
        assert!(
            copy.contains("Pakket per koerier geleverd."),
            "{who}: {copy}"
        );
    }
    assert_eq!(
        status_of(&app, &r).await?,
        ("closed".into(), Some("accepted".into()))
    );
    app.stop().await
}

#[tokio::test]
async fn a_phone_note_solved_at_first_contact_is_registered_and_closed() -> Result<()> {
    let mut app = app().await?;
    let body = "Naam: Karel de Klant\nTelefoon: 06-12345678\nKlant: particulier\n\nBelde over een verkeerd geleverd boek; omgeruild aan de telefoon.";
    staff_mail(&app, KEES, "#telefoon Verkeerd boek #opgelost", body).await?;
    let reply = arrives(&app, KEES, "Geregistreerd", 1).await?;
    let r = reference_in(&reply_subject(&app, KEES, "Geregistreerd")?);
    assert!(reply.contains("opgelost bij het eerste contact"), "{reply}");
    assert!(
        reply.contains("E-mail"),
        "the missing address is named: {reply}"
    );
    assert_eq!(
        status_of(&app, &r).await?,
        ("closed".into(), Some("solved_at_first_contact".into()))
    );
    app.stop().await
}

fn reply_subject(app: &TestApp, who: &str, needle: &str) -> Result<String> {
    Ok(app
        .parsed(who, "INBOX")?
        .into_iter()
        .rev()
        .find(|m| m.subject.contains(needle))
        .map(|m| m.subject)
        .unwrap_or_default())
}

#[tokio::test]
async fn a_structural_phone_note_reports_to_management_and_acknowledges_the_caller() -> Result<()> {
    let mut app = app().await?;
    let body = format!(
        "Naam: Marie\nE-mail: {MARIE}\nOrganisatie: ROC Zuid\nKlant: instelling\n\nAl de derde keer dat de examens te laat zijn."
    );
    staff_mail(&app, KEES, "#telefoon Examens te laat #structureel", &body).await?;
    let notice = arrives(&app, MANAGEMENT, "Structureel", 1).await?;
    assert!(notice.contains("derde keer"));
    arrives(&app, OFFICER, "Structureel", 1).await?;
    let ack = arrives(&app, MARIE, "Ontvangstbevestiging", 1).await?;
    assert!(
        ack.contains("telefonisch of per brief"),
        "the caller is told how to complain in writing: {ack}"
    );
    app.stop().await
}

#[tokio::test]
async fn a_letter_keeps_its_scan_and_asks_the_officer_to_acknowledge_by_post() -> Result<()> {
    let mut app = app().await?;
    let boundary = "scan-boundary";
    let raw = format!(
        "From: {KEES}\r\nTo: {SERVICE}\r\nSubject: #brief Klacht over de toetsafname\r\nMessage-ID: <{}>\r\n{AUTH_OK}\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary={boundary}\r\n\r\n--{boundary}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nNaam: J. Schrijver\r\n\r\nDe surveillant was te laat.\r\n\
         --{boundary}\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"brief.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--{boundary}--\r\n",
        new_message_id("letter")
    );
    app.sandbox
        .deliver(KEES, &[SERVICE], raw.as_bytes())
        .await?;
    let reply = arrives(&app, KEES, "Geregistreerd", 1).await?;
    assert!(reply.contains("per post of telefoon"), "{reply}");
    let notice = arrives(&app, OFFICER, "post of telefoon", 1).await?;
    assert!(notice.contains("J. Schrijver"));
    use sqlx::Row;
    let names: Vec<String> = sqlx::query("SELECT filename FROM attachments")
        .fetch_all(app.store.pool())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    assert_eq!(names, vec!["brief.pdf".to_string()]);
    app.stop().await
}

#[tokio::test]
async fn a_forwarded_customer_mail_is_the_customers_complaint() -> Result<()> {
    let mut app = app().await?;
    let body = format!(
        "Kun je dit oppakken?\n\n---------- Forwarded message ---------\nFrom: Klaas Klant <{KLAAS}>\nDate: Mon, 23 Nov 2026 at 10:00\nSubject: Boek beschadigd\nTo: <{KEES}>\n\nHet boek kwam beschadigd aan.\n"
    );
    staff_mail(&app, KEES, "Fwd: Boek beschadigd", &body).await?;
    let ack = arrives(&app, KLAAS, "Ontvangstbevestiging", 1).await?;
    assert!(ack.contains("Boek beschadigd"));
    arrives(&app, KEES, "Geregistreerd", 1).await?;
    use sqlx::Row;
    let row = sqlx::query("SELECT complainant_email, received_by, description FROM complaints")
        .fetch_one(app.store.pool())
        .await?;
    assert_eq!(row.try_get::<String, _>(0)?, KLAAS);
    assert_eq!(row.try_get::<String, _>(1)?, KEES);
    assert!(row.try_get::<String, _>(2)?.contains("beschadigd aan"));
    app.stop().await
}

#[tokio::test]
async fn a_customer_who_writes_afsluiten_closes_nothing() -> Result<()> {
    let mut app = app().await?;
    let raw = complaint_mail(
        KLAAS,
        "Factuur klopt niet",
        &new_message_id("c"),
        "Te veel betaald.",
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &raw).await?;
    let acks = app
        .wait_for_parsed(KLAAS, "INBOX", WITHIN, |m| !m.is_empty())
        .await?;
    let r = reference_in(&acks[0].subject);
    let sneaky = complaint_mail(
        KLAAS,
        &format!("Re: [{r}] #afsluiten #akkoord"),
        &new_message_id("c2"),
        "Sluit maar.",
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &sneaky).await?;
    app.until(
        "the reply is stored as a follow-up",
        WITHIN,
        || app.message_kinds(),
        |kinds| kinds.iter().any(|k| k == "follow_up"),
    )
    .await?;
    assert_eq!(status_of(&app, &r).await?.0, "acknowledged");
    app.stop().await
}

#[tokio::test]
async fn a_forged_officer_address_without_the_pass_is_refused_and_the_officer_is_told() -> Result<()>
{
    let mut app = app().await?;
    let raw = complaint_mail(
        KLAAS,
        "Levering te laat",
        &new_message_id("f"),
        "Waar blijft het?",
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &raw).await?;
    let acks = app
        .wait_for_parsed(KLAAS, "INBOX", WITHIN, |m| !m.is_empty())
        .await?;
    let r = reference_in(&acks[0].subject);
    // Forged: the officer's address, but no pass from our server (a header from someone
    // else's server does not count).
    let forged = mail(
        OFFICER,
        &format!("[{r}] #afsluiten"),
        &new_message_id("forged"),
        &["Authentication-Results: evil.example; dkim=pass header.d=concreet.test"],
        "Afgehandeld.",
    );
    app.sandbox.deliver(OFFICER, &[SERVICE], &forged).await?;
    let notice = arrives(&app, OFFICER, "geweigerd", 1).await?;
    assert!(notice.contains("not executed"), "{notice}");
    assert_eq!(status_of(&app, &r).await?.0, "acknowledged");
    // The forged sender got no answer: the officer's mailbox holds only the notice.
    let answers = app
        .parsed(OFFICER, "INBOX")?
        .iter()
        .filter(|m| m.subject.contains("Verwerkt") || m.subject.contains("Niet verwerkt"))
        .count();
    assert_eq!(answers, 0);
    app.stop().await
}
