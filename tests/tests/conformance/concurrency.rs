//! Many tasks sharing a small pool: reads and write transactions interleave
//! without errors, counters end exact, and the pool is whole afterwards.

use std::time::{Duration, Instant};

use quarry::IsolationLevel;
use tokio::task::JoinSet;

use crate::common::*;

quarry::table! {
    struct Counters("counters") {
        id: i64 [primary_key],
        n: i64,
    }
}

quarry::table! {
    struct Events("events") {
        id: i64 [primary_key],
        task: i64,
        step: i64,
    }
}

const TASKS: i64 = 100;
const STEPS: i64 = 3;

async fn setup(db: &TestDb) -> Result<(Counters, Events)> {
    let (c, e) = (Counters::table(), Events::table());
    db.create(MetaData::new().with(c).with(e)).await?;
    insert_into(c).rows((c.id, c.n), [(1_i64, 0_i64), (2, 0)]).execute(&mut db.conn().await?).await?;
    Ok((c, e))
}

/// Wait until every connection is back in the pool (a returned connection
/// may be cleaned up on a task of its own).
async fn assert_pool_whole(engine: &Engine, max_size: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = engine.status();
        assert!(status.size <= status.max_size, "{status:?}");
        assert!(status.max_size >= max_size, "{status:?}");
        assert_eq!(status.waiting, 0, "{status:?}");
        if status.available == status.size {
            return;
        }
        assert!(Instant::now() < deadline, "connections still out: {status:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

backend_test!(async fn hundred_tasks_on_a_pool_of_four(db) {
    let (c, e) = setup(&db).await?;
    assert_eq!(test_config().max_size, 4);
    let mut tasks = JoinSet::new();
    for task in 0..TASKS {
        let engine = db.engine.clone();
        tasks.spawn(async move {
            for step in 0..STEPS {
                // A read on a connection of its own.
                let mut conn = engine.acquire().await?;
                // One statement, one snapshot: the counter and the log move together.
                let (counter, logged): (i64, i64) = select((c.n, select(count_star()).from(e).scalar::<i64>()))
                    .from(c)
                    .filter(c.id.eq(1))
                    .fetch_one(&mut conn)
                    .await?;
                assert_eq!(counter, logged, "a transaction seen half done");
                drop(conn);
                // A write transaction: the counter and a log row, together.
                engine
                    .transaction(async move |tx| {
                        update(c).set(c.n, c.n + 1).filter(c.id.eq(1)).execute(tx).await?;
                        insert_into(e).values((e.task.set(task), e.step.set(step))).execute(tx).await?;
                        Ok(())
                    })
                    .await?;
            }
            Ok::<_, Error>(task)
        });
    }
    let mut finished = 0;
    while let Some(joined) = tasks.join_next().await {
        joined.expect("no task panicked")?;
        finished += 1;
    }
    assert_eq!(finished, TASKS);

    let mut conn = db.conn().await?;
    let n: i64 = select(c.n).from(c).filter(c.id.eq(1)).fetch_scalar(&mut conn).await?;
    assert_eq!(n, TASKS * STEPS);
    let (events, tasks_seen): (i64, i64) =
        select((count_star(), count_distinct(e.task))).from(e).fetch_one(&mut conn).await?;
    assert_eq!((events, tasks_seen), (TASKS * STEPS, TASKS));
    drop(conn);
    assert_pool_whole(&db.engine, 4).await;
    Ok(())
});

// Read-modify-write under SERIALIZABLE: conflicts (PostgreSQL serialization
// failures, SQLite's busy writer) are retried until every increment counts.
backend_test!(async fn read_modify_write_with_retries(db) {
    let (c, _) = setup(&db).await?;
    let policy = RetryPolicy { max_attempts: 200, base_delay: Duration::from_millis(1), max_delay: Duration::from_millis(20) };
    let options = TransactionOptions::new().isolation(IsolationLevel::Serializable);
    let mut tasks = JoinSet::new();
    for _ in 0..25 {
        let engine = db.engine.clone();
        let options = options.clone();
        tasks.spawn(async move {
            engine
                .transaction_with(options, policy, async move |tx| {
                    let seen: i64 = select(c.n).from(c).filter(c.id.eq(2)).fetch_scalar(&mut *tx).await?;
                    update(c).set(c.n, seen + 1).filter(c.id.eq(2)).execute(&mut *tx).await?;
                    Ok(())
                })
                .await
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("no task panicked")?;
    }
    let n: i64 = select(c.n).from(c).filter(c.id.eq(2)).fetch_scalar(&mut db.conn().await?).await?;
    assert_eq!(n, 25, "no increment lost");
    assert_pool_whole(&db.engine, 4).await;
    Ok(())
});

// Connections held by tasks cancelled inside a transaction (or while waiting
// for one) come back rolled back: the pool serves every later task.
backend_test!(async fn cancelled_tasks_do_not_leak_connections(db) {
    let (c, e) = setup(&db).await?;
    let mut tasks = JoinSet::new();
    for task in 0..20_i64 {
        let engine = db.engine.clone();
        tasks.spawn(async move {
            let mut tx = engine.begin().await?;
            insert_into(e).values((e.task.set(task), e.step.set(0_i64))).execute(&mut tx).await?;
            tokio::time::sleep(Duration::from_secs(60)).await;
            tx.commit().await
        });
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    tasks.abort_all();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(result) = joined {
            result?;
        }
    }
    // Every connection is usable again, and nothing of the cancelled work was kept.
    let mut conns = Vec::new();
    for _ in 0..4 {
        conns.push(db.conn().await?);
    }
    for conn in &mut conns {
        let n: i64 = select(count_star()).from(e).fetch_scalar(conn).await?;
        assert_eq!(n, 0);
    }
    drop(conns);
    update(c).set(c.n, 7_i64).execute(&mut db.conn().await?).await?;
    assert_pool_whole(&db.engine, 4).await;
    Ok(())
});
