//! The privacy audit (`privacy_audit`, migration 0007): who exported, erased or swept, and
//! when. It names the person only by a salted hash of their address, so the register can
//! later show that an erasure of "x" happened (hash "x" again) without keeping "x".

use anyhow::Context;
use jiff::Timestamp;
use sha2::Digest;
use sqlx::{AnyConnection, Row};

use crate::store::secs;

/// One audited action.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// `export`, `erase` or `sweep`.
    pub action: &'a str,
    /// The OS user, `klachtenbot` for the scheduler, or the officer's address by mail.
    pub actor: &'a str,
    /// The person's address, hashed before it is stored; none for a sweep.
    pub person: Option<&'a str>,
    /// How many complaints it touched.
    pub complaints: usize,
    /// What else to say (free of personal data: counts, flags, the term).
    pub detail: &'a str,
}

/// Appends an entry.
pub async fn record(conn: &mut AnyConnection, e: &Entry<'_>, now: Timestamp) -> anyhow::Result<()> {
    let hash = match e.person {
        Some(p) => Some(person_hash(conn, p).await?),
        None => None,
    };
    sqlx::query(
        "INSERT INTO privacy_audit (at, action, actor, person_hash, complaints, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(secs(now))
    .bind(e.action)
    .bind(e.actor)
    .bind(hash)
    .bind(i64::try_from(e.complaints).unwrap_or(i64::MAX))
    .bind(e.detail)
    .execute(&mut *conn)
    .await
    .context("Failed to write the privacy audit")?;
    Ok(())
}

/// The salted hash of an address as the audit stores it (hex SHA-256 of salt, `:`, the
/// address in lower case). The salt is made once per register.
pub async fn person_hash(conn: &mut AnyConnection, address: &str) -> anyhow::Result<String> {
    let fresh = hex::encode(rand::random::<[u8; 16]>());
    sqlx::query("INSERT INTO privacy_salt (id, salt) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
        .bind(fresh)
        .execute(&mut *conn)
        .await
        .context("Failed to make the audit salt")?;
    let salt: String = sqlx::query("SELECT salt FROM privacy_salt WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    Ok(hash(&salt, address))
}

fn hash(salt: &str, address: &str) -> String {
    let text = format!("{salt}:{}", address.trim().to_lowercase());
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Who runs this process: the OS user's name (uid when it has none).
pub fn os_user() -> String {
    let uid = nix::unistd::getuid();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(u)) => format!("os:{}", u.name),
        _ => format!("os:uid {uid}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_ignores_case_and_depends_on_the_salt() {
        assert_eq!(hash("s", "Klaas@Klant.test"), hash("s", "klaas@klant.test"));
        assert_ne!(hash("s", "klaas@klant.test"), hash("t", "klaas@klant.test"));
        assert_eq!(hash("s", "x").len(), 64);
    }
}
