//! The change feed (`avatar_changes`): which digests a committed write may have changed, in
//! commit order, each with a sequence number that only grows.
//!
//! The rows are written by triggers in the same transaction as the write (see
//! `migrations/*/0006_avatar_changes.sql`), so no write path can forget them. Readers keep the
//! last sequence they applied and ask for what came after it; [`trim`] deletes old rows and
//! records how far it went, so a reader that fell behind the trimmed tail knows it missed
//! changes and starts over instead of keeping stale answers.

use super::Db;

use crate::identity::Digest;

/// What a reader gets after the sequence it last applied.
#[derive(Debug, PartialEq, Eq)]
pub enum Catchup {
    /// Every change after the reader's sequence, oldest first; `head` is the last one's
    /// sequence (or the reader's own when nothing changed).
    Changes { digests: Vec<Digest>, head: i64 },
    /// The reader missed changes (trimmed away, or more than the page asked for): it must
    /// forget everything it holds and continue from `head`.
    StartOver { head: i64 },
}

/// The newest sequence number: where a reader that has just loaded everything starts.
pub async fn head(db: &Db) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT CASE WHEN newest > trimmed_through THEN newest ELSE trimmed_through END
         FROM (SELECT COALESCE((SELECT MAX(seq) FROM avatar_changes), 0) AS newest,
                      trimmed_through
               FROM avatar_feed WHERE id = 1) AS feed",
    )
    .fetch_one(pool)
    .await)
}

/// The changes after `after`, at most `page` of them (more means [`Catchup::StartOver`]).
pub async fn changes_since(db: &Db, after: i64, page: u32) -> Result<Catchup, sqlx::Error> {
    let read: Option<Vec<(i64, String)>> = on_pool!(db, pool => {
        let mut connection = pool.acquire().await?;
        let trimmed_through: i64 =
            sqlx::query_scalar("SELECT trimmed_through FROM avatar_feed WHERE id = 1")
                .fetch_one(&mut *connection)
                .await?;
        if after < trimmed_through {
            None
        } else {
            Some(
                sqlx::query_as(
                    "SELECT seq, digest FROM avatar_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after)
                .bind(i64::from(page) + 1)
                .fetch_all(&mut *connection)
                .await?,
            )
        }
    });
    let rows = match read {
        Some(rows) if rows.len() <= page as usize => rows,
        _ => {
            let head = head(db).await?;
            return Ok(Catchup::StartOver { head });
        }
    };
    let head = rows.last().map_or(after, |(seq, _)| *seq);
    // Rows come from the triggers, which copy stored digests; one that does not parse
    // cannot be served either, so skipping it loses nothing.
    let digests = rows
        .iter()
        .filter_map(|(_, hex)| Digest::parse_hex(hex).ok())
        .collect();
    Ok(Catchup::Changes { digests, head })
}

/// Deletes changes older than `keep_secs`, always keeping the newest `keep_rows`, and
/// records the highest sequence deleted. Returns how many rows went.
pub async fn trim(db: &Db, keep_secs: i64, keep_rows: i64) -> Result<u64, sqlx::Error> {
    let mut transaction = db.begin_write().await?;
    let deleted = on_tx!(transaction, conn => {
        let newest: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM avatar_changes")
            .fetch_one(&mut *conn)
            .await?;
        let cut: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(seq) FROM avatar_changes WHERE changed_at < $1 AND seq <= $2",
        )
        .bind(super::now() - keep_secs)
        .bind(newest - keep_rows)
        .fetch_one(&mut *conn)
        .await?;
        match cut {
            None => 0,
            Some(cut) => {
                let deleted = sqlx::query("DELETE FROM avatar_changes WHERE seq <= $1")
                    .bind(cut)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                sqlx::query(
                    "UPDATE avatar_feed SET trimmed_through = CASE
                         WHEN trimmed_through > $1 THEN trimmed_through ELSE $1 END
                     WHERE id = 1",
                )
                .bind(cut)
                .execute(&mut *conn)
                .await?;
                deleted
            }
        }
    });
    transaction.commit().await?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::store::testkit::{prepared_photo as photo, temp_database};

    async fn changed_since(db: &Db, after: i64) -> (Vec<Digest>, i64) {
        match changes_since(db, after, 1000).await.unwrap() {
            Catchup::Changes { digests, head } => (digests, head),
            other => panic!("expected changes, got {other:?}"),
        }
    }

    fn sorted(mut digests: Vec<Digest>) -> Vec<Digest> {
        digests.sort_by_key(|d| d.to_hex());
        digests.dedup();
        digests
    }

    async fn photo_id_of(db: &Db, who: &Identity) -> i64 {
        sqlx::query_scalar("SELECT photo_id FROM addresses WHERE address = $1")
            .bind(who.as_str())
            .fetch_one(db.sqlite().unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn every_write_that_changes_an_answer_names_its_digests() {
        let database = temp_database().await;
        let pool = database.pool.clone();
        let alice = Identity::parse("alice@example.org").unwrap();
        let expected = sorted(alice.digests());
        let start = head(&pool).await.unwrap();

        crate::store::addresses::set_confirmed_photo(&pool, &alice, &photo("one"))
            .await
            .unwrap();
        let photo = photo_id_of(&pool, &alice).await;
        let (digests, after_add) = changed_since(&pool, start).await;
        assert_eq!(sorted(digests), expected, "address added with a photo");

        sqlx::query("UPDATE photos SET version = version + 1 WHERE id = $1")
            .bind(photo)
            .execute(pool.sqlite().unwrap())
            .await
            .unwrap();
        let (digests, after_replace) = changed_since(&pool, after_add).await;
        assert_eq!(sorted(digests), expected, "photo replaced");

        sqlx::query("DELETE FROM photos WHERE id = $1")
            .bind(photo)
            .execute(pool.sqlite().unwrap())
            .await
            .unwrap();
        let (digests, after_delete) = changed_since(&pool, after_replace).await;
        assert_eq!(sorted(digests), expected, "photo deleted");

        crate::store::addresses::remove(&pool, &alice)
            .await
            .unwrap();
        let (digests, _) = changed_since(&pool, after_delete).await;
        assert_eq!(sorted(digests), expected, "address removed");
    }

    #[tokio::test]
    async fn writes_that_serve_no_avatar_append_nothing() {
        let database = temp_database().await;
        let pool = database.pool.clone();
        let start = head(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO users (email, password_hash, created_at, updated_at)
             VALUES ('a@b.c', 'x', 0, 0)",
        )
        .execute(pool.sqlite().unwrap())
        .await
        .unwrap();
        crate::store::throttles::hit(&pool, "login", "k", 5, 60)
            .await
            .unwrap();
        assert_eq!(changed_since(&pool, start).await, (vec![], start));
    }

    #[tokio::test]
    async fn a_reader_behind_the_trimmed_tail_starts_over() {
        let database = temp_database().await;
        let pool = database.pool.clone();
        for n in 0..5 {
            let who = Identity::parse(&format!("u{n}@example.org")).unwrap();
            crate::store::addresses::set_confirmed_photo(&pool, &who, &photo("one"))
                .await
                .unwrap();
        }
        let newest = head(&pool).await.unwrap();
        assert_eq!(trim(&pool, -10, 2).await.unwrap(), (newest - 2) as u64);
        assert_eq!(
            head(&pool).await.unwrap(),
            newest,
            "the head survives a trim"
        );
        assert_eq!(
            changes_since(&pool, 0, 1000).await.unwrap(),
            Catchup::StartOver { head: newest }
        );
        let (digests, head_after) = changed_since(&pool, newest - 2).await;
        assert_eq!((digests.len(), head_after), (2, newest));
        assert_eq!(
            changes_since(&pool, newest - 2, 1).await.unwrap(),
            Catchup::StartOver { head: newest },
            "more than a page is a start-over too"
        );
    }
}
