//! Privacy by design (AVG/GDPR): retention, access requests and erasure.
//!
//! - [`plan`]: the pure core: which complaints are due, what an anonymised complaint keeps,
//!   how texts lose a person's name, address and phone.
//! - [`erase`]: anonymising one complaint in the register, and making the old bytes gone
//!   (SQLite `secure_delete` + WAL checkpoint; PostgreSQL `VACUUM`).
//! - [`sweep`]: the retention sweep (`[privacy] anonymise_after`), daily from the scheduler
//!   and `klachtenbot privacy sweep`.
//! - [`person`]: the complaints of one person and their erasure (`privacy erase`).
//! - [`export`]: everything about one person as a zip (`privacy export`).
//! - [`audit`]: who exported, erased or swept, with a salted hash of the address only.
//! - [`files`]: the SQLite file created 0600.
//! - [`mail`]: `#inzage adres` by mail: the export mailed back to the officer.
//! - [`redact`]: addresses as the log shows them (`k***@example.test`).

pub mod audit;
pub mod erase;
pub mod export;
pub mod files;
pub mod mail;
pub mod person;
pub mod plan;
pub mod redact;
pub mod sweep;

pub use person::Person;
pub use plan::Term;

/// `[privacy]` settings.
#[derive(Debug, Clone, Default)]
pub struct PrivacySettings {
    /// How long after closing a complaint is anonymised; none: never by itself (the
    /// organisation must publish and configure its own term).
    pub anonymise_after: Option<Term>,
}
