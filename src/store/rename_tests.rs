//! Migration 0011 renames the older spelling of a refused command, on a register that was
//! written by an older version (migrations up to 0010, then the rows, then the upgrade).

use std::borrow::Cow;

use sqlx::Row;
use sqlx::any::AnyPoolOptions;

#[tokio::test]
async fn migration_0011_gives_refused_commands_one_name() {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let all = sqlx::migrate!("./migrations/sqlite");
    let mut older = sqlx::migrate!("./migrations/sqlite");
    older.migrations = Cow::Owned(
        all.migrations
            .iter()
            .filter(|m| m.version <= 10)
            .cloned()
            .collect(),
    );
    older.run(&pool).await.unwrap();
    for reason in ["refused_command", "command_refused", "bounce"] {
        sqlx::query("INSERT INTO flags (reason, detail, created_at) VALUES ($1, '', 0)")
            .bind(reason)
            .execute(&pool)
            .await
            .unwrap();
    }
    all.run(&pool).await.unwrap();
    let reasons: Vec<String> = sqlx::query("SELECT reason FROM flags ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(reasons, ["command_refused", "command_refused", "bounce"]);
}
