//! Reading a sandbox user's Maildir directly, without IMAP.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::layout::Layout;

/// How often a scan is retried when a file vanished under it (an IMAP client moved it from
/// `new/` to `cur/` or expunged it between listing and reading).
const SCAN_ATTEMPTS: usize = 5;

/// The Maildir++ directory of `folder`: INBOX is the Maildir root, `Processed` is
/// `.Processed`, and the subfolder `A.B` is `.A.B` (the IMAP hierarchy separator of a
/// default Dovecot maildir namespace is `.`). ASCII names only (others are stored in
/// modified UTF-7); `/` is refused because it cannot be part of a Maildir++ name.
pub(crate) fn folder_dir(maildir: &Path, folder: &str) -> Result<PathBuf> {
    if folder.eq_ignore_ascii_case("INBOX") {
        return Ok(maildir.to_path_buf());
    }
    let bad = folder.is_empty() || folder.starts_with('.') || folder.ends_with('.');
    if bad || folder.contains("..") || folder.contains('/') || !folder.is_ascii() {
        bail!("unsupported folder name {folder:?}");
    }
    Ok(maildir.join(format!(".{folder}")))
}

/// Whether the folder's directory exists yet.
pub(crate) fn folder_exists(layout: &Layout, login: &str, folder: &str) -> bool {
    let Ok(user) = layout.user(login) else {
        return false;
    };
    folder_dir(&layout.maildir(user), folder).is_ok_and(|dir| dir.is_dir())
}

/// All messages in `new/` and `cur/` of `dir`, in delivery order. A folder that does not
/// exist (yet) has no messages: Dovecot creates a Maildir only on first use.
pub(crate) fn read_messages(dir: &Path) -> Result<Vec<Vec<u8>>> {
    for _ in 0..SCAN_ATTEMPTS {
        match scan(dir) {
            Ok(messages) => return Ok(messages),
            Err(err) if err.kind() == ErrorKind::NotFound => continue,
            Err(err) => {
                return Err(err).with_context(|| format!("Failed to read {}", dir.display()));
            }
        }
    }
    bail!("messages in {} kept moving while being read", dir.display())
}

/// One pass; `NotFound` means a file moved away mid-scan and the caller retries.
fn scan(dir: &Path) -> std::io::Result<Vec<Vec<u8>>> {
    let mut files = Vec::new();
    for sub in ["new", "cur"] {
        let entries = match std::fs::read_dir(dir.join(sub)) {
            Ok(entries) => entries,
            Err(err) if err.kind() == ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') {
                files.push((delivery_key(&name), entry.path()));
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|(_, path)| std::fs::read(path))
        .collect()
}

/// Sort key from Dovecot's file name `<secs>.M<usecs>P<pid>.<host>[,S=..][:2,flags]`: the
/// delivery time in microseconds, then the name itself as a tie-breaker.
fn delivery_key(name: &str) -> (u64, u64, String) {
    let mut parts = name.splitn(3, '.');
    let secs = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX);
    let usecs = parts
        .next()
        .and_then(|s| s.strip_prefix('M'))
        .map(|s| {
            s.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX);
    let base = name.split(':').next().unwrap_or(name).to_owned();
    (secs, usecs, base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_is_the_maildir_root_and_folders_are_dot_dirs() {
        let root = Path::new("/m");
        assert_eq!(folder_dir(root, "INBOX").unwrap(), Path::new("/m"));
        assert_eq!(folder_dir(root, "inbox").unwrap(), Path::new("/m"));
        assert_eq!(
            folder_dir(root, "Processed").unwrap(),
            Path::new("/m/.Processed")
        );
        assert_eq!(folder_dir(root, "A.B").unwrap(), Path::new("/m/.A.B"));
        assert!(folder_dir(root, "A/B").is_err());
        assert!(folder_dir(root, "../x").is_err());
        assert!(folder_dir(root, "").is_err());
    }

    #[test]
    fn delivery_order_uses_seconds_then_microseconds() {
        let mut names = vec![
            "1700000001.M5P9.host,S=10:2,S",
            "1700000000.M999999P9.host,S=10",
            "1700000000.M20P9.host,S=10",
        ];
        names.sort_by_key(|n| delivery_key(n));
        assert_eq!(
            names,
            [
                "1700000000.M20P9.host,S=10",
                "1700000000.M999999P9.host,S=10",
                "1700000001.M5P9.host,S=10:2,S"
            ]
        );
    }

    #[test]
    fn a_missing_folder_has_no_messages_and_new_and_cur_are_both_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_messages(&dir.path().join("nope")).unwrap().is_empty());
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        std::fs::write(dir.path().join("cur/1700000000.M1P1.h:2,S"), b"first").unwrap();
        std::fs::write(dir.path().join("new/1700000002.M1P1.h"), b"second").unwrap();
        std::fs::write(dir.path().join("tmp/1700000003.M1P1.h"), b"partial").unwrap();
        let messages = read_messages(dir.path()).unwrap();
        assert_eq!(messages, [b"first".to_vec(), b"second".to_vec()]);
    }
}
