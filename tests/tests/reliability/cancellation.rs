//! Futures dropped at every poll point (RELIABILITY.md §2.1), on both
//! backends, with a pool of one so that the next user gets the same slot:
//! a statement, a stream, a commit; then 10,000 acquire/release cycles
//! with cancellations at random points on a pool of two.
//!
//! After each: the statement took effect entirely or not at all, the next
//! borrower is outside any transaction, and the pool is healthy.

use std::time::Duration;

use futures_util::StreamExt;

use crate::common::*;

quarry::table! {
    pub struct Marks("marks") { id: i64 [primary_key], kind: String }
}

/// How many polls to try: past the end of every operation below.
const POLLS: usize = 10;

async fn marks(db: &Db) -> Result<Marks> {
    let m = Marks::table();
    db.engine.create_all(&MetaData::new().with(m)).await?;
    Ok(m)
}

async fn count_kind(db: &Db, kind: &str) -> Result<i64> {
    let m = Marks::table();
    db.engine.fetch_scalar(select(count_star()).from(m).filter(m.kind.eq(kind.to_owned()))).await
}

/// The next borrower of the pool's only slot is outside any transaction: its
/// autocommit write is visible to another engine at once.
async fn next_borrower_is_clean(db: &Db, other: &Engine, id: i64) -> Result {
    let m = Marks::table();
    let mut conn = db.engine.acquire().await?;
    assert_eq!(quarry::Connection::transaction_depth(&conn), 0);
    insert_into(m).values((m.id.set(id), m.kind.set("probe"))).execute(&mut conn).await?;
    drop(conn);
    let seen: i64 = other.fetch_scalar(select(count_star()).from(m).filter(m.id.eq(id))).await?;
    assert_eq!(seen, 1, "the probe write {id} is not visible outside: it ran inside a transaction");
    Ok(())
}

// An INSERT (autocommit) dropped after 1, 2, ... polls: the row is there or
// not, whole; the next borrower is clean.
both!(config = config().max_size(1); async fn statement_dropped_at_every_poll_point(db) {
    let m = marks(&db).await?;
    let other = db.connect_again(config()).await?;
    let mut completed = 0;
    for k in 1..=POLLS {
        let id = k as i64;
        let mut conn = db.engine.acquire().await?;
        let insert = Box::pin(insert_into(m).values((m.id.set(id), m.kind.set("insert"))).execute(&mut conn));
        let finished = match poll_n(insert, k).await {
            Ok(result) => {
                assert_eq!(result?, 1);
                completed += 1;
                true
            }
            Err(pending) => {
                drop(pending);
                false
            }
        };
        // The same handle goes on (a fresh connection when the old one was abandoned).
        let n: i64 = select(count_star()).from(m).filter(m.id.eq(id)).fetch_scalar(&mut conn).await?;
        assert!(n == 0 || n == 1, "k = {k}: {n} rows");
        if finished {
            assert_eq!(n, 1, "k = {k}");
        }
        drop(conn);
        next_borrower_is_clean(&db, &other, 1000 + id).await?;
    }
    assert!(completed > 0, "no insert ever finished within {POLLS} polls");
    db.assert_healthy().await;
    Ok(())
});

// A stream dropped after 1, 2, ... polls of its consumer: the handle runs its
// next statement at once, the slot is clean.
both!(config = config().max_size(1); async fn stream_dropped_at_every_poll_point(db) {
    let m = marks(&db).await?;
    insert_into(m)
        .rows((m.id, m.kind), (1..=2000_i64).map(|i| (i, "row")))
        .execute(&mut db.engine.acquire().await?)
        .await?;
    let other = db.connect_again(config()).await?;
    for k in 1..=POLLS * 2 {
        let mut conn = db.engine.acquire().await?;
        let read = Box::pin(async {
            let rows = select((m.id, m.kind)).from(m).filter(m.id.le(2000_i64)).order_by(m.id);
            let mut rows = rows.stream::<(i64, String)>(&mut conn);
            let mut seen = 0_i64;
            while let Some(row) = rows.next().await {
                let (id, _) = row?;
                seen += 1;
                assert_eq!(id, seen);
            }
            Ok::<_, Error>(seen)
        });
        match poll_n(read, k).await {
            Ok(seen) => assert_eq!(seen?, 2000),
            Err(pending) => drop(pending),
        }
        let n: i64 = select(count_star()).from(m).fetch_scalar(&mut conn).await?;
        assert_eq!(n, 2000 + k as i64 - 1, "k = {k}");
        drop(conn);
        next_borrower_is_clean(&db, &other, 10_000 + k as i64).await?;
    }
    db.assert_healthy().await;
    Ok(())
});

// COMMIT dropped after 1, 2, ... polls: the transaction's three rows are all
// there or none; the next borrower is clean.
both!(config = config().max_size(1); async fn commit_dropped_at_every_poll_point(db) {
    let m = marks(&db).await?;
    let other = db.connect_again(config()).await?;
    for k in 1..=POLLS {
        let base = 100 * k as i64;
        let mut conn = db.engine.acquire().await?;
        let mut tx = conn.begin().await?;
        for i in 0..3 {
            insert_into(m).values((m.id.set(base + i), m.kind.set("tx"))).execute(&mut tx).await?;
        }
        let finished = match poll_n(Box::pin(tx.commit()), k).await {
            Ok(result) => {
                result?;
                true
            }
            Err(pending) => {
                drop(pending);
                false
            }
        };
        drop(conn);
        // The server may take a moment to end an abandoned session (and
        // with it, roll back or finish its COMMIT).
        tokio::time::sleep(Duration::from_millis(20)).await;
        let filter = m.id.ge(base).and(m.id.lt(base + 3));
        let n: i64 = other.fetch_scalar(select(count_star()).from(m).filter(filter)).await?;
        assert!(n == 0 || n == 3, "k = {k}: {n} of 3 rows");
        if finished {
            assert_eq!(n, 3, "k = {k}");
        }
        next_borrower_is_clean(&db, &other, 10_000 + k as i64).await?;
    }
    db.assert_healthy().await;
    Ok(())
});

/// Polls `fut` at most `n` times, yielding to the runtime (and, at random,
/// sleeping a millisecond) between polls; drops it if it has not finished.
async fn cancel_after<F: std::future::Future + Unpin>(fut: F, n: u64, rng: &mut Rng) -> Option<F::Output> {
    let mut fut = fut;
    if n == u64::MAX {
        return Some(fut.await);
    }
    for _ in 0..n {
        let polled = std::future::poll_fn(|cx| std::task::Poll::Ready(std::pin::Pin::new(&mut fut).poll(cx))).await;
        if let std::task::Poll::Ready(out) = polled {
            return Some(out);
        }
        if rng.below(3) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
    None
}

// 10,000 acquire/release cycles (2,000 under CI) on a pool of two, with
// cancellations at random points: four in five cycles drop an acquire()
// after 0-2 polls (or release what it got); the others run a statement, a
// committed or abandoned transaction, or a partly read stream (abandoned,
// so its connection is replaced), one in eight of them dropped mid-flight. Invariants every 1,000 cycles and at the end: the pool is
// whole, nothing of a rolled back or abandoned transaction is visible, and
// every acknowledged commit is.
both!(async fn acquire_release_cycles_with_random_cancellations(db) {
    let m = marks(&db).await?;
    let cycles = iterations(10_000, 2_000);
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (mut committed, mut maybe_committed) = (0_i64, 0_i64);
    let mut next_id = 0_i64;
    for cycle in 0..cycles {
        let roll = rng.below(100);
        if roll < 80 {
            // An acquire dropped after 0, 1 or 2 polls (or finished, then released).
            let polls = rng.below(3);
            if let Some(conn) = cancel_after(Box::pin(db.engine.acquire()), polls, &mut rng).await {
                drop(conn?);
            }
        } else {
            let mut conn = db.engine.acquire().await?;
            next_id += 1;
            let id = next_id;
            // Most run to the end; one in eight is dropped after 1-6 polls
            // (most of those leave a connection abandoned mid-flight: it is
            // discarded and replaced, which costs a new session).
            let polls = if rng.below(8) == 0 { 1 + rng.below(6) } else { u64::MAX };
            match roll {
                80..=85 => {
                    let q = Box::pin(select(count_star()).from(m).fetch_scalar::<i64>(&mut conn));
                    if let Some(n) = cancel_after(q, polls, &mut rng).await {
                        n?;
                    }
                }
                86..=91 => {
                    let work = Box::pin(async {
                        let mut tx = conn.begin().await?;
                        insert_into(m).values((m.id.set(id), m.kind.set("commit"))).execute(&mut tx).await?;
                        tx.commit().await
                    });
                    match cancel_after(work, polls, &mut rng).await {
                        Some(result) => {
                            result?;
                            committed += 1;
                        }
                        None => maybe_committed += 1,
                    }
                }
                92..=97 => {
                    let work = Box::pin(async {
                        let mut tx = conn.begin().await?;
                        insert_into(m).values((m.id.set(id), m.kind.set("abandoned"))).execute(&mut tx).await?;
                        drop(tx);
                        Ok::<_, Error>(())
                    });
                    if let Some(result) = cancel_after(work, polls, &mut rng).await {
                        result?;
                    }
                }
                _ => {
                    let take = 1 + rng.below(3) as usize;
                    let work = Box::pin(async {
                        let rows = select(m.id).from(m).stream::<(i64,)>(&mut conn);
                        rows.take(take).count().await
                    });
                    cancel_after(work, polls, &mut rng).await;
                }
            }
            drop(conn);
        }
        if cycle % 1000 == 999 {
            let status = db.engine.status();
            assert!(status.size <= status.max_size && status.waiting == 0, "cycle {cycle}: {status:?}");
            assert_eq!(count_kind(&db, "abandoned").await?, 0, "cycle {cycle}: an abandoned transaction's row is visible");
        }
    }
    assert_eq!(count_kind(&db, "abandoned").await?, 0);
    let n = count_kind(&db, "commit").await?;
    assert!(
        committed <= n && n <= committed + maybe_committed,
        "{n} committed rows; {committed} commits acknowledged, {maybe_committed} cancelled"
    );
    db.assert_healthy().await;
    Ok(())
});

// A task that panics while holding a connection (inside a transaction, or
// in a row decoder), 100 times (20 under CI) on a pool of one: the slot
// comes back every time, nothing of the transactions is kept.
both!(config = config().max_size(1); async fn panics_while_holding_a_connection(db) {
    #[derive(Debug)]
    struct Explodes;
    impl FromValue for Explodes {
        fn from_value(_: quarry::ValueRef<'_>) -> std::result::Result<Self, quarry::value::DecodeError> {
            panic!("decoder bug");
        }
    }
    impl FromRow for Explodes {
        const COLUMNS: usize = 1;
        fn from_row_at<R: quarry::Row + ?Sized>(row: &R, offset: usize) -> Result<Self> {
            row.get(offset)
        }
    }
    let m = marks(&db).await?;
    for i in 0..iterations(100, 20) as i64 {
        let engine = db.engine.clone();
        let task = tokio::spawn(async move {
            let mut conn = engine.acquire().await.expect("acquire");
            if i % 2 == 0 {
                let mut tx = conn.begin().await.expect("begin");
                insert_into(m).values((m.id.set(i), m.kind.set("panicked"))).execute(&mut tx).await.expect("insert");
                panic!("boom inside a transaction");
            }
            select(lit(1_i64)).fetch_all::<Explodes>(&mut conn).await.map(drop)
        });
        match task.await {
            Err(e) => assert!(e.is_panic(), "{e}"),
            // SQLite decodes on the connection's thread, catches the panic
            // there and reports it.
            Ok(Err(e)) => assert_eq!((db.backend, e.kind()), (Backend::Sqlite, ErrorKind::Panic), "{e}"),
            Ok(Ok(())) => panic!("the decoder did not run"),
        }
    }
    assert_eq!(count_kind(&db, "panicked").await?, 0);
    db.assert_healthy().await;
    Ok(())
});

// A consumer that reads one row per millisecond while other tasks write:
// the stream holds a bounded number of rows, the writers are not blocked
// (SQLite: WAL readers; PostgreSQL: MVCC), nothing deadlocks, and the stream
// sees its own snapshot.
both!(config = config().max_size(3); async fn a_slow_consumer_does_not_hold_up_writers(db) {
    let m = marks(&db).await?;
    db.engine.execute(insert_into(m).rows((m.id, m.kind), (1..=300_i64).map(|i| (i, "row")))).await?;
    let mut reader = db.engine.acquire().await?;
    let writer = {
        let engine = db.engine.clone();
        tokio::spawn(async move {
            for i in 0..100_i64 {
                engine.execute(insert_into(m).values((m.id.set(1000 + i), m.kind.set("written")))).await?;
            }
            Ok::<_, Error>(())
        })
    };
    let mut rows = select(m.id).from(m).filter(m.id.le(300_i64)).order_by(m.id).stream::<(i64,)>(&mut reader);
    let mut seen = 0_i64;
    while let Some(row) = rows.next().await {
        seen += 1;
        assert_eq!(row?.0, seen);
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    drop(rows);
    assert_eq!(seen, 300);
    tokio::time::timeout(Duration::from_secs(30), writer).await.expect("the writers finished").map_err(setup_error)??;
    drop(reader);
    assert_eq!(count_kind(&db, "written").await?, 100);
    db.assert_healthy().await;
    Ok(())
});
