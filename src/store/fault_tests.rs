//! The error tables decided on purpose: every documented code has its row, storage failures
//! are temporary, and no input falls through to a silent answer.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

/// SQLite's documented extended result codes as (primary, n, name): code = primary | n << 8.
const SQLITE_EXTENDED: &[(i32, i32, &str)] = &[
    (1, 1, "ERROR_MISSING_COLLSEQ"),
    (1, 2, "ERROR_RETRY"),
    (1, 3, "ERROR_SNAPSHOT"),
    (4, 2, "ABORT_ROLLBACK"),
    (5, 1, "BUSY_RECOVERY"),
    (5, 2, "BUSY_SNAPSHOT"),
    (5, 3, "BUSY_TIMEOUT"),
    (6, 1, "LOCKED_SHAREDCACHE"),
    (6, 2, "LOCKED_VTAB"),
    (8, 1, "READONLY_RECOVERY"),
    (8, 2, "READONLY_CANTLOCK"),
    (8, 3, "READONLY_ROLLBACK"),
    (8, 4, "READONLY_DBMOVED"),
    (8, 5, "READONLY_CANTINIT"),
    (8, 6, "READONLY_DIRECTORY"),
    (11, 1, "CORRUPT_VTAB"),
    (11, 2, "CORRUPT_SEQUENCE"),
    (11, 3, "CORRUPT_INDEX"),
    (14, 1, "CANTOPEN_NOTEMPDIR"),
    (14, 2, "CANTOPEN_ISDIR"),
    (14, 3, "CANTOPEN_FULLPATH"),
    (14, 4, "CANTOPEN_CONVPATH"),
    (14, 5, "CANTOPEN_DIRTYWAL"),
    (14, 6, "CANTOPEN_SYMLINK"),
    (19, 1, "CONSTRAINT_CHECK"),
    (19, 2, "CONSTRAINT_COMMITHOOK"),
    (19, 3, "CONSTRAINT_FOREIGNKEY"),
    (19, 4, "CONSTRAINT_FUNCTION"),
    (19, 5, "CONSTRAINT_NOTNULL"),
    (19, 6, "CONSTRAINT_PRIMARYKEY"),
    (19, 7, "CONSTRAINT_TRIGGER"),
    (19, 8, "CONSTRAINT_UNIQUE"),
    (19, 9, "CONSTRAINT_VTAB"),
    (19, 10, "CONSTRAINT_ROWID"),
    (19, 11, "CONSTRAINT_PINNED"),
    (19, 12, "CONSTRAINT_DATATYPE"),
    (23, 1, "AUTH_USER"),
    (27, 1, "NOTICE_RECOVER_WAL"),
    (27, 2, "NOTICE_RECOVER_ROLLBACK"),
    (27, 3, "NOTICE_RBU"),
    (28, 1, "WARNING_AUTOINDEX"),
];

/// The IOERR family: 33 extended codes, n = 1..=33.
const SQLITE_IOERR_EXTENDED: std::ops::RangeInclusive<i32> = 1..=33;

/// The codes the issue names as storage failures (disk full, I/O, read-only, unopenable,
/// busy, locked, damaged).
const SQLITE_STORAGE_PRIMARY: &[i32] = &[5, 6, 8, 10, 11, 13, 14, 26];

#[test]
fn every_sqlite_primary_code_has_exactly_one_row() {
    let codes: BTreeSet<i32> = SQLITE_PRIMARY.iter().map(|(c, _, _)| *c).collect();
    assert_eq!(codes.len(), SQLITE_PRIMARY.len(), "a code listed twice");
    assert_eq!(
        codes,
        (1..=28).collect(),
        "SQLite has primary codes 1 to 28"
    );
}

#[test]
fn every_documented_sqlite_extended_code_is_decided_by_its_primary() {
    let ioerr = SQLITE_IOERR_EXTENDED.map(|n| (10, n, "IOERR_*"));
    for (primary, n, name) in SQLITE_EXTENDED.iter().copied().chain(ioerr) {
        let fault = sqlite(primary | (n << 8));
        assert_eq!(fault.kind, sqlite(primary).kind, "{name}");
        assert!(
            !fault.what.contains("unrecognised"),
            "{name}: {}",
            fault.what
        );
    }
}

#[test]
fn the_storage_failures_of_the_issue_are_temporary() {
    for code in SQLITE_STORAGE_PRIMARY {
        assert!(sqlite(*code).is_temporary(), "{}", sqlite(*code));
    }
    for code in [
        "08000", "08001", "08006", "53100", "53200", "53300", "57P01", "57P02", "57P03", "40001",
        "40P01", "55P03", "25006", "XX000", "XX001", "58030",
    ] {
        assert!(sqlstate(code).is_temporary(), "{}", sqlstate(code));
    }
    for kind in [
        ErrorKind::StorageFull,
        ErrorKind::ReadOnlyFilesystem,
        ErrorKind::PermissionDenied,
        ErrorKind::NotFound,
        ErrorKind::ConnectionRefused,
    ] {
        assert!(io(kind).is_temporary(), "{kind:?}");
    }
}

#[test]
fn constraint_and_type_errors_are_permanent() {
    for code in [19, 19 | (8 << 8), 20, 18, 25, 21] {
        assert_eq!(sqlite(code).kind, Kind::Permanent, "{}", sqlite(code));
    }
    for code in [
        "23505", "23503", "22001", "42601", "42P01", "54000", "40002",
    ] {
        assert_eq!(sqlstate(code).kind, Kind::Permanent, "{}", sqlstate(code));
    }
}

#[test]
fn sqlstate_tables_have_no_duplicates_and_overrides_belong_to_known_classes() {
    let classes: BTreeSet<&str> = SQLSTATE_CLASSES.iter().map(|(c, _, _)| *c).collect();
    assert_eq!(classes.len(), SQLSTATE_CLASSES.len());
    let codes: BTreeSet<&str> = SQLSTATE_CODES.iter().map(|(c, _, _)| *c).collect();
    assert_eq!(codes.len(), SQLSTATE_CODES.len());
    for code in codes {
        assert!(classes.contains(&code[..2]), "{code}");
    }
}

#[test]
fn io_kinds_are_listed_once_and_all_temporary() {
    let names: BTreeSet<String> = IO_KINDS.iter().map(|(k, _, _)| format!("{k:?}")).collect();
    assert_eq!(names.len(), IO_KINDS.len());
    assert!(IO_KINDS.iter().all(|(_, _, kind)| *kind == Kind::Temporary));
}

#[test]
fn sqlx_errors_without_a_database_code_are_decided() {
    assert!(sqlx(&sqlx::Error::PoolTimedOut).is_temporary());
    assert!(sqlx(&sqlx::Error::PoolClosed).is_temporary());
    assert!(sqlx(&sqlx::Error::WorkerCrashed).is_temporary());
    let full = std::io::Error::from(ErrorKind::StorageFull);
    assert!(sqlx(&sqlx::Error::Io(full)).is_temporary());
    assert_eq!(sqlx(&sqlx::Error::RowNotFound).kind, Kind::Permanent);
    let chained = anyhow::Error::new(sqlx::Error::PoolTimedOut).context("Failed to claim");
    assert!(of(&chained).is_some_and(|f| f.is_temporary()));
    assert!(of(&anyhow::anyhow!("not about storage")).is_none());
}

fn sqlstate_char() -> impl Strategy<Value = char> {
    prop::sample::select(('0'..='9').chain('A'..='Z').collect::<Vec<_>>())
}

proptest! {
    /// Any code at all: an extended code is decided as its primary, and whatever no table
    /// names is temporary (waiting loses nothing; refusing could lose a complaint).
    #[test]
    fn any_sqlite_code_is_decided_and_only_table_rows_are_permanent(code in any::<i32>()) {
        let fault = sqlite(code);
        let row = SQLITE_PRIMARY.iter().find(|(c, _, _)| *c == code & 0xff);
        match row {
            Some((_, name, kind)) => {
                prop_assert_eq!(fault.kind, *kind);
                prop_assert!(fault.what.contains(name));
            }
            None => prop_assert!(fault.is_temporary() && fault.what.contains("unrecognised")),
        }
    }

    /// Any five-character SQLSTATE: its own row, else its class's row, else temporary.
    #[test]
    fn any_sqlstate_is_decided_by_its_row_or_its_class(
        chars in prop::collection::vec(sqlstate_char(), 5)
    ) {
        let code: String = chars.into_iter().collect();
        let fault = sqlstate(&code);
        let own = SQLSTATE_CODES.iter().find(|(c, _, _)| *c == code);
        let class = SQLSTATE_CLASSES.iter().find(|(c, _, _)| *c == &code[..2]);
        match (own, class) {
            (Some((_, _, kind)), _) | (None, Some((_, _, kind))) => prop_assert_eq!(fault.kind, *kind),
            (None, None) => prop_assert!(fault.is_temporary() && fault.what.contains("unrecognised")),
        }
    }

    /// Every class the issue calls a storage failure stays temporary for every code in it,
    /// except the overrides listed on purpose.
    #[test]
    fn connection_resource_and_shutdown_classes_are_temporary(
        class in prop::sample::select(vec!["08", "53", "57", "58", "XX", "40"]),
        rest in prop::collection::vec(sqlstate_char(), 3),
    ) {
        let code = format!("{class}{}", rest.into_iter().collect::<String>());
        let listed = SQLSTATE_CODES.iter().any(|(c, _, _)| *c == code);
        prop_assert!(listed || sqlstate(&code).is_temporary(), "{}", sqlstate(&code));
    }
}
