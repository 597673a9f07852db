//! The sandbox's self-signed server certificate, made with the `openssl` CLI at start.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tokio::process::Command;

/// Paths of the certificate (also the clients' only trust root) and its private key.
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Makes a P-256 certificate for `localhost` and `127.0.0.1` in `dir` (about 10 ms; RSA-2048
/// takes 0.2 s). rustls needs both `CA:FALSE` (else `CaUsedAsEndEntity`) and the SAN
/// (MAILSERVER.md §3, "TLS variant"). Valid for 2 days: sandboxes are short-lived.
pub(crate) async fn make_certificate(openssl: &Path, dir: &Path) -> Result<TlsFiles> {
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    let output = Command::new(openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(&files.key)
        .arg("-out")
        .arg(&files.cert)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .context("Failed to run openssl")?;
    if !output.status.success() {
        bail!(
            "openssl failed to make the sandbox certificate ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(files)
}
