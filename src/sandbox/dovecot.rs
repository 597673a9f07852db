//! Dovecot (IMAP + LMTP): generated config, users file, the server, and `doveadm save`.
//!
//! Settings follow MAILSERVER.md §3 (checked with Dovecot 2.3.19 on Debian 12, as root).

use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::layout::{self, Layout, Programs};
use super::maildir;
use super::process::Server;

/// Config file name inside the sandbox dir.
pub(crate) const CONF: &str = "dovecot.conf";
/// All Dovecot logging after start-up (there is no syslog here).
pub(crate) const LOG: &str = "dovecot.log";
/// Dovecot's stdout/stderr: config errors and "Address already in use" land here.
pub(crate) const STDERR: &str = "dovecot.stderr";

/// Writes `users` and `dovecot.conf`.
pub(crate) fn write_config(layout: &Layout) -> Result<()> {
    // `{PLAIN}` with uid/gid/home left empty: mail_uid and the userdb default home apply.
    let users: String = layout
        .users
        .iter()
        .map(|u| format!("{}:{{PLAIN}}{}::::::\n", u.login, layout.password))
        .collect();
    layout::write(&layout.path("users"), &users)?;
    if let Some(url) = &layout.oauth2_introspection {
        layout::write(&layout.path(OAUTH2_CONF), &render_oauth2(url))?;
    }
    layout::write(&layout.path(CONF), &render(layout))
}

/// The oauth2 passdb's settings file (OAuth2 variant).
const OAUTH2_CONF: &str = "dovecot-oauth2.conf.ext";

/// Token validation by introspection (`POST token=...`), as against a real identity
/// provider; no tokeninfo URL, so the introspection answer alone decides.
fn render_oauth2(url: &str) -> String {
    format!(
        "introspection_mode = post\nintrospection_url = {url}\nusername_attribute = username\n\
         active_attribute = active\nactive_value = true\nforce_introspection = yes\n"
    )
}

/// Ends all IMAP sessions of `login` (`doveadm kick`).
pub(crate) async fn kick(programs: &Programs, layout: &Layout, login: &str) -> Result<()> {
    let output = doveadm(programs, &layout.path(CONF), &["kick", login])
        .output()
        .await
        .context("Failed to run doveadm kick")?;
    // Exit code 68 ("no such user logged in") is no failure here: nothing to end.
    if !output.status.success() && output.status.code() != Some(68) {
        bail!(
            "doveadm kick {login} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The server, ready to spawn with `dovecot -F` (foreground, so we reap the master ourselves
/// and never hit "Dovecot is already running" after a kill, MAILSERVER.md §3).
pub(crate) fn server(layout: &Layout, programs: &Programs) -> Server {
    let conf = layout.path(CONF);
    Server::new(
        "dovecot",
        programs.dovecot.clone(),
        vec!["-F".into(), "-c".into(), conf.into_os_string()],
        layout.path(STDERR),
    )
}

/// The ports Dovecot listens on (for waiting until they are free after a stop).
pub(crate) fn ports(layout: &Layout) -> Vec<u16> {
    let p = layout.ports;
    [Some(p.imap), p.imaps].into_iter().flatten().collect()
}

/// Saves one message into `folder` with `doveadm save` (12-36 ms, no password, no Postfix;
/// MAILSERVER.md §3). Creates the folder first when it is not INBOX and does not exist yet:
/// `doveadm save` refuses a missing mailbox.
pub(crate) async fn save(
    programs: &Programs,
    layout: &Layout,
    login: &str,
    folder: &str,
    raw: &[u8],
) -> Result<()> {
    let conf = layout.path(CONF);
    if !folder.eq_ignore_ascii_case("INBOX") {
        create_folder(programs, layout, login, folder).await?;
    }
    let mut child = doveadm(programs, &conf, &["save", "-u", login, "-m", folder])
        .stdin(Stdio::piped())
        .spawn()
        .context("Failed to run doveadm save")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(raw)
            .await
            .context("Failed to pipe the message to doveadm")?;
    }
    let output = child.wait_with_output().await?;
    if !output.status.success() {
        bail!(
            "doveadm save -u {login} -m {folder} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Creates `folder` with `doveadm mailbox create`; a no-op when it exists.
pub(crate) async fn create_folder(
    programs: &Programs,
    layout: &Layout,
    login: &str,
    folder: &str,
) -> Result<()> {
    if maildir::folder_exists(layout, login, folder) {
        return Ok(());
    }
    let output = doveadm(
        programs,
        &layout.path(CONF),
        &["mailbox", "create", "-u", login, folder],
    )
    .output()
    .await
    .context("Failed to run doveadm mailbox create")?;
    // A concurrent caller may have created it in between: only its absence is an error.
    if !output.status.success() && !maildir::folder_exists(layout, login, folder) {
        bail!(
            "doveadm mailbox create -u {login} {folder} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn doveadm(programs: &Programs, conf: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(&programs.doveadm);
    cmd.arg("-c").arg(conf).args(args);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// dovecot.conf for one sandbox. A complete file (no `!include`), so nothing from
/// /etc/dovecot leaks in.
fn render(layout: &Layout) -> String {
    let mut conf = render_settings(layout);
    conf.push_str(&render_services(layout));
    if let Some(oauth2) = render_oauth2_passdb(layout) {
        conf.push_str(&oauth2);
    }
    if layout.tls {
        let dir = layout.root.display();
        conf.push_str(&format!(
            r#"# TLS variant: imaps listener above, STARTTLS on the plain port.
ssl = yes
ssl_cert = <{dir}/tls/cert.pem
ssl_key = <{dir}/tls/key.pem
ssl_min_protocol = TLSv1.2
# Postfix checks SMTP AUTH logins against our users through this socket.
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
"#
        ));
    }
    conf
}

/// OAuth2 variant: the token mechanisms and a passdb that checks tokens (first, and only
/// for those mechanisms, so a password never reaches the identity provider).
fn render_oauth2_passdb(layout: &Layout) -> Option<String> {
    layout.oauth2_introspection.as_ref()?;
    let conf = layout.path(OAUTH2_CONF);
    Some(format!(
        r#"# OAuth2 variant: tokens are checked with the test's token endpoint.
auth_mechanisms = plain login xoauth2 oauthbearer
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {conf}
}}
"#,
        conf = conf.display()
    ))
}

/// Paths, logging, auth, users and mail storage.
fn render_settings(layout: &Layout) -> String {
    let dir = layout.root.display();
    let nonce = &layout.nonce;
    let imap = layout.ports.imap;
    format!(
        r#"# Generated by klachtenbot's mail sandbox; see shared/MAILSERVER.md §3.
instance_name = kb-sandbox-{imap}
base_dir = {dir}/run
state_dir = {dir}/state
# The default is syslog, and there is no /dev/log here.
log_path = {dir}/{LOG}
info_log_path = {dir}/{LOG}
debug_log_path = {dir}/{LOG}
protocols = imap lmtp
listen = 127.0.0.1
# The nonce lets start-up tell our greeting from another server's after a port race.
login_greeting = klachtenbot sandbox {nonce} ready.
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password fails after ~0.5 s instead of 2 s.
auth_failure_delay = 0
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
# Must be >= first_valid_uid (500); uid 'dovecot' (103) is refused.
mail_uid = nobody
mail_gid = nogroup
mail_location = maildir:~/Maildir
# Store CRLF as IMAP serves it, so reading the Maildir gives the bytes a client fetches.
mail_save_crlf = yes
namespace inbox {{
  inbox = yes
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {dir}/users
}}
# %n drops the domain: LMTP recipient klant@x.test and IMAP login klant are one user.
userdb {{
  driver = passwd-file
  args = username_format=%n {dir}/users
  default_fields = home={dir}/mail/%n
}}
"#
    )
}

/// Listeners on 127.0.0.1 only, and no chroot anywhere (needed for non-root, harmless as
/// root, MAILSERVER.md §3).
fn render_services(layout: &Layout) -> String {
    let p = layout.ports;
    let imap = p.imap;
    let imaps = p.imaps.unwrap_or(0); // port 0 disables a listener (§2)
    format!(
        r#"service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
# Postfix delivers over this unix socket (run/lmtp), not TCP: a socket in our own dir can
# never be another sandbox's, even while our Dovecot is stopped.
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
service anvil {{
  chroot =
}}
service ipc {{
  chroot =
}}
service old-stats {{
  chroot =
}}
service imap-urlauth-login {{
  chroot =
}}
"#
    )
}
