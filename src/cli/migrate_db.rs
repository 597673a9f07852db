//! `klachtenbot migrate-db --to postgres://...`: copies a SQLite register into an empty
//! PostgreSQL database, all or nothing.
//!
//! Every table the source holds (in creation order, so referenced rows come first) is copied
//! row by row inside one target transaction; columns are read by the type the target declares
//! (BIGINT, TEXT, BYTEA, ...), so raw mails and attachments stay byte for byte. Identity
//! sequences continue after the copied ids, and `reference_counters` is a table like any
//! other, so the next complaint gets the next reference. At the end every table is counted
//! and hashed on both sides (SHA-256 over its rows in id order) and the figures printed; any
//! difference rolls the whole copy back.

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::exit;
use crate::config::{Secret, Settings};
use crate::store::{Backend, Store, redact, url_has_password};

/// A column's value, read by the type the target declares.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Float(Option<f64>),
}

/// One table: its name and its columns with their PostgreSQL types.
struct Table {
    name: String,
    columns: Vec<(String, String)>,
}

/// Copies the configured SQLite register into the empty PostgreSQL database at `to`.
pub async fn run(settings: Settings, to: &str, password_env: Option<&str>) -> anyhow::Result<u8> {
    if !settings.database_url.starts_with("sqlite:") {
        bail!(
            "migrate-db copies a SQLite register; the configured one is {}",
            redact(&settings.database_url)
        );
    }
    if !to.starts_with("postgres") {
        bail!("--to must be a postgres:// URL");
    }
    if url_has_password(to) {
        bail!("put no password in --to: use PGPASSWORD or --password-env NAME");
    }
    let password = match password_env {
        Some(var) => {
            Some(Secret::new(std::env::var(var).with_context(|| {
                format!("environment variable {var} is not set")
            })?))
        }
        None => std::env::var("PGPASSWORD").ok().map(Secret::new),
    };
    let source =
        Store::connect_with(&settings.database_url, settings.database_password.as_ref()).await?;
    let target = Store::connect_with(to, password.as_ref()).await?;
    if target.backend() != Backend::Postgres {
        bail!("--to must be a PostgreSQL database");
    }
    let mut src = source.pool().acquire().await?;
    let tables = tables(&mut src, &target).await?;
    let mut tx = target.begin().await?;
    for t in &tables {
        let n = count(&mut tx, &t.name).await?;
        if n > 0 {
            bail!(
                "the target is not empty: {} holds {n} row(s); migrate-db only fills an empty database",
                t.name
            );
        }
    }
    println!("{:<24} {:>8} {:>8}  sha256", "table", "source", "target");
    for t in &tables {
        copy(&mut src, &mut tx, t).await?;
        reset_identity(&mut tx, t).await?;
        let (src_n, src_sum) = fingerprint(&mut src, t).await?;
        let (dst_n, dst_sum) = fingerprint(&mut tx, t).await?;
        println!("{:<24} {src_n:>8} {dst_n:>8}  {}", t.name, &src_sum[..16]);
        if (src_n, &src_sum) != (dst_n, &dst_sum) {
            bail!(
                "{} differs after the copy (source {src_n} rows {src_sum}, target {dst_n} rows {dst_sum}); nothing was kept",
                t.name
            );
        }
    }
    tx.commit().await.context("Failed to commit the copy")?;
    println!(
        "copied {} tables into {}; counts and checksums match",
        tables.len(),
        redact(to)
    );
    Ok(exit::OK)
}

/// The source's tables in creation order, with the target's column types.
async fn tables(src: &mut AnyConnection, target: &Store) -> anyhow::Result<Vec<Table>> {
    let names = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' ORDER BY rowid",
    )
    .fetch_all(&mut *src)
    .await
    .context("Failed to list the source's tables (sqlite_master)")?;
    let mut dst = target.pool().acquire().await?;
    let mut tables = Vec::new();
    for row in &names {
        let name: String = row.try_get(0)?;
        let columns = sqlx::query(
            "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(&mut *dst)
        .await
        .context("Failed to read the target's columns (information_schema.columns)")?;
        if columns.is_empty() {
            bail!("the target has no table {name}: is it the same klachtenbot version?");
        }
        let columns = columns
            .iter()
            .map(|c| Ok((c.try_get(0)?, c.try_get(1)?)))
            .collect::<anyhow::Result<_>>()?;
        tables.push(Table { name, columns });
    }
    Ok(tables)
}

async fn count(conn: &mut AnyConnection, table: &str) -> anyhow::Result<i64> {
    let row = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut *conn)
        .await
        .with_context(|| format!("Failed to count {table}"))?;
    Ok(row.try_get(0)?)
}

fn column_list(t: &Table) -> String {
    t.columns
        .iter()
        .map(|(c, _)| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every row of `t`, in the order of its first column (the id), read by the target's types.
async fn rows(conn: &mut AnyConnection, t: &Table) -> anyhow::Result<Vec<Vec<Value>>> {
    let sql = format!("SELECT {} FROM {} ORDER BY 1", column_list(t), t.name);
    let rows = sqlx::query(&sql)
        .fetch_all(&mut *conn)
        .await
        .with_context(|| format!("Failed to read {}", t.name))?;
    rows.iter().map(|r| values(r, t)).collect()
}

fn values(row: &AnyRow, t: &Table) -> anyhow::Result<Vec<Value>> {
    t.columns
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| {
            let v = match ty.as_str() {
                "bigint" | "integer" | "smallint" => Value::Int(row.try_get(i)?),
                "bytea" => Value::Bytes(row.try_get(i)?),
                "double precision" | "real" => Value::Float(row.try_get(i)?),
                "text" | "character varying" => Value::Text(row.try_get(i)?),
                other => bail!(
                    "{}.{name} has type {other}, which migrate-db does not know",
                    t.name
                ),
            };
            Ok(v)
        })
        .collect()
}

async fn copy(src: &mut AnyConnection, dst: &mut AnyConnection, t: &Table) -> anyhow::Result<()> {
    let placeholders = (1..=t.columns.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({placeholders})",
        t.name,
        column_list(t)
    );
    for row in rows(src, t).await? {
        let mut q = sqlx::query(&sql);
        for v in row {
            q = match v {
                Value::Int(x) => q.bind(x),
                Value::Text(x) => q.bind(x),
                Value::Bytes(x) => q.bind(x),
                Value::Float(x) => q.bind(x),
            };
        }
        q.execute(&mut *dst)
            .await
            .with_context(|| format!("Failed to insert into {}", t.name))?;
    }
    Ok(())
}

/// Moves an identity column's sequence past the copied ids (the next row continues them).
async fn reset_identity(dst: &mut AnyConnection, t: &Table) -> anyhow::Result<()> {
    if !t.columns.iter().any(|(c, ty)| c == "id" && ty == "bigint") {
        return Ok(());
    }
    let row = sqlx::query("SELECT CAST(pg_get_serial_sequence($1, 'id') AS TEXT)")
        .bind(&t.name)
        .fetch_one(&mut *dst)
        .await?;
    let Some(sequence) = row.try_get::<Option<String>, _>(0)? else {
        return Ok(());
    };
    sqlx::query(&format!(
        "SELECT CAST(setval('{sequence}', COALESCE((SELECT MAX(id) FROM {}), 0) + 1, false) AS BIGINT)",
        t.name
    ))
    .fetch_one(&mut *dst)
    .await
    .with_context(|| format!("Failed to move the id sequence of {}", t.name))?;
    Ok(())
}

/// The row count and a SHA-256 over every value of every row, in id order.
async fn fingerprint(conn: &mut AnyConnection, t: &Table) -> anyhow::Result<(usize, String)> {
    let rows = rows(conn, t).await?;
    let mut hash = Sha256::new();
    for row in &rows {
        for v in row {
            let bytes = match v {
                Value::Int(x) => x.map(|x| x.to_string().into_bytes()),
                Value::Text(x) => x.clone().map(String::into_bytes),
                Value::Bytes(x) => x.clone(),
                Value::Float(x) => x.map(|x| x.to_bits().to_be_bytes().to_vec()),
            };
            match bytes {
                None => hash.update([0u8]),
                Some(b) => {
                    hash.update([1u8]);
                    hash.update((b.len() as u64).to_be_bytes());
                    hash.update(&b);
                }
            }
        }
    }
    Ok((rows.len(), hex::encode(hash.finalize())))
}
