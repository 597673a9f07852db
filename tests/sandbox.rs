//! Integration tests of the local mail sandbox (real Dovecot and Postfix; needs root).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use klachtenbot::sandbox::{MailSandbox, SandboxConfig, StopMode};
use lettre::message::Message;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const SERVICE: &str = "klantenservice@concreet.test";
const CLIENT: &str = "klant@klant.test";
const SOON: Duration = Duration::from_secs(10);

fn config(tls: bool) -> SandboxConfig {
    SandboxConfig {
        tls,
        users: vec![SERVICE.into(), CLIENT.into()],
        ..SandboxConfig::default()
    }
}

fn mail(subject: &str) -> Vec<u8> {
    format!(
        "From: Klant <{CLIENT}>\r\nTo: <{SERVICE}>\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@klant.test>\r\n\r\nBody of {subject}.\r\n"
    )
    .into_bytes()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Reads lines until the tagged response for `tag`; returns everything read.
async fn imap_until<S: AsyncRead + AsyncWrite + Unpin>(io: &mut BufReader<S>, tag: &str) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        let n = io.read_line(&mut line).await.expect("read IMAP line");
        assert!(n > 0, "IMAP connection closed; so far: {all}");
        all.push_str(&line);
        if line.starts_with(&format!("{tag} ")) {
            return all;
        }
    }
}

async fn imap_command<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    tag: &str,
    command: &str,
) -> String {
    io.get_mut()
        .write_all(format!("{tag} {command}\r\n").as_bytes())
        .await
        .unwrap();
    imap_until(io, tag).await
}

async fn imap_line<S: AsyncRead + AsyncWrite + Unpin>(io: &mut BufReader<S>) -> String {
    let mut line = String::new();
    io.read_line(&mut line).await.unwrap();
    line
}

fn client_tls_config(ca: &Path) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

fn lettre_tls(sandbox: &MailSandbox) -> TlsParameters {
    let pem = std::fs::read(sandbox.ca_cert_pem().unwrap()).unwrap();
    TlsParameters::builder("localhost".to_owned())
        .add_root_certificate(Certificate::from_pem(&pem).unwrap())
        .build_rustls()
        .unwrap()
}

fn message(subject: &str) -> Message {
    Message::builder()
        .from(SERVICE.parse().unwrap())
        .to(CLIENT.parse().unwrap())
        .subject(subject)
        .body(format!("Body of {subject}.\r\n"))
        .unwrap()
}

#[tokio::test]
async fn plain_sandbox_starts_with_two_users_and_greets_on_imap_and_smtp() {
    let began = Instant::now();
    let sandbox = MailSandbox::start(config(false)).await.unwrap();
    eprintln!(
        "plain sandbox started in {:?} at {}",
        began.elapsed(),
        sandbox.dir().display()
    );
    assert!(sandbox.dir().starts_with("/tmp"));
    assert_eq!(sandbox.imaps_port(), None);
    assert_eq!(sandbox.submission_port(), None);
    assert_eq!(sandbox.ca_cert_pem(), None);
    assert_eq!(sandbox.login_for(SERVICE), "klantenservice");

    let mut imap = BufReader::new(
        TcpStream::connect(("127.0.0.1", sandbox.imap_port()))
            .await
            .unwrap(),
    );
    assert!(imap_line(&mut imap).await.starts_with("* OK"));
    let login = format!("LOGIN {} {}", sandbox.login_for(CLIENT), sandbox.password());
    let answer = imap_command(&mut imap, "a", &login).await;
    assert!(answer.contains("a OK"), "{answer}");

    let mut smtp = BufReader::new(
        TcpStream::connect(("127.0.0.1", sandbox.smtp_port()))
            .await
            .unwrap(),
    );
    assert!(imap_line(&mut smtp).await.starts_with("220 "));
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn mail_delivered_over_smtp_lands_in_the_recipients_inbox() {
    let sandbox = MailSandbox::start(config(false)).await.unwrap();
    sandbox
        .deliver(CLIENT, &[SERVICE], &mail("first"))
        .await
        .unwrap();
    let inbox = sandbox
        .wait_for(SERVICE, "INBOX", SOON, |m| m.len() == 1)
        .await
        .unwrap();
    assert!(contains(&inbox[0], "Subject: first"));
    // LMTP adds these (MAILSERVER.md §3).
    assert!(contains(
        &inbox[0],
        "Delivered-To: klantenservice@concreet.test"
    ));
    assert!(sandbox.messages(CLIENT, "INBOX").unwrap().is_empty());
}

#[tokio::test]
async fn one_smtp_transaction_reaches_recipients_in_several_domains_in_delivery_order() {
    let sandbox = MailSandbox::start(config(false)).await.unwrap();
    // Wait for each message: Postfix hands queued mail to Dovecot over parallel LMTP
    // connections, so only awaited deliveries have a fixed order.
    for n in 0..3 {
        let subject = format!("n{n}");
        let to = [SERVICE, CLIENT];
        sandbox
            .deliver("bot@concreet.test", &to, &mail(&subject))
            .await
            .unwrap();
        for user in to {
            sandbox
                .wait_for(user, "INBOX", SOON, |m| m.len() == n + 1)
                .await
                .unwrap();
        }
    }
    for user in [SERVICE, CLIENT] {
        let inbox = sandbox.messages(user, "INBOX").unwrap();
        for (n, raw) in inbox.iter().enumerate() {
            assert!(
                contains(raw, &format!("Subject: n{n}\r\n")),
                "out of order in {user}"
            );
        }
    }
}

#[tokio::test]
async fn a_hundred_smtp_deliveries_all_arrive_within_seconds() {
    let sandbox = MailSandbox::start(config(false)).await.unwrap();
    let began = Instant::now();
    for n in 0..100 {
        sandbox
            .deliver(CLIENT, &[SERVICE], &mail(&format!("bulk{n}")))
            .await
            .unwrap();
    }
    sandbox
        .wait_for(SERVICE, "INBOX", SOON, |m| m.len() == 100)
        .await
        .unwrap();
    eprintln!("100 deliveries end to end in {:?}", began.elapsed());
    sandbox.wait_for_empty_queue(SOON).await.unwrap();
}

#[tokio::test]
async fn waiting_in_vain_reports_the_message_count_and_the_server_logs() {
    let sandbox = MailSandbox::start(config(false)).await.unwrap();
    sandbox
        .append(SERVICE, "INBOX", &mail("only"))
        .await
        .unwrap();
    let err = sandbox
        .wait_for(SERVICE, "INBOX", Duration::from_millis(100), |m| {
            m.len() == 2
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("1 message(s) there"), "{err}");
    assert!(err.contains("--- dovecot.log"), "{err}");
    assert!(err.contains("--- postfix.log"), "{err}");
}

#[tokio::test]
async fn unknown_recipients_are_refused_at_smtp_time() {
    let sandbox = MailSandbox::start(config(false)).await.unwrap();
    let err = sandbox
        .deliver(CLIENT, &["nobody@concreet.test"], &mail("lost"))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("550"), "{err:#}");
}

#[tokio::test]
async fn appended_mail_lands_in_inbox_byte_for_byte() {
    let sandbox = MailSandbox::start(config(false)).await.unwrap();
    for n in 0..3 {
        sandbox
            .append(SERVICE, "INBOX", &mail(&format!("backlog{n}")))
            .await
            .unwrap();
    }
    let inbox = sandbox.messages(SERVICE, "INBOX").unwrap();
    let expected: Vec<Vec<u8>> = (0..3).map(|n| mail(&format!("backlog{n}"))).collect();
    assert_eq!(inbox, expected);
}

#[tokio::test]
async fn a_processed_folder_is_readable_once_it_exists() {
    let sandbox = MailSandbox::start(config(false)).await.unwrap();
    assert!(sandbox.messages(SERVICE, "Processed").unwrap().is_empty());
    sandbox.create_folder(SERVICE, "Processed").await.unwrap();
    sandbox.create_folder(SERVICE, "Processed").await.unwrap();
    assert!(sandbox.messages(SERVICE, "Processed").unwrap().is_empty());
    sandbox
        .append(SERVICE, "Processed", &mail("done"))
        .await
        .unwrap();
    assert_eq!(
        sandbox.messages(SERVICE, "Processed").unwrap(),
        vec![mail("done")]
    );
    assert!(sandbox.messages(SERVICE, "INBOX").unwrap().is_empty());

    // The folder is a real IMAP mailbox, too.
    let mut imap = BufReader::new(
        TcpStream::connect(("127.0.0.1", sandbox.imap_port()))
            .await
            .unwrap(),
    );
    imap_line(&mut imap).await;
    imap_command(
        &mut imap,
        "a",
        &format!("LOGIN klantenservice {}", sandbox.password()),
    )
    .await;
    let status = imap_command(&mut imap, "b", "STATUS Processed (MESSAGES)").await;
    assert!(status.contains("(MESSAGES 1)"), "{status}");
}

#[tokio::test]
async fn an_idling_imap_client_hears_about_new_mail() {
    let sandbox = MailSandbox::start(config(false)).await.unwrap();
    let mut imap = BufReader::new(
        TcpStream::connect(("127.0.0.1", sandbox.imap_port()))
            .await
            .unwrap(),
    );
    imap_line(&mut imap).await;
    imap_command(
        &mut imap,
        "a",
        &format!("LOGIN klantenservice {}", sandbox.password()),
    )
    .await;
    let select = imap_command(&mut imap, "b", "SELECT INBOX").await;
    assert!(select.contains("* 0 EXISTS"), "{select}");
    imap.get_mut().write_all(b"c IDLE\r\n").await.unwrap();
    assert!(imap_line(&mut imap).await.starts_with("+ "));

    sandbox
        .deliver(CLIENT, &[SERVICE], &mail("wake-up"))
        .await
        .unwrap();
    // Dovecot notifies after its fixed 0.5 s delay (MAILSERVER.md §3, IDLE).
    let exists = tokio::time::timeout(SOON, imap_line(&mut imap))
        .await
        .unwrap();
    assert_eq!(exists.trim_end(), "* 1 EXISTS");
    imap.get_mut().write_all(b"DONE\r\n").await.unwrap();
    assert!(imap_until(&mut imap, "c").await.contains("c OK"));
}

#[tokio::test]
async fn mail_sent_while_dovecot_is_killed_arrives_after_dovecot_restarts() {
    let mut sandbox = MailSandbox::start(config(false)).await.unwrap();
    sandbox.stop_dovecot(StopMode::Kill).await.unwrap();
    assert!(
        TcpStream::connect(("127.0.0.1", sandbox.imap_port()))
            .await
            .is_err()
    );

    sandbox
        .deliver(CLIENT, &[SERVICE], &mail("queued"))
        .await
        .unwrap();
    let deadline = Instant::now() + SOON;
    while sandbox.postfix_queue_len() == 0 {
        assert!(
            Instant::now() < deadline,
            "never queued\n{}",
            sandbox.log_tail(20)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(sandbox.messages(SERVICE, "INBOX").unwrap().is_empty());

    sandbox.start_dovecot().await.unwrap();
    let inbox = sandbox
        .wait_for(SERVICE, "INBOX", SOON, |m| m.len() == 1)
        .await
        .unwrap();
    assert!(contains(&inbox[0], "Subject: queued"));
    sandbox.wait_for_empty_queue(SOON).await.unwrap();
}

#[tokio::test]
async fn smtp_delivery_fails_while_postfix_is_stopped_and_works_after_restart() {
    let mut sandbox = MailSandbox::start(config(false)).await.unwrap();
    sandbox.stop_postfix(StopMode::Term).await.unwrap();
    assert!(
        sandbox
            .deliver(CLIENT, &[SERVICE], &mail("refused"))
            .await
            .is_err()
    );
    sandbox.start_postfix().await.unwrap();
    sandbox
        .deliver(CLIENT, &[SERVICE], &mail("accepted"))
        .await
        .unwrap();
    let inbox = sandbox
        .wait_for(SERVICE, "INBOX", SOON, |m| !m.is_empty())
        .await
        .unwrap();
    assert_eq!(inbox.len(), 1);
    assert!(contains(&inbox[0], "Subject: accepted"));

    // Killing Postfix between Dovecot's "saved" and Postfix's bookkeeping would deliver the
    // message again after the restart (at-least-once), so let the queue drain first.
    sandbox.wait_for_empty_queue(SOON).await.unwrap();
    sandbox.stop_postfix(StopMode::Kill).await.unwrap();
    assert!(
        sandbox
            .deliver(CLIENT, &[SERVICE], &mail("refused"))
            .await
            .is_err()
    );
    sandbox.start_postfix().await.unwrap();
    sandbox
        .deliver(CLIENT, &[SERVICE], &mail("again"))
        .await
        .unwrap();
    sandbox
        .wait_for(SERVICE, "INBOX", SOON, |m| m.len() == 2)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_imap_client_sees_bye_when_dovecot_is_terminated_and_can_log_in_after_restart() {
    let mut sandbox = MailSandbox::start(config(false)).await.unwrap();
    let mut imap = BufReader::new(
        TcpStream::connect(("127.0.0.1", sandbox.imap_port()))
            .await
            .unwrap(),
    );
    imap_line(&mut imap).await;
    imap_command(
        &mut imap,
        "a",
        &format!("LOGIN klant {}", sandbox.password()),
    )
    .await;
    sandbox.stop_dovecot(StopMode::Term).await.unwrap();
    assert!(imap_line(&mut imap).await.starts_with("* BYE"));
    sandbox.start_dovecot().await.unwrap();
    let mut imap = BufReader::new(
        TcpStream::connect(("127.0.0.1", sandbox.imap_port()))
            .await
            .unwrap(),
    );
    imap_line(&mut imap).await;
    let login = imap_command(
        &mut imap,
        "a",
        &format!("LOGIN klant {}", sandbox.password()),
    )
    .await;
    assert!(login.contains("a OK"), "{login}");
}

#[tokio::test]
async fn tls_sandbox_allows_imaps_login_and_authenticated_submission() {
    let began = Instant::now();
    let sandbox = MailSandbox::start(config(true)).await.unwrap();
    eprintln!("TLS sandbox started in {:?}", began.elapsed());
    let ca = sandbox.ca_cert_pem().unwrap();

    let connector = tokio_rustls::TlsConnector::from(client_tls_config(&ca));
    let tcp = TcpStream::connect(("127.0.0.1", sandbox.imaps_port().unwrap()))
        .await
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut imaps = BufReader::new(connector.connect(name, tcp).await.unwrap());
    assert!(imap_line(&mut imaps).await.starts_with("* OK"));
    let login = imap_command(
        &mut imaps,
        "a",
        &format!("LOGIN klantenservice {}", sandbox.password()),
    )
    .await;
    assert!(login.contains("a OK"), "{login}");

    let credentials = Credentials::new(sandbox.login_for(SERVICE), sandbox.password().to_owned());
    let submission = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sandbox.submission_port().unwrap())
        .tls(Tls::Required(lettre_tls(&sandbox)))
        .credentials(credentials.clone())
        .build();
    submission.send(message("over submission")).await.unwrap();
    let smtps = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sandbox.smtps_port().unwrap())
        .tls(Tls::Wrapper(lettre_tls(&sandbox)))
        .credentials(credentials)
        .build();
    smtps.send(message("over smtps")).await.unwrap();

    let inbox = sandbox
        .wait_for(CLIENT, "INBOX", SOON, |m| m.len() == 2)
        .await
        .unwrap();
    assert!(
        inbox
            .iter()
            .any(|m| contains(m, "Subject: over submission"))
    );
    assert!(inbox.iter().any(|m| contains(m, "Subject: over smtps")));
}

#[tokio::test]
async fn tls_submission_refuses_plain_text_and_wrong_passwords() {
    let sandbox = MailSandbox::start(config(true)).await.unwrap();
    let port = sandbox.submission_port().unwrap();
    let plain = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .build();
    let err = plain.send(message("no tls")).await.unwrap_err();
    assert!(err.to_string().contains("STARTTLS"), "{err}");

    let wrong = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .tls(Tls::Required(lettre_tls(&sandbox)))
        .credentials(Credentials::new("klantenservice".into(), "wrong".into()))
        .build();
    assert!(wrong.send(message("bad password")).await.is_err());
    // The MX-like port still takes mail without AUTH.
    sandbox
        .deliver(SERVICE, &[CLIENT], &mail("mx"))
        .await
        .unwrap();
    sandbox
        .wait_for(CLIENT, "INBOX", SOON, |m| m.len() == 1)
        .await
        .unwrap();
}

#[tokio::test]
async fn dropping_the_sandbox_kills_the_servers_and_removes_its_dir() {
    let sandbox = MailSandbox::start(config(true)).await.unwrap();
    sandbox
        .append(SERVICE, "INBOX", &mail("left behind"))
        .await
        .unwrap();
    let dir = sandbox.dir().to_path_buf();
    let ports = [
        sandbox.imap_port(),
        sandbox.smtp_port(),
        sandbox.submission_port().unwrap(),
    ];
    let pids = [
        sandbox.dovecot_pid().unwrap(),
        sandbox.postfix_pid().unwrap(),
    ];
    assert!(dir.is_dir());
    drop(sandbox);
    assert!(!dir.exists(), "{} still exists", dir.display());
    for port in ports {
        assert!(
            TcpStream::connect(("127.0.0.1", port)).await.is_err(),
            "port {port} still open"
        );
    }
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} still there"
        );
    }
}

#[tokio::test]
async fn shutdown_stops_politely_and_removes_the_dir() {
    let sandbox = MailSandbox::start(config(false)).await.unwrap();
    let dir = sandbox.dir().to_path_buf();
    let smtp = sandbox.smtp_port();
    sandbox.shutdown().await.unwrap();
    assert!(!dir.exists());
    assert!(TcpStream::connect(("127.0.0.1", smtp)).await.is_err());
}

#[tokio::test]
async fn bad_user_lists_are_refused_before_anything_starts() {
    let cfg = SandboxConfig {
        users: vec!["jan@a.test".into(), "jan@b.test".into()],
        ..SandboxConfig::default()
    };
    let err = MailSandbox::start(cfg).await.unwrap_err();
    assert!(err.to_string().contains("unique"), "{err}");
}
