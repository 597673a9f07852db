//! A small real OAuth2 authorisation server for the tests (hyper, HTTP/1.1 on loopback):
//! `POST /token` issues short-lived bearer tokens for one client id and secret (RFC 6749
//! §4.4 client credentials, HTTP Basic or form body), and `POST /introspect` answers
//! Dovecot's oauth2 passdb (RFC 7662): active while the token lives, for one user.
//!
//! It also tells when the tokens Dovecot accepted expire, so a test can play Microsoft 365's
//! part of ending the IMAP sessions whose token expired.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// What the server has seen, for the tests' figures.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    /// Tokens issued.
    pub issued: u64,
    /// Token requests refused (wrong client or secret).
    pub refused: u64,
    /// Introspection answers "active".
    pub accepted: u64,
    /// Introspection answers "not active" (unknown or expired token).
    pub rejected: u64,
}

#[derive(Debug)]
struct State {
    client_id: String,
    client_secret: String,
    user: String,
    lifetime: Duration,
    tokens: HashMap<String, Instant>,
    counts: Counts,
    /// Expiry times of accepted tokens not yet taken by the test.
    accepted_expiries: Vec<Instant>,
    /// A service account (e-mail, public key PEM) whose signed assertions (RFC 7523) are
    /// honoured, and the audience they must name.
    service_account: Option<(String, String)>,
    audience: String,
}

/// The running server; it stops when dropped (its tasks end with the test's runtime).
#[derive(Debug, Clone)]
pub struct TokenServer {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl TokenServer {
    /// Starts a server issuing tokens that live `lifetime` to `client_id`/`client_secret`,
    /// valid for the IMAP login `user`.
    pub async fn start(
        client_id: &str,
        client_secret: &str,
        user: &str,
        lifetime: Duration,
    ) -> Result<TokenServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(Mutex::new(State {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            user: user.into(),
            lifetime,
            tokens: HashMap::new(),
            counts: Counts::default(),
            accepted_expiries: Vec::new(),
            service_account: None,
            audience: format!("http://127.0.0.1:{port}/token"),
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(TokenServer { port, state })
    }

    /// The token endpoint.
    pub fn token_url(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// The introspection endpoint for Dovecot.
    pub fn introspection_url(&self) -> String {
        format!("http://127.0.0.1:{}/introspect", self.port)
    }

    /// The counts so far.
    pub fn counts(&self) -> Counts {
        self.lock().counts.clone()
    }

    /// Also honours JWT assertions signed by this service account's key (Google's
    /// domain-wide delegation); the assertion's subject must be the user.
    pub fn accept_service_account(&self, client_email: &str, public_key_pem: &str) {
        self.lock().service_account = Some((client_email.into(), public_key_pem.into()));
    }

    /// The expiry times of the tokens Dovecot accepted since the last call: when a test
    /// plays Microsoft 365, it ends the user's IMAP sessions at each of them.
    pub fn take_accepted_expiries(&mut self) -> Vec<Instant> {
        std::mem::take(&mut self.lock().accepted_expiries)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = req.uri().path().to_string();
    let basic = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let body = req.into_body().collect().await?.to_bytes();
    let form: HashMap<String, String> = oauth2::url::form_urlencoded::parse(&body)
        .into_owned()
        .collect();
    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
    let (status, json) = match path.as_str() {
        "/token" => token(&mut state, basic, &form),
        "/introspect" => introspect(&mut state, &form),
        _ => (
            StatusCode::NOT_FOUND,
            r#"{"error":"not_found"}"#.to_string(),
        ),
    };
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(json)))
        .unwrap_or_default();
    Ok(response)
}

fn token(
    state: &mut State,
    basic: Option<String>,
    form: &HashMap<String, String>,
) -> (StatusCode, String) {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded inside the Basic credentials.
    let decode = |s: &str| {
        oauth2::url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let (id, secret) = match basic.as_deref().and_then(|b| b.split_once(':')) {
        Some((id, secret)) => (decode(id), decode(secret)),
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    if form.get("grant_type").map(String::as_str) == Some(JWT_BEARER) {
        return match check_assertion(state, form) {
            Ok(()) => issue(state),
            Err(why) => {
                state.counts.refused += 1;
                let json = serde_json::json!({"error": "invalid_grant", "error_description": why});
                (StatusCode::BAD_REQUEST, json.to_string())
            }
        };
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"error":"unsupported_grant_type"}"#.into(),
        );
    }
    if id != state.client_id || secret != state.client_secret {
        state.counts.refused += 1;
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"error":"invalid_client","error_description":"Client authentication failed: unknown client or wrong secret"}"#.into(),
        );
    }
    issue(state)
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Verifies the assertion's signature, issuer, audience and subject.
fn check_assertion(state: &State, form: &HashMap<String, String>) -> Result<(), String> {
    let (email, pem) = state
        .service_account
        .as_ref()
        .ok_or("no service account configured")?;
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&state.audience]);
    validation.set_issuer(&[email]);
    let assertion = form.get("assertion").ok_or("no assertion")?;
    let data = jsonwebtoken::decode::<serde_json::Value>(assertion, &key, &validation)
        .map_err(|e| e.to_string())?;
    let sub = data.claims["sub"].as_str().unwrap_or_default();
    if !sub.starts_with(&format!("{}@", state.user)) && sub != state.user {
        return Err(format!("subject {sub} is not delegated"));
    }
    Ok(())
}

fn issue(state: &mut State) -> (StatusCode, String) {
    let token = format!("tok-{:032x}", rand::random::<u128>());
    state
        .tokens
        .insert(token.clone(), Instant::now() + state.lifetime);
    state.counts.issued += 1;
    let json = serde_json::json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": state.lifetime.as_secs(),
    });
    (StatusCode::OK, json.to_string())
}

fn introspect(state: &mut State, form: &HashMap<String, String>) -> (StatusCode, String) {
    let token = form.get("token").cloned().unwrap_or_default();
    let expiry = state.tokens.get(&token).copied();
    match expiry {
        Some(expiry) if Instant::now() < expiry => {
            state.counts.accepted += 1;
            state.accepted_expiries.push(expiry);
            let json = serde_json::json!({"active": true, "username": state.user});
            (StatusCode::OK, json.to_string())
        }
        _ => {
            state.counts.rejected += 1;
            (StatusCode::OK, r#"{"active":false}"#.into())
        }
    }
}
