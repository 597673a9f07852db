//! What the IMAP watcher and the SMTP sender both need from the network layer, so neither
//! reaches into the other (chatmail's `src/net/`): the TLS client configuration and the
//! jitter of reconnect and retry delays.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

/// A delay around `base` (±25 %), so several instances do not hammer a recovering server in
/// step.
pub fn jitter(base: Duration) -> Duration {
    let factor = 0.75 + rand::random::<f64>() * 0.5;
    base.mul_f64(factor)
}

/// A rustls client configuration that trusts the system's roots, webpki's roots and, when
/// given, one extra PEM file (a private CA or a test certificate). Built with an explicit
/// crypto provider: with two providers in the dependency tree the implicit default panics.
pub fn tls_config(extra_ca: Option<&std::path::Path>) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    // Unreadable system certificates are not fatal: webpki's roots remain.
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = extra_ca {
        let pem = std::fs::read(path)
            .with_context(|| format!("Failed to read CA file {}", path.display()))?;
        for cert in rustls_pemfile_certs(&pem)? {
            roots.add(cert).context("Invalid CA certificate")?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn rustls_pemfile_certs(
    pem: &[u8],
) -> anyhow::Result<Vec<rustls::pki_types::CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .context("Invalid PEM in CA file")
}
