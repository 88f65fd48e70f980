//! The health check fails when an invariant is broken: a check that cannot
//! fail would prove nothing in the tests that end with it.

use std::time::Duration;

use crate::common::*;

quarry::table! {
    struct Marks("marks") { id: i64 [primary_key], n: i64 }
}

/// SQLite: a handle still out; another engine (as another process) holding
/// the write lock; a read transaction left open on the WAL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_fails_on_sqlite_when_it_should() -> Result {
    let db = Db::sqlite(config()).await?;
    let m = Marks::table();
    db.engine.create_all(&MetaData::new().with(m)).await?;
    db.engine.execute(insert_into(m).values((m.id.set(1), m.n.set(1)))).await?;
    db.assert_healthy().await;

    let held = db.engine.acquire().await?;
    let problem = health(&db.engine, db.inspect()).await.unwrap_err();
    assert!(problem.contains("did not become quiet"), "{problem}");
    drop(held);

    // The checked engine waits 100 ms for locks (busy_timeout), not 5 s.
    let checked = Engine::connect_with(&format!("{}?busy_timeout=100", db.url), config()).await?;
    let other = db.connect_again(config()).await?;
    let mut tx = other.begin().await?;
    insert_into(m).values((m.id.set(2), m.n.set(2))).execute(&mut tx).await?;
    let problem = health(&checked, db.inspect()).await.unwrap_err();
    assert!(problem.contains("BEGIN") && problem.contains("Busy"), "{problem}");
    tx.rollback().await?;

    let mut reader = other.acquire().await?;
    let mut read = reader.begin_with(TransactionOptions::new().read_only()).await?;
    let n: i64 = select(count_star()).from(m).fetch_scalar(&mut read).await?;
    assert_eq!(n, 1);
    let problem = health(&checked, db.inspect()).await.unwrap_err();
    assert!(problem.contains("read transaction is still open"), "{problem}");
    read.rollback().await?;
    drop(reader);
    assert_healthy(&checked, db.inspect()).await;
    Ok(())
}

/// PostgreSQL: a handle still out; a session of the test's schema left idle
/// in a transaction, another still running a statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_fails_on_postgres_when_it_should() -> Result {
    let Some(db) = Db::postgres("rel_health_check_fails", config()).await? else { return Ok(()) };
    let m = Marks::table();
    db.engine.create_all(&MetaData::new().with(m)).await?;
    db.assert_healthy().await;

    let held = db.engine.acquire().await?;
    let other = db.connect_again(config()).await?;
    let mut tx = other.begin().await?;
    insert_into(m).values((m.id.set(1), m.n.set(1))).execute(&mut tx).await?;
    let sleeper = db.connect_again(config()).await?;
    let sleeping = tokio::spawn(async move { sleeper.execute(text("SELECT pg_sleep(30)")).await });
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Both at once: each waits a few seconds for things to settle.
    let clean = db.connect_again(config()).await?;
    let (not_quiet, busy) = tokio::join!(health(&db.engine, db.inspect()), health(&clean, db.inspect()));
    let not_quiet = not_quiet.unwrap_err();
    assert!(not_quiet.contains("did not become quiet"), "{not_quiet}");
    let busy = busy.unwrap_err();
    assert!(busy.contains("`idle in transaction`") && busy.contains("`active`"), "{busy}");
    assert!(busy.contains("pg_sleep"), "{busy}");

    drop(held);
    tx.rollback().await?;
    sleeping.abort();
    let _ = sleeping.await;
    db.assert_healthy().await;
    Ok(())
}
