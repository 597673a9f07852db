//! Tests of `auth`: real-world Authentication-Results headers, tokens, the sender check.
use super::*;
use crate::config::Secret;

const OURS: &str = "mail.concreet.nl";
const DOMAIN: &str = "bot.concreet.nl";
const SECRET: &[u8] = b"0123456789abcdef-test-secret";

fn h(s: &str) -> Vec<String> {
    vec![s.to_string()]
}

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn reference() -> Reference {
    Reference::new(2026, 42).unwrap()
}

fn id(s: &str) -> MessageId {
    MessageId::parse(s).unwrap()
}

/// Gmail: folded, comments with `:` and `;`-free prose, header.i without header.d.
const GMAIL: &str = "mx.google.com;\r\n       dkim=pass header.i=@concreet.nl header.s=20230601 header.b=AbCd1234;\r\n       spf=pass (google.com: domain of jan@concreet.nl designates 40.107.22.50 as permitted sender) smtp.mailfrom=jan@concreet.nl;\r\n       dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=concreet.nl";

/// Microsoft 365: no authserv-id at all, `;` without a space, `action=` and `compauth`.
const MS365: &str = "spf=pass (sender IP is 40.107.22.50) smtp.mailfrom=concreet.nl; dkim=pass (signature was verified) header.d=concreet.nl;dmarc=pass action=none header.from=concreet.nl;compauth=pass reason=100";

/// Postfix with OpenDKIM: tabs, a nested comment, a quoted header.b.
const OPENDKIM: &str = "Mail.Concreet.NL;\n\tdkim=pass (2048-bit key; unprotected (no DNSSEC)) header.d=concreet.nl header.i=@concreet.nl header.a=rsa-sha256 header.s=mail header.b=\"Xy1+2/Cd\";\n\tdkim-atps=neutral";

#[test]
fn a_gmail_header_is_parsed_with_its_comments_removed() {
    let r = parse_authentication_results(GMAIL).unwrap();
    assert_eq!(r.authserv_id, "mx.google.com");
    let methods: Vec<(&str, &str)> = r
        .results
        .iter()
        .map(|m| (m.method.as_str(), m.result.as_str()))
        .collect();
    assert_eq!(
        methods,
        [("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass")]
    );
    assert_eq!(r.results[0].prop("header.i"), Some("@concreet.nl"));
    assert_eq!(r.results[1].prop("smtp.mailfrom"), Some("jan@concreet.nl"));
    assert_eq!(
        r.results[2].props,
        [("header.from".into(), "concreet.nl".into())]
    );
}

#[test]
fn a_microsoft_365_header_without_authserv_id_is_parsed_but_never_trusted() {
    let r = parse_authentication_results(MS365).unwrap();
    assert_eq!(r.authserv_id, "");
    assert_eq!(r.results.len(), 4);
    assert_eq!(r.results[2].method, "dmarc");
    assert_eq!(r.results[2].prop("header.from"), Some("concreet.nl"));
    assert_eq!(r.results[3].props, []);
    assert!(!authenticated_domain_pass(&h(MS365), OURS, "concreet.nl"));
    assert!(!authenticated_domain_pass(&h(MS365), "", "concreet.nl"));
}

#[test]
fn an_opendkim_header_with_nested_comments_and_quotes_passes_for_its_domain() {
    let r = parse_authentication_results(OPENDKIM).unwrap();
    assert_eq!(r.authserv_id, "mail.concreet.nl");
    assert_eq!(r.results[0].prop("header.b"), Some("Xy1+2/Cd"));
    assert_eq!(r.results[1].method, "dkim-atps");
    assert!(authenticated_domain_pass(
        &h(OPENDKIM),
        "MAIL.concreet.nl",
        "concreet.nl"
    ));
    assert!(authenticated_domain_pass(&h(OPENDKIM), OURS, "Concreet.NL"));
}

#[test]
fn version_none_method_versions_and_spaces_around_equals_are_understood() {
    let none = parse_authentication_results("example.org 1; none (no checks)").unwrap();
    assert_eq!(none.authserv_id, "example.org");
    assert!(none.results.is_empty());
    let spaced = parse_authentication_results(
        "\"example.org\"; dkim / 1 = pass reason = \"good sig\" header . d=x.nl header.d = concreet.nl",
    )
    .unwrap();
    assert_eq!(spaced.authserv_id, "example.org");
    assert_eq!(spaced.results[0].method, "dkim");
    assert_eq!(spaced.results[0].prop("header.d"), Some("concreet.nl"));
    assert_eq!(parse_authentication_results(""), None);
    assert_eq!(parse_authentication_results("not a header at all"), None);
}

#[test]
fn a_pass_in_one_of_several_headers_of_our_server_counts() {
    let headers = [
        format!("{OURS}; spf=pass smtp.mailfrom=concreet.nl"),
        format!("{OURS}; dmarc=pass (p=reject dis=none) header.from=concreet.nl"),
    ];
    assert!(authenticated_domain_pass(
        &headers[..2],
        OURS,
        "concreet.nl"
    ));
    assert!(!authenticated_domain_pass(
        &headers[..1],
        OURS,
        "concreet.nl"
    ));
}

#[test]
fn a_forged_header_with_another_authserv_id_is_ignored() {
    let forged = h(
        "mail.concreet.nl.evil.example; dkim=pass header.d=concreet.nl; dmarc=pass header.from=concreet.nl",
    );
    assert!(!authenticated_domain_pass(&forged, OURS, "concreet.nl"));
    assert!(!authenticated_domain_pass(&h(GMAIL), OURS, "concreet.nl"));
    assert!(authenticated_domain_pass(
        &h(GMAIL),
        "mx.google.com",
        "concreet.nl"
    ));
}

#[test]
fn a_dkim_pass_for_another_domain_does_not_count() {
    let other =
        h("mail.concreet.nl; dkim=pass header.d=evil-concreet.nl header.i=@evil-concreet.nl");
    assert!(!authenticated_domain_pass(&other, OURS, "concreet.nl"));
    let list = h(
        "mail.concreet.nl; dkim=pass header.d=lists.example.org; dmarc=none header.from=concreet.nl",
    );
    assert!(!authenticated_domain_pass(&list, OURS, "concreet.nl"));
    let sub = h("mail.concreet.nl; dkim=pass header.i=jan@mail.concreet.nl");
    assert!(authenticated_domain_pass(&sub, OURS, "concreet.nl"));
}

#[test]
fn a_dmarc_fail_or_a_dkim_fail_does_not_count() {
    let failed = h(
        "mail.concreet.nl; dkim=fail (bad signature) header.d=concreet.nl; dmarc=fail (p=reject dis=reject) header.from=concreet.nl; spf=pass smtp.mailfrom=concreet.nl",
    );
    assert!(!authenticated_domain_pass(&failed, OURS, "concreet.nl"));
}

#[test]
fn a_token_round_trips_for_its_recipient_and_reference() {
    let jan = addr("jan@concreet.nl");
    let ours = crate::outbound::compose::new_message_id(
        Some(reference()),
        Some(&jan),
        DOMAIN,
        Some(SECRET),
    );
    let ids = [id("<CAF=xyz@mail.gmail.com>"), ours];
    assert!(token_proves(&ids, reference(), &jan, DOMAIN, SECRET));
    assert!(token_proves(
        &ids,
        reference(),
        &addr("JAN@Concreet.nl"),
        "BOT.concreet.nl",
        SECRET
    ));
    let other_ref = Reference::new(2026, 43).unwrap();
    assert!(!token_proves(&ids, other_ref, &jan, DOMAIN, SECRET));
    assert!(!token_proves(
        &ids,
        reference(),
        &jan,
        "concreet.nl",
        SECRET
    ));
    assert!(!token_proves(
        &ids,
        reference(),
        &jan,
        DOMAIN,
        b"another-secret-123"
    ));
    assert!(!token_proves(&ids, reference(), &jan, DOMAIN, b""));
}

#[test]
fn a_token_made_for_another_recipient_is_refused() {
    let piet = addr("piet@concreet.nl");
    let ours = crate::outbound::compose::new_message_id(
        Some(reference()),
        Some(&piet),
        DOMAIN,
        Some(SECRET),
    );
    assert!(!token_proves(
        &[ours],
        reference(),
        &addr("jan@concreet.nl"),
        DOMAIN,
        SECRET
    ));
}

#[test]
fn a_tampered_or_shortened_token_is_refused() {
    let jan = addr("jan@concreet.nl");
    let good = message_token(SECRET, reference(), &jan, "00112233aabbccdd").unwrap();
    let ok = id(&format!("kb.KL-2026-0042.00112233aabbccdd.{good}@{DOMAIN}"));
    assert!(token_proves(&[ok], reference(), &jan, DOMAIN, SECRET));
    let flipped = format!(
        "{}{}",
        &good[..15],
        if good.ends_with('0') { '1' } else { '0' }
    );
    for bad in [
        format!("kb.KL-2026-0042.00112233aabbccdd.{flipped}@{DOMAIN}"),
        format!("kb.KL-2026-0042.00112233aabbccde.{good}@{DOMAIN}"),
        format!("kb.KL-2026-0042.00112233aabbccdd.{}@{DOMAIN}", &good[..2]),
        format!("kb.KL-2026-0042.00112233aabbccdd@{DOMAIN}"),
        format!("xx.KL-2026-0042.00112233aabbccdd.{good}@{DOMAIN}"),
    ] {
        assert!(
            !token_proves(&[id(&bad)], reference(), &jan, DOMAIN, SECRET),
            "{bad}"
        );
    }
}

fn settings(require: bool) -> AuthSettings {
    AuthSettings {
        authserv_id: Some(OURS.to_string()),
        require_authentication: require,
        token_secret: Some(Secret::new(String::from_utf8_lossy(SECRET))),
    }
}

#[test]
fn check_sender_prefers_authentication_then_token_then_the_address() {
    let jan = addr("jan@concreet.nl");
    let token_id = crate::outbound::compose::new_message_id(
        Some(reference()),
        Some(&jan),
        DOMAIN,
        Some(SECRET),
    );
    let pass = h(OPENDKIM);
    let r = Some(reference());
    for require in [true, false] {
        let s = settings(require);
        assert_eq!(
            check_sender(&pass, &[], &jan, r, &s, DOMAIN),
            Ok(Proof::Authenticated)
        );
        let ids = std::slice::from_ref(&token_id);
        assert_eq!(
            check_sender(&[], ids, &jan, r, &s, DOMAIN),
            Ok(Proof::Token)
        );
        assert_eq!(
            check_sender(&[], ids, &jan, None, &s, DOMAIN).is_ok(),
            !require
        );
    }
    assert_eq!(
        check_sender(&[], &[], &jan, r, &settings(false), DOMAIN),
        Ok(Proof::AddressOnly)
    );
}

#[test]
fn check_sender_explains_a_refusal_to_the_officer() {
    let forged = h("evil.example; dkim=pass header.d=concreet.nl");
    let err = check_sender(
        &forged,
        &[],
        &addr("officer@concreet.nl"),
        Some(reference()),
        &settings(true),
        DOMAIN,
    )
    .unwrap_err();
    assert_eq!(
        err,
        "no DKIM/DMARC pass for concreet.nl from mail.concreet.nl and no signed token of our mail"
    );
    let unconfigured = AuthSettings {
        require_authentication: true,
        ..AuthSettings::default()
    };
    let err = check_sender(
        &h(OPENDKIM),
        &[],
        &addr("o@concreet.nl"),
        None,
        &unconfigured,
        DOMAIN,
    )
    .unwrap_err();
    assert!(err.contains("no authserv-id configured"), "{err}");
}

#[test]
fn parsing_never_panics_on_odd_input() {
    for s in [
        "(",
        ")",
        "\"",
        "a;\"b;",
        "a; =",
        "a; x=",
        "a; =y",
        "((a)",
        "a\\",
        "a; dkim=pass (\\",
    ] {
        let _ = parse_authentication_results(s);
    }
}
