//! `[database]` and `[instance]`: the register's URL without its password, the password from
//! an environment variable or a file (never from the TOML), and this instance's name.

use super::Secret;
use super::check::Check;
use super::raw::{RawDatabase, RawInstance};

/// The validated `[database]` table.
pub(super) struct Database {
    pub url: String,
    pub password: Option<Secret>,
}

/// Validates `[database]`: a sqlite or postgres URL that carries no password, and at most one
/// of `password_env` / `password_file`.
pub(super) fn validate(raw: RawDatabase, check: &mut Check) -> Database {
    let url = raw.url.unwrap_or_else(|| "sqlite://klachtenbot.db".into());
    if !(url.starts_with("sqlite:") || url.starts_with("postgres")) {
        check.problem("database.url", "must start with sqlite:// or postgres://");
    }
    if crate::store::url_has_password(&url) {
        check.problem(
            "database.url",
            "secrets do not belong in the file: remove the password from the URL and use \
             password_env or password_file",
        );
    }
    let password = match (raw.password_env, raw.password_file) {
        (Some(_), Some(_)) => {
            check.problem(
                "database.password_env",
                "give password_env or password_file, not both",
            );
            None
        }
        (Some(var), None) => match std::env::var(&var) {
            Ok(v) => Some(Secret::new(v)),
            Err(_) => {
                let message = format!("environment variable {var} is not set");
                check.problem("database.password_env", message);
                None
            }
        },
        (None, Some(file)) => match std::fs::read_to_string(check.path(&file)) {
            Ok(v) => Some(Secret::new(v.trim_end_matches(['\r', '\n']))),
            Err(e) => {
                let message = format!("cannot read {file}: {e}");
                check.problem("database.password_file", message);
                None
            }
        },
        (None, None) => None,
    };
    Database { url, password }
}

/// Validates `[instance]`: the optional name, used in place of the host name in this
/// instance's identity and to recognise its own earlier claims after a restart.
pub(super) fn instance_name(raw: Option<RawInstance>, check: &mut Check) -> Option<String> {
    let name = raw.and_then(|i| i.name)?;
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        check.problem(
            "instance.name",
            "use 1 to 64 letters, digits, '-', '_' or '.'",
        );
        return None;
    }
    Some(name)
}
