//! One token request: client credentials and refresh token with the `oauth2` crate, the
//! JWT-bearer grant (RFC 7523) of a Google service account with `jsonwebtoken` and reqwest
//! (the `oauth2` crate has no such grant).

use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use oauth2::{
    AuthType, ClientId, ClientSecret, HttpClientError, RefreshToken, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};

use super::TokenError;
use crate::config::{OAuth2Grant, OAuth2Provider, OAuth2Settings, Secret};

/// How long a service account's assertion is valid: Google's maximum.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(3600);

/// A token as the endpoint handed it out.
pub(super) struct Fresh {
    pub token: Secret,
    pub expires_in: Option<Duration>,
}

type OAuthError = RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>;

/// Asks the token endpoint for a new access token.
pub(super) async fn request(
    settings: &OAuth2Settings,
    http: &reqwest::Client,
) -> Result<Fresh, TokenError> {
    let url = settings.token_url.clone();
    let token_url =
        TokenUrl::new(url.clone()).map_err(|e| TokenError::Invalid(format!("token_url: {e}")))?;
    let scopes: Vec<Scope> = settings
        .scope
        .iter()
        .flat_map(|s| s.split_whitespace())
        .map(|s| Scope::new(s.to_string()))
        .collect();
    // Microsoft's and Google's documentation send the secret in the form body; RFC 6749
    // §2.3.1 makes HTTP Basic the one every server must accept, so generic endpoints get that.
    let auth_type = match settings.provider {
        OAuth2Provider::Generic => AuthType::BasicAuth,
        _ => AuthType::RequestBody,
    };
    let answer: Result<BasicTokenResponse, OAuthError> = match &settings.grant {
        OAuth2Grant::ClientCredentials {
            client_id,
            client_secret,
        } => {
            client(client_id, client_secret, auth_type, token_url)
                .exchange_client_credentials()
                .add_scopes(scopes)
                .request_async(http)
                .await
        }
        OAuth2Grant::RefreshToken {
            client_id,
            client_secret,
            refresh_token,
        } => {
            let refresh = RefreshToken::new(refresh_token.expose().to_string());
            client(client_id, client_secret, auth_type, token_url)
                .exchange_refresh_token(&refresh)
                .add_scopes(scopes)
                .request_async(http)
                .await
        }
        OAuth2Grant::ServiceAccount {
            client_email,
            private_key,
            subject,
        } => {
            let assertion = assertion(settings, client_email, private_key, subject)?;
            return jwt_bearer(http, &url, &assertion).await;
        }
    };
    match answer {
        Ok(t) => Ok(Fresh {
            token: Secret::new(t.access_token().secret().clone()),
            expires_in: t.expires_in(),
        }),
        Err(e) => Err(explain(&url, e)),
    }
}

/// An oauth2 client for the token endpoint only (no authorization or redirect URL: the
/// grants used here have no user in a browser).
fn client(
    client_id: &str,
    client_secret: &Secret,
    auth_type: AuthType,
    token_url: TokenUrl,
) -> BasicClient<
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
> {
    BasicClient::new(ClientId::new(client_id.to_string()))
        .set_client_secret(ClientSecret::new(client_secret.expose().to_string()))
        .set_auth_type(auth_type)
        .set_token_uri(token_url)
}

/// The endpoint's own words where it gave any.
fn explain(url: &str, e: OAuthError) -> TokenError {
    let url = url.to_string();
    match e {
        RequestTokenError::ServerResponse(r) => {
            let mut answer = r.error().to_string();
            if let Some(d) = r.error_description() {
                answer.push_str(&format!(" ({d})"));
            }
            TokenError::Refused { url, answer }
        }
        RequestTokenError::Parse(_, body) => TokenError::Refused {
            url,
            answer: format!(
                "unexpected answer: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            ),
        },
        RequestTokenError::Request(e) => TokenError::Unreachable {
            url,
            message: chain(&e),
        },
        RequestTokenError::Other(message) => TokenError::Unreachable { url, message },
    }
}

/// An error with its sources ("client error: error sending request: connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

/// The service account's signed request to act as `subject` (Google's domain-wide
/// delegation).
fn assertion(
    settings: &OAuth2Settings,
    client_email: &str,
    private_key: &Secret,
    subject: &str,
) -> Result<String, TokenError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| TokenError::Invalid(e.to_string()))?
        .as_secs();
    let claims = Claims {
        iss: client_email,
        sub: subject,
        scope: settings.scope.as_deref().unwrap_or_default(),
        aud: &settings.token_url,
        iat: now,
        exp: now + ASSERTION_LIFETIME.as_secs(),
    };
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key.expose().as_bytes())
        .map_err(|e| TokenError::Invalid(format!("service account private key: {e}")))?;
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| TokenError::Invalid(format!("signing the assertion: {e}")))
}

#[derive(serde::Deserialize)]
struct JwtAnswer {
    access_token: Option<String>,
    expires_in: Option<u64>,
    error: Option<String>,
    error_description: Option<String>,
}

/// RFC 7523 §2.1: the assertion for a token.
async fn jwt_bearer(
    http: &reqwest::Client,
    url: &str,
    assertion: &str,
) -> Result<Fresh, TokenError> {
    let unreachable = |e: reqwest::Error| TokenError::Unreachable {
        url: url.to_string(),
        message: chain(&e),
    };
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", assertion),
    ];
    let response = http
        .post(url)
        .form(&form)
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    let body = response.bytes().await.map_err(unreachable)?;
    let refused = |answer: String| TokenError::Refused {
        url: url.to_string(),
        answer,
    };
    match serde_json::from_slice::<JwtAnswer>(&body) {
        Ok(JwtAnswer {
            access_token: Some(token),
            expires_in,
            ..
        }) if status.is_success() => Ok(Fresh {
            token: Secret::new(token),
            expires_in: expires_in.map(Duration::from_secs),
        }),
        Ok(JwtAnswer {
            error: Some(error),
            error_description,
            ..
        }) => Err(refused(match error_description {
            Some(d) => format!("{error} ({d})"),
            None => error,
        })),
        _ => Err(refused(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(300)
                .collect::<String>()
        ))),
    }
}
