//! Adding, changing and removing what the directory gives, and the precedence rule.

use super::*;
use crate::helpers::*;
use crate::slapd::{PEOPLE_DN, Person};

#[tokio::test]
async fn sync_gives_each_address_of_an_entry_its_photo_and_a_second_sync_changes_nothing() {
    let Some(dir) = directory().await else { return };
    let red = png(&solid_photo(64, RED));
    let blue = jpeg(BLUE);
    dir.slapd.add_person(&ada(&red));
    dir.slapd
        .add_person(&person("bob", "bob@example.org", Some(&blue)));
    let out = dir.synced(&[]).await;
    assert!(
        out.contains("added uid=ada,ou=people,dc=example,dc=org: ada@example.org, a.lovelace@example.org (with photo)"),
        "{out}"
    );
    assert!(
        out.contains("added uid=bob,ou=people,dc=example,dc=org: bob@example.org (with photo)"),
        "{out}"
    );
    assert!(
        out.contains(
            "2 entries: 2 added, 0 updated, 0 unchanged, 0 removed, 0 skipped, 0 refused; 0 errors"
        ),
        "{out}"
    );
    dir.shows("ada@example.org", RED).await;
    dir.shows("a.lovelace@example.org", RED).await;
    dir.shows("bob@example.org", BLUE).await;
    // The X500 proxy address is not an email; nothing else was added.
    assert_eq!(
        count(&dir.app.operator, "SELECT COUNT(*) FROM addresses").await,
        3
    );
    assert_eq!(
        count(&dir.app.operator, "SELECT COUNT(*) FROM addresses WHERE source = 'directory' AND confirmed_at IS NOT NULL AND user_id IS NULL").await,
        3
    );
    assert_eq!(
        count(
            &dir.app.operator,
            "SELECT COUNT(*) FROM photos WHERE source = 'directory'"
        )
        .await,
        2
    );
    assert_eq!(
        dir.app.metric("cameo_directory_sync_last_success").await,
        1.0
    );
    assert_eq!(
        dir.app
            .metric("cameo_directory_sync_last_entries{outcome=\"added\"}")
            .await,
        2.0
    );

    let again = dir.synced(&[]).await;
    assert!(
        again.contains("unchanged uid=ada,ou=people,dc=example,dc=org"),
        "{again}"
    );
    assert!(
        again.contains("2 entries: 0 added, 0 updated, 2 unchanged"),
        "{again}"
    );
    assert_eq!(
        dir.app
            .metric("cameo_directory_sync_last_entries{outcome=\"unchanged\"}")
            .await,
        2.0
    );
}

#[tokio::test]
async fn changed_photos_are_replaced_and_removed_or_disabled_entries_lose_what_they_were_given() {
    let Some(dir) = directory().await else { return };
    dir.slapd.add_person(&ada(&png(&solid_photo(64, RED))));
    dir.slapd
        .add_person(&person("bob", "bob@example.org", Some(&jpeg(BLUE))));
    dir.slapd.add_person(&Person {
        user_account_control: Some(512),
        ..person("carol", "carol@example.org", Some(&jpeg(BLUE)))
    });
    dir.slapd
        .add_person(&person("dave", "dave@example.org", Some(&jpeg(BLUE))));
    dir.synced(&[]).await;
    dir.shows("carol@example.org", BLUE).await;

    let green = png(&solid_photo(64, GREEN));
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &green);
    dir.slapd.modify(&format!(
        "dn: uid=ada,{PEOPLE_DN}\nchangetype: modify\nreplace: thumbnailPhoto\nthumbnailPhoto:: {b64}\n-\n\
         delete: proxyAddresses\nproxyAddresses: smtp:a.lovelace@example.org\n"
    ));
    dir.slapd.delete(&format!("uid=bob,{PEOPLE_DN}"));
    // AD's disabled bit (514 = 512 | 0x2), and the configured disabled_filter.
    dir.slapd.modify(&format!("dn: uid=carol,{PEOPLE_DN}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n"));
    dir.slapd.modify(&format!(
        "dn: uid=dave,{PEOPLE_DN}\nchangetype: modify\nadd: employeeType\nemployeeType: disabled\n"
    ));
    let out = dir.synced(&[]).await;
    assert!(
        out.contains(
            "updated uid=ada,ou=people,dc=example,dc=org: photo replaced; -a.lovelace@example.org"
        ),
        "{out}"
    );
    assert!(
        out.contains("removed uid=bob,ou=people,dc=example,dc=org: no longer in the directory"),
        "{out}"
    );
    assert!(
        out.contains("removed uid=carol,ou=people,dc=example,dc=org: disabled in the directory"),
        "{out}"
    );
    assert!(
        out.contains("removed uid=dave,ou=people,dc=example,dc=org: disabled in the directory"),
        "{out}"
    );
    dir.shows("ada@example.org", GREEN).await;
    for gone in [
        "a.lovelace@example.org",
        "bob@example.org",
        "carol@example.org",
        "dave@example.org",
    ] {
        assert_eq!(dir.avatar_colour(gone).await, None, "{gone} still served");
    }
    // The directory's own addresses and the photos nobody shows any more are gone.
    assert_eq!(
        count(&dir.app.operator, "SELECT COUNT(*) FROM addresses").await,
        1
    );
    assert_eq!(
        count(&dir.app.operator, "SELECT COUNT(*) FROM photos").await,
        1
    );
    assert_eq!(
        count(&dir.app.operator, "SELECT COUNT(*) FROM directory_entries").await,
        1
    );
}

/// An account that owns `address` (confirmed) and shows its own photo of `colour`.
async fn owner_with_photo(db: &cameo::store::Db, address: &str, colour: [u8; 3]) -> i64 {
    use cameo::store::{addresses, photos, users};
    let user = users::create(db, "owner@elsewhere.org", "unused-hash")
        .await
        .unwrap()
        .expect("a new account");
    let identity = cameo::identity::Identity::parse(address).unwrap();
    addresses::confirm_for_user(db, user, &identity)
        .await
        .unwrap();
    let bytes = png(&solid_photo(64, colour));
    let prepared = cameo::imaging::prepare_photo(
        &bytes,
        cameo::imaging::IntakeLimits {
            max_bytes: 1 << 20,
            max_pixels: 1 << 20,
        },
    )
    .unwrap();
    let photo = photos::insert_owned(db, user, &prepared, 10)
        .await
        .unwrap()
        .expect("room");
    let owned = addresses::owned_by(db, user).await.unwrap();
    assert!(
        addresses::assign_photo(db, user, owned[0].id, Some(photo))
            .await
            .unwrap()
    );
    user
}

#[tokio::test]
async fn precedence_user_keeps_an_owners_photo_and_precedence_directory_replaces_it() {
    let Some(dir) = directory().await else { return };
    let owner = owner_with_photo(&dir.app.operator, "ada@example.org", GREEN).await;
    dir.slapd.add_person(&ada(&png(&solid_photo(64, RED))));
    // Someone who stays, so that Ada leaving is not an empty directory (refused as suspect).
    dir.slapd
        .add_person(&person("bob", "bob@example.org", Some(&jpeg(BLUE))));

    let out = dir.synced(&[]).await;
    assert!(out.contains("added uid=ada"), "{out}");
    dir.shows("ada@example.org", GREEN).await;
    dir.shows("a.lovelace@example.org", RED).await;

    let out = dir
        .synced(&["--set", "directory.precedence=directory"])
        .await;
    assert!(
        out.contains("updated uid=ada,ou=people,dc=example,dc=org: photo set again"),
        "{out}"
    );
    dir.shows("ada@example.org", RED).await;

    // Back to `user`: the owner's own photo is not restored by itself, but the address stays
    // theirs; once the entry leaves, it stays with them, without the directory's photo.
    dir.slapd.delete(&format!("uid=ada,{PEOPLE_DN}"));
    let out = dir.synced(&[]).await;
    assert!(out.contains("removed uid=ada"), "{out}");
    assert_eq!(dir.avatar_colour("ada@example.org").await, None);
    assert_eq!(dir.avatar_colour("a.lovelace@example.org").await, None);
    let holder = cameo::store::addresses::holder(
        &dir.app.operator,
        &cameo::identity::Identity::parse("ada@example.org").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        holder,
        Some(Some(owner)),
        "the owner keeps the address, confirmed"
    );
    // Only Bob's directory photo is left; the owner's own photo stays theirs.
    assert_eq!(
        count(
            &dir.app.operator,
            "SELECT COUNT(*) FROM photos WHERE source = 'directory'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &dir.app.operator,
            "SELECT COUNT(*) FROM photos WHERE user_id IS NOT NULL"
        )
        .await,
        1
    );
}
