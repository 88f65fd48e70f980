//! The temporary-cluster fallback, exercised for real even where a server runs:
//! initdb, start on a free port, connect, stop, start again, delete.

use quarry_testkit::{PgSource, PgTestDb, StopMode, connect, pg_bin_dir, pg_unavailable, start_temp_cluster};

#[tokio::test]
async fn temp_cluster_starts_serves_stops_and_is_deleted() {
    if let Err(reason) = pg_bin_dir() {
        // No PostgreSQL binaries: a skip, or a failure under QUARRY_REQUIRE_PG=1.
        pg_unavailable("temp_cluster_starts_serves_stops_and_is_deleted", &reason);
        return;
    }
    let cluster = start_temp_cluster().await.expect("temporary cluster");
    let data_dir = cluster.data_dir().to_owned();
    assert!(data_dir.join("PG_VERSION").is_file());
    assert!(data_dir.file_name().is_some_and(|n| n.to_string_lossy() == format!("cluster-{}", cluster.port())));
    assert_eq!(cluster.url(), format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port()));

    let client = connect(cluster.url()).await.expect("connect");
    let row = client.query_one("SELECT 1", &[]).await.expect("SELECT 1");
    assert_eq!(row.get::<_, i32>(0), 1);
    for (setting, expected) in [
        ("fsync", "off"),
        ("synchronous_commit", "on"),
        ("listen_addresses", "127.0.0.1"),
        ("port", &cluster.port().to_string()),
    ] {
        let value: String = client.query_one(&format!("SHOW {setting}"), &[]).await.expect("SHOW").get(0);
        assert_eq!(value, expected, "{setting}");
    }
    drop(client);

    // Test schemas work on it like on any server.
    let server = cluster.server();
    assert!(server.is_temporary());
    assert!(matches!(server.source(), PgSource::TempCluster { port, .. } if *port == cluster.port()));
    {
        let db = PgTestDb::create(&server, "on_temp_cluster").await.expect("schema");
        let client = connect(db.url()).await.expect("connect");
        let schema: String = client.query_one("SELECT current_schema()::text", &[]).await.expect("query").get(0);
        assert_eq!(schema, db.schema());
    }

    cluster.stop(StopMode::Fast).await.expect("stop");
    assert!(connect(cluster.url()).await.is_err(), "stopped");
    cluster.start().await.expect("start again");
    let client = connect(cluster.url()).await.expect("connect after restart");
    client.simple_query("SELECT 1").await.expect("SELECT 1");
    drop(client);

    drop(cluster);
    assert!(!data_dir.exists(), "data directory deleted on drop");
}

/// Two private clusters at once get distinct ports and directories.
#[tokio::test]
async fn concurrent_temp_clusters_are_distinct() {
    if let Err(reason) = pg_bin_dir() {
        pg_unavailable("concurrent_temp_clusters_are_distinct", &reason);
        return;
    }
    let (a, b) = tokio::join!(start_temp_cluster(), start_temp_cluster());
    let (a, b) = (a.expect("first"), b.expect("second"));
    assert_ne!(a.port(), b.port());
    assert_ne!(a.data_dir(), b.data_dir());
    for cluster in [&a, &b] {
        connect(cluster.url()).await.expect("connect").simple_query("SELECT 1").await.expect("SELECT 1");
    }
}
