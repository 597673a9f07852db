//! The privacy tests' person and story: a rare name, street and phone number, a complaint
//! by mail with an attachment, a follow-up, a phone call noted, a solution, the closing;
//! and the byte search for every form of the person.

use std::path::Path;

use klachtenbot::domain::{EmailAddress, Reference};
use klachtenbot::intake::Outcome;
use klachtenbot::privacy::Person;
use klachtenbot::report::Period;

use super::*;

pub const NAME: &str = "Xandrijn Quëllenbosch";
pub const ADDRESS: &str = "Ganzeveerlaan 413";
pub const PHONE: &str = "06-98765432";
pub const MAIL: &str = "xq.zwaluw@klant.test";
pub const ATTACHMENT: &str = "Bon voor Xandrijn Quëllenbosch, Ganzeveerlaan 413, tel 06-98765432.";

/// The person as the register may hold them: UTF-8, and every form the raw mail used.
pub fn forms() -> Vec<Vec<u8>> {
    let mut forms: Vec<Vec<u8>> = [
        "Xandrijn",
        "Quëllenbosch",
        "Qu=C3=ABllenbosch",
        "Ganzeveerlaan",
        "98765432",
        "xq.zwaluw",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    forms.push(base64(NAME.as_bytes()).into_bytes());
    forms.push(base64(ATTACHMENT.as_bytes()).as_bytes()[..40].to_vec());
    forms
}

pub fn complaint_mail() -> Vec<u8> {
    let mail = format!(
        "From: =?utf-8?B?{name}?= <{MAIL}>\r\n\
         To: {SERVICE}\r\n\
         Subject: Boekenpakket kwijt\r\n\
         Message-ID: <p1@klant.test>\r\n\
         Date: Mon, 2 Mar 2026 09:55:00 +0100\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
         \r\n\
         --b1\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         Beste klantenservice,\r\n\
         \r\n\
         Mijn pakket is niet aangekomen op {ADDRESS} in Oudewetering.\r\n\
         Bel me op {PHONE}.\r\n\
         \r\n\
         Groet,\r\n\
         Xandrijn Qu=C3=ABllenbosch\r\n\
         --b1\r\n\
         Content-Type: text/plain; charset=utf-8; name=\"bon.txt\"\r\n\
         Content-Disposition: attachment; filename=\"bon.txt\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {attachment}\r\n\
         --b1--\r\n",
        name = base64(NAME.as_bytes()),
        attachment = base64(ATTACHMENT.as_bytes()),
    );
    mail.into_bytes()
}

/// The whole story, up to the closed complaints; returns the references of the mail
/// complaint and of the phone complaint.
pub async fn story(t: &TestBot) -> (Reference, Reference) {
    let r = match t.process(&complaint_mail()).await {
        Outcome::Registered(r) => r,
        other => panic!("expected a new complaint, got {other}"),
    };
    let follow_up = TestMail::new(
        MAIL,
        &format!("Re: [{r}] Boekenpakket kwijt"),
        "p2@klant.test",
    )
    .body(&format!("Ik ben bereikbaar op {PHONE}, {ADDRESS}.\n"));
    assert_eq!(t.process(&follow_up.bytes()).await, Outcome::FollowUp(r));
    let officer = |subject: String, id: &str, body: &str| {
        TestMail::new(OFFICER, &subject, id).body(body).bytes()
    };
    for (subject, id, body) in [
        (
            format!("[{r}] #notitie"),
            "o1@concreet.test",
            format!("Gebeld met {NAME} op {PHONE}."),
        ),
        (
            format!("[{r}] #afdeling Examens #incident"),
            "o2@concreet.test",
            String::new(),
        ),
        (
            format!("[{r}] #oorzaak"),
            "o3@concreet.test",
            "Adres verkeerd overgenomen.".into(),
        ),
        (
            format!("[{r}] #oplossing"),
            "o4@concreet.test",
            format!("Nieuw pakket naar {ADDRESS}, {NAME}."),
        ),
        (
            format!("[{r}] #akkoord #afsluiten"),
            "o5@concreet.test",
            "Pakket opnieuw verstuurd.".into(),
        ),
    ] {
        let outcome = t.process(&officer(subject.clone(), id, &body)).await;
        assert!(
            matches!(outcome, Outcome::Commanded { applied: true, .. }),
            "{subject}: {outcome}"
        );
    }
    let c = t.complaint(r).await.complaint;
    assert_eq!(c.status.as_str(), "closed");
    assert_eq!(
        c.complainant.phone, None,
        "no phone in a mail complaint's record"
    );
    (r, phone_complaint(t).await)
}

/// They also call: a colleague's phone note with their name, number and address, solved at
/// first contact (a second, closed complaint with the phone number in its record).
async fn phone_complaint(t: &TestBot) -> Reference {
    let note = TestMail::new(
        "kees@concreet.test",
        "#telefoon Boekenpakket #opgelost",
        "t1@concreet.test",
    )
    .body(&format!(
        "Naam: {NAME}\nTelefoon: {PHONE}\nE-mail: {MAIL}\nKlant: particulier\n\n\
         Belde over het pakket naar {ADDRESS}; aan de telefoon opgelost.\n"
    ));
    let r = match t.process(&note.bytes()).await {
        Outcome::Registered(r) => r,
        Outcome::Commanded {
            reference: Some(r), ..
        } => r,
        other => panic!("expected a phone complaint, got {other}"),
    };
    let c = t.complaint(r).await.complaint;
    assert_eq!(c.complainant.phone.as_deref(), Some(PHONE));
    assert_eq!(c.status.as_str(), "closed");
    r
}

/// Every file under `dir`, with the forms found in it.
pub fn found_in(dir: &Path) -> Vec<(String, String)> {
    let mut hits = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read the folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).expect("read a file");
            for form in forms() {
                if bytes.windows(form.len()).any(|w| w == form.as_slice()) {
                    hits.push((
                        path.display().to_string(),
                        String::from_utf8_lossy(&form).into_owned(),
                    ));
                }
            }
        }
    }
    hits
}

pub async fn report_2026(t: &TestBot) -> (String, Vec<u8>, String) {
    let tz = t.bot.settings.organisation.timezone.clone();
    let period = Period::year(2026, tz).expect("a period");
    let r = klachtenbot::report::build(&t.bot, period, false)
        .await
        .expect("the report");
    (r.html, r.csv, r.markdown)
}

pub fn person() -> Person {
    Person {
        address: Some(EmailAddress::parse(MAIL).unwrap()),
        ..Person::default()
    }
}

pub async fn assert_anonymised(t: &TestBot, r: Reference, rule: &str) {
    let c = t.complaint(r).await.complaint;
    assert_eq!(c.complainant.name, None);
    assert_eq!(c.complainant.email, None);
    assert_eq!(c.department.as_deref(), Some("Examens"));
    assert_eq!(c.root_cause.as_deref(), Some("Adres verkeerd overgenomen."));
    let last = t.timeline(r).await.pop().expect("a timeline");
    assert_eq!(last.kind, "anonymised");
    assert!(
        last.detail.starts_with(&format!("anonymised: {rule}")),
        "{}",
        last.detail
    );
    assert!(t.attachments().await.is_empty());
}
