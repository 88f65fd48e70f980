//! Transactions: commit, rollback, dropped guards, savepoints, errors inside
//! a transaction, `engine.transaction` and retries of real conflicts,
//! read-only transactions, isolation levels, transactions in spawned tasks
//! and in tasks that panic.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use quarry::{IsolationLevel, TransactionBehavior};

use crate::common::*;

quarry::table! {
    struct Log("log") {
        id: i64 [primary_key],
        line: String [unique],
    }
}

quarry::table! {
    struct Counters("counters") {
        id: i64 [primary_key],
        n: i64,
    }
}

async fn log_table(db: &TestDb) -> Result<Log> {
    let log = Log::table();
    db.create(MetaData::new().with(log)).await?;
    Ok(log)
}

async fn lines(db: &TestDb) -> Result<Vec<String>> {
    let log = Log::table();
    select(log.line).from(log).order_by(log.id).fetch_all(&mut db.conn().await?).await
}

async fn counter(db: &TestDb) -> Result<Counters> {
    let c = Counters::table();
    db.create(MetaData::new().with(c)).await?;
    insert_into(c).values((c.id.set(1_i64), c.n.set(0_i64))).execute(&mut db.conn().await?).await?;
    Ok(c)
}

backend_test!(async fn commit_and_rollback(db) {
    let log = log_table(&db).await?;
    let mut conn = db.conn().await?;
    let mut other = db.conn().await?;

    let mut tx = conn.begin().await?;
    insert_into(log).values(log.line.set("a")).execute(&mut tx).await?;
    insert_into(log).values(log.line.set("b")).execute(&mut tx).await?;
    // Inside: its own writes are visible; outside: not yet.
    let inside: i64 = select(count_star()).from(log).fetch_scalar(&mut tx).await?;
    assert_eq!(inside, 2);
    let outside: i64 = select(count_star()).from(log).fetch_scalar(&mut other).await?;
    assert_eq!(outside, 0, "uncommitted rows are invisible to other connections");
    tx.commit().await?;
    let outside: i64 = select(count_star()).from(log).fetch_scalar(&mut other).await?;
    assert_eq!(outside, 2);

    let mut tx = conn.begin().await?;
    insert_into(log).values(log.line.set("c")).execute(&mut tx).await?;
    delete_from(log).filter(log.line.eq("a")).execute(&mut tx).await?;
    tx.rollback().await?;
    assert_eq!(lines(&db).await?, strings(["a", "b"]));

    // The engine's own transactions: a connection of their own.
    let mut tx = db.engine.begin().await?;
    update(log).set(log.line, "B").filter(log.line.eq("b")).execute(&mut tx).await?;
    tx.commit().await?;
    let mut tx = db.engine.begin().await?;
    delete_from(log).execute(&mut tx).await?;
    tx.rollback().await?;
    assert_eq!(lines(&db).await?, strings(["a", "B"]));
    assert_eq!(quarry::Connection::transaction_depth(&conn), 0);
    Ok(())
});

async fn insert_then_fail(conn: &mut Conn, line: &'static str) -> Result {
    let log = Log::table();
    let mut tx = conn.begin().await?;
    insert_into(log).values(log.line.set(line)).execute(&mut tx).await?;
    Err(Error::other("changed my mind")) // `tx` is dropped here
}

backend_test!(async fn dropped_guard_rolls_back(db) {
    let log = log_table(&db).await?;
    let mut conn = db.conn().await?;
    {
        let mut tx = conn.begin().await?;
        insert_into(log).values(log.line.set("dropped")).execute(&mut tx).await?;
    }
    assert_eq!(quarry::Connection::transaction_depth(&conn), 0);
    // The same connection runs at once, outside any transaction.
    insert_into(log).values(log.line.set("kept")).execute(&mut conn).await?;
    expect_kind(insert_then_fail(&mut conn, "early return").await, ErrorKind::Other);
    insert_into(log).values(log.line.set("kept too")).execute(&mut conn).await?;
    drop(conn);

    // An engine transaction dropped: its connection goes back to the pool clean.
    {
        let mut tx = db.engine.begin().await?;
        insert_into(log).values(log.line.set("dropped with its connection")).execute(&mut tx).await?;
    }
    for _ in 0..3 {
        let mut conn = db.conn().await?;
        assert_eq!(quarry::Connection::transaction_depth(&conn), 0);
        let n: i64 = select(count_star()).from(log).fetch_scalar(&mut conn).await?;
        assert_eq!(n, 2);
    }
    // And the writer is free for a new transaction.
    let mut tx = db.engine.begin().await?;
    insert_into(log).values(log.line.set("last")).execute(&mut tx).await?;
    tx.commit().await?;
    assert_eq!(lines(&db).await?, strings(["kept", "kept too", "last"]));
    Ok(())
});

backend_test!(async fn savepoints_nested_five_deep(db) {
    let log = log_table(&db).await?;
    let mut conn = db.conn().await?;
    let mut tx = conn.begin().await?;
    insert_into(log).values(log.line.set("a")).execute(&mut tx).await?;
    {
        let mut sp2 = tx.begin().await?;
        insert_into(log).values(log.line.set("b")).execute(&mut sp2).await?;
        {
            let mut sp3 = sp2.begin().await?;
            insert_into(log).values(log.line.set("c")).execute(&mut sp3).await?;
            {
                let mut sp4 = sp3.begin().await?;
                insert_into(log).values(log.line.set("d")).execute(&mut sp4).await?;
                {
                    let mut sp5 = sp4.begin().await?;
                    insert_into(log).values(log.line.set("e")).execute(&mut sp5).await?;
                    {
                        let mut sp6 = sp5.begin().await?;
                        assert_eq!(quarry::Connection::transaction_depth(&sp6), 6);
                        insert_into(log).values(log.line.set("f")).execute(&mut sp6).await?;
                        let seen: i64 = select(count_star()).from(log).fetch_scalar(&mut sp6).await?;
                        assert_eq!(seen, 6);
                        sp6.commit().await?; // released into sp5
                    }
                    let seen: i64 = select(count_star()).from(log).fetch_scalar(&mut sp5).await?;
                    assert_eq!(seen, 6);
                    sp5.rollback().await?; // e and f gone
                }
                let seen: Vec<String> = select(log.line).from(log).order_by(log.id).fetch_all(&mut sp4).await?;
                assert_eq!(seen, strings(["a", "b", "c", "d"]));
                insert_into(log).values(log.line.set("g")).execute(&mut sp4).await?;
                sp4.commit().await?;
            }
            {
                let mut dropped = sp3.begin().await?;
                insert_into(log).values(log.line.set("h")).execute(&mut dropped).await?;
                // dropped: rolled back to its savepoint
            }
            let seen: Vec<String> = select(log.line).from(log).order_by(log.id).fetch_all(&mut sp3).await?;
            assert_eq!(seen, strings(["a", "b", "c", "d", "g"]));
            sp3.rollback().await?; // c, d and g gone
        }
        insert_into(log).values(log.line.set("i")).execute(&mut sp2).await?;
        sp2.commit().await?;
    }
    assert_eq!(quarry::Connection::transaction_depth(&tx), 1);
    let seen: Vec<String> = select(log.line).from(log).order_by(log.id).fetch_all(&mut tx).await?;
    assert_eq!(seen, strings(["a", "b", "i"]));
    tx.commit().await?;
    assert_eq!(lines(&db).await?, strings(["a", "b", "i"]));

    // A savepoint's work is undone with its transaction even when released.
    let mut tx = conn.begin().await?;
    let mut sp = tx.begin().await?;
    insert_into(log).values(log.line.set("released")).execute(&mut sp).await?;
    sp.commit().await?;
    tx.rollback().await?;
    assert_eq!(lines(&db).await?, strings(["a", "b", "i"]));
    Ok(())
});

backend_test!(async fn error_inside_a_transaction(db) {
    let log = log_table(&db).await?;
    let mut conn = db.conn().await?;
    insert_into(log).values(log.line.set("a")).execute(&mut conn).await?;

    // The portable recovery: a savepoint around the statement that may fail.
    let mut tx = conn.begin().await?;
    insert_into(log).values(log.line.set("b")).execute(&mut tx).await?;
    {
        let mut sp = tx.begin().await?;
        let dup = insert_into(log).values(log.line.set("a")).execute(&mut sp).await;
        expect_kind(dup, ErrorKind::UniqueViolation);
        sp.rollback().await?;
    }
    insert_into(log).values(log.line.set("c")).execute(&mut tx).await?;
    tx.commit().await?;
    assert_eq!(lines(&db).await?, strings(["a", "b", "c"]));

    // Without a savepoint, an error aborts a PostgreSQL transaction: later
    // statements fail (25P02) and so does COMMIT, which rolls back. SQLite
    // undoes only the failed statement.
    let mut tx = conn.begin().await?;
    insert_into(log).values(log.line.set("d")).execute(&mut tx).await?;
    expect_kind(insert_into(log).values(log.line.set("a")).execute(&mut tx).await, ErrorKind::UniqueViolation);
    let next = insert_into(log).values(log.line.set("e")).execute(&mut tx).await;
    match db.backend {
        Backend::Postgres => {
            let err = expect_kind(next, ErrorKind::Database);
            assert_eq!(err.sqlstate(), Some("25P02"));
            let err = expect_kind(tx.commit().await, ErrorKind::Database);
            assert_eq!(err.sqlstate(), Some("25P02"));
            assert_eq!(lines(&db).await?, strings(["a", "b", "c"]));
        }
        Backend::Sqlite => {
            assert_eq!(next?, 1);
            tx.commit().await?;
            assert_eq!(lines(&db).await?, strings(["a", "b", "c", "d", "e"]));
        }
    }
    // Rolling back after an error works on both, and the connection is clean.
    let mut tx = conn.begin().await?;
    insert_into(log).values(log.line.set("f")).execute(&mut tx).await?;
    expect_kind(text("SELECT * FROM no_such_table").execute(&mut tx).await, ErrorKind::Syntax);
    tx.rollback().await?;
    assert_eq!(quarry::Connection::transaction_depth(&conn), 0);
    let n: i64 = select(count_star()).from(log).filter(log.line.eq("f")).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 0);
    insert_into(log).values(log.line.set("g")).execute(&mut conn).await?;
    Ok(())
});

backend_test!(async fn engine_transaction_commits_on_ok_rolls_back_on_err(db) {
    let log = log_table(&db).await?;
    let n: i64 = db
        .engine
        .transaction(async |tx| {
            insert_into(log).rows(log.line, ["a", "b"]).execute(tx).await?;
            select(count_star()).from(log).fetch_scalar(tx).await
        })
        .await?;
    assert_eq!(n, 2);

    let err = db
        .engine
        .transaction(async |tx| -> Result<()> {
            delete_from(log).execute(tx).await?;
            Err(Error::other("changed my mind"))
        })
        .await;
    expect_kind(err, ErrorKind::Other);
    // A database error ends the closure with `?` and rolls back too.
    let err = db
        .engine
        .transaction(async |tx| {
            insert_into(log).values(log.line.set("c")).execute(tx).await?;
            insert_into(log).values(log.line.set("a")).execute(tx).await
        })
        .await;
    expect_kind(err, ErrorKind::UniqueViolation);
    assert_eq!(lines(&db).await?, strings(["a", "b"]));

    // The closure may borrow from its surroundings and return any value.
    let mut seen = Vec::new();
    let total = db
        .engine
        .transaction(async |tx| {
            seen = select(log.line).from(log).order_by(log.id).fetch_all::<String>(tx).await?;
            Ok(seen.len() * 10)
        })
        .await?;
    assert_eq!((total, seen), (20, strings(["a", "b"])));
    Ok(())
});

/// Change counter 1 from another connection so that a transaction that read
/// it conflicts: on PostgreSQL a committed update (the reader's next write
/// is a serialization failure); on SQLite a write transaction of another
/// engine (process) left open, holding the write lock past the reader's
/// busy timeout. The returned transaction is to be committed afterwards.
async fn conflicting_write(db: &TestDb) -> Result<Option<Transaction>> {
    let c = Counters::table();
    match db.backend {
        Backend::Postgres => {
            let mut other = db.conn().await?;
            update(c).set(c.n, c.n + 100).filter(c.id.eq(1)).execute(&mut other).await?;
            Ok(None)
        }
        Backend::Sqlite => {
            let mut tx = db.engine.begin().await?;
            update(c).set(c.n, c.n + 100).filter(c.id.eq(1)).execute(&mut tx).await?;
            Ok(Some(tx))
        }
    }
}

backend_test!(async fn transaction_with_retries_a_real_conflict(db) {
    let c = counter(&db).await?;
    // Another pool on the same database; on SQLite with a 100 ms busy timeout.
    let engine = db.connect_again(test_config(), "busy_timeout=100").await?;
    let options =
        TransactionOptions::new().isolation(IsolationLevel::Serializable).behavior(TransactionBehavior::Deferred);
    let expected = if db.is_postgres() { ErrorKind::SerializationFailure } else { ErrorKind::Busy };

    // Read, let another writer change the row, then write: the first run fails.
    let runs = Cell::new(0);
    let errors = RefCell::new(Vec::new());
    let mut body = async |tx: &mut Transaction| -> Result<i64> {
        runs.set(runs.get() + 1);
        let seen: i64 = select(c.n).from(c).filter(c.id.eq(1)).fetch_scalar(&mut *tx).await?;
        let other = if runs.get() == 1 { conflicting_write(&db).await? } else { None };
        let written = update(c).set(c.n, seen + 1).filter(c.id.eq(1)).execute(&mut *tx).await;
        if let Some(other) = other {
            other.commit().await?;
        }
        if let Err(e) = &written {
            errors.borrow_mut().push(e.kind());
        }
        written?;
        select(c.n).from(c).filter(c.id.eq(1)).fetch_scalar(&mut *tx).await
    };

    // Without retries the conflict is the result.
    let err = engine.transaction_with(options.clone(), RetryPolicy::none(), &mut body).await;
    let err = expect_kind(err, expected);
    assert!(err.is_retryable(), "{err}");
    assert_eq!(runs.get(), 1);
    // With retries the second run commits.
    runs.set(0);
    let n = engine.transaction_with(options.clone(), RetryPolicy::attempts(3), &mut body).await?;
    assert_eq!(runs.get(), 2);
    assert_eq!(errors.take(), vec![expected, expected]);
    assert_eq!(n, 201, "two conflicting writes of 100, then ours");
    let stored: i64 = select(c.n).from(c).fetch_scalar(&mut db.conn().await?).await?;
    assert_eq!(stored, 201);
    Ok(())
});

backend_test!(async fn transaction_with_does_not_retry_other_errors(db) {
    let log = log_table(&db).await?;
    insert_into(log).values(log.line.set("a")).execute(&mut db.conn().await?).await?;
    let mut runs = 0;
    let err = db
        .engine
        .transaction_with(TransactionOptions::new(), RetryPolicy::attempts(5), async |tx| {
            runs += 1;
            insert_into(log).values(log.line.set("b")).execute(tx).await?;
            insert_into(log).values(log.line.set("a")).execute(tx).await
        })
        .await;
    let err = expect_kind(err, ErrorKind::UniqueViolation);
    assert!(!err.is_retryable());
    assert_eq!(runs, 1, "not retryable: one run");
    assert_eq!(lines(&db).await?, strings(["a"]));

    let mut runs = 0;
    let err = db
        .engine
        .transaction_with(TransactionOptions::new(), RetryPolicy::attempts(5), async |_tx| -> Result<()> {
            runs += 1;
            Err(Error::other("application error"))
        })
        .await;
    expect_kind(err, ErrorKind::Other);
    assert_eq!(runs, 1);
    Ok(())
});

backend_test!(async fn read_only_transactions_refuse_writes(db) {
    let log = log_table(&db).await?;
    insert_into(log).values(log.line.set("a")).execute(&mut db.conn().await?).await?;
    let mut conn = db.conn().await?;
    let mut tx = conn.begin_with(TransactionOptions::new().read_only()).await?;
    let n: i64 = select(count_star()).from(log).fetch_scalar(&mut tx).await?;
    assert_eq!(n, 1);
    expect_kind(insert_into(log).values(log.line.set("b")).execute(&mut tx).await, ErrorKind::ReadOnly);
    tx.rollback().await?;

    let mut tx = db.engine.begin_with(TransactionOptions::new().read_only()).await?;
    expect_kind(update(log).set(log.line, "x").execute(&mut tx).await, ErrorKind::ReadOnly);
    drop(tx);
    let err = db
        .engine
        .transaction_with(TransactionOptions::new().read_only(), RetryPolicy::attempts(3), async |tx| {
            delete_from(log).execute(tx).await
        })
        .await;
    expect_kind(err, ErrorKind::ReadOnly);
    assert_eq!(lines(&db).await?, strings(["a"]));
    // A read-only transaction does not hold up writers.
    let mut reader = db.engine.begin_with(TransactionOptions::new().read_only()).await?;
    let _: i64 = select(count_star()).from(log).fetch_scalar(&mut reader).await?;
    insert_into(log).values(log.line.set("b")).execute(&mut conn).await?;
    reader.commit().await?;
    assert_eq!(lines(&db).await?, strings(["a", "b"]));
    Ok(())
});

backend_test!(async fn isolation_levels_and_options_accepted(db) {
    let log = log_table(&db).await?;
    let levels = [
        (IsolationLevel::ReadUncommitted, "read uncommitted"),
        (IsolationLevel::ReadCommitted, "read committed"),
        (IsolationLevel::RepeatableRead, "repeatable read"),
        (IsolationLevel::Serializable, "serializable"),
    ];
    for (i, (level, name)) in levels.into_iter().enumerate() {
        let mut tx = db.engine.begin_with(TransactionOptions::new().isolation(level)).await?;
        if db.is_postgres() {
            // SQLite is always serializable; PostgreSQL says what it runs.
            let current: String = text("SELECT current_setting('transaction_isolation')").fetch_scalar(&mut tx).await?;
            assert_eq!(current, name);
        }
        insert_into(log).values(log.line.set(format!("{i}"))).execute(&mut tx).await?;
        tx.commit().await?;
    }
    let report = TransactionOptions::new().isolation(IsolationLevel::Serializable).read_only().deferrable();
    let mut tx = db.engine.begin_with(report).await?;
    let n: i64 = select(count_star()).from(log).fetch_scalar(&mut tx).await?;
    assert_eq!(n, 4);
    tx.commit().await?;
    for behavior in [TransactionBehavior::Deferred, TransactionBehavior::Immediate, TransactionBehavior::Exclusive] {
        let mut tx = db.engine.begin_with(TransactionOptions::new().behavior(behavior)).await?;
        insert_into(log).values(log.line.set(format!("{behavior:?}"))).execute(&mut tx).await?;
        tx.commit().await?;
    }
    assert_eq!(lines(&db).await?.len(), 7);
    // Options belong to the outermost transaction: a savepoint refuses them.
    let mut tx = db.engine.begin().await?;
    let err = tx.begin_with(TransactionOptions::new().isolation(IsolationLevel::Serializable)).await.map(|_| ());
    expect_kind(err, ErrorKind::Config);
    let err = tx.begin_with(TransactionOptions::new().read_only()).await.map(|_| ());
    expect_kind(err, ErrorKind::Config);
    let mut sp = tx.begin_with(TransactionOptions::new().behavior(TransactionBehavior::Exclusive)).await?;
    insert_into(log).values(log.line.set("in a savepoint")).execute(&mut sp).await?;
    sp.commit().await?;
    tx.commit().await?;
    assert_eq!(lines(&db).await?.len(), 8);
    Ok(())
});

backend_test!(async fn transactions_in_spawned_tasks(db) {
    let log = log_table(&db).await?;
    // An engine transaction moved into a task, and a connection with one.
    let engine = db.engine.clone();
    let task = tokio::spawn(async move {
        let mut tx = engine.begin().await?;
        insert_into(log).values(log.line.set("engine tx")).execute(&mut tx).await?;
        tx.commit().await
    });
    task.await.expect("the task finished")?;
    let mut conn = db.conn().await?;
    let task = tokio::spawn(async move {
        let mut tx = conn.begin().await?;
        insert_into(log).values(log.line.set("conn tx")).execute(&mut tx).await?;
        let mut sp = tx.begin().await?;
        insert_into(log).values(log.line.set("savepoint")).execute(&mut sp).await?;
        sp.commit().await?;
        tx.commit().await?;
        Ok::<_, Error>(conn)
    });
    let mut conn = task.await.expect("the task finished")?;
    // engine.transaction's future is Send too. (The closure is `async move`:
    // one borrowing its surroundings makes rustc ask for `Send` of the
    // borrow for every lifetime, a known limit of async closures.)
    let engine = db.engine.clone();
    let n = tokio::spawn(async move {
        engine
            .transaction(async move |tx| {
                insert_into(log).values(log.line.set("closure")).execute(tx).await?;
                select(count_star()).from(log).fetch_scalar::<i64>(tx).await
            })
            .await
    })
    .await
    .expect("the task finished")?;
    assert_eq!(n, 4);
    let seen: Vec<String> = select(log.line).from(log).order_by(log.id).fetch_all(&mut conn).await?;
    assert_eq!(seen, strings(["engine tx", "conn tx", "savepoint", "closure"]));
    Ok(())
});

backend_test!(async fn panic_inside_a_transaction(db) {
    let log = log_table(&db).await?;
    let engine = db.engine.clone();
    let task = tokio::spawn(async move {
        let mut tx = engine.begin().await.expect("begin");
        insert_into(log).values(log.line.set("from a panicking task")).execute(&mut tx).await.expect("insert");
        panic!("boom inside a transaction");
    });
    assert!(task.await.expect_err("the task panicked").is_panic());
    let engine = db.engine.clone();
    let task = tokio::spawn(async move {
        engine
            .transaction(async move |tx| -> Result<()> {
                insert_into(log).values(log.line.set("from a panicking closure")).execute(tx).await?;
                panic!("boom inside engine.transaction");
            })
            .await
    });
    assert!(task.await.expect_err("the task panicked").is_panic());

    // Nothing was kept, and the pool is healthy: every connection works, and
    // the writer is free at once.
    let started = Instant::now();
    let mut conns = Vec::new();
    for _ in 0..4 {
        conns.push(db.conn().await?);
    }
    for conn in &mut conns {
        assert_eq!(quarry::Connection::transaction_depth(conn), 0);
        let n: i64 = select(count_star()).from(log).fetch_scalar(conn).await?;
        assert_eq!(n, 0);
    }
    drop(conns);
    let mut tx = db.engine.begin().await?;
    insert_into(log).values(log.line.set("after")).execute(&mut tx).await?;
    tx.commit().await?;
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert_eq!(lines(&db).await?, strings(["after"]));
    let status = db.engine.status();
    assert!(status.size <= status.max_size, "{status:?}");
    assert_eq!(status.waiting, 0, "{status:?}");
    Ok(())
});
