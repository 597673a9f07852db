//! Which storage errors are temporary and which permanent: an explicit table per source
//! (sqlx, SQLite result codes, PostgreSQL SQLSTATE classes, I/O error kinds).
//!
//! The rule behind every row: a failure of the register itself (disk full, I/O error,
//! read-only file system, file gone or unopenable, locked or busy, a damaged file, a server
//! that is down, restarting or refusing us) is **temporary**: it is never a verdict about the
//! mail, which must wait (exit 75 for the MTA, left in the inbox for the watcher) until an
//! operator or time fixes the register. **Permanent** is kept for what retrying the same
//! statement with the same values cannot change: a constraint or type error (a bug of ours,
//! or a value too large to store). A code the tables do not know is [`Kind::Temporary`]
//! too, named "unrecognised" so the log says so: waiting is the answer that loses nothing.

use std::borrow::Cow;
use std::fmt;
use std::io::ErrorKind;

/// What a caller should do about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Wait and try again: the register is away, full, locked or damaged.
    Temporary,
    /// Retrying cannot help: the statement or the value itself is refused.
    Permanent,
}

/// A classified storage failure: its kind and a short name for logs and `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Temporary or permanent.
    pub kind: Kind,
    /// What it was, e.g. "disk full (SQLITE_FULL, code 13)".
    pub what: Cow<'static, str>,
}

impl Fault {
    fn new(kind: Kind, what: impl Into<Cow<'static, str>>) -> Fault {
        Fault {
            kind,
            what: what.into(),
        }
    }

    /// Whether to wait and retry.
    pub fn is_temporary(&self) -> bool {
        self.kind == Kind::Temporary
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Temporary => "temporary",
            Kind::Permanent => "permanent",
        };
        write!(f, "{kind} storage failure: {}", self.what)
    }
}

use Kind::{Permanent as P, Temporary as T};

/// SQLite primary result codes (the low byte of an extended code), every one of them
/// (<https://www.sqlite.org/rescode.html>). Extended codes (`SQLITE_IOERR_WRITE`,
/// `SQLITE_READONLY_DBMOVED`, ...) are decided by their primary code.
pub const SQLITE_PRIMARY: &[(i32, &str, Kind)] = &[
    // Generic: a missing table (migration not applied) or a statement after an automatic
    // rollback (SQLite rolls back on FULL and IOERR); our SQL is fixed, so not the mail's fault.
    (1, "SQLITE_ERROR", T),
    (2, "SQLITE_INTERNAL", T),
    (3, "SQLITE_PERM", T),
    (4, "SQLITE_ABORT", T),
    (5, "SQLITE_BUSY", T),
    (6, "SQLITE_LOCKED", T),
    (7, "SQLITE_NOMEM", T),
    (8, "SQLITE_READONLY", T),
    (9, "SQLITE_INTERRUPT", T),
    (10, "SQLITE_IOERR", T),
    // A damaged file is repaired or restored by an operator; the mail waits for that.
    (11, "SQLITE_CORRUPT", T),
    (12, "SQLITE_NOTFOUND", T),
    (13, "SQLITE_FULL", T),
    (14, "SQLITE_CANTOPEN", T),
    (15, "SQLITE_PROTOCOL", T),
    (16, "SQLITE_EMPTY", T),
    (17, "SQLITE_SCHEMA", T),
    // A value larger than SQLite's limits: the same mail will never fit.
    (18, "SQLITE_TOOBIG", P),
    (19, "SQLITE_CONSTRAINT", P),
    (20, "SQLITE_MISMATCH", P),
    (21, "SQLITE_MISUSE", P),
    (22, "SQLITE_NOLFS", T),
    (23, "SQLITE_AUTH", T),
    (24, "SQLITE_FORMAT", T),
    (25, "SQLITE_RANGE", P),
    (26, "SQLITE_NOTADB", T),
    (27, "SQLITE_NOTICE", T),
    (28, "SQLITE_WARNING", T),
];

/// PostgreSQL SQLSTATE classes (the first two characters), every class of Appendix A of
/// the PostgreSQL manual. [`SQLSTATE_CODES`] overrides single codes within a class.
pub const SQLSTATE_CLASSES: &[(&str, &str, Kind)] = &[
    ("00", "successful completion", P),
    ("01", "warning", P),
    ("02", "no data", P),
    ("03", "SQL statement not yet complete", P),
    ("08", "connection exception", T),
    ("09", "triggered action exception", P),
    ("0A", "feature not supported", P),
    ("0B", "invalid transaction initiation", P),
    ("0F", "locator exception", P),
    ("0L", "invalid grantor", P),
    ("0P", "invalid role specification", P),
    ("0Z", "diagnostics exception", P),
    ("20", "case not found", P),
    ("21", "cardinality violation", P),
    ("22", "data exception", P),
    ("23", "integrity constraint violation", P),
    ("24", "invalid cursor state", P),
    ("25", "invalid transaction state", P),
    ("26", "invalid SQL statement name", P),
    ("27", "triggered data change violation", P),
    // A wrong password or a missing role is fixed by the operator; the mail waits.
    ("28", "invalid authorization specification", T),
    ("2B", "dependent privilege descriptors still exist", P),
    ("2D", "invalid transaction termination", P),
    ("2F", "SQL routine exception", P),
    ("34", "invalid cursor name", P),
    ("38", "external routine exception", P),
    ("39", "external routine invocation exception", P),
    ("3B", "savepoint exception", P),
    ("3D", "invalid catalog name (database missing)", T),
    ("3F", "invalid schema name", T),
    ("40", "transaction rollback", T),
    ("42", "syntax error or access rule violation", P),
    ("44", "WITH CHECK OPTION violation", P),
    ("53", "insufficient resources", T),
    ("54", "program limit exceeded", P),
    ("55", "object not in prerequisite state", P),
    ("57", "operator intervention", T),
    ("58", "system error", T),
    ("72", "snapshot failure", T),
    ("F0", "configuration file error", T),
    ("HV", "foreign data wrapper error", P),
    ("P0", "PL/pgSQL error", P),
    ("XX", "internal error", T),
];

/// Single SQLSTATE codes decided against their class.
pub const SQLSTATE_CODES: &[(&str, &str, Kind)] = &[
    (
        "25006",
        "read-only SQL transaction (a standby after failover)",
        T,
    ),
    (
        "25P02",
        "in failed SQL transaction (after an earlier error)",
        T,
    ),
    ("25P03", "idle-in-transaction session timeout", T),
    ("25P04", "transaction timeout", T),
    ("40002", "transaction integrity constraint violation", P),
    ("42501", "insufficient privilege", T),
    ("55006", "object in use", T),
    ("55P03", "lock not available", T),
];

/// Every I/O error kind of the standard library that a database connection can report.
/// All are temporary: each is the disk, the file system or the network, never the mail.
pub const IO_KINDS: &[(ErrorKind, &str, Kind)] = &[
    (ErrorKind::NotFound, "file or directory not found", T),
    (ErrorKind::PermissionDenied, "permission denied", T),
    (ErrorKind::ConnectionRefused, "connection refused", T),
    (ErrorKind::ConnectionReset, "connection reset", T),
    (ErrorKind::HostUnreachable, "host unreachable", T),
    (ErrorKind::NetworkUnreachable, "network unreachable", T),
    (ErrorKind::ConnectionAborted, "connection aborted", T),
    (ErrorKind::NotConnected, "not connected", T),
    (ErrorKind::AddrInUse, "address in use", T),
    (ErrorKind::AddrNotAvailable, "address not available", T),
    (ErrorKind::NetworkDown, "network down", T),
    (ErrorKind::BrokenPipe, "broken pipe", T),
    (ErrorKind::AlreadyExists, "already exists", T),
    (ErrorKind::WouldBlock, "would block", T),
    (ErrorKind::NotADirectory, "not a directory", T),
    (ErrorKind::IsADirectory, "is a directory", T),
    (ErrorKind::DirectoryNotEmpty, "directory not empty", T),
    (ErrorKind::ReadOnlyFilesystem, "read-only file system", T),
    (
        ErrorKind::StaleNetworkFileHandle,
        "stale network file handle",
        T,
    ),
    (ErrorKind::InvalidInput, "invalid input", T),
    (ErrorKind::InvalidData, "invalid data", T),
    (ErrorKind::TimedOut, "timed out", T),
    (ErrorKind::WriteZero, "write returned zero", T),
    (ErrorKind::StorageFull, "disk full", T),
    (ErrorKind::NotSeekable, "not seekable", T),
    (ErrorKind::QuotaExceeded, "disk quota exceeded", T),
    (ErrorKind::FileTooLarge, "file too large", T),
    (ErrorKind::ResourceBusy, "resource busy", T),
    (ErrorKind::ExecutableFileBusy, "executable file busy", T),
    (ErrorKind::Deadlock, "deadlock", T),
    (ErrorKind::CrossesDevices, "crosses devices", T),
    (ErrorKind::TooManyLinks, "too many links", T),
    (ErrorKind::InvalidFilename, "invalid file name", T),
    (ErrorKind::ArgumentListTooLong, "argument list too long", T),
    (ErrorKind::Interrupted, "interrupted", T),
    (ErrorKind::Unsupported, "unsupported", T),
    (ErrorKind::UnexpectedEof, "unexpected end of file", T),
    (ErrorKind::OutOfMemory, "out of memory", T),
    (ErrorKind::Other, "other I/O error", T),
];

/// Decides a SQLite (extended) result code.
pub fn sqlite(code: i32) -> Fault {
    let primary = code & 0xff;
    match SQLITE_PRIMARY.iter().find(|(c, _, _)| *c == primary) {
        Some((_, name, kind)) if primary == code => Fault::new(*kind, format!("{name} ({code})")),
        Some((_, name, kind)) => Fault::new(*kind, format!("{name} (extended code {code})")),
        None => unrecognised(format!("SQLite code {code}")),
    }
}

/// Decides a PostgreSQL SQLSTATE: the code's own row, else its class's.
pub fn sqlstate(code: &str) -> Fault {
    if let Some((_, name, kind)) = SQLSTATE_CODES.iter().find(|(c, _, _)| *c == code) {
        return Fault::new(*kind, format!("{name} (SQLSTATE {code})"));
    }
    let class = code.get(..2).unwrap_or(code);
    match SQLSTATE_CLASSES.iter().find(|(c, _, _)| *c == class) {
        Some((_, name, kind)) => Fault::new(*kind, format!("{name} (SQLSTATE {code})")),
        None => unrecognised(format!("SQLSTATE {code}")),
    }
}

/// Decides an I/O error kind.
pub fn io(kind: ErrorKind) -> Fault {
    match IO_KINDS.iter().find(|(k, _, _)| *k == kind) {
        Some((_, name, kind)) => Fault::new(*kind, *name),
        None => unrecognised(format!("I/O error {kind:?}")),
    }
}

fn unrecognised(what: String) -> Fault {
    Fault::new(T, format!("unrecognised {what}, treated as temporary"))
}

/// Decides a sqlx error. `sqlx::Error` is `#[non_exhaustive]`: a variant added by a later
/// sqlx is named "unrecognised" and waited on, like an unknown code.
pub fn sqlx(err: &sqlx::Error) -> Fault {
    use sqlx::Error as E;
    match err {
        E::Database(db) => database(db.as_ref()),
        E::Io(e) => io(e.kind()),
        E::Configuration(_) => Fault::new(T, "database configuration"),
        E::Tls(_) => Fault::new(T, "TLS to the database"),
        E::Protocol(_) => Fault::new(T, "database protocol error (connection broken?)"),
        E::PoolTimedOut => Fault::new(T, "no database connection within the timeout"),
        E::PoolClosed => Fault::new(T, "database pool closed"),
        E::WorkerCrashed => Fault::new(T, "database worker crashed"),
        E::BeginFailed => Fault::new(T, "could not begin a transaction"),
        E::Migrate(m) => migrate(m),
        E::AnyDriverError(_) => Fault::new(T, "database driver error"),
        E::InvalidArgument(_) => Fault::new(P, "invalid argument to the database driver"),
        E::RowNotFound => Fault::new(P, "row not found"),
        E::TypeNotFound { .. } => Fault::new(P, "type not found"),
        E::ColumnIndexOutOfBounds { .. } => Fault::new(P, "column index out of bounds"),
        E::ColumnNotFound(_) => Fault::new(P, "column not found"),
        E::ColumnDecode { .. } => Fault::new(P, "column decode"),
        E::Encode(_) => Fault::new(P, "encode"),
        E::Decode(_) => Fault::new(P, "decode"),
        E::InvalidSavePointStatement => Fault::new(P, "invalid savepoint statement"),
        other => unrecognised(format!("sqlx error {other}")),
    }
}

/// Decides a migration error: a database that cannot be migrated is a register that is not
/// ready (an operator runs the right version), never a reason to refuse mail.
pub fn migrate(err: &sqlx::migrate::MigrateError) -> Fault {
    use sqlx::migrate::MigrateError as M;
    match err {
        M::Execute(e) | M::ExecuteMigration(e, _) => sqlx(e),
        other => Fault::new(T, format!("the register's schema: {other}")),
    }
}

fn database(db: &dyn sqlx::error::DatabaseError) -> Fault {
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return match db.code().and_then(|c| c.parse::<i32>().ok()) {
            Some(code) => sqlite(code),
            None => unrecognised(format!("SQLite error without a code: {}", db.message())),
        };
    }
    if let Some(e) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return sqlstate(e.code());
    }
    unrecognised(format!("database error {:?}: {}", db.code(), db.message()))
}

/// A row this process wrote reads back missing: its write never reached the disk (a commit
/// that failed without saying so). Always temporary: the write is simply made again.
#[derive(Debug, thiserror::Error)]
#[error("{table} row {id} was written but is not in the register: its commit did not happen")]
pub struct NotCommitted {
    /// The table.
    pub table: &'static str,
    /// The row id that was handed back.
    pub id: i64,
}

/// The first storage failure in an error's chain (a sqlx, migration or I/O error), or
/// `None` when the error is not about storage at all. For callers whose only I/O is the
/// register's (the MTA pipe, recording a sent mail).
pub fn of(err: &anyhow::Error) -> Option<Fault> {
    err.chain().find_map(|cause| {
        register_fault(cause)
            .or_else(|| cause.downcast_ref::<std::io::Error>().map(|e| io(e.kind())))
    })
}

/// Like [`of`], but a bare I/O error does not count: the watcher's errors also carry the
/// IMAP socket's I/O errors, which are the mailbox's, not the register's (the register's
/// own I/O errors reach it wrapped in `sqlx::Error`).
pub fn of_register(err: &anyhow::Error) -> Option<Fault> {
    err.chain().find_map(register_fault)
}

fn register_fault(cause: &(dyn std::error::Error + 'static)) -> Option<Fault> {
    if let Some(e) = cause.downcast_ref::<NotCommitted>() {
        Some(Fault::new(T, e.to_string()))
    } else if let Some(e) = cause.downcast_ref::<sqlx::Error>() {
        Some(sqlx(e))
    } else {
        cause
            .downcast_ref::<sqlx::migrate::MigrateError>()
            .map(migrate)
    }
}

#[cfg(test)]
#[path = "fault_tests.rs"]
mod tests;
