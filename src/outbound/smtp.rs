//! The SMTP client: TLS, STARTTLS or plain (loopback only), with login, over lettre's SMTP
//! connection and a small pool of idle connections.
//!
//! Why not lettre's `AsyncSmtpTransport`: it cannot switch off Nagle's algorithm, and lettre
//! writes a message's body and its closing "." separately, so every message then waits for
//! the server's delayed ACK (~40 ms on Linux loopback, measured). Here the socket is ours:
//! `TCP_NODELAY` is set before lettre speaks SMTP on it.
//!
//! Per message, where the server offers PIPELINING (RFC 2920), MAIL FROM, RCPT TO and DATA go
//! out in one write and their replies are read together: two round trips per message instead
//! of four. A pooled connection is checked with NOOP only after it sat idle for a while.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::commands::{Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::config::{Endpoint, Security};

/// How long one SMTP step (connect, a command, the data) may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);
/// Conversations the sender runs at once, and so the idle connections kept for reuse.
pub const PARALLEL: usize = 3;
/// A pooled connection idle for longer than this is checked with NOOP before reuse; one used
/// more recently is trusted (Postfix drops idle clients after 300 s by default).
const TRUST_IDLE: Duration = Duration::from_secs(10);

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Network, TLS, timeout or a 4xx reply: try again later.
    Temporary(String),
    /// A 5xx reply: final.
    Permanent(String),
}

impl From<lettre::transport::smtp::Error> for Failure {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        // Only a 5xx reply is final; network, TLS, timeouts and 4xx may pass.
        if e.is_permanent() {
            Failure::Permanent(e.to_string())
        } else {
            Failure::Temporary(e.to_string())
        }
    }
}

/// Sends messages to one SMTP server.
pub struct Transport {
    endpoint: Endpoint,
    hello: ClientId,
    starttls: Option<TlsParameters>,
    implicit_tls: Option<Arc<rustls::ClientConfig>>,
    idle: Mutex<Vec<Pooled>>,
}

/// An open connection and what we know about it.
struct Pooled {
    conn: AsyncSmtpConnection,
    /// The server offered PIPELINING in its EHLO reply.
    pipelining: bool,
    /// When it was last handed back to the pool.
    since: Instant,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("host", &self.endpoint.host)
            .field("port", &self.endpoint.port)
            .finish()
    }
}

/// Builds the transport; connections are opened when needed and reused.
pub fn transport(endpoint: &Endpoint) -> anyhow::Result<Transport> {
    let mut starttls = None;
    let mut implicit_tls = None;
    match endpoint.security {
        Security::StartTls => {
            let mut b = TlsParameters::builder(endpoint.host.clone());
            if let Some(path) = &endpoint.ca_file {
                b = b.add_root_certificate(Certificate::from_pem(&std::fs::read(path)?)?);
            }
            starttls = Some(b.build_rustls()?);
        }
        Security::Tls => implicit_tls = Some(crate::net::tls_config(endpoint.ca_file.as_deref())?),
        Security::Plain => {}
    }
    let hello = ClientId::Domain(hostname());
    Ok(Transport {
        endpoint: endpoint.clone(),
        hello,
        starttls,
        implicit_tls,
        idle: Mutex::new(Vec::new()),
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        })
        .unwrap_or_else(|| "localhost".into())
}

impl Transport {
    /// Sends one message in one SMTP transaction.
    pub async fn send_raw(&self, envelope: &Envelope, raw: &[u8]) -> Result<(), Failure> {
        let mut pooled = match self.reuse().await {
            Some(c) => c,
            None => self.connect().await?,
        };
        // Anything unusual (SMTPUTF8, 8-bit without 8BITMIME) goes through lettre's own checks.
        let ascii_addresses = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .all(|a| AsRef::<str>::as_ref(a).is_ascii());
        let simple = ascii_addresses
            && (raw.is_ascii()
                || pooled
                    .conn
                    .server_info()
                    .supports_feature(Extension::EightBitMime));
        let sent = if pooled.pipelining && simple {
            send_pipelined(&mut pooled.conn, envelope, raw).await
        } else {
            tokio::time::timeout(SMTP_TIMEOUT, pooled.conn.send(envelope, raw))
                .await
                .map(|r| r.map(|_| ()))
        };
        match sent {
            Ok(Ok(())) => {
                let mut idle = self.idle.lock().await;
                if idle.len() < PARALLEL {
                    pooled.since = Instant::now();
                    idle.push(pooled);
                }
                Ok(())
            }
            Ok(Err(e)) => {
                // After a refusal the conversation state is unclear: start afresh next time.
                pooled.conn.abort().await;
                Err(e.into())
            }
            Err(_) => Err(Failure::Temporary(format!(
                "no SMTP answer within {SMTP_TIMEOUT:?}"
            ))),
        }
    }

    /// An idle connection that still answers, if any: NOOP only after [`TRUST_IDLE`].
    async fn reuse(&self) -> Option<Pooled> {
        loop {
            let mut pooled = self.idle.lock().await.pop()?;
            if pooled.since.elapsed() < TRUST_IDLE {
                return Some(pooled);
            }
            if tokio::time::timeout(Duration::from_secs(5), pooled.conn.test_connected())
                .await
                .unwrap_or(false)
            {
                return Some(pooled);
            }
            pooled.conn.abort().await;
        }
    }

    async fn connect(&self) -> Result<Pooled, Failure> {
        tokio::time::timeout(SMTP_TIMEOUT, self.open())
            .await
            .map_err(|_| {
                Failure::Temporary(format!("SMTP connect timed out after {SMTP_TIMEOUT:?}"))
            })?
    }

    async fn open(&self) -> Result<Pooled, Failure> {
        let mut conn = self.greeted().await?;
        // lettre keeps only the extensions it knows: ask again to learn about PIPELINING.
        let pipelining = conn
            .command(Ehlo::new(self.hello.clone()))
            .await?
            .message()
            .any(|line| line.eq_ignore_ascii_case("PIPELINING"));
        self.login(&mut conn).await?;
        Ok(Pooled {
            conn,
            pipelining,
            since: Instant::now(),
        })
    }

    /// A connection past the greeting, EHLO and (where configured) TLS, not logged in: the
    /// first steps of [`Self::login`]'s callers, and of `klachtenbot doctor`.
    pub async fn greeted(&self) -> Result<AsyncSmtpConnection, Failure> {
        let net = |e: std::io::Error| {
            Failure::Temporary(format!(
                "SMTP connection to {}:{}: {e}",
                self.endpoint.host, self.endpoint.port
            ))
        };
        let tcp = TcpStream::connect((self.endpoint.host.as_str(), self.endpoint.port))
            .await
            .map_err(net)?;
        tcp.set_nodelay(true).map_err(net)?;
        let stream: Box<dyn AsyncTokioStream> = match &self.implicit_tls {
            Some(config) => {
                let name = ServerName::try_from(self.endpoint.host.clone())
                    .map_err(|e| Failure::Permanent(format!("invalid TLS server name: {e}")))?;
                let tls = TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(net)?;
                Box::new(TlsIo(tls))
            }
            None => Box::new(tcp),
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await?;
        if let Some(params) = &self.starttls {
            conn.starttls(params.clone(), &self.hello).await?;
        }
        Ok(conn)
    }

    /// Logs in as the configured user (none: nothing to do), with the password or a token.
    pub async fn login(&self, conn: &mut AsyncSmtpConnection) -> Result<(), Failure> {
        match (&self.endpoint.user, &self.endpoint.oauth2) {
            (Some(user), Some(oauth2)) => token_login(conn, user, oauth2).await?,
            (Some(user), None) => {
                let credentials =
                    Credentials::new(user.clone(), self.endpoint.password.expose().to_string());
                conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                    .await?;
            }
            (None, _) => {}
        }
        Ok(())
    }
}

/// AUTH XOAUTH2 with a token from the configured source (lettre has no OAUTHBEARER). A
/// refused token is dropped and a fresh one tried once on the same connection. A token
/// endpoint that refuses is an administrator's problem, not the mail's: the mail waits
/// (temporary) instead of being given up.
async fn token_login(
    conn: &mut AsyncSmtpConnection,
    user: &str,
    oauth2: &crate::config::OAuth2Settings,
) -> Result<(), Failure> {
    let temporary = |e: crate::oauth2::TokenError| Failure::Temporary(e.to_string());
    let source = crate::oauth2::shared(oauth2).map_err(temporary)?;
    let mut refusal = None;
    for _attempt in 0..2 {
        let token = source.token().await.map_err(temporary)?;
        let credentials = Credentials::new(user.to_string(), token.expose().to_string());
        match conn.auth(&[Mechanism::Xoauth2], &credentials).await {
            Ok(_) => return Ok(()),
            Err(e) => {
                tracing::info!(error = %e, "SMTP refused the token; trying a fresh one");
                source.refused(&token).await;
                refusal = Some(e);
            }
        }
    }
    Err(refusal.map_or_else(
        || Failure::Temporary("SMTP AUTH XOAUTH2 failed".into()),
        Failure::from,
    ))
}

/// MAIL FROM, RCPT TO and DATA in one write (RFC 2920 §3.1: DATA ends the group), their
/// replies read in order, then the message. The first refusal ends it (the caller drops the
/// connection, so unread replies do not matter). For ASCII addresses, with 8BITMIME where the
/// body needs it, as lettre's own `send` does.
async fn send_pipelined(
    conn: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    raw: &[u8],
) -> Result<Result<(), lettre::transport::smtp::Error>, tokio::time::error::Elapsed> {
    let mut params = Vec::new();
    if !raw.is_ascii() {
        params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let mut group = Mail::new(envelope.from().cloned(), params).to_string();
    for to in envelope.to() {
        group.push_str(&Rcpt::new(to.clone(), Vec::new()).to_string());
    }
    group.push_str("DATA\r\n");
    tokio::time::timeout(SMTP_TIMEOUT, async {
        conn.command(group).await?; // writes the group, reads MAIL's reply
        for _ in envelope.to() {
            conn.read_response().await?;
        }
        conn.read_response().await?; // 354
        conn.message(raw).await?;
        Ok(())
    })
    .await
}

/// A TLS stream lettre can speak SMTP over (lettre wants `peer_addr`).
#[derive(Debug)]
struct TlsIo(TlsStream<TcpStream>);

impl AsyncRead for TlsIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsIo {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}
