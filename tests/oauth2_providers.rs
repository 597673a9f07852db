//! The token sources of each provider against a real token endpoint on loopback (the
//! test's own, speaking RFC 6749 and RFC 7523): Microsoft's client credentials with the
//! secret in the form body, the generic one with HTTP Basic, a Google service account's
//! signed assertion, and the cache in front of them.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use common::token_server::TokenServer;
use klachtenbot::config::{OAuth2Settings, Settings};
use klachtenbot::oauth2::{TokenError, TokenSource};

const USER: &str = "klantenservice";
const SECRET: &str = "provider-secret";

fn settings(dir: &Path, oauth2_table: &str) -> Result<OAuth2Settings> {
    let toml = format!(
        "[mailbox]\nhost = \"127.0.0.1\"\nuser = \"{USER}@concreet.test\"\nauth = \"oauth2\"\n\
         [mailbox.oauth2]\n{oauth2_table}"
    );
    let s = Settings::from_toml(&toml, dir)
        .map_err(|p| anyhow::anyhow!("invalid test settings: {p:?}"))?;
    s.mailbox
        .and_then(|m| m.endpoint.oauth2)
        .context("no oauth2 settings")
}

#[tokio::test]
async fn microsoft_and_generic_client_credentials_get_a_token_and_cache_it() -> Result<()> {
    let server = TokenServer::start("app-id", SECRET, USER, Duration::from_secs(3600)).await?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("secret"), SECRET)?;
    for provider in ["microsoft\"\ntenant = \"contoso.onmicrosoft.com", "generic"] {
        let table = format!(
            "provider = \"{provider}\"\nclient_id = \"app-id\"\nclient_secret_file = \"secret\"\n\
             token_url = \"{}\"\n",
            server.token_url()
        );
        let source = TokenSource::new(settings(dir.path(), &table)?)?;
        let first = source.token().await?;
        let again = source.token().await?;
        assert_eq!(first, again, "{provider}: the cached token was not reused");
        assert_eq!(source.fetched(), 1);
        // A refused token is dropped: the next login gets a new one.
        source.refused(&first).await;
        assert_ne!(source.token().await?, first);
    }
    assert_eq!(server.counts().issued, 4);
    Ok(())
}

#[tokio::test]
async fn a_wrong_secret_is_refused_with_the_endpoints_words() -> Result<()> {
    let server = TokenServer::start("app-id", SECRET, USER, Duration::from_secs(3600)).await?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("secret"), "wrong")?;
    let table = format!(
        "provider = \"generic\"\nclient_id = \"app-id\"\nclient_secret_file = \"secret\"\n\
         token_url = \"{}\"\n",
        server.token_url()
    );
    let source = TokenSource::new(settings(dir.path(), &table)?)?;
    match source.token().await {
        Err(TokenError::Refused { answer, .. }) => {
            assert!(answer.contains("invalid_client"), "{answer}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn a_google_service_account_signs_an_assertion_for_the_mailbox() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let key = dir.path().join("key.pem");
    let public = dir.path().join("public.pem");
    let made = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&key)
        .stderr(std::process::Stdio::null())
        .status()?;
    anyhow::ensure!(made.success(), "openssl genpkey failed");
    let exported = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&key)
        .arg("-out")
        .arg(&public)
        .status()?;
    anyhow::ensure!(exported.success(), "openssl pkey failed");
    let email = "kb@project.iam.gserviceaccount.com";
    let server = TokenServer::start("unused", "unused", USER, Duration::from_secs(3600)).await?;
    server.accept_service_account(email, &std::fs::read_to_string(&public)?);
    let sa = serde_json::json!({
        "type": "service_account",
        "client_email": email,
        "private_key": std::fs::read_to_string(&key)?,
        "token_uri": server.token_url(),
    });
    std::fs::write(dir.path().join("sa.json"), sa.to_string())?;
    let source = TokenSource::new(settings(
        dir.path(),
        "provider = \"google\"\nservice_account_file = \"sa.json\"\n",
    )?)?;
    source.token().await?;
    let counts = server.counts();
    assert_eq!((counts.issued, counts.refused), (1, 0), "{counts:?}");
    Ok(())
}
