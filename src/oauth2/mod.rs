//! OAuth2 access tokens for the IMAP and SMTP logins (XOAUTH2, OAUTHBEARER).
//!
//! - [`fetch`]: one token request per grant (client credentials and refresh token with the
//!   `oauth2` crate, the JWT-bearer grant of a Google service account with `jsonwebtoken`).
//! - [`sasl`]: the XOAUTH2 and OAUTHBEARER initial responses.
//!
//! A [`TokenSource`] caches the token in memory and hands it out until it is close to expiry,
//! so every login (a new IMAP session after the server ended the last one, a new pooled SMTP
//! connection) gets a token that is still valid, without a request per login. A login the
//! server refuses drops the token ([`TokenSource::refused`]) so the retry fetches a new one.

mod fetch;
pub mod sasl;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::config::{OAuth2Grant, OAuth2Settings, Secret};

/// The longest a token is renewed before it expires: Microsoft's and Google's tokens live
/// about an hour, so five minutes spares a slow login and a skewed clock.
const MAX_MARGIN: Duration = Duration::from_secs(300);
/// Assumed lifetime when the endpoint does not say (`expires_in` is only RECOMMENDED).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// Why no token could be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    /// The endpoint answered with an error (wrong secret, no consent): fixing it needs an
    /// administrator. The answer is the endpoint's own words.
    #[error("token endpoint {url} refused: {answer}")]
    Refused {
        /// The token endpoint.
        url: String,
        /// `error` and `error_description` of its answer, or the HTTP status and body.
        answer: String,
    },
    /// The endpoint could not be reached or gave no usable answer: may pass.
    #[error("token endpoint {url} unreachable: {message}")]
    Unreachable {
        /// The token endpoint.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The credentials could not be turned into a request (e.g. an unreadable private key).
    #[error("cannot request a token: {0}")]
    Invalid(String),
}

/// A token and when it stops being handed out.
#[derive(Debug, Clone)]
struct Cached {
    token: Secret,
    renew_at: Instant,
}

/// Tokens from one configured source, cached. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct TokenSource {
    settings: OAuth2Settings,
    http: reqwest::Client,
    /// A tokio mutex: concurrent logins wait for one request instead of each making one.
    cached: tokio::sync::Mutex<Option<Cached>>,
    fetched: AtomicU64,
}

impl TokenSource {
    /// A source for these settings, with nothing cached yet.
    pub fn new(settings: OAuth2Settings) -> Result<TokenSource, TokenError> {
        let http = reqwest::Client::builder()
            // oauth2's advice: following redirects would let an endpoint bounce the secret on.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| TokenError::Invalid(format!("HTTP client: {e}")))?;
        Ok(TokenSource {
            settings,
            http,
            cached: tokio::sync::Mutex::new(None),
            fetched: AtomicU64::new(0),
        })
    }

    /// The token endpoint, for messages.
    pub fn token_url(&self) -> &str {
        &self.settings.token_url
    }

    /// A valid token: the cached one while it has some life left, else a new one.
    pub async fn token(&self) -> Result<Secret, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.renew_at
        {
            return Ok(c.token.clone());
        }
        let fresh = fetch::request(&self.settings, &self.http).await?;
        self.fetched.fetch_add(1, Ordering::Relaxed);
        let lifetime = fresh.expires_in.unwrap_or(DEFAULT_LIFETIME);
        let margin = (lifetime / 4).min(MAX_MARGIN);
        tracing::debug!(token_url = %self.settings.token_url, ?lifetime, "new OAuth2 access token");
        *cached = Some(Cached {
            token: fresh.token.clone(),
            renew_at: Instant::now() + lifetime - margin,
        });
        Ok(fresh.token)
    }

    /// The server refused `token`: forget it so the next [`token`](Self::token) fetches a
    /// new one (unless another login already replaced it).
    pub async fn refused(&self, token: &Secret) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| &c.token == token) {
            *cached = None;
        }
    }

    /// How many tokens were fetched so far (for logs and the tests' figures).
    pub fn fetched(&self) -> u64 {
        self.fetched.load(Ordering::Relaxed)
    }
}

/// The one source per configured token source in this process, so the watcher and the
/// sender share a token when they log in with the same identity.
pub fn shared(settings: &OAuth2Settings) -> Result<Arc<TokenSource>, TokenError> {
    static SOURCES: OnceLock<Mutex<HashMap<String, Arc<TokenSource>>>> = OnceLock::new();
    let key = identity(settings);
    let mut sources = SOURCES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(source) = sources.get(&key) {
        return Ok(source.clone());
    }
    let source = Arc::new(TokenSource::new(settings.clone())?);
    sources.insert(key, source.clone());
    Ok(source)
}

/// What tells two token sources apart: the grant (secrets hashed, never kept in clear in the
/// key), the endpoint and the scope.
fn identity(settings: &OAuth2Settings) -> String {
    use sha2::{Digest, Sha256};
    let secrets = match &settings.grant {
        OAuth2Grant::ClientCredentials {
            client_id,
            client_secret,
        } => {
            format!("cc|{client_id}|{}", client_secret.expose())
        }
        OAuth2Grant::RefreshToken {
            client_id,
            client_secret,
            refresh_token,
        } => format!(
            "rt|{client_id}|{}|{}",
            client_secret.expose(),
            refresh_token.expose()
        ),
        OAuth2Grant::ServiceAccount {
            client_email,
            private_key,
            subject,
        } => {
            format!("sa|{client_email}|{subject}|{}", private_key.expose())
        }
    };
    let digest = hex::encode(Sha256::digest(secrets.as_bytes()));
    format!("{digest}|{}|{:?}", settings.token_url, settings.scope)
}
