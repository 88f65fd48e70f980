//! Bulk inserts against the bind-parameter limit (RELIABILITY.md §2.11):
//! PostgreSQL's 65,535 and SQLite's `SQLITE_LIMIT_VARIABLE_NUMBER` (32,766
//! in the bundled SQLite), read from the connection at run time. Around the
//! limit and far past it every row arrives exactly once; a failing or
//! cancelled bulk insert leaves nothing behind (all chunks run in one
//! transaction).

use crate::common::*;

quarry::table! {
    pub struct Narrow("narrow") { id: i64 [primary_key], v: i64 }
}

quarry::table! {
    pub struct Wide("wide") { id: i64 [primary_key], batch: i64, v: i64, w: String }
}

quarry::table! {
    pub struct Keyed("keyed") { id: i64 [primary_key], code: i64 [unique] }
}

/// Rows in `table`, with the sum and the extremes of `v`.
async fn summary(conn: &mut Conn, filter: Option<i64>) -> Result<(i64, i64, i64, i64)> {
    match filter {
        None => {
            let n = Narrow::table();
            select((count_star(), sum(n.v).coalesce(0), min(n.v).coalesce(0), max(n.v).coalesce(0)))
                .from(n)
                .fetch_one(conn)
                .await
        }
        Some(batch) => {
            let w = Wide::table();
            select((count_star(), sum(w.v).coalesce(0), min(w.v).coalesce(0), max(w.v).coalesce(0)))
                .from(w)
                .filter(w.batch.eq(batch))
                .fetch_one(conn)
                .await
        }
    }
}

/// `n` values 1..=n: their count, sum, min and max.
fn expected(n: i64) -> (i64, i64, i64, i64) {
    (n, n * (n + 1) / 2, i64::from(n > 0), n)
}

// One-column rows × 1 = limit − 1, limit, limit + 1 and 10 × limit
// parameters; three-column rows × 3 = limit − 3, limit, limit + 3.
both!(config = config().max_size(1); async fn bulk_inserts_around_the_parameter_limit(db) {
    let (n, w) = (Narrow::table(), Wide::table());
    db.engine.create_all(&MetaData::new().with(n).with(w)).await?;
    let mut conn = db.engine.acquire().await?;
    let limit = quarry::Connection::max_params(&conn) as i64;
    let expected_limit = if db.is_postgres() { 65_535 } else { 32_766 };
    assert_eq!(limit, expected_limit, "the parameter limit the driver reports");

    for rows in [limit - 1, limit, limit + 1, 10 * limit] {
        let inserted = insert_into(n).rows(n.v, 1..=rows).execute(&mut conn).await?;
        assert_eq!(inserted, rows as u64, "{rows} one-column rows");
        assert_eq!(summary(&mut conn, None).await?, expected(rows), "{rows} one-column rows");
        delete_from(n).execute(&mut conn).await?;
    }

    assert_eq!(limit % 3, 0, "both limits are multiples of three");
    for (batch, rows) in [(1, limit / 3 - 1), (2, limit / 3), (3, limit / 3 + 1)] {
        let data = (1..=rows).map(|i| (batch, i, format!("w{i}")));
        let inserted = insert_into(w).rows((w.batch, w.v, w.w), data).execute(&mut conn).await?;
        assert_eq!(inserted, rows as u64, "{rows} three-column rows");
        assert_eq!(summary(&mut conn, Some(batch)).await?, expected(rows), "{rows} three-column rows");
        let last: String = select(w.w).from(w).filter(w.batch.eq(batch).and(w.v.eq(rows))).fetch_scalar(&mut conn).await?;
        assert_eq!(last, format!("w{rows}"));
    }
    drop(conn);
    db.assert_healthy().await;
    Ok(())
});

// 100,000 rows whose 70,000th violates a unique constraint (in the third
// chunk on PostgreSQL, the fifth on SQLite): the error names the constraint
// and no row of the insert stays.
both!(config = config().max_size(1); async fn a_failing_bulk_insert_leaves_nothing(db) {
    let k = Keyed::table();
    db.engine.create_all(&MetaData::new().with(k)).await?;
    let mut conn = db.engine.acquire().await?;
    insert_into(k).values(k.code.set(-1)).execute(&mut conn).await?;
    let codes = (1..=100_000_i64).map(|i| if i == 70_000 { -1 } else { i });
    let err = insert_into(k).rows(k.code, codes).execute(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UniqueViolation, "{err}");
    if db.is_postgres() {
        assert_eq!(err.constraint(), Some("keyed_code_key"), "{err:?}");
    } else {
        assert_eq!((err.table(), err.column()), (Some("keyed"), Some("code")), "{err:?}");
    }
    assert_eq!(quarry::Connection::transaction_depth(&conn), 0);
    let left: i64 = select(count_star()).from(k).fetch_scalar(&mut conn).await?;
    assert_eq!(left, 1, "only the row from before");
    drop(conn);
    db.assert_healthy().await;
    Ok(())
});

// A 150,000-row insert (three chunks on PostgreSQL, five on SQLite)
// dropped after 1, 2, 4, ... polls, until one finishes: never some chunks.
// A drop that lands on the COMMIT leaves its outcome unknown (the server,
// or SQLite's connection thread, may still finish it after the drop), so
// what is visible is always a whole number of inserts: 0, 150,000, ...
both!(config = config().max_size(1); async fn a_cancelled_bulk_insert_is_all_or_nothing(db) {
    let n = Narrow::table();
    db.engine.create_all(&MetaData::new().with(n)).await?;
    let total = 150_000_i64;
    let mut finished = false;
    let mut polls = 1;
    let mut dropped = 0;
    while !finished {
        let mut conn = db.engine.acquire().await?;
        let insert = Box::pin(insert_into(n).rows(n.v, 1..=total).execute(&mut conn));
        finished = match poll_n(insert, polls).await {
            Ok(result) => {
                assert_eq!(result?, total as u64);
                true
            }
            Err(pending) => {
                drop(pending);
                dropped += 1;
                false
            }
        };
        drop(conn);
        let mut conn = db.engine.acquire().await?;
        let (rows, ..) = summary(&mut conn, None).await?;
        assert_eq!(rows % total, 0, "after {polls} polls: {rows} rows, not a whole number of inserts");
        if finished {
            assert!(rows >= total, "after {polls} polls: the finished insert is missing");
        }
        drop(conn);
        polls *= 2;
        assert!(polls < 1 << 20, "the insert never finished");
    }
    assert!(dropped > 0, "the first poll finished a 150,000-row insert");
    // Whatever an abandoned COMMIT still does, it does whole.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (rows, ..) = summary(&mut db.engine.acquire().await?, None).await?;
    assert_eq!(rows % total, 0, "{rows} rows, not a whole number of inserts");
    db.assert_healthy().await;
    Ok(())
});

// SQLite's limit lowered per connection, as `sqlite3_limit` does
// (`max_variables=999` in the URL): the driver reads the lowered limit back
// and 10,000 three-column rows split under it (30,000 parameters in 31
// statements of at most 333 rows), every row present and exact; a single
// row wider than the limit is a clear error before anything runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_lowered_limit() -> Result {
    let file = quarry_testkit::SqliteTestDb::new().map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
    let engine = Engine::connect_with(&format!("{}?max_variables=999", file.url()), config().max_size(1)).await?;
    let w = Wide::table();
    engine.create_all(&MetaData::new().with(w)).await?;
    let mut conn = engine.acquire().await?;
    assert_eq!(quarry::Connection::max_params(&conn), 999, "the lowered limit, read back");
    let rows = 10_000_i64;
    let data = (1..=rows).map(|i| (7_i64, i, format!("w{i}")));
    let inserted = insert_into(w).rows((w.batch, w.v, w.w), data).execute(&mut conn).await?;
    assert_eq!(inserted, rows as u64);
    assert_eq!(summary(&mut conn, Some(7)).await?, expected(rows));
    let texts: i64 = select(count_star())
        .from(w)
        .filter(w.w.eq(lit("w").concat(w.v.cast::<String>())))
        .fetch_scalar(&mut conn)
        .await?;
    assert_eq!(texts, rows, "every row's text matches its number");
    drop(conn);
    assert_healthy(&engine, (&file).into()).await;

    // Two parameters at most: a three-column row cannot be split.
    let tiny = Engine::connect_with(&format!("{}?max_variables=2", file.url()), config().max_size(1)).await?;
    let err =
        tiny.execute(insert_into(w).rows((w.batch, w.v, w.w), [(8_i64, 1_i64, "x".to_owned())])).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Compile, "{err}");
    assert!(err.to_string().contains("limit of 2"), "{err}");
    let eights: i64 = tiny.fetch_scalar(select(count_star()).from(w).filter(w.batch.eq(8))).await?;
    assert_eq!(eights, 0);
    Ok(())
}
