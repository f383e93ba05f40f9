//! The server's periodic sync with its metrics, the lease that lets one node (or the
//! operator's command) sync at a time, and TLS (ldaps://, StartTLS) to the directory.

use super::*;
use crate::helpers::*;
use crate::slapd::Slapd;

#[tokio::test]
async fn the_server_syncs_periodically_and_metrics_tell_the_outcome() {
    let Some(slapd) = Slapd::start() else { return };
    slapd.add_person(&ada(&png(&solid_photo(64, RED))));
    let settings = settings_of(&directory_table(&slapd, "interval_s = 1"));
    let app = spawn_app_with(move |c| c.directory = Some(settings)).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let response = app
            .get(&format!(
                "/avatar/{}?s=32&d=404",
                md5_of("a.lovelace@example.org")
            ))
            .await;
        if response.status() == 200 {
            assert!(near(decode(response).await.get_pixel(16, 16), RED, 40));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no periodic sync within 20 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(app.metric("cameo_directory_sync_last_success").await, 1.0);
    assert!(
        app.metric("cameo_directory_sync_last_finished_timestamp_seconds")
            .await
            > 1.7e9
    );
    // The lease is given back after each sync: the next one, an interval later, runs.
    slapd.add_person(&person("bob", "bob@example.org", Some(&jpeg(BLUE))));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app
        .get(&format!("/avatar/{}?d=404", md5_of("bob@example.org")))
        .await
        .status()
        != 200
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the next periodic sync did not add bob"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn ldaps_and_starttls_trust_only_the_configured_ca() {
    let Some(slapd) = Slapd::start_tls() else {
        return;
    };
    let ldaps = format!("ldaps://127.0.0.1:{}", slapd.tls_port.expect("a TLS port"));
    let extra = format!(
        "url = \"{ldaps}\"\nca_file = \"{}\"",
        slapd.ca_file().display()
    );
    let dir = directory_on(slapd, &extra).await;
    dir.slapd
        .add_person(&person("bob", "bob@example.org", Some(&jpeg(BLUE))));
    let out = dir.synced(&[]).await;
    assert!(out.contains("added uid=bob"), "{out}");
    dir.shows("bob@example.org", BLUE).await;

    let starttls = [
        "--set",
        &format!("directory.url={}", dir.slapd.url()),
        "--set",
        "directory.starttls=true",
    ];
    let out = dir.synced(&starttls).await;
    assert!(out.contains("unchanged uid=bob"), "{out}");

    // Without the CA the certificate is not trusted, and nothing changes.
    let output = dir.sync(&["--set", "directory.ca_file="]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        err.contains(&format!("cannot reach the directory at {ldaps}: "))
            && err.contains("UnknownIssuer"),
        "{err}"
    );
}

#[tokio::test]
async fn while_another_node_holds_the_lease_neither_the_command_nor_the_timer_syncs() {
    let Some(slapd) = Slapd::start() else { return };
    slapd.add_person(&person("bob", "bob@example.org", Some(&jpeg(BLUE))));
    let dir = directory_on(slapd, "").await;
    execute(
        &dir.app.operator,
        "UPDATE directory_sync SET lease_holder = $1, lease_until = 4000000000 WHERE id = 1",
        &["another-node"],
    )
    .await;
    let output = dir.sync(&[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("another directory sync is running (it holds the lease)"),
        "{}",
        stderr(&output)
    );
    // A server whose timer would sync every second waits for the lease too.
    let table = directory_table(&dir.slapd, "interval_s = 1");
    let settings = settings_of(&table);
    let database_url = dir.app.config.database_url.clone();
    let data_dir = dir.app.config.data_dir.clone();
    let node = spawn_app_with(move |c| {
        c.directory = Some(settings);
        c.database_url = database_url;
        c.data_dir = data_dir;
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(dir.avatar_colour("bob@example.org").await, None);
    assert_eq!(
        count(&dir.app.operator, "SELECT COUNT(*) FROM addresses").await,
        0
    );

    // The lease expires (or is given back): the next tick syncs.
    execute(
        &dir.app.operator,
        "UPDATE directory_sync SET lease_holder = NULL, lease_until = 0 WHERE id = 1 AND lease_holder = $1",
        &["another-node"],
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while node
        .get(&format!("/avatar/{}?d=404", md5_of("bob@example.org")))
        .await
        .status()
        != 200
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no sync after the lease was free"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
