//! Refused photos and failed syncs: each reported, and none changes what is served.

use super::*;
use crate::helpers::*;
use crate::slapd::{LIMITED_DN, LIMITED_PASSWORD, PEOPLE_DN};

#[tokio::test]
async fn bad_photos_are_refused_naming_the_entry_and_the_rest_is_synced() {
    let Some(dir) = directory().await else { return };
    dir.slapd
        .add_person(&person("bob", "bob@example.org", Some(&jpeg(BLUE))));
    dir.slapd.add_person(&person(
        "eve",
        "eve@example.org",
        Some(b"\xff\xd8\xff\xe0 this is not a JPEG at all"),
    ));
    let output = dir.sync(&[]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.lines().any(|l| l
            .starts_with("refused uid=eve,ou=people,dc=example,dc=org: its photo: ")
            && l.ends_with("left as it was")),
        "{out}"
    );
    assert!(out.contains("1 refused; 1 errors"), "{out}");
    dir.app.noticed_another_process().await;
    dir.shows("bob@example.org", BLUE).await;
    assert_eq!(dir.avatar_colour("eve@example.org").await, None);
    assert_eq!(
        dir.app.metric("cameo_directory_sync_last_errors").await,
        1.0
    );
}

#[tokio::test]
async fn a_wrong_password_or_an_unreachable_server_is_reported_clearly_and_changes_nothing() {
    let Some(dir) = directory().await else { return };
    dir.slapd
        .add_person(&person("bob", "bob@example.org", Some(&jpeg(BLUE))));
    std::fs::write(dir.slapd.path("bind-password"), "not-the-password").unwrap();
    let output = dir.sync(&[]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        err.contains("directory sync: the directory refused the bind as \"cn=admin,dc=example,dc=org\" (wrong DN or password?)")
            && err.contains("invalidCredentials"),
        "{err}"
    );
    assert!(!err.contains("not-the-password") && !stdout(&output).contains("not-the-password"));

    let url = format!("ldap://127.0.0.1:{}", free_port());
    let output = dir.sync(&["--set", &format!("directory.url={url}")]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        err.contains(&format!(
            "directory sync: cannot reach the directory at {url}: "
        )),
        "{err}"
    );
    assert_eq!(
        count(&dir.app.operator, "SELECT COUNT(*) FROM addresses").await,
        0
    );
    assert_eq!(
        dir.app.metric("cameo_directory_sync_last_success").await,
        0.0
    );
}

#[tokio::test]
async fn a_search_that_finds_nobody_takes_nothing_back() {
    let Some(dir) = directory().await else { return };
    dir.slapd
        .add_person(&person("bob", "bob@example.org", Some(&jpeg(BLUE))));
    dir.synced(&[]).await;
    let output = dir.sync(&["--set", "directory.filter=(uid=nobody-here)"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("the search found no entries, so nothing was changed (the last sync left 1 entries); check base_dn and filter"),
        "{}",
        stderr(&output)
    );
    dir.shows("bob@example.org", BLUE).await;
}

#[tokio::test]
async fn a_dry_run_reports_what_would_change_and_changes_nothing() {
    let Some(dir) = directory().await else { return };
    dir.slapd.add_person(&ada(&png(&solid_photo(64, RED))));
    let out = dir.synced(&["--dry-run"]).await;
    assert!(out.contains("added uid=ada"), "{out}");
    assert!(
        out.contains("1 added") && out.ends_with("(dry run: nothing changed)\n"),
        "{out}"
    );
    for table in [
        "SELECT COUNT(*) FROM addresses",
        "SELECT COUNT(*) FROM photos",
        "SELECT COUNT(*) FROM directory_entries",
    ] {
        assert_eq!(count(&dir.app.operator, table).await, 0, "{table}");
    }
    assert_eq!(dir.avatar_colour("ada@example.org").await, None);
}

#[tokio::test]
async fn a_search_that_fails_part_way_changes_nothing() {
    let Some(dir) = directory().await else { return };
    dir.slapd.add_person(&ada(&png(&solid_photo(64, RED))));
    dir.slapd
        .add_person(&person("bob", "bob@example.org", Some(&jpeg(BLUE))));
    dir.slapd
        .add_person(&person("carol", "carol@example.org", Some(&jpeg(BLUE))));
    dir.synced(&[]).await;

    // Ada's photo changes, Bob leaves, Dave arrives; then a search that the server stops
    // after two entries (a size limit on the limited account's paged searches).
    let green = png(&solid_photo(64, GREEN));
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &green);
    dir.slapd.modify(&format!("dn: uid=ada,{PEOPLE_DN}\nchangetype: modify\nreplace: thumbnailPhoto\nthumbnailPhoto:: {b64}\n"));
    dir.slapd.delete(&format!("uid=bob,{PEOPLE_DN}"));
    dir.slapd
        .add_person(&person("dave", "dave@example.org", Some(&jpeg(BLUE))));
    std::fs::write(dir.slapd.path("limited-password"), LIMITED_PASSWORD).unwrap();
    let limited_password = format!(
        "directory.bind_password_file={}",
        dir.slapd.path("limited-password").display()
    );
    let limited = [
        "--set",
        &format!("directory.bind_dn={LIMITED_DN}"),
        "--set",
        &limited_password,
        "--set",
        "directory.page_size=1",
    ];
    let output = dir.sync(&limited);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        err.contains("the search failed after 2 entries, so nothing was changed")
            && err.contains("sizeLimitExceeded"),
        "{err}"
    );
    dir.app.noticed_another_process().await;
    dir.shows("ada@example.org", RED).await;
    dir.shows("bob@example.org", BLUE).await;
    assert_eq!(dir.avatar_colour("dave@example.org").await, None);

    let out = dir.synced(&[]).await;
    assert!(
        out.contains("1 added, 1 updated, 1 unchanged, 1 removed"),
        "{out}"
    );
    dir.shows("ada@example.org", GREEN).await;
    assert_eq!(dir.avatar_colour("bob@example.org").await, None);
    dir.shows("dave@example.org", BLUE).await;
}
