//! The store's own rules, checked on whichever backend this run uses (the store's unit tests
//! run on SQLite only): the change feed names exactly the digests a write changed, in
//! sequence; a reader behind the trimmed tail starts over; parallel throttle hits never share
//! a count; a full account takes no photo even when uploads race.

use cameo::identity::{Digest, Identity};
use cameo::imaging::{PhotoFormat, PreparedPhoto};
use cameo::store::feed::{self, Catchup};
use cameo::store::{Db, addresses, photos, throttles, users};

use crate::helpers::*;

/// A "photo" whose bytes and digests are `content` (the store does no image work).
fn photo(content: &str) -> PreparedPhoto {
    PreparedPhoto {
        format: PhotoFormat::Png,
        data: content.as_bytes().to_vec(),
        side: 1,
        content_digest: content.into(),
        source_digest: content.into(),
    }
}

async fn named_since(db: &Db, after: i64) -> (Vec<Digest>, i64) {
    match feed::changes_since(db, after, 1000).await.unwrap() {
        Catchup::Changes { mut digests, head } => {
            digests.sort_by_key(|d| d.to_hex());
            digests.dedup();
            (digests, head)
        }
        other => panic!("expected changes, got {other:?}"),
    }
}

#[tokio::test]
async fn every_write_that_changes_an_answer_names_its_digests() {
    let app = spawn_app().await;
    let db = &app.operator;
    let alice = Identity::parse("alice@example.org").unwrap();
    let mut expected = alice.digests();
    expected.sort_by_key(|d| d.to_hex());
    let start = feed::head(db).await.unwrap();

    addresses::set_confirmed_photo(db, &alice, &photo("one"))
        .await
        .unwrap();
    let (digests, after_add) = named_since(db, start).await;
    assert_eq!(digests, expected, "address added with a photo");
    assert!(after_add > start);

    addresses::set_confirmed_photo(db, &alice, &photo("two"))
        .await
        .unwrap();
    let (digests, after_replace) = named_since(db, after_add).await;
    assert_eq!(digests, expected, "photo replaced");
    assert!(after_replace > after_add, "sequence numbers only grow");

    users::create(db, "bob@example.org", "not a hash")
        .await
        .unwrap();
    throttles::hit(db, "login", "k", 5, 60).await.unwrap();
    assert_eq!(
        named_since(db, after_replace).await,
        (vec![], after_replace),
        "accounts and throttles serve no avatar"
    );

    assert!(addresses::remove(db, &alice).await.unwrap());
    let (digests, _) = named_since(db, after_replace).await;
    assert_eq!(digests, expected, "address removed");
}

#[tokio::test]
async fn a_reader_behind_the_trimmed_tail_starts_over() {
    let app = spawn_app().await;
    let db = &app.operator;
    for n in 0..5 {
        let who = Identity::parse(&format!("u{n}@example.org")).unwrap();
        addresses::set_confirmed_photo(db, &who, &photo("one"))
            .await
            .unwrap();
    }
    let newest = feed::head(db).await.unwrap();
    assert!(feed::trim(db, -10, 2).await.unwrap() > 0);
    assert_eq!(feed::head(db).await.unwrap(), newest, "the head survives");
    assert_eq!(
        feed::changes_since(db, 0, 1000).await.unwrap(),
        Catchup::StartOver { head: newest }
    );
}

#[tokio::test]
async fn parallel_hits_never_share_a_count() {
    let app = spawn_app().await;
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let db = app.operator.clone();
            tokio::spawn(async move { throttles::hit(&db, "burst", "k", 5, 600).await.unwrap() })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap().hits);
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=40).collect::<Vec<_>>());
}

#[tokio::test]
async fn racing_uploads_never_overfill_an_account() {
    let app = spawn_app().await;
    let user = users::create(&app.operator, "carol@example.org", "not a hash")
        .await
        .unwrap()
        .unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|n| {
            let db = app.operator.clone();
            tokio::spawn(async move {
                photos::insert_owned(&db, user, &photo(&format!("p{n}")), 10)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut stored = 0;
    for task in tasks {
        stored += usize::from(task.await.unwrap().is_some());
    }
    assert_eq!(stored, 10);
    assert_eq!(photos::count_owned(&app.operator, user).await.unwrap(), 10);
}
