//! The SQLite driver's own guarantees: connection settings, the one-writer

#![allow(clippy::expect_used)] // test helpers fail loudly
//! pool, `:memory:` sharing, transactions, cancellation, streaming, errors.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use quarry_core::prelude::*;
use quarry_core::statement::text_dynamic_unchecked;
use quarry_core::{Compiled, Connection, ErrorKind, Pool, PoolConfig, StatementKind, TransactionOptions};
use quarry_sqlite::SqlitePool;

type Result<T = (), E = quarry_core::Error> = std::result::Result<T, E>;

struct FileDb {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    url: String,
}

fn file_db() -> FileDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.db");
    let url = format!("sqlite://{}", path.display());
    FileDb { _dir: dir, path, url }
}

/// RELIABILITY.md §2's invariants after a fault: no leaked slot, every
/// reader and the writer usable and outside a transaction, nobody holding
/// the file's write lock or a read transaction, acquire prompt.
async fn healthy(pool: &SqlitePool, db: Option<&FileDb>) {
    match db {
        Some(db) => quarry_testkit::assert_pool_healthy(pool, &db.path).await,
        None => quarry_testkit::assert_pool_healthy(pool, quarry_testkit::Inspect::PoolOnly).await,
    }
}

fn config() -> PoolConfig {
    PoolConfig::new().max_size(4).acquire_timeout(Duration::from_secs(10))
}

async fn scalar<T: FromValue + Send + 'static>(conn: &mut impl Connection, sql: &'static str) -> Result<T>
where
    (T,): FromRow,
{
    text(sql).read_only().fetch_scalar(conn).await
}

/// A statement that runs until interrupted.
const ENDLESS: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

#[tokio::test]
async fn every_connection_has_the_documented_settings() -> Result {
    let db = file_db();
    let pool = SqlitePool::connect(&db.url, config()).await?;
    let mut conn = pool.acquire().await?;
    assert_eq!(scalar::<i64>(&mut conn, "PRAGMA foreign_keys").await?, 1);
    assert_eq!(scalar::<String>(&mut conn, "PRAGMA journal_mode").await?, "wal");
    assert_eq!(scalar::<i64>(&mut conn, "PRAGMA query_only").await?, 1, "readers are query_only");
    // On the writer (raw text without read_only() goes there).
    assert_eq!(text("PRAGMA query_only").fetch_scalar::<i64>(&mut conn).await?, 0);
    assert_eq!(text("PRAGMA foreign_keys").fetch_scalar::<i64>(&mut conn).await?, 1);
    // Double-quoted string literals are off: a misspelt column is an error.
    text("CREATE TABLE t (a INTEGER)").execute(&mut conn).await?;
    let err = text(r#"SELECT "no_such_column" FROM t"#).fetch_all::<(i64,)>(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Syntax, "{err}");
    // LIKE is case-sensitive, as on PostgreSQL.
    assert!(!scalar::<bool>(&mut conn, "SELECT 'ABC' LIKE 'abc'").await?);
    Ok(())
}

#[tokio::test]
async fn memory_database_is_shared_by_the_pool_and_private_to_it() -> Result {
    let pool = SqlitePool::connect("sqlite::memory:", config()).await?;
    let other = SqlitePool::connect("sqlite::memory:", config()).await?;
    let mut first = pool.acquire().await?;
    text("CREATE TABLE shared (x INTEGER)").execute(&mut first).await?;
    text("INSERT INTO shared VALUES (1), (2)").execute(&mut first).await?;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(pool.acquire().await?);
    }
    for conn in &mut held {
        assert_eq!(scalar::<i64>(conn, "SELECT count(*) FROM shared").await?, 2);
    }
    let mut stranger = other.acquire().await?;
    let err = scalar::<i64>(&mut stranger, "SELECT count(*) FROM shared").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Syntax, "{err}");
    Ok(())
}

#[tokio::test]
async fn memory_database_survives_idle_timeout_and_cancelled_acquires() -> Result {
    let cfg = config().max_size(1).idle_timeout(Some(Duration::from_millis(50)));
    let pool = SqlitePool::connect("sqlite::memory:", cfg).await?;
    {
        let mut conn = pool.acquire().await?;
        text("CREATE TABLE kept (x INTEGER)").execute(&mut conn).await?;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    for _ in 0..200 {
        let acquire = pool.acquire();
        // Poll once (or not at all) and drop.
        let _ = tokio::time::timeout(Duration::from_micros(1), acquire).await;
    }
    let mut conn = pool.acquire().await?;
    assert_eq!(scalar::<i64>(&mut conn, "SELECT count(*) FROM kept").await?, 0);
    drop(conn);
    healthy(&pool, None).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_writers_never_see_database_locked() -> Result {
    let db = file_db();
    let pool = SqlitePool::connect(&db.url, config()).await?;
    {
        let mut conn = pool.acquire().await?;
        text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)").execute(&mut conn).await?;
        text("INSERT INTO counter VALUES (1, 0)").execute(&mut conn).await?;
    }
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            for _ in 0..10 {
                let mut tx = conn.begin().await?;
                let n: i64 = text("SELECT n FROM counter WHERE id = 1").fetch_scalar(&mut tx).await?;
                text("UPDATE counter SET n = :n WHERE id = 1").bind("n", n + 1).execute(&mut tx).await?;
                tx.commit().await?;
                // And reads outside transactions, on the reader, concurrently.
                scalar::<i64>(&mut conn, "SELECT n FROM counter").await?;
            }
            Ok::<_, quarry_core::Error>(())
        }));
    }
    for t in tasks {
        t.await.expect("task panicked")?;
    }
    let mut conn = pool.acquire().await?;
    assert_eq!(scalar::<i64>(&mut conn, "SELECT n FROM counter").await?, 1000, "no lost update");
    drop(conn);
    healthy(&pool, Some(&db)).await;
    Ok(())
}

#[tokio::test]
async fn dropped_transaction_guard_is_rolled_back_before_reuse() -> Result {
    let db = file_db();
    let pool = SqlitePool::connect(&db.url, config().max_size(1)).await?;
    let mut conn = pool.acquire().await?;
    text("CREATE TABLE t (x INTEGER)").execute(&mut conn).await?;
    for _ in 0..50 {
        let mut tx = conn.begin().await?;
        text("INSERT INTO t VALUES (1)").execute(&mut tx).await?;
        drop(tx);
        assert_eq!(conn.transaction_depth(), 0);
    }
    assert_eq!(scalar::<i64>(&mut conn, "SELECT count(*) FROM t").await?, 0);
    // A guard dropped with its connection: the next borrower is clean.
    let mut tx = conn.begin().await?;
    text("INSERT INTO t VALUES (2)").execute(&mut tx).await?;
    drop(tx);
    drop(conn);
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    assert_eq!(text("SELECT count(*) FROM t").fetch_scalar::<i64>(&mut tx).await?, 0);
    tx.commit().await?;
    drop(conn);
    healthy(&pool, Some(&db)).await;
    Ok(())
}

#[tokio::test]
async fn nested_savepoints_roll_back_only_their_level() -> Result {
    let pool = SqlitePool::connect("sqlite::memory:", config()).await?;
    let mut conn = pool.acquire().await?;
    text("CREATE TABLE t (x TEXT)").execute(&mut conn).await?;
    let mut outer = conn.begin().await?;
    text("INSERT INTO t VALUES ('a')").execute(&mut outer).await?;
    {
        let mut inner = outer.begin().await?;
        text("INSERT INTO t VALUES ('b')").execute(&mut inner).await?;
        // dropped: rolled back to the savepoint
    }
    text("INSERT INTO t VALUES ('c')").execute(&mut outer).await?;
    // Five levels, the innermost two rolled back explicitly.
    let mut l2 = outer.begin().await?;
    text("INSERT INTO t VALUES ('d')").execute(&mut l2).await?;
    let mut l3 = l2.begin().await?;
    let mut l4 = l3.begin().await?;
    text("INSERT INTO t VALUES ('e')").execute(&mut l4).await?;
    let mut l5 = l4.begin().await?;
    text("INSERT INTO t VALUES ('f')").execute(&mut l5).await?;
    l5.rollback().await?;
    l4.rollback().await?;
    l3.commit().await?;
    l2.commit().await?;
    outer.commit().await?;
    let rows: Vec<(String,)> = text("SELECT x FROM t ORDER BY x").read_only().fetch_all(&mut conn).await?;
    let rows: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(rows, ["a", "c", "d"]);
    drop(conn);
    healthy(&pool, None).await;
    Ok(())
}

#[tokio::test]
async fn abandoned_query_discards_its_connection_and_is_interrupted() -> Result {
    let db = file_db();
    let pool = SqlitePool::connect(&db.url, config().max_size(1)).await?;
    let mut conn = pool.acquire().await?;
    let long = conn.fetch_all::<(i64,)>(text(ENDLESS).read_only().compile(&Sqlite)?);
    assert!(tokio::time::timeout(Duration::from_millis(100), long).await.is_err());
    // The handle goes on at once on a fresh reader (the only one: the
    // abandoned one was interrupted and discarded)...
    let started = Instant::now();
    assert_eq!(scalar::<i64>(&mut conn, "SELECT 1").await?, 1);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    drop(conn);
    // ...and so does the pool.
    let started = Instant::now();
    let mut conn = pool.acquire().await?;
    assert_eq!(scalar::<i64>(&mut conn, "SELECT 1").await?, 1);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    drop(conn);
    healthy(&pool, Some(&db)).await;
    Ok(())
}

#[tokio::test]
async fn abandoned_statement_in_a_transaction_fails_the_transaction_not_the_handle() -> Result {
    let db = file_db();
    let pool = SqlitePool::connect(&db.url, config().max_size(1)).await?;
    let mut conn = pool.acquire().await?;
    text("CREATE TABLE t (x INTEGER)").execute(&mut conn).await?;
    let mut tx = conn.begin().await?;
    text("INSERT INTO t VALUES (1)").execute(&mut tx).await?;
    let long = tx.fetch_all::<(i64,)>(text(ENDLESS).read_only().compile(&Sqlite)?);
    assert!(tokio::time::timeout(Duration::from_millis(100), long).await.is_err());
    // The transaction went with its connection.
    let err = text("INSERT INTO t VALUES (2)").execute(&mut tx).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err}");
    assert_eq!(tx.commit().await.unwrap_err().kind(), ErrorKind::ConnectionLost);
    // With the guard gone, the handle writes on a fresh writer.
    text("INSERT INTO t VALUES (3)").execute(&mut conn).await?;
    let rows: Vec<(i64,)> = text("SELECT x FROM t").read_only().fetch_all(&mut conn).await?;
    assert_eq!(rows, [(3,)], "nothing of the abandoned transaction was kept");
    drop(conn);
    healthy(&pool, Some(&db)).await;
    Ok(())
}

#[tokio::test]
async fn abandoned_write_does_not_block_the_next_writer() -> Result {
    let db = file_db();
    let pool = SqlitePool::connect(&db.url, config()).await?;
    let mut conn = pool.acquire().await?;
    text("CREATE TABLE t (x INTEGER)").execute(&mut conn).await?;
    let long = conn.execute(text("INSERT INTO t SELECT x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c)").compile(&Sqlite)?);
    assert!(tokio::time::timeout(Duration::from_millis(100), long).await.is_err());
    drop(conn);
    let started = Instant::now();
    let mut conn = pool.acquire().await?;
    text("INSERT INTO t VALUES (1)").execute(&mut conn).await?;
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(scalar::<i64>(&mut conn, "SELECT count(*) FROM t").await?, 1, "the interrupted insert left nothing");
    drop(conn);
    healthy(&pool, Some(&db)).await;
    Ok(())
}

/// Poll `fut` exactly `polls` times, then drop it (rust-postgres#834's technique).
async fn poll_n_then_drop<F: std::future::Future>(fut: F, polls: usize) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    for _ in 0..polls {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return Some(out);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    None
}

#[tokio::test]
async fn begin_dropped_after_any_number_of_polls_leaves_no_transaction() -> Result {
    let db = file_db();
    let pool = SqlitePool::connect(&db.url, config().max_size(1)).await?;
    {
        let mut conn = pool.acquire().await?;
        text("CREATE TABLE t (x INTEGER)").execute(&mut conn).await?;
    }
    for polls in 1..=6 {
        {
            let mut conn = pool.acquire().await?;
            let _ = poll_n_then_drop(conn.begin(), polls).await;
        }
        // The next borrower runs outside any transaction: its write is
        // visible to another connection at once.
        let mut conn = pool.acquire().await?;
        text("INSERT INTO t VALUES (:p)").bind("p", polls as i64).execute(&mut conn).await?;
        let other = SqlitePool::connect(&db.url, config()).await?;
        let mut other = other.acquire().await?;
        assert_eq!(scalar::<i64>(&mut other, "SELECT count(*) FROM t").await?, polls as i64, "after {polls} polls");
    }
    healthy(&pool, Some(&db)).await;
    Ok(())
}

#[tokio::test]
async fn streams_a_million_rows_and_stops_when_dropped() -> Result {
    let pool = SqlitePool::connect("sqlite::memory:", config()).await?;
    let mut conn = pool.acquire().await?;
    let rows = text(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) \
         SELECT x, printf('%0100d', x) FROM c",
    )
    .read_only();
    let mut stream = rows.stream::<(i64, String)>(&mut conn);
    let mut count = 0_i64;
    let mut sum = 0_i64;
    while let Some(row) = stream.next().await {
        let (x, padded) = row?;
        assert_eq!(padded.len(), 100);
        count += 1;
        sum += x;
    }
    drop(stream);
    assert_eq!(count, 1_000_000);
    assert_eq!(sum, 1_000_000 * 1_000_001 / 2);

    // Dropped after ten rows of an endless query: the same connection
    // answers at once.
    let endless = text("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c").read_only();
    let mut stream = endless.stream::<(i64,)>(&mut conn);
    for _ in 0..10 {
        stream.next().await.expect("a row")?;
    }
    drop(stream);
    let started = Instant::now();
    assert_eq!(scalar::<i64>(&mut conn, "SELECT 1").await?, 1);
    assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
    drop(conn);
    healthy(&pool, None).await;
    Ok(())
}

#[tokio::test]
async fn errors_have_kinds_and_names() -> Result {
    let pool = SqlitePool::connect("sqlite::memory:", config()).await?;
    let mut conn = pool.acquire().await?;
    for ddl in [
        "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id), \
         email TEXT UNIQUE, name TEXT NOT NULL, age INTEGER CONSTRAINT age_positive CHECK (age > 0))",
        "INSERT INTO parent VALUES (1)",
        "INSERT INTO child VALUES (1, 1, 'a@x', 'a', 1)",
    ] {
        text(ddl).execute(&mut conn).await?;
    }
    let cases = [
        ("INSERT INTO child VALUES (2, 1, 'a@x', 'b', 1)", ErrorKind::UniqueViolation),
        ("INSERT INTO child VALUES (1, 1, 'b@x', 'b', 1)", ErrorKind::UniqueViolation),
        ("INSERT INTO child VALUES (3, 99, 'c@x', 'c', 1)", ErrorKind::ForeignKeyViolation),
        ("INSERT INTO child VALUES (4, 1, 'd@x', NULL, 1)", ErrorKind::NotNullViolation),
        ("INSERT INTO child VALUES (5, 1, 'e@x', 'e', -1)", ErrorKind::CheckViolation),
        ("INSERT INTO nowhere VALUES (1)", ErrorKind::Syntax),
        ("INSERTT INTO child VALUES (1)", ErrorKind::Syntax),
    ];
    for (sql, kind) in cases {
        let err = text_dynamic_unchecked(sql.to_owned()).execute(&mut conn).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{sql}: {err}");
    }
    let err = text("INSERT INTO child VALUES (2, 1, 'a@x', 'b', 1)").execute(&mut conn).await.unwrap_err();
    assert_eq!((err.table(), err.column()), (Some("child"), Some("email")));
    assert_eq!(err.sqlstate(), Some("SQLITE_CONSTRAINT_UNIQUE"));
    let err = text("INSERT INTO child VALUES (5, 1, 'e@x', 'e', -1)").execute(&mut conn).await.unwrap_err();
    assert_eq!(err.constraint(), Some("age_positive"));
    let err = text("INSERT INTO child VALUES (4, 1, 'd@x', NULL, 1)").execute(&mut conn).await.unwrap_err();
    assert_eq!(err.column(), Some("name"));
    drop(conn);
    healthy(&pool, None).await;
    Ok(())
}

#[tokio::test]
async fn values_sqlite_cannot_hold_are_refused() -> Result {
    let pool = SqlitePool::connect("sqlite::memory:", config()).await?;
    let mut conn = pool.acquire().await?;
    text("CREATE TABLE f (x REAL)").execute(&mut conn).await?;
    let err = text("INSERT INTO f VALUES (:x)").bind("x", f64::NAN).execute(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    assert!(err.message().contains("?1") && err.message().contains("NaN"), "{err}");
    // The compiler refuses an interval for SQLite; a statement compiled
    // elsewhere and handed to the driver is refused when binding.
    let err = text("INSERT INTO f VALUES (:x)")
        .bind("x", quarry_core::Interval::days(1))
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Compile, "{err}");
    let by_hand = Compiled::new(
        "INSERT INTO f VALUES (?1)",
        vec![quarry_core::Value::Interval(quarry_core::Interval::days(1))],
        StatementKind::Write,
    );
    let err = conn.execute(by_hand).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode, "{err}");
    assert!(err.message().contains("?1") && err.message().contains("interval"), "{err}");
    // The position named is the refused value's, after values bound as
    // their own types (NULL, integer, text) and through the general path.
    let array = quarry_core::Value::Array(vec![quarry_core::Value::I64(1)].into());
    let by_hand = Compiled::new(
        "SELECT ?1, ?2, ?3, ?4, ?5",
        vec![
            quarry_core::Value::Null,
            quarry_core::Value::I64(7),
            quarry_core::Value::from("t"),
            quarry_core::Value::Bool(true),
            array,
        ],
        StatementKind::Read,
    );
    let err = conn.execute(by_hand).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode, "{err}");
    assert!(err.message().contains("?5") && err.message().contains("no array type"), "{err}");
    // Infinity is a real value and round-trips.
    text("INSERT INTO f VALUES (:x)").bind("x", f64::INFINITY).execute(&mut conn).await?;
    assert_eq!(scalar::<f64>(&mut conn, "SELECT x FROM f").await?, f64::INFINITY);
    drop(conn);
    healthy(&pool, None).await;
    Ok(())
}

#[tokio::test]
async fn read_only_urls_refuse_writes_and_allow_reads() -> Result {
    let db = file_db();
    {
        let pool = SqlitePool::connect(&db.url, config()).await?;
        let mut conn = pool.acquire().await?;
        text("CREATE TABLE t (x INTEGER)").execute(&mut conn).await?;
        text("INSERT INTO t VALUES (1)").execute(&mut conn).await?;
    }
    let pool = SqlitePool::connect(&format!("{}?mode=ro", db.url), config()).await?;
    let mut conn = pool.acquire().await?;
    assert_eq!(scalar::<i64>(&mut conn, "SELECT count(*) FROM t").await?, 1);
    let err = text("INSERT INTO t VALUES (2)").execute(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReadOnly, "{err}");
    drop(conn);
    healthy(&pool, Some(&db)).await;
    Ok(())
}

#[tokio::test]
async fn bad_files_fail_at_connect() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = format!("sqlite://{}?mode=rw", dir.path().join("missing.db").display());
    let err = SqlitePool::connect(&missing, config()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CannotOpen, "{err}");
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x42_u8; 8192]).expect("write");
    let started = Instant::now();
    let err = SqlitePool::connect(&format!("sqlite://{}", garbage.display()), config()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotADatabase, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    Ok(())
}

#[tokio::test]
async fn writer_held_by_a_transaction_makes_others_busy_after_the_timeout() -> Result {
    let db = file_db();
    let pool = SqlitePool::connect(&format!("{}?busy_timeout=200", db.url), config()).await?;
    let mut a = pool.acquire().await?;
    text("CREATE TABLE t (x INTEGER)").execute(&mut a).await?;
    let mut tx = a.begin().await?;
    text("INSERT INTO t VALUES (1)").execute(&mut tx).await?;
    let mut b = pool.acquire().await?;
    let started = Instant::now();
    let err = text("INSERT INTO t VALUES (2)").execute(&mut b).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert!(err.is_retryable());
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(2), "{waited:?}");
    // Readers are not blocked by the open write transaction.
    assert_eq!(scalar::<i64>(&mut b, "SELECT count(*) FROM t").await?, 0);
    tx.commit().await?;
    text("INSERT INTO t VALUES (2)").execute(&mut b).await?;
    drop((a, b));
    healthy(&pool, Some(&db)).await;
    Ok(())
}

#[tokio::test]
async fn bulk_inserts_split_under_the_parameter_limit_all_or_nothing() -> Result {
    quarry_core::table! {
        pub struct Wide("wide") { id: i64 [primary_key], a: i64, b: String [unique], c: f64, d: bool }
    }
    let pool = SqlitePool::connect("sqlite::memory:", config()).await?;
    let limit = pool.max_params();
    assert!(limit >= 999, "{limit}");
    let mut conn = pool.acquire().await?;
    let w = Wide::table();
    create_table(w).execute(&mut conn).await?;
    let rows = limit / 4 * 3; // 4 parameters per row: about three chunks
    let data: Vec<_> = (0..rows as i64).map(|i| (i, format!("b{i}"), i as f64, i % 2 == 0)).collect();
    let n = insert_into(w).rows((w.a, w.b, w.c, w.d), data.clone()).execute(&mut conn).await?;
    assert_eq!(n, rows as u64);
    assert_eq!(scalar::<i64>(&mut conn, "SELECT count(*) FROM wide").await?, rows as i64);
    // A duplicate near the end of a second batch rolls the whole insert back.
    let mut dup: Vec<_> = (0..rows as i64).map(|i| (i, format!("c{i}"), 0.0, true)).collect();
    dup[rows - 2].1 = "c1".into();
    let err = insert_into(w).rows((w.a, w.b, w.c, w.d), dup).execute(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UniqueViolation, "{err}");
    assert_eq!(scalar::<i64>(&mut conn, "SELECT count(*) FROM wide").await?, rows as i64, "nothing of it stayed");
    drop(conn);
    healthy(&pool, None).await;
    Ok(())
}

#[tokio::test]
async fn a_panicking_decoder_is_reported_and_the_pool_recovers() -> Result {
    #[derive(Debug)]
    struct Explodes;
    impl FromValue for Explodes {
        fn from_value(_: quarry_core::ValueRef<'_>) -> Result<Self, quarry_core::DecodeError> {
            panic!("decoder bug");
        }
    }
    impl FromRow for Explodes {
        const COLUMNS: usize = 1;
        fn from_row_at<R: quarry_core::Row + ?Sized>(row: &R, offset: usize) -> Result<Self> {
            row.get(offset)
        }
    }
    let pool = SqlitePool::connect("sqlite::memory:", config().max_size(1)).await?;
    for _ in 0..20 {
        let mut conn = pool.acquire().await?;
        let err = text("SELECT 1").read_only().fetch_all::<Explodes>(&mut conn).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Panic, "{err}");
    }
    let mut conn = pool.acquire().await?;
    assert_eq!(scalar::<i64>(&mut conn, "SELECT 41 + 1").await?, 42);
    let status = pool.status();
    assert!(status.size <= status.max_size, "{status:?}");
    drop(conn);
    healthy(&pool, None).await;
    Ok(())
}

#[tokio::test]
async fn statement_kinds_route_reads_and_writes() -> Result {
    let pool = SqlitePool::connect("sqlite::memory:", config()).await?;
    let mut conn = pool.acquire().await?;
    text("CREATE TABLE t (x INTEGER)").execute(&mut conn).await?;
    // A write marked as a read goes to a query_only reader and fails there.
    let sneaky = Compiled::new("INSERT INTO t VALUES (1)", Vec::new(), StatementKind::Read);
    let err = conn.execute(sneaky).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReadOnly, "{err}");
    // A read-only transaction stays on the reader: writes fail inside it.
    let mut tx = conn.begin_with(TransactionOptions::new().read_only()).await?;
    let err = text("INSERT INTO t VALUES (1)").execute(&mut tx).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReadOnly, "{err}");
    tx.rollback().await?;
    drop(conn);
    healthy(&pool, None).await;
    Ok(())
}

/// A statement cached before another connection changed its table's shape:
/// SQLite prepares it again at its first step, and the rows have the new
/// columns (the column count is read from the row, not from the statement
/// before it ran).
#[tokio::test]
async fn a_cached_statement_sees_columns_added_by_another_connection() -> Result {
    let db = file_db();
    let pool = SqlitePool::connect(&db.url, config().max_size(1)).await?;
    let mut conn = pool.acquire().await?;
    text("CREATE TABLE t (a INTEGER, b TEXT)").execute(&mut conn).await?;
    text("INSERT INTO t VALUES (1, 'x')").execute(&mut conn).await?;
    let rows: Vec<(i64, String)> = text("SELECT * FROM t").read_only().fetch_all(&mut conn).await?;
    assert_eq!(rows, [(1, "x".to_owned())]);
    let other = SqlitePool::connect(&db.url, config()).await?;
    text("ALTER TABLE t ADD COLUMN c INTEGER NOT NULL DEFAULT 7").execute(&mut other.acquire().await?).await?;
    let rows: Vec<(i64, String, i64)> = text("SELECT * FROM t").read_only().fetch_all(&mut conn).await?;
    assert_eq!(rows, [(1, "x".to_owned(), 7)]);
    let row: Option<(i64, String, i64)> = text("SELECT * FROM t").read_only().fetch_optional(&mut conn).await?;
    assert_eq!(row, Some((1, "x".to_owned(), 7)));
    text("ALTER TABLE t DROP COLUMN b").execute(&mut other.acquire().await?).await?;
    let streamed: Vec<Result<(i64, i64)>> = text("SELECT * FROM t").read_only().stream(&mut conn).collect().await;
    assert_eq!(streamed.len(), 1);
    assert_eq!(*streamed[0].as_ref().expect("the new shape"), (1, 7));
    drop(conn);
    healthy(&pool, Some(&db)).await;
    Ok(())
}
