//! Connecting to the IMAP server: TCP, TLS (implicit or STARTTLS, rustls with the system's and
//! webpki's roots plus an optional extra CA), greeting, and login (AUTHENTICATE PLAIN where
//! offered, else LOGIN).

use std::fmt::Debug;
use std::time::Duration;

use anyhow::{Context, bail};
use async_imap::{Client, Session};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::config::{Endpoint, Security};

/// Any byte stream the IMAP client can run over (plain TCP or TLS).
pub trait ImapIo: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> ImapIo for T {}

/// An authenticated IMAP session.
pub type ImapSession = Session<Box<dyn ImapIo>>;

/// How long one IMAP command (outside IDLE) may take before the connection counts as dead.
/// async-imap has no timeouts of its own.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs an IMAP operation with [`COMMAND_TIMEOUT`].
pub async fn timed<T, E>(what: &str, fut: impl Future<Output = Result<T, E>>) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(COMMAND_TIMEOUT, fut).await {
        Ok(r) => r.with_context(|| format!("IMAP {what} failed")),
        Err(_) => bail!("IMAP {what} timed out after {COMMAND_TIMEOUT:?}"),
    }
}

async fn tls_wrap(stream: TcpStream, endpoint: &Endpoint) -> anyhow::Result<Box<dyn ImapIo>> {
    let config = crate::net::tls_config(endpoint.ca_file.as_deref())?;
    let name =
        ServerName::try_from(endpoint.host.clone()).context("Invalid server name for TLS")?;
    let tls = timed(
        "TLS handshake",
        TlsConnector::from(config).connect(name, stream),
    )
    .await?;
    Ok(Box::new(tls))
}

/// Connects and logs in.
pub async fn connect(endpoint: &Endpoint) -> anyhow::Result<ImapSession> {
    let client = open(endpoint).await?;
    login(client, endpoint).await
}

/// Connects (TCP, TLS or STARTTLS) up to the greeting, not logged in yet.
pub async fn open(endpoint: &Endpoint) -> anyhow::Result<Client<Box<dyn ImapIo>>> {
    let addr = (endpoint.host.as_str(), endpoint.port);
    let tcp = timed("connect", TcpStream::connect(addr)).await?;
    tcp.set_nodelay(true)?;
    let stream: Box<dyn ImapIo> = match endpoint.security {
        Security::Tls => tls_wrap(tcp, endpoint).await?,
        Security::Plain => Box::new(tcp),
        Security::StartTls => {
            let mut client = Client::new(tcp);
            greeting(&mut client).await?;
            timed(
                "STARTTLS",
                client.run_command_and_check_ok("STARTTLS", None),
            )
            .await?;
            tls_wrap(client.into_inner(), endpoint).await?
        }
    };
    let mut client = Client::new(stream);
    if endpoint.security != Security::StartTls {
        greeting(&mut client).await?;
    }
    Ok(client)
}

async fn greeting<T: ImapIo>(client: &mut Client<T>) -> anyhow::Result<()> {
    match tokio::time::timeout(COMMAND_TIMEOUT, client.read_response()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => bail!("IMAP server closed the connection before its greeting"),
        Ok(Err(e)) => Err(e).context("IMAP greeting failed"),
        Err(_) => bail!("no IMAP greeting within {COMMAND_TIMEOUT:?}"),
    }
}

struct Plain<'a> {
    user: &'a str,
    password: &'a str,
}

impl async_imap::Authenticator for Plain<'_> {
    type Response = Vec<u8>;
    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        // RFC 4616: authzid NUL authcid NUL passwd, with an empty authzid.
        format!("\0{}\0{}", self.user, self.password).into_bytes()
    }
}

/// The server refused our login: a wrong password or token, or an account without IMAP
/// access. The text is the server's own answer.
#[derive(Debug, thiserror::Error)]
#[error("IMAP login refused: {0}")]
pub struct LoginRefused(pub String);

/// Logs in with the password (AUTHENTICATE PLAIN, else LOGIN) or an OAuth2 token.
pub async fn login(
    client: Client<Box<dyn ImapIo>>,
    endpoint: &Endpoint,
) -> anyhow::Result<ImapSession> {
    if let Some(oauth2) = &endpoint.oauth2 {
        return super::login::with_token(client, endpoint, oauth2).await;
    }
    let user = endpoint.user.as_deref().unwrap_or_default();
    let password = endpoint.password.expose();
    // AUTHENTICATE PLAIN is tried first: it handles any character in the password, which
    // LOGIN's quoted strings do not. A server without it answers NO and we fall back.
    let plain = Plain { user, password };
    let attempt = tokio::time::timeout(COMMAND_TIMEOUT, client.authenticate("PLAIN", plain)).await;
    let client = match attempt {
        Ok(Ok(session)) => return Ok(session),
        Ok(Err((_, client))) => client,
        Err(_) => bail!("IMAP AUTHENTICATE timed out"),
    };
    match tokio::time::timeout(COMMAND_TIMEOUT, client.login(user, password)).await {
        Ok(Ok(session)) => Ok(session),
        Ok(Err((e, _))) => Err(LoginRefused(e.to_string()).into()),
        Err(_) => bail!("IMAP LOGIN timed out"),
    }
}
