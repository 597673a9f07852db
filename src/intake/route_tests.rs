//! The routing table over real mail, without a database: every mail of `testdata/corpus`
//! goes where its golden expectation says when the register knows nothing about it, and
//! each route that depends on the register or on who sends is tried with real mails and a
//! register (a [`Found`]) or settings that make it so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::domain::{Complainant, Origin, Status};
use crate::intake::parse::parse;
use crate::procedure::{DeadlineTimes, NewComplaint};

const OWN: &str = "klachten@concreet.nl";
const OFFICER: &str = "officer@concreet.nl";

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus")
}

fn mail(name: &str) -> InboundMail {
    let path = corpus().join(name);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse(&raw).unwrap_or_else(|| panic!("{name} does not parse"))
}

fn people(staff_domains: &[&str]) -> People {
    People {
        officers: vec![addr(OFFICER)],
        management: vec![addr("directie@concreet.nl")],
        staff_domains: staff_domains.iter().map(ToString::to_string).collect(),
    }
}

fn auth(required: bool) -> AuthSettings {
    AuthSettings {
        authserv_id: Some("mx.concreet.nl".into()),
        require_authentication: required,
        token_secret: None,
    }
}

/// A stored complaint of `complainant`, KL-2026-0042.
fn complaint(complainant: &str) -> StoredComplaint {
    let at = |s: &str| s.parse().unwrap();
    let new = NewComplaint {
        received_at: at("2026-03-02T09:00:00Z"),
        channel: Channel::Email,
        origin: Origin::External,
        customer_type: None,
        complainant: Complainant {
            name: None,
            email: Some(addr(complainant)),
            phone: None,
            organisation: None,
        },
        received_by: None,
        subject: "Examen".into(),
        description: "Niet ontvangen.".into(),
        solved_at_first_contact: false,
    };
    let deadlines = DeadlineTimes {
        acknowledge_by: at("2026-03-09T09:00:00Z"),
        explain_by: at("2026-03-16T09:00:00Z"),
        solve_by: at("2026-04-13T09:00:00Z"),
    };
    let reference = Reference::new(2026, 42).unwrap();
    let (complaint, _) = crate::procedure::register(new, reference, deadlines);
    StoredComplaint { id: 7, complaint }
}

/// The settings and register of one test.
struct World {
    own: EmailAddress,
    people: People,
    auth: AuthSettings,
    found: Found,
}

impl World {
    fn new() -> World {
        World {
            own: addr(OWN),
            people: people(&["concreet.nl"]),
            auth: auth(false),
            found: Found::default(),
        }
    }

    fn staff(mut self, domain: &str) -> World {
        self.people.staff_domains.push(domain.into());
        self
    }

    fn officer(mut self, who: &str) -> World {
        self.people.officers.push(addr(who));
        self
    }

    fn named(mut self, c: StoredComplaint) -> World {
        self.found.named = Some(c);
        self
    }

    fn quoting(mut self, c: StoredComplaint) -> World {
        self.found.quoted.push(c);
        self
    }

    fn route(&self, mail: &InboundMail) -> Route {
        let cx = RouteContext {
            own: &self.own,
            people: &self.people,
            auth: &self.auth,
            mail_domain: "concreet.nl",
            found: &self.found,
        };
        route(Some(mail), &cx)
    }
}

fn from_of(m: &InboundMail) -> String {
    m.from.as_ref().unwrap().address.to_string()
}

/// Every corpus mail with an expectation, the register empty: registered mail is a new
/// complaint, suppressed mail automated of the same kind, flagged mail without a sender.
#[test]
fn every_corpus_mail_goes_where_its_golden_expectation_says() {
    let mut files = Vec::new();
    for folder in std::fs::read_dir(corpus()).unwrap() {
        let folder = folder.unwrap().path();
        if folder.is_dir() {
            for f in std::fs::read_dir(&folder).unwrap() {
                files.push(f.unwrap().path());
            }
        }
    }
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    let mut per_route: BTreeMap<String, usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    for path in &files {
        let expected = std::fs::read_to_string(path.with_extension("expected.txt")).unwrap();
        let outcome = expected
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("outcome: ");
        if outcome == "duplicate" {
            continue; // depends on what came before in the golden run
        }
        let m = parse(&std::fs::read(path).unwrap()).unwrap();
        let got = match World::new().route(&m) {
            Route::Automated {
                kind,
                complaint: None,
            } => format!("suppressed: {kind}"),
            Route::NewComplaint { .. } => "registered".into(),
            Route::NoSender { complaint: None } => "flagged: no usable sender address".into(),
            other => format!("route {}", other.name()),
        };
        *per_route.entry(got.clone()).or_default() += 1;
        if got != outcome {
            wrong.push(format!(
                "{}: expected {outcome}, routed {got}",
                path.display()
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(per_route.values().sum::<usize>() >= 80, "{per_route:?}");
    assert!(per_route["registered"] >= 30, "{per_route:?}");
    assert!(per_route["suppressed: bounce"] >= 25, "{per_route:?}");
}

/// mail-parser reads every real file of our collections as some mail (even the TNEF
/// binaries in `testdata/tnef`): only bytes with no message at all, such as an empty delivery,
/// are unreadable.
#[test]
fn bytes_that_hold_no_mail_are_unreadable() {
    let cx_world = World::new();
    let cx = RouteContext {
        own: &cx_world.own,
        people: &cx_world.people,
        auth: &cx_world.auth,
        mail_domain: "concreet.nl",
        found: &cx_world.found,
    };
    assert!(parse(b"").is_none());
    assert!(matches!(route(parse(b"").as_ref(), &cx), Route::Unreadable));
}

#[test]
fn mail_from_our_own_address_is_a_loop_even_when_it_names_a_complaint() {
    for name in [
        "replies/talon-gmail.eml",
        "bounces/sisimai-lhost-postfix-01.eml",
    ] {
        let m = mail(name);
        let mut world = World::new().named(complaint("klaas@klant.nl"));
        world.own = addr(&from_of(&m));
        assert!(matches!(world.route(&m), Route::Loop), "{name}");
    }
}

#[test]
fn a_bounce_quoting_our_mail_belongs_to_that_complaint_whoever_the_mta_is() {
    for name in [
        "bounces/sisimai-lhost-postfix-01.eml",
        "bounces/sisimai-lhost-exchange2007-06.eml",
        "bounces/chatmail-gmx-ndn.eml",
    ] {
        let world = World::new().quoting(complaint("klaas@klant.nl"));
        match world.route(&mail(name)) {
            Route::Automated {
                kind: Automated::Bounce,
                complaint: Some(c),
            } => assert_eq!(c.id, 7, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn an_auto_reply_quoting_a_complaint_is_not_attached_unless_it_names_it() {
    let name = "autoreplies/sisimai-rfc3834-02-exchange-automatic-reply.eml";
    let quoting = World::new().quoting(complaint("klaas@klant.nl"));
    assert!(matches!(
        quoting.route(&mail(name)),
        Route::Automated {
            kind: Automated::AutoReply,
            complaint: None
        }
    ));
    let named = World::new().named(complaint("klaas@klant.nl"));
    assert!(matches!(
        named.route(&mail(name)),
        Route::Automated {
            kind: Automated::AutoReply,
            complaint: Some(_)
        }
    ));
}

#[test]
fn a_mail_without_a_usable_sender_is_flagged_with_the_complaint_it_names() {
    let m = mail("mime/chatmail-empty-multipart-crlf.eml");
    let world = World::new().named(complaint("klaas@klant.nl"));
    assert!(matches!(
        world.route(&m),
        Route::NoSender { complaint: Some(_) }
    ));
}

#[test]
fn the_complainants_reply_is_a_follow_up() {
    for name in [
        "replies/talon-gmail.eml",
        "replies/talon-outlook.eml",
        "replies/chatmail-gmx-quote-de.eml",
    ] {
        let m = mail(name);
        let world = World::new().named(complaint(&from_of(&m)));
        match world.route(&m) {
            Route::FollowUp { complaint, author } => {
                assert_eq!(complaint.id, 7);
                assert_eq!(author.address.to_string(), from_of(&m));
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn an_officers_mail_without_commands_on_a_complaint_is_a_follow_up() {
    let m = mail("replies/talon-yahoo.eml");
    let world = World::new()
        .officer(&from_of(&m))
        .named(complaint("klaas@klant.nl"));
    assert!(matches!(world.route(&m), Route::FollowUp { .. }));
}

#[test]
fn a_reply_quoting_its_authors_complaint_is_a_follow_up_of_it() {
    let m = mail("replies/talon-apple-mail.eml");
    let world = World::new()
        .quoting(complaint("someone@else.nl"))
        .quoting(complaint(&from_of(&m)));
    assert!(matches!(world.route(&m), Route::FollowUp { .. }));
}

#[test]
fn a_reply_quoting_someone_elses_complaint_is_a_new_complaint() {
    let m = mail("replies/talon-apple-mail.eml");
    let world = World::new().quoting(complaint("someone@else.nl"));
    assert!(matches!(world.route(&m), Route::NewComplaint { .. }));
}

#[test]
fn a_mail_naming_someone_elses_complaint_is_not_added_to_it() {
    for name in ["replies/talon-hotmail.eml", "replies/talon-aol.eml"] {
        let m = mail(name);
        let world = World::new().named(complaint("klaas@klant.nl"));
        match world.route(&m) {
            Route::NotAParty { complaint, author } => {
                assert_eq!(complaint.complaint.status, Status::New);
                assert_eq!(author.address.to_string(), from_of(&m));
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn a_customers_mail_is_a_new_complaint_of_its_sender() {
    for name in ["replies/talon-gmail.eml", "mime/chatmail-html-only.eml"] {
        let m = mail(name);
        match World::new().route(&m) {
            Route::NewComplaint {
                speaker: Speaker::Direct(who),
            } => assert_eq!(who.address.to_string(), from_of(&m)),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn a_customers_hash_word_is_no_command() {
    let mut m = mail("replies/talon-gmail.eml");
    m.subject = "Re: Test #urgent #status".into();
    assert!(matches!(World::new().route(&m), Route::NewComplaint { .. }));
}

#[test]
fn a_staff_forward_is_the_original_senders_complaint() {
    // A forward prefix in the subject, and two mails with the original attached.
    for (name, domain) in [
        ("forwards/chatmail-gmx-forward-de.eml", "example.org"),
        ("forwards/chatmail-k9-eml-attached.eml", "nauta.cu"),
        (
            "forwards/sisimai-applemail-rfc822-attached.eml",
            "example.com",
        ),
    ] {
        let m = mail(name);
        match World::new().staff(domain).route(&m) {
            Route::Forward { sender, parsed } => {
                assert_eq!(sender.address.to_string(), from_of(&m));
                assert!(parsed.commands.is_empty());
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn a_staff_forward_on_a_named_complaint_is_a_follow_up() {
    let m = mail("forwards/chatmail-gmx-forward-de.eml");
    let mut c = complaint("klaas@klant.nl");
    c.complaint.assignee = Some(addr(&from_of(&m)));
    let world = World::new().staff("example.org").named(c);
    assert!(matches!(world.route(&m), Route::FollowUp { .. }));
}

#[test]
fn commands_without_the_required_proof_are_forged() {
    let m = mail("forwards/chatmail-gmx-forward-de.eml");
    let mut world = World::new().staff("example.org");
    world.auth = auth(true);
    match world.route(&m) {
        Route::Forged { sender, why, .. } => {
            assert_eq!(sender.address.to_string(), from_of(&m));
            assert!(why.contains("no DKIM/DMARC pass"), "{why}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_officers_commands_on_a_complaint_are_commands() {
    // A real client's reply, its subject the officer's commands.
    let mut m = mail("replies/talon-gmail.eml");
    m.subject = "Re: [KL-2026-0042] #toewijzen jan@concreet.nl #status".into();
    let world = World::new()
        .officer(&from_of(&m))
        .named(complaint("klaas@klant.nl"));
    match world.route(&m) {
        Route::Commands {
            parsed,
            complaint: Some(c),
            ..
        } => {
            assert_eq!(parsed.commands.len(), 2);
            assert_eq!(c.id, 7);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_officers_mistyped_command_is_answered_as_a_command() {
    let mut m = mail("replies/talon-outlook.eml");
    m.subject = "#stauts".into();
    let world = World::new().officer(&from_of(&m));
    match world.route(&m) {
        Route::Commands {
            parsed,
            complaint: None,
            ..
        } => assert!(parsed.commands.is_empty() && !parsed.errors.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_staff_members_phone_note_and_letter_are_notes() {
    for (subject, channel) in [
        ("#telefoon Examen niet ontvangen", Channel::Phone),
        (
            "#brief Klacht over de uitslag #structureel",
            Channel::Letter,
        ),
    ] {
        let mut m = mail("replies/talon-outlook.eml");
        m.subject = subject.into();
        match World::new().staff("example.com").route(&m) {
            Route::Note {
                channel: got,
                parsed,
                ..
            } => {
                assert_eq!(got, channel, "{subject}");
                assert!(!parsed.commands.is_empty());
            }
            other => panic!("{subject}: {other:?}"),
        }
    }
}

#[test]
fn a_forms_mail_is_the_complaint_of_the_person_in_it() {
    // A real HTML-only mail from an address nobody reads, with a person in Reply-To.
    let mut m = mail("mime/chatmail-html-only.eml");
    m.from = Some(Mailbox {
        name: None,
        address: addr("noreply@webshop.nl"),
    });
    m.reply_to = Some(Mailbox {
        name: Some("Klaas Klant".into()),
        address: addr("klaas@klant.nl"),
    });
    match World::new().route(&m) {
        Route::NewComplaint {
            speaker: Speaker::OnBehalf { person, .. },
        } => assert_eq!(person.email, Some(addr("klaas@klant.nl"))),
        other => panic!("{other:?}"),
    }
}
