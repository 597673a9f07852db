use std::path::Path;

use crate::config::{OAuth2Grant, OAuth2Provider, Settings};

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn problems(toml: &str, base: &Path) -> Vec<String> {
    match Settings::from_toml(toml, base) {
        Ok(_) => Vec::new(),
        Err(ps) => ps.into_iter().map(|p| p.to_string()).collect(),
    }
}

const MAILBOX: &str = r#"
[mailbox]
host = "outlook.office365.com"
user = "klachten@contoso.nl"
auth = "oauth2"
"#;

#[test]
fn microsoft_derives_token_url_and_scope_and_smtp_borrows_the_mailboxs_source() {
    let dir = dir_with(&[("secret", "s3cret\n")]);
    let toml = format!(
        "{MAILBOX}[mailbox.oauth2]\nprovider = \"microsoft\"\ntenant = \"contoso.onmicrosoft.com\"\n\
         client_id = \"app\"\nclient_secret_file = \"secret\"\n\
         [smtp]\nhost = \"smtp.office365.com\"\nsecurity = \"starttls\"\nuser = \"klachten@contoso.nl\"\nauth = \"oauth2\"\n"
    );
    let s = Settings::from_toml(&toml, dir.path()).unwrap();
    let o = s.mailbox.unwrap().endpoint.oauth2.unwrap();
    assert_eq!(o.provider, OAuth2Provider::Microsoft);
    assert_eq!(
        o.token_url,
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    assert_eq!(
        o.scope.as_deref(),
        Some("https://outlook.office365.com/.default")
    );
    assert!(
        matches!(&o.grant, OAuth2Grant::ClientCredentials { client_secret, .. } if client_secret.expose() == "s3cret")
    );
    assert_eq!(s.smtp.unwrap().endpoint.oauth2, Some(o));
}

#[test]
fn missing_and_contradictory_keys_are_named() {
    let toml = format!(
        "{MAILBOX}password_env = \"X\"\n[mailbox.oauth2]\nprovider = \"microsoft\"\nclient_id = \"app\"\n\
         [smtp]\nhost = \"smtp.office365.com\"\nuser = \"k@c.nl\"\nauth = \"oauth2\"\n"
    );
    let found = problems(&toml, Path::new("/nonexistent")).join("\n");
    for key in ["mailbox.password_env", "mailbox.oauth2.client_secret_env"] {
        assert!(found.contains(key), "{key} missing in:\n{found}");
    }
    let found = problems(
        "[mailbox]\nhost = \"h\"\nuser = \"u\"\nauth = \"oauth2\"\n[mailbox.oauth2]\nprovider = \"generic\"\nclient_id = \"a\"\nclient_secret_env = \"PATH\"\n",
        Path::new("/"),
    )
    .join("\n");
    assert!(
        found.contains("mailbox.oauth2.token_url: missing"),
        "{found}"
    );
    let found = problems(
        "[mailbox]\nhost = \"h\"\nuser = \"u\"\nauth = \"oauth2\"\n[smtp]\nhost = \"h\"\nuser = \"u\"\nauth = \"oauth2\"\n",
        Path::new("/"),
    )
    .join("\n");
    assert!(found.contains("smtp.oauth2"), "{found}");
}

#[test]
fn plain_http_token_urls_are_refused_unless_loopback() {
    let toml = |url: &str| {
        format!(
            "{MAILBOX}[mailbox.oauth2]\nprovider = \"generic\"\nclient_id = \"a\"\n\
             client_secret_env = \"PATH\"\ntoken_url = \"{url}\"\n"
        )
    };
    let found = problems(&toml("http://idp.example.nl/token"), Path::new("/")).join("\n");
    assert!(found.contains("mailbox.oauth2.token_url"), "{found}");
    assert!(problems(&toml("http://127.0.0.1:8080/token"), Path::new("/")).is_empty());
    assert!(problems(&toml("https://idp.example.nl/token"), Path::new("/")).is_empty());
}

#[test]
fn a_google_service_account_acts_as_the_mailbox() {
    let sa = r#"{"type":"service_account","client_email":"kb@proj.iam.gserviceaccount.com",
        "private_key":"-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----\n",
        "token_uri":"https://oauth2.googleapis.com/token"}"#;
    let dir = dir_with(&[("sa.json", sa)]);
    let toml = format!(
        "{MAILBOX}[mailbox.oauth2]\nprovider = \"google\"\nservice_account_file = \"sa.json\"\n"
    );
    let s = Settings::from_toml(&toml, dir.path()).unwrap();
    let o = s.mailbox.unwrap().endpoint.oauth2.unwrap();
    assert_eq!(o.scope.as_deref(), Some("https://mail.google.com/"));
    assert!(
        matches!(&o.grant, OAuth2Grant::ServiceAccount { subject, .. } if subject == "klachten@contoso.nl")
    );
}
