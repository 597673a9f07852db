//! The SMTP connection (lettre): TLS, STARTTLS or plain (loopback only), with login.

use std::time::Duration;

use anyhow::Context;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, Tokio1Executor};

use crate::config::{Endpoint, Security};

/// The transport type.
pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds the transport (connections are opened lazily and pooled).
pub fn transport(endpoint: &Endpoint) -> anyhow::Result<Transport> {
    let tls = || -> anyhow::Result<TlsParameters> {
        let mut b = TlsParameters::builder(endpoint.host.clone());
        if let Some(path) = &endpoint.ca_file {
            let pem = std::fs::read(path)
                .with_context(|| format!("Failed to read {}", path.display()))?;
            b = b.add_root_certificate(Certificate::from_pem(&pem)?);
        }
        Ok(b.build_rustls()?)
    };
    let mut builder = Transport::builder_dangerous(endpoint.host.as_str())
        .port(endpoint.port)
        .timeout(Some(SMTP_TIMEOUT))
        .tls(match endpoint.security {
            Security::Tls => Tls::Wrapper(tls()?),
            Security::StartTls => Tls::Required(tls()?),
            Security::Plain => Tls::None,
        });
    if let Some(user) = &endpoint.user {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            endpoint.password.expose().to_string(),
        ));
    }
    Ok(builder.build())
}
