//! Logging in with an OAuth2 access token: OAUTHBEARER where the server offers it, else
//! XOAUTH2; a refused token is dropped and a fresh one tried once (it may have been revoked
//! or expired early), so a token problem costs one extra round trip, not a reconnect.

use anyhow::bail;
use async_imap::Client;
use async_imap::imap_proto::{Capability, Response};
use tokio::io::AsyncWriteExt;

use super::session::{COMMAND_TIMEOUT, ImapIo, ImapSession, LoginRefused, timed};
use crate::config::{Endpoint, OAuth2Settings};
use crate::oauth2::sasl::{Mechanism, TokenAuthenticator};

/// Logs in as the endpoint's user with a token from `oauth2`'s source.
pub(super) async fn with_token(
    mut client: Client<Box<dyn ImapIo>>,
    endpoint: &Endpoint,
    oauth2: &OAuth2Settings,
) -> anyhow::Result<ImapSession> {
    let user = endpoint.user.as_deref().unwrap_or_default();
    let mechanisms = auth_mechanisms(&mut client).await?;
    let mechanism = Mechanism::choose(mechanisms.iter().map(String::as_str));
    let source = crate::oauth2::shared(oauth2)?;
    let mut refusal = String::new();
    for _attempt in 0..2 {
        let token = source.token().await?;
        let auth = TokenAuthenticator::new(mechanism, user, token.expose());
        match attempt(client, mechanism, auth).await? {
            Ok(session) => return Ok(session),
            Err((message, back)) => {
                tracing::info!(mechanism = mechanism.name(), answer = %message, "IMAP refused the token; trying a fresh one");
                source.refused(&token).await;
                refusal = message;
                client = back;
            }
        }
    }
    Err(LoginRefused(format!(
        "{} with a fresh token: {refusal}",
        mechanism.name()
    ))
    .into())
}

type Attempt = Result<ImapSession, (String, Client<Box<dyn ImapIo>>)>;

async fn attempt(
    client: Client<Box<dyn ImapIo>>,
    mechanism: Mechanism,
    auth: TokenAuthenticator,
) -> anyhow::Result<Attempt> {
    match tokio::time::timeout(COMMAND_TIMEOUT, client.authenticate(mechanism.name(), auth)).await {
        Ok(Ok(session)) => Ok(Ok(session)),
        Ok(Err((e, client))) => Ok(Err((e.to_string(), client))),
        Err(_) => bail!("IMAP AUTHENTICATE {} timed out", mechanism.name()),
    }
}

/// The tag of our own pre-login CAPABILITY; async-imap's tags look like `A0001`.
const CAPABILITY_TAG: &str = "kbcap";

/// The `AUTH=` mechanisms of a `CAPABILITY` before login. async-imap offers no command with
/// untagged answers before login, so the command is written on the stream directly; nothing
/// else is in flight then.
async fn auth_mechanisms(client: &mut Client<Box<dyn ImapIo>>) -> anyhow::Result<Vec<String>> {
    let command = format!("{CAPABILITY_TAG} CAPABILITY\r\n");
    timed("CAPABILITY", async {
        client.get_mut().write_all(command.as_bytes()).await?;
        client.get_mut().flush().await
    })
    .await?;
    let mut found = Vec::new();
    loop {
        let Some(response) = timed("CAPABILITY", client.read_response()).await? else {
            bail!("IMAP server closed the connection during CAPABILITY");
        };
        match response.parsed() {
            Response::Capabilities(caps) => found.extend(caps.iter().filter_map(|c| match c {
                Capability::Auth(m) => Some(m.to_string()),
                _ => None,
            })),
            Response::Done { tag, .. } if tag.0 == CAPABILITY_TAG => return Ok(found),
            _ => {}
        }
    }
}
