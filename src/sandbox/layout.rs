//! Preflight checks, users, the temp-dir layout and log tails.
//!
//! Everything here follows the "Temp-dir layout" and "steps a harness takes" sections of
//! shared/MAILSERVER.md (§2, §8).

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::unistd::{Group, User};

use super::SandboxConfig;
use super::ports::Ports;

/// Where the helper that installs the servers lives, for error messages.
const ENSURE_SCRIPT: &str = "scripts/ensure-mailservers.sh";

/// The external programs the sandbox runs, resolved once before start.
#[derive(Debug, Clone)]
pub(crate) struct Programs {
    pub dovecot: PathBuf,
    pub doveadm: PathBuf,
    pub postfix: PathBuf,
    /// `postqueue -f` kicks the queue after Dovecot comes back.
    pub postqueue: PathBuf,
    /// Postfix's `master` daemon, run in the foreground with `-d`.
    pub postfix_master: PathBuf,
    /// Only needed for the TLS variant (certificate generation).
    pub openssl: Option<PathBuf>,
}

/// Finds the programs and checks that we are root; one error lists every problem.
pub(crate) fn preflight(tls: bool) -> Result<Programs> {
    let mut missing = Vec::new();
    let mut find = |name: &str, candidates: &[&str]| {
        let found = find_program(candidates);
        if found.is_none() {
            missing.push(name.to_owned());
        }
        found.unwrap_or_default()
    };
    let programs = Programs {
        dovecot: find("dovecot", &["/usr/sbin/dovecot"]),
        doveadm: find("doveadm", &["/usr/bin/doveadm"]),
        postfix: find("postfix", &["/usr/sbin/postfix"]),
        postqueue: find("postqueue", &["/usr/sbin/postqueue"]),
        postfix_master: find(
            "postfix master",
            &[
                "/usr/lib/postfix/sbin/master",
                "/usr/libexec/postfix/master",
            ],
        ),
        openssl: None,
    };
    // Dovecot refuses `protocols = imap lmtp` when a protocol binary is missing, with an error
    // that does not say which package to install; check both up front.
    find("dovecot imap (dovecot-imapd)", &["/usr/lib/dovecot/imap"]);
    find("dovecot lmtp (dovecot-lmtpd)", &["/usr/lib/dovecot/lmtp"]);
    let openssl = tls.then(|| find("openssl", &["/usr/bin/openssl"]));
    if let Some(problems) = preflight_problems(&missing, nix::unistd::geteuid().is_root()) {
        bail!("cannot start the mail sandbox: {problems}");
    }
    Ok(Programs {
        openssl,
        ..programs
    })
}

/// What is wrong before start, in one sentence per problem; `None` when all is well.
fn preflight_problems(missing: &[String], root: bool) -> Option<String> {
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "missing mail server programs: {}; install them with `{ENSURE_SCRIPT}` (as root)",
            missing.join(", ")
        ));
    }
    if !root {
        problems.push(
            "it must run as root, because Postfix's master process only runs as root \
             (MAILSERVER.md §3)"
                .to_owned(),
        );
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// First existing candidate path, else the name looked up on `PATH`.
fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    if let Some(found) = candidates.iter().map(PathBuf::from).find(|p| p.is_file()) {
        return Some(found);
    }
    let file = Path::new(candidates.first()?).file_name()?;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(file))
        .find(|p| p.is_file())
}

/// One sandbox user: the full address (Postfix, LMTP) and the IMAP login (local part).
#[derive(Debug, Clone)]
pub(crate) struct SandboxUser {
    pub address: String,
    pub login: String,
}

/// Validates the addresses; local parts must be unique because Dovecot's `%n` drops the
/// domain (MAILSERVER.md §5, "Several domains").
pub(crate) fn parse_users(cfg: &SandboxConfig) -> Result<Vec<SandboxUser>> {
    if cfg.password.is_empty() || cfg.password.contains([':', '\n', '\r']) {
        bail!("sandbox password must be non-empty without ':' or line breaks (passwd-file)");
    }
    let mut logins = BTreeSet::new();
    let mut users = Vec::new();
    for address in &cfg.users {
        let Some((local, domain)) = address.split_once('@') else {
            bail!("sandbox user {address:?} is not a full address (local@domain)");
        };
        let bad = |s: &str| {
            s.is_empty()
                || s.starts_with('.')
                || s.chars()
                    .any(|c| c.is_whitespace() || ":/@\\\"<>".contains(c))
        };
        if bad(local) || bad(domain) {
            bail!("sandbox user {address:?} has an unsupported local part or domain");
        }
        let login = local.to_ascii_lowercase();
        if !logins.insert(login.clone()) {
            bail!("sandbox users must have unique local parts; {login:?} appears twice");
        }
        users.push(SandboxUser {
            address: address.to_ascii_lowercase(),
            login,
        });
    }
    Ok(users)
}

/// Everything the config renderers need: paths, ports, users and options of one sandbox.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The temp dir itself (`/tmp/kb-XXXXXX`).
    pub root: PathBuf,
    /// Unique marker put into both greetings, so a start-up poll that reaches a *different*
    /// server (a port race with a parallel test) is not mistaken for ours.
    pub nonce: String,
    pub ports: Ports,
    pub users: Vec<SandboxUser>,
    pub password: String,
    pub tls: bool,
    /// The OAuth2 variant: Dovecot's oauth2 passdb asks this URL about tokens.
    pub oauth2_introspection: Option<String>,
}

impl Layout {
    /// Path of `name` inside the sandbox dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The user with this address or login (case-insensitive).
    pub fn user(&self, address: &str) -> Result<&SandboxUser> {
        let wanted = address.to_ascii_lowercase();
        self.users
            .iter()
            .find(|u| u.address == wanted || u.login == wanted)
            .with_context(|| format!("{address:?} is not a user of this mail sandbox"))
    }

    /// The user's Maildir root (INBOX); Dovecot creates it on first delivery or login.
    pub fn maildir(&self, user: &SandboxUser) -> PathBuf {
        self.root.join("mail").join(&user.login).join("Maildir")
    }
}

/// Creates the directory skeleton of MAILSERVER.md §2 with the ownership the servers need.
pub(crate) fn create_dirs(root: &Path) -> Result<()> {
    // The servers' unprivileged users must traverse the dir; mkdtemp makes it 0700.
    fs::set_permissions(root, fs::Permissions::from_mode(0o755))?;
    for sub in [
        "run",
        "state",
        "mail",
        "tls",
        "postfix",
        "postfix-spool",
        "postfix-data",
    ] {
        fs::create_dir(root.join(sub)).with_context(|| format!("Failed to create {sub}/"))?;
    }
    // Dovecot delivers as nobody:nogroup: mail_uid must be >= first_valid_uid (500).
    let (nobody, nogroup) = (user_id("nobody")?, group_id("nogroup")?);
    std::os::unix::fs::chown(root.join("mail"), Some(nobody), Some(nogroup))?;
    // Postfix's master.lock lives in data_directory, which must belong to mail_owner.
    std::os::unix::fs::chown(root.join("postfix-data"), Some(user_id("postfix")?), None)?;
    Ok(())
}

fn user_id(name: &str) -> Result<u32> {
    let user = User::from_name(name)?.with_context(|| {
        format!("system user {name:?} is missing; run `{ENSURE_SCRIPT}` (as root)")
    })?;
    Ok(user.uid.as_raw())
}

fn group_id(name: &str) -> Result<u32> {
    let group =
        Group::from_name(name)?.with_context(|| format!("system group {name:?} is missing"))?;
    Ok(group.gid.as_raw())
}

/// Writes `contents` to `path`, creating or truncating it.
pub(crate) fn write(path: &Path, contents: &str) -> Result<()> {
    fs::write(path, contents).with_context(|| format!("Failed to write {}", path.display()))
}

/// Sets the file's mtime a minute into the past. Postfix re-reads main.cf and `texthash:`
/// maps every 0.3 s until they are about 2 s old, which makes `postfix check` take 2-3 s
/// instead of 0.3 s (MAILSERVER.md §5, "Gotcha - file age").
pub(crate) fn backdate(path: &Path) -> Result<()> {
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(past))
        .with_context(|| format!("Failed to backdate {}", path.display()))
}

/// The last `lines` lines of each log file that exists, each under a header.
pub(crate) fn log_tail(root: &Path, files: &[&str], lines: usize) -> String {
    let mut out = String::new();
    for name in files {
        let Ok(text) = read_tail(&root.join(name)) else {
            continue;
        };
        let all: Vec<&str> = text.lines().collect();
        let start = all.len().saturating_sub(lines);
        out.push_str(&format!(
            "--- {name} (last {} lines) ---\n",
            all.len() - start
        ));
        for line in &all[start..] {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// At most the last 256 KiB of a file, lossily decoded; enough for any sensible tail.
fn read_tail(path: &Path) -> std::io::Result<String> {
    const MAX: u64 = 256 * 1024;
    let mut file = fs::File::open(path)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(MAX)))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(users: &[&str]) -> SandboxConfig {
        SandboxConfig {
            users: users.iter().map(|u| u.to_string()).collect(),
            ..SandboxConfig::default()
        }
    }

    #[test]
    fn users_are_split_into_address_and_login() {
        let users = parse_users(&cfg(&["Klant@Klant.test", "ks@concreet.test"])).unwrap();
        assert_eq!(users[0].address, "klant@klant.test");
        assert_eq!(users[0].login, "klant");
        assert_eq!(users[1].login, "ks");
    }

    #[test]
    fn duplicate_local_parts_are_rejected() {
        let err = parse_users(&cfg(&["jan@a.test", "jan@b.test"])).unwrap_err();
        assert!(err.to_string().contains("unique"), "{err}");
    }

    #[test]
    fn addresses_without_domain_are_rejected() {
        assert!(parse_users(&cfg(&["jan"])).is_err());
        assert!(parse_users(&cfg(&["ja n@a.test"])).is_err());
    }

    #[test]
    fn preflight_names_the_install_script_and_the_need_for_root() {
        assert_eq!(preflight_problems(&[], true), None);
        let missing = preflight_problems(&["dovecot".to_owned()], true).unwrap();
        assert!(
            missing.contains("dovecot") && missing.contains(ENSURE_SCRIPT),
            "{missing}"
        );
        let not_root = preflight_problems(&[], false).unwrap();
        assert!(
            not_root.contains("root") && not_root.contains("Postfix"),
            "{not_root}"
        );
        assert_eq!(find_program(&["/nonexistent/kb-no-such-program"]), None);
    }

    #[test]
    fn passwords_that_break_the_passwd_file_are_rejected() {
        let mut c = cfg(&[]);
        c.password = "a:b".into();
        assert!(parse_users(&c).is_err());
    }
}
