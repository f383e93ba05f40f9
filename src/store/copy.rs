//! Copying a whole install from one store to another (`cameo migrate-store`): every table
//! that holds something a person made, row for row with the same ids, in pages, so that a
//! copy can be interrupted and run again (rows already there are left alone).
//!
//! The columns are read from the target's schema, and each value is read from the source
//! as the type the target column has (SQLite's 0/1 flags become PostgreSQL booleans). Rate
//! limits and the change feed are not copied: they are the running state of one install,
//! and the target's own triggers write its feed as the rows arrive.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, Row};
use std::future::Future;

use super::{Db, Pool};

/// The tables copied, parents before children. (`oidc_logins`, logins at the provider for
/// the next ten minutes, are running state like the rate limits.)
pub const TABLES: [&str; 12] = [
    "users",
    "oidc_links",
    "photos",
    "directory_entries",
    "addresses",
    "address_digests",
    "profiles",
    "api_tokens",
    "tokens",
    "sessions",
    "domain_admins",
    "domain_defaults",
];

/// Rows per INSERT (PostgreSQL allows 65,535 parameters a statement; `photos` has 11
/// columns).
const PAGE: usize = 500;

/// How a column's values are read and written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Integer,
    Bool,
    Text,
    Bytes,
}

#[derive(Clone, Debug, PartialEq)]
enum Value {
    Null,
    Integer(i64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

/// A table's columns in the target, in order, with how their values travel.
async fn target_columns(target: &Db, table: &str) -> Result<Vec<(String, Kind)>, sqlx::Error> {
    let columns: Vec<(String, String)> = match target.pool() {
        Pool::Postgres(pool) => {
            sqlx::query_as(
                "SELECT column_name::text, data_type::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1
                   AND is_generated = 'NEVER'
                 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(pool)
            .await?
        }
        Pool::Sqlite(pool) => {
            sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
                .bind(table)
                .fetch_all(pool)
                .await?
        }
    };
    Ok(columns
        .into_iter()
        .map(|(name, kind)| {
            let kind = match kind.to_ascii_lowercase().as_str() {
                "boolean" => Kind::Bool,
                "bytea" | "blob" => Kind::Bytes,
                "text" | "character varying" => Kind::Text,
                _ => Kind::Integer,
            };
            (name, kind)
        })
        .collect())
}

fn read_value<'r, R>(row: &'r R, index: usize, kind: Kind) -> Result<Value, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let value = match kind {
        Kind::Integer => row.try_get::<Option<i64>, _>(index)?.map(Value::Integer),
        Kind::Bool => row.try_get::<Option<bool>, _>(index)?.map(Value::Bool),
        Kind::Text => row.try_get::<Option<String>, _>(index)?.map(Value::Text),
        Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(index)?.map(Value::Bytes),
    };
    Ok(value.unwrap_or(Value::Null))
}

macro_rules! bind_values {
    ($query:expr, $rows:expr) => {{
        let mut query = $query;
        for value in $rows.iter().flatten() {
            query = match value {
                Value::Null => query.bind(None::<i64>),
                Value::Integer(v) => query.bind(*v),
                Value::Bool(v) => query.bind(*v),
                Value::Text(v) => query.bind(v.as_str()),
                Value::Bytes(v) => query.bind(v.as_slice()),
            };
        }
        query
    }};
}

/// The columns that order `table` and pick up where a page ended (its primary key).
fn key_columns(table: &str) -> &'static [&'static str] {
    match table {
        "address_digests" => &["digest", "address_id"],
        "profiles" => &["user_id"],
        "tokens" | "sessions" => &["token_hash"],
        "domain_admins" => &["domain", "user_id"],
        "domain_defaults" => &["domain"],
        "oidc_links" => &["issuer", "subject"],
        "directory_entries" => &["entry_key"],
        _ => &["id"],
    }
}

/// At most `limit` rows of `table` in the source in key order, those after the row whose
/// key is `after` (keyset paging: each page is an index seek, so a large table is read in
/// linear time, where LIMIT/OFFSET would skip ever more rows).
async fn read_page(
    source: &Db,
    table: &str,
    columns: &[(String, Kind)],
    after: Option<&[Value]>,
    limit: usize,
) -> Result<Vec<Vec<Value>>, sqlx::Error> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
    let keys = key_columns(table).join(", ");
    let after_clause = match after {
        None => String::new(),
        Some(key) => {
            let marks: Vec<String> = (1..=key.len()).map(|n| format!("${n}")).collect();
            format!("WHERE ({keys}) > ({})", marks.join(", "))
        }
    };
    // Names come from the target's own schema (Cameo's tables), never from input.
    let sql = format!(
        "SELECT {} FROM {table} {after_clause} ORDER BY {keys} LIMIT {limit}",
        names.join(", ")
    );
    let kinds: Vec<Kind> = columns.iter().map(|(_, kind)| *kind).collect();
    let key = [after.unwrap_or_default().to_vec()];
    on_pool!(source, pool => {
        let rows = bind_values!(sqlx::query(AssertSqlSafe(sql)), key)
            .fetch_all(pool)
            .await?;
        rows.iter()
            .map(|row| (0..kinds.len()).map(|i| read_value(row, i, kinds[i])).collect())
            .collect()
    })
}

/// The key values of `row` (in [`key_columns`] order).
fn key_of(table: &str, columns: &[(String, Kind)], row: &[Value]) -> Vec<Value> {
    key_columns(table)
        .iter()
        .filter_map(|key| columns.iter().position(|(name, _)| name == key))
        .map(|at| row[at].clone())
        .collect()
}

/// Inserts `rows` into the target, leaving rows whose key is already there alone; returns
/// how many were new.
async fn write_page(
    target: &Db,
    table: &str,
    columns: &[(String, Kind)],
    rows: &[Vec<Value>],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let width = columns.len();
    let tuples: Vec<String> = (0..rows.len())
        .map(|r| {
            let marks: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES {} ON CONFLICT DO NOTHING",
        names.join(", "),
        tuples.join(", ")
    );
    on_pool!(target, pool => Ok(bind_values!(sqlx::query(AssertSqlSafe(sql)), rows)
        .execute(pool)
        .await?
        .rows_affected()))
}

/// What copying one table did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableCopy {
    pub table: &'static str,
    pub source_rows: u64,
    pub written: u64,
    pub target_rows: u64,
}

/// A photo row as the copy hands it to `photo_bytes` (which may move the bytes elsewhere
/// and return what the row keeps).
pub struct PhotoBytes<'a> {
    pub content_digest: &'a str,
    pub data: Vec<u8>,
}

/// Copies `table` from `source` to `target` page by page. `photos` rows pass their bytes
/// through `keep_bytes` first (to check them and move them to a bucket); `progress` hears
/// (rows done, rows in all) after each page.
pub async fn copy_table<F, Fut>(
    source: &Db,
    target: &Db,
    table: &'static str,
    mut keep_bytes: F,
    mut progress: impl FnMut(u64, u64),
) -> Result<TableCopy, CopyError>
where
    F: FnMut(PhotoBytes<'_>) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, CopyError>>,
{
    let columns = target_columns(target, table).await?;
    if columns.is_empty() {
        return Err(CopyError::Schema(format!(
            "the target has no table {table}"
        )));
    }
    let source_rows = count(source, table).await?;
    let (data, digest) = (
        columns.iter().position(|(name, _)| name == "data"),
        columns
            .iter()
            .position(|(name, _)| name == "content_digest"),
    );
    let mut report = TableCopy {
        table,
        source_rows,
        ..TableCopy::default()
    };
    let (mut done, mut after) = (0u64, None::<Vec<Value>>);
    loop {
        let mut rows = read_page(source, table, &columns, after.as_deref(), PAGE).await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = Some(key_of(table, &columns, last));
        if let (Some(data), Some(digest)) = (data, digest) {
            for row in &mut rows {
                let Value::Text(content_digest) = row[digest].clone() else {
                    return Err(CopyError::Schema("a photo without its digest".into()));
                };
                let bytes = match std::mem::replace(&mut row[data], Value::Null) {
                    Value::Bytes(bytes) => bytes,
                    _ => Vec::new(),
                };
                row[data] = Value::Bytes(
                    keep_bytes(PhotoBytes {
                        content_digest: &content_digest,
                        data: bytes,
                    })
                    .await?,
                );
            }
        }
        done += rows.len() as u64;
        report.written += write_page(target, table, &columns, &rows).await?;
        progress(done, source_rows);
    }
    reset_id_sequence(target, table, &columns).await?;
    report.target_rows = count(target, table).await?;
    Ok(report)
}

/// Rows in `table`.
pub async fn count(db: &Db, table: &str) -> Result<u64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let rows: i64 = on_pool!(db, pool => sqlx::query_scalar(AssertSqlSafe(sql.clone()))
        .fetch_one(pool)
        .await)?;
    Ok(rows.max(0) as u64)
}

/// After rows arrived with their own ids, PostgreSQL's identity sequence must start past
/// them (SQLite takes the largest id by itself).
async fn reset_id_sequence(
    target: &Db,
    table: &str,
    columns: &[(String, Kind)],
) -> Result<(), sqlx::Error> {
    let Pool::Postgres(pool) = target.pool() else {
        return Ok(());
    };
    if !columns.iter().any(|(name, _)| name == "id") {
        return Ok(());
    }
    let sql = format!(
        "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                       GREATEST((SELECT MAX(id) FROM {table}), 1))"
    );
    sqlx::query(AssertSqlSafe(sql)).execute(pool).await?;
    Ok(())
}

/// The `content_digest` of every photo row, by id (to compare source and target).
pub async fn photo_digests(db: &Db) -> Result<HashMap<i64, String>, sqlx::Error> {
    let rows: Vec<(i64, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, content_digest FROM photos",
    )
    .fetch_all(pool)
    .await)?;
    Ok(rows.into_iter().collect())
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("{0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Schema(String),
    #[error("photo {digest}: {reason}")]
    Photo { digest: String, reason: String },
}

/// Reads one photo row's bytes as the source stores them (used by verification).
pub async fn photo_row_bytes(db: &Db, id: i64) -> Result<Option<(Vec<u8>, String)>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT data, content_digest FROM photos WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::store::testkit::{prepared_photo, temp_database};

    #[tokio::test]
    async fn a_copy_keeps_every_row_and_can_run_again() {
        let source = temp_database().await;
        // An account a provider made, and its link (a key of two columns).
        crate::store::oidc::create_linked_account(
            &source.pool,
            "sso@example.org",
            "!",
            "https://id.example.org",
            "subject-1",
        )
        .await
        .unwrap();
        // 300 addresses: their 600 digests take two pages.
        for n in 0..300 {
            let who = Identity::parse(&format!("user{n}@example.org")).unwrap();
            crate::store::addresses::set_confirmed_photo(
                &source.pool,
                &who,
                &prepared_photo(&format!("p{}", n % 3)),
            )
            .await
            .unwrap();
        }
        let target = temp_database().await;
        for round in 0..2 {
            for table in TABLES {
                let copied = copy_table(
                    &source.pool,
                    &target.pool,
                    table,
                    |photo| async move { Ok(photo.data) },
                    |_, _| {},
                )
                .await
                .unwrap();
                assert_eq!(copied.source_rows, copied.target_rows, "{table}");
                if round == 1 {
                    assert_eq!(copied.written, 0, "{table}: nothing twice");
                }
            }
        }
        assert_eq!(
            photo_digests(&source.pool).await.unwrap(),
            photo_digests(&target.pool).await.unwrap()
        );
        assert_eq!(count(&target.pool, "address_digests").await.unwrap(), 600);
        assert_eq!(count(&target.pool, "oidc_links").await.unwrap(), 1);
    }
}
