//! `[mailbox.oauth2]` and `[smtp.oauth2]`: where the access token for an XOAUTH2 or
//! OAUTHBEARER login comes from, validated into [`OAuth2Settings`].

use super::Secret;
use super::check::Check;
use super::raw::RawOAuth2;
use super::servers::is_loopback;

/// Microsoft 365's IMAP and SMTP resource: app-only tokens ask for all its granted rights.
const MICROSOFT_SCOPE: &str = "https://outlook.office365.com/.default";
/// Google's one scope for IMAP and SMTP.
const GOOGLE_SCOPE: &str = "https://mail.google.com/";
/// Google's token endpoint, unless the service account file names another.
const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// Which identity provider issues the tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuth2Provider {
    /// Microsoft 365 (Entra ID), app-only client credentials.
    Microsoft,
    /// Google Workspace (service account) or a personal account (refresh token).
    Google,
    /// Any token endpoint with client credentials.
    Generic,
}

impl OAuth2Provider {
    /// The configuration word.
    pub fn name(self) -> &'static str {
        match self {
            OAuth2Provider::Microsoft => "microsoft",
            OAuth2Provider::Google => "google",
            OAuth2Provider::Generic => "generic",
        }
    }
}

/// How a token is obtained from the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuth2Grant {
    /// RFC 6749 §4.4: the application's own id and secret.
    ClientCredentials {
        /// The application (client) id.
        client_id: String,
        /// Its secret.
        client_secret: Secret,
    },
    /// RFC 6749 §6: a long-lived refresh token of a personal account.
    RefreshToken {
        /// The OAuth client id the refresh token was issued to.
        client_id: String,
        /// Its secret.
        client_secret: Secret,
        /// The refresh token.
        refresh_token: Secret,
    },
    /// RFC 7523: a JWT signed with a Google service account's key, acting as `subject`
    /// through domain-wide delegation.
    ServiceAccount {
        /// The service account's e-mail address (the JWT's issuer).
        client_email: String,
        /// Its RSA private key (PEM).
        private_key: Secret,
        /// The mailbox the service account acts as (the login user).
        subject: String,
    },
}

/// A validated token source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2Settings {
    /// The identity provider.
    pub provider: OAuth2Provider,
    /// How tokens are requested.
    pub grant: OAuth2Grant,
    /// The token endpoint (derived for Microsoft and Google).
    pub token_url: String,
    /// The scope asked for; none for a generic endpoint that needs none.
    pub scope: Option<String>,
}

/// The service account JSON file's fields that matter here.
#[derive(serde::Deserialize)]
struct ServiceAccountFile {
    client_email: String,
    private_key: String,
    token_uri: Option<String>,
}

/// Validates one `[<section>.oauth2]` table; `user` is the login (the service account's
/// subject). Problems are recorded under `<section>.oauth2.<key>`.
pub(super) fn oauth2(
    raw: RawOAuth2,
    section: &str,
    user: Option<&str>,
    check: &mut Check,
) -> Option<OAuth2Settings> {
    let key = |k: &str| format!("{section}.oauth2.{k}");
    let provider = match raw.provider.as_deref() {
        Some("microsoft") => OAuth2Provider::Microsoft,
        Some("google") => OAuth2Provider::Google,
        Some("generic") => OAuth2Provider::Generic,
        Some(other) => {
            let message = format!("'{other}' is not \"microsoft\", \"google\" or \"generic\"");
            check.problem(&key("provider"), message);
            return None;
        }
        None => {
            check.problem(&key("provider"), "missing");
            return None;
        }
    };
    if raw.client_secret.is_some() {
        check.problem(
            &key("client_secret"),
            "secrets do not belong in the file: use client_secret_env or client_secret_file",
        );
    }
    let (grant, sa_token_url) = grant(&raw, provider, user, &key, check)?;
    let token_url = match (provider, raw.token_url.clone()) {
        (_, Some(url)) => url,
        (OAuth2Provider::Microsoft, None) => match &raw.tenant {
            Some(tenant) => {
                format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")
            }
            None => {
                check.problem(&key("tenant"), "missing (e.g. \"contoso.onmicrosoft.com\")");
                return None;
            }
        },
        (OAuth2Provider::Google, None) => sa_token_url.unwrap_or_else(|| GOOGLE_TOKEN_URL.into()),
        (OAuth2Provider::Generic, None) => {
            check.problem(&key("token_url"), "missing: a generic provider needs it");
            return None;
        }
    };
    check_token_url(&token_url, &key("token_url"), check);
    let scope = raw.scope.clone().or(match provider {
        OAuth2Provider::Microsoft => Some(MICROSOFT_SCOPE.into()),
        OAuth2Provider::Google => Some(GOOGLE_SCOPE.into()),
        OAuth2Provider::Generic => None,
    });
    Some(OAuth2Settings {
        provider,
        grant,
        token_url,
        scope,
    })
}

/// The grant a provider's keys describe, and the token URL a service account file names.
fn grant(
    raw: &RawOAuth2,
    provider: OAuth2Provider,
    user: Option<&str>,
    key: &dyn Fn(&str) -> String,
    check: &mut Check,
) -> Option<(OAuth2Grant, Option<String>)> {
    if let Some(file) = &raw.service_account_file {
        if provider != OAuth2Provider::Google {
            check.problem(
                &key("service_account_file"),
                "only for provider = \"google\"",
            );
            return None;
        }
        let Some(subject) = user else {
            check.problem(
                &key("service_account_file"),
                "needs the mailbox's user (the address the service account acts as)",
            );
            return None;
        };
        let text = std::fs::read_to_string(check.path(file))
            .map_err(|e| {
                check.problem(
                    &key("service_account_file"),
                    format!("cannot read {file}: {e}"),
                )
            })
            .ok()?;
        let sa: ServiceAccountFile = serde_json::from_str(&text)
            .map_err(|e| {
                check.problem(
                    &key("service_account_file"),
                    format!("{file} is not a service account key: {e}"),
                )
            })
            .ok()?;
        let grant = OAuth2Grant::ServiceAccount {
            client_email: sa.client_email,
            private_key: Secret::new(sa.private_key),
            subject: subject.into(),
        };
        return Some((grant, sa.token_uri));
    }
    let Some(client_id) = raw.client_id.clone() else {
        check.problem(&key("client_id"), "missing");
        return None;
    };
    let client_secret = secret(
        check,
        (&key("client_secret_env"), raw.client_secret_env.as_deref()),
        (
            &key("client_secret_file"),
            raw.client_secret_file.as_deref(),
        ),
    )?;
    let refresh = (
        raw.refresh_token_env.as_deref(),
        raw.refresh_token_file.as_deref(),
    );
    if refresh != (None, None) {
        if provider != OAuth2Provider::Google {
            check.problem(&key("refresh_token_env"), "only for provider = \"google\"");
            return None;
        }
        let refresh_token = secret(
            check,
            (&key("refresh_token_env"), refresh.0),
            (&key("refresh_token_file"), refresh.1),
        )?;
        let grant = OAuth2Grant::RefreshToken {
            client_id,
            client_secret,
            refresh_token,
        };
        return Some((grant, None));
    }
    if provider == OAuth2Provider::Google {
        check.problem(
            &key("service_account_file"),
            "google needs service_account_file (Workspace) or refresh_token_env/refresh_token_file (personal account)",
        );
        return None;
    }
    Some((
        OAuth2Grant::ClientCredentials {
            client_id,
            client_secret,
        },
        None,
    ))
}

/// A secret from an environment variable or a file (exactly one of them).
fn secret(
    check: &mut Check,
    env: (&str, Option<&str>),
    file: (&str, Option<&str>),
) -> Option<Secret> {
    match (env.1, file.1) {
        (Some(_), Some(_)) => {
            let message = format!("give {} or {}, not both", env.0, file.0);
            check.problem(env.0, message);
            None
        }
        (Some(var), None) => match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Some(Secret::new(v.trim())),
            _ => {
                check.problem(env.0, format!("environment variable {var} is not set"));
                None
            }
        },
        (None, Some(name)) => match std::fs::read_to_string(check.path(name)) {
            Ok(v) => Some(Secret::new(v.trim())),
            Err(e) => {
                check.problem(file.0, format!("cannot read {name}: {e}"));
                None
            }
        },
        (None, None) => {
            check.problem(env.0, format!("missing: give {} or {}", env.0, file.0));
            None
        }
    }
}

/// A token travels in the clear over plain http: only to a loopback host.
fn check_token_url(url: &str, key: &str, check: &mut Check) {
    match oauth2::url::Url::parse(url) {
        Ok(u) if u.scheme() == "https" => {}
        Ok(u) if u.scheme() == "http" => {
            let host = u.host_str().unwrap_or_default();
            if !is_loopback(host) {
                check.problem(
                    key,
                    format!("plain http sends the client secret unencrypted; only allowed for loopback, not '{host}'"),
                );
            }
        }
        Ok(u) => check.problem(key, format!("'{}' is not http or https", u.scheme())),
        Err(e) => check.problem(key, format!("'{url}' is not a URL: {e}")),
    }
}

#[cfg(test)]
#[path = "oauth2_tests.rs"]
mod tests;
