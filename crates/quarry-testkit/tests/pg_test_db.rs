//! `pg_test_db` against the server `pg_server` finds (skipped when there is none).

use quarry_testkit::{PgTestDb, connect, pg_test_db};

#[allow(clippy::expect_used)] // a test helper: failing here fails the test
async fn schema_exists(admin_url: &str, schema: &str) -> bool {
    let admin = connect(admin_url).await.expect("admin connection");
    let row = admin
        .query_one("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", &[&schema])
        .await
        .expect("pg_namespace query");
    row.get(0)
}

#[tokio::test]
async fn url_uses_a_fresh_schema_that_drop_removes() {
    let Some(db) = pg_test_db("url_uses_a_fresh_schema_that_drop_removes").await else { return };
    assert!(db.schema().starts_with("quarry_t_") && db.schema().contains("fresh_schema"), "{}", db.schema());
    let client = connect(db.url()).await.expect("connect");
    let row = client
        .query_one("SELECT current_schema()::text, current_setting('application_name')", &[])
        .await
        .expect("query");
    assert_eq!(row.get::<_, String>(0), db.schema());
    assert_eq!(row.get::<_, String>(1), db.schema());

    // Unqualified DDL lands in the schema.
    client.batch_execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)").await.expect("ddl");
    let admin = connect(db.admin_url()).await.expect("admin");
    let row = admin
        .query_one("SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 't'", &[&db.schema()])
        .await
        .expect("pg_tables");
    assert_eq!(row.get::<_, i64>(0), 1);
    // The admin URL has no search_path override.
    let row = admin.query_one("SELECT current_schema()::text", &[]).await.expect("query");
    assert_ne!(row.get::<_, Option<String>>(0).as_deref(), Some(db.schema()));
    drop(admin);
    drop(client);

    let (schema, admin_url) = (db.schema().to_owned(), db.admin_url().to_owned());
    assert!(schema_exists(&admin_url, &schema).await);
    drop(db);
    assert!(!schema_exists(&admin_url, &schema).await, "schema {schema} survived the drop");
}

#[tokio::test]
async fn each_call_gets_a_distinct_schema() {
    let Some(a) = pg_test_db("distinct").await else { return };
    let Some(b) = pg_test_db("distinct").await else { return };
    assert_ne!(a.schema(), b.schema());
    assert_ne!(a.url(), b.url());
    assert_eq!(a.admin_url(), b.admin_url());
}

/// A session of the test still holding a lock on a table in the schema (here: an
/// open transaction whose connection task cannot even run, because Drop blocks
/// the current-thread runtime) must not keep the schema alive.
#[tokio::test]
async fn drop_terminates_the_tests_own_blocking_sessions() {
    let Some(db) = pg_test_db("drop_with_open_transaction").await else { return };
    let (schema, admin_url) = (db.schema().to_owned(), db.admin_url().to_owned());
    let client = connect(db.url()).await.expect("connect");
    client.batch_execute("CREATE TABLE t (id int); BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE").await.expect("lock");

    // An unrelated session (another test) on the same server is left alone.
    let Some(other) = pg_test_db("bystander").await else { return };
    let bystander = connect(other.url()).await.expect("connect");
    let pid: i32 = bystander.query_one("SELECT pg_backend_pid()", &[]).await.expect("pid").get(0);

    drop(db);
    assert!(!schema_exists(&admin_url, &schema).await, "schema {schema} survived the drop");
    assert!(client.simple_query("SELECT 1").await.is_err(), "the blocking session was terminated");
    let still: i32 = bystander.query_one("SELECT pg_backend_pid()", &[]).await.expect("bystander alive").get(0);
    assert_eq!(pid, still);
}

/// Drop works outside any runtime and inside a multi-threaded one.
#[test]
fn drop_works_outside_a_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let Some(db): Option<PgTestDb> = runtime.block_on(pg_test_db("drop_outside_runtime")) else { return };
    let Some(inner) = runtime.block_on(pg_test_db("drop_inside_multi_thread")) else { return };
    let (schema, inner_schema, admin_url) =
        (db.schema().to_owned(), inner.schema().to_owned(), db.admin_url().to_owned());
    runtime.block_on(async move { drop(inner) });
    drop(runtime);
    drop(db);

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        assert!(!schema_exists(&admin_url, &schema).await);
        assert!(!schema_exists(&admin_url, &inner_schema).await);
    });
}
