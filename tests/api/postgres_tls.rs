//! TLS to PostgreSQL: a node given `sslmode=verify-full` and the cluster's CA connects over
//! TLS and works; a node that would talk in plain text, or cannot verify the server's
//! certificate, refuses to start with a reason instead of talking to an unchecked server.
//! Runs in the PostgreSQL target, on a cluster of its own that accepts TLS only.

use cameo::Application;
use cameo::config::Config;

use crate::helpers::*;
use crate::postgres::{OwnCluster, skip_on_sqlite};

/// Why a node configured with `database_url` does not start.
async fn start_up_error(database_url: String) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_data_dir(dir.path());
    config.bind = "127.0.0.1:0".parse().expect("an address");
    config.database_url = database_url;
    match Application::build(config).await {
        Ok(_) => panic!("the node started"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test]
async fn a_node_talks_to_postgresql_over_verified_tls() {
    if skip_on_sqlite("starts a PostgreSQL cluster of its own with TLS") {
        return;
    }
    let (cluster, ca) = OwnCluster::start_with_tls();
    let url = format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        cluster.database(),
        ca.display()
    );
    let app = spawn_app_with(|c| c.database_url = url.clone()).await;
    app.add_photo("alice@example.org", &png(&solid_photo(32, RED)))
        .await;
    let served = decode(
        app.get(&format!("/avatar/{}?s=16", md5_of("alice@example.org")))
            .await,
    )
    .await;
    assert!(near(served.get_pixel(8, 8), RED, 8));

    let encrypted = count(
        &app.operator,
        "SELECT COUNT(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.datname = current_database() AND s.ssl",
    )
    .await;
    let plain = count(
        &app.operator,
        "SELECT COUNT(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.datname = current_database() AND NOT s.ssl",
    )
    .await;
    assert!(encrypted >= 1, "the node's connections use TLS");
    assert_eq!(plain, 0, "no connection of the node is in plain text");
}

#[tokio::test]
async fn a_node_refuses_plain_text_and_unverified_servers() {
    if skip_on_sqlite("starts a PostgreSQL cluster of its own with TLS") {
        return;
    }
    let (cluster, _ca) = OwnCluster::start_with_tls();
    let database = cluster.database();

    let plain = start_up_error(format!("{database}?sslmode=disable")).await;
    assert!(
        plain.contains("no encryption") || plain.contains("pg_hba.conf"),
        "the server's refusal is reported: {plain}"
    );
    // The test CA is in no system store, so the certificate cannot be verified.
    let unverified = start_up_error(format!("{database}?sslmode=verify-full")).await;
    assert!(
        unverified.to_lowercase().contains("certificate"),
        "an unverifiable certificate is reported: {unverified}"
    );
}
