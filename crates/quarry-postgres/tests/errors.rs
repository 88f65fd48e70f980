//! Every error kind the driver maps, triggered for real, and stale
//! prepared statements after schema changes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::{bound, exec, scalar, sql, try_scalar};
use quarry_core::prelude::*;
use quarry_core::{Connection, IsolationLevel, PoolConfig, TransactionOptions};
use quarry_postgres::PgConnection;

#[tokio::test]
async fn constraint_violations_carry_kind_code_and_names() {
    let (_db, pool) = pg!("constraint_violations");
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "CREATE TABLE parent (id int4 PRIMARY KEY)").await;
    exec(
        &mut c,
        "CREATE TABLE child (id int4 PRIMARY KEY, parent_id int4 REFERENCES parent (id), \
         email text NOT NULL CONSTRAINT child_email_key UNIQUE, n int4 CONSTRAINT positive CHECK (n > 0))",
    )
    .await;
    exec(&mut c, "INSERT INTO parent VALUES (1)").await;
    exec(&mut c, "INSERT INTO child VALUES (1, 1, 'a@x', 1)").await;

    let cases = [
        (
            "INSERT INTO child VALUES (2, 1, 'a@x', 1)",
            ErrorKind::UniqueViolation,
            "23505",
            Some("child_email_key"),
            None,
        ),
        (
            "INSERT INTO child VALUES (3, 9, 'b@x', 1)",
            ErrorKind::ForeignKeyViolation,
            "23503",
            Some("child_parent_id_fkey"),
            None,
        ),
        ("INSERT INTO child VALUES (4, 1, NULL, 1)", ErrorKind::NotNullViolation, "23502", None, Some("email")),
        ("INSERT INTO child VALUES (5, 1, 'c@x', 0)", ErrorKind::CheckViolation, "23514", Some("positive"), None),
        ("INSERT INTO child VALUES (1, 1, 'd@x', 1)", ErrorKind::UniqueViolation, "23505", Some("child_pkey"), None),
    ];
    for (stmt, kind, code, constraint, column) in cases {
        let err = c.execute(sql(stmt)).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{stmt}: {err}");
        assert_eq!(err.sqlstate(), Some(code), "{stmt}");
        assert_eq!(err.table(), Some("child"), "{stmt}");
        if constraint.is_some() {
            assert_eq!(err.constraint(), constraint, "{stmt}");
        }
        if column.is_some() {
            assert_eq!(err.column(), column, "{stmt}");
        }
        assert!(!err.message().is_empty());
        assert!(std::error::Error::source(&err).is_some());
    }
    // The connection is fine after each.
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM child").await, 1);
}

#[tokio::test]
async fn syntax_read_only_and_other_database_errors() {
    let (_db, pool) = pg!("syntax_errors");
    let mut c = pool.acquire().await.unwrap();
    let err = c.execute(sql("SELEC 1")).await.unwrap_err();
    assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::Syntax, Some("42601")));
    let err = c.execute(sql("SELECT * FROM no_such_table")).await.unwrap_err();
    assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::Syntax, Some("42P01")));
    let err = c.execute(sql("SELECT 1 / 0")).await.unwrap_err();
    assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::Database, Some("22012")));

    exec(&mut c, "CREATE TABLE t (id int4)").await;
    let mut tx = c.begin_with(TransactionOptions::new().read_only()).await.unwrap();
    let err = tx.execute(sql("INSERT INTO t VALUES (1)")).await.unwrap_err();
    assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::ReadOnly, Some("25006")));
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn statement_timeout_is_query_canceled_and_the_connection_survives() {
    let (db, pool) = pg!("statement_timeout", PoolConfig::new().max_size(1));
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "SET statement_timeout = '100ms'").await;
    let started = Instant::now();
    let err = c.execute(sql("SELECT pg_sleep(1)")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(300), "{:?}", started.elapsed());
    assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::QueryCanceled, Some("57014")));
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);

    // Inside a transaction the transaction is aborted: commit says so, and
    // the connection is clean afterwards.
    exec(&mut c, "CREATE TABLE t (id int4)").await;
    let mut tx = c.begin().await.unwrap();
    tx.execute(sql("INSERT INTO t VALUES (1)")).await.unwrap();
    let err = tx.execute(sql("SELECT pg_sleep(1)")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QueryCanceled);
    let err = tx.execute(sql("SELECT 1")).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("25P02"));
    let err = tx.commit().await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("25P02"));
    assert!(err.message().contains("rolled back"), "{err}");
    assert_eq!(c.transaction_depth(), 0);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM t").await, 0);
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn deadlock_one_victim_the_other_commits() {
    let (db, pool) = pg!("deadlock", PoolConfig::new().max_size(2));
    let mut setup = pool.acquire().await.unwrap();
    exec(&mut setup, "CREATE TABLE acct (id int4 PRIMARY KEY, n int4)").await;
    exec(&mut setup, "INSERT INTO acct VALUES (1, 0), (2, 0)").await;
    drop(setup);

    let (first_locked_tx, first_locked_rx) = tokio::sync::oneshot::channel::<()>();
    let (second_locked_tx, second_locked_rx) = tokio::sync::oneshot::channel::<()>();
    async fn side(
        mut c: PgConnection,
        mine: i32,
        other: i32,
        locked: tokio::sync::oneshot::Sender<()>,
        other_locked: tokio::sync::oneshot::Receiver<()>,
    ) -> Result<(), Error> {
        exec(&mut c, "SET deadlock_timeout = '50ms'").await;
        let mut tx = c.begin().await?;
        tx.execute(bound("UPDATE acct SET n = n + 1 WHERE id = $1", vec![Value::I32(mine)])).await?;
        let _ = locked.send(());
        let _ = other_locked.await;
        tx.execute(bound("UPDATE acct SET n = n + 1 WHERE id = $1", vec![Value::I32(other)])).await?;
        tx.commit().await
    }
    let a = tokio::spawn(side(pool.acquire().await.unwrap(), 1, 2, first_locked_tx, second_locked_rx));
    let b = tokio::spawn(side(pool.acquire().await.unwrap(), 2, 1, second_locked_tx, first_locked_rx));
    let results = [a.await.unwrap(), b.await.unwrap()];
    let victims: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(victims.len(), 1, "{results:?}");
    assert_eq!((victims[0].kind(), victims[0].sqlstate()), (ErrorKind::Deadlock, Some("40P01")));
    assert!(victims[0].is_retryable());
    let mut c = pool.acquire().await.unwrap();
    assert_eq!(scalar::<i64>(&mut c, "SELECT sum(n) FROM acct").await, 2);
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn serializable_write_skew_is_a_serialization_failure() {
    let (_db, pool) = pg!("write_skew", PoolConfig::new().max_size(2));
    let mut a = pool.acquire().await.unwrap();
    let mut b = pool.acquire().await.unwrap();
    exec(&mut a, "CREATE TABLE doctors (id int4 PRIMARY KEY, on_call bool)").await;
    exec(&mut a, "INSERT INTO doctors VALUES (1, true), (2, true)").await;
    let serializable = TransactionOptions::new().isolation(IsolationLevel::Serializable);
    let mut ta = a.begin_with(serializable.clone()).await.unwrap();
    let mut tb = b.begin_with(serializable).await.unwrap();
    assert_eq!(scalar::<i64>(&mut ta, "SELECT count(*) FROM doctors WHERE on_call").await, 2);
    assert_eq!(scalar::<i64>(&mut tb, "SELECT count(*) FROM doctors WHERE on_call").await, 2);
    ta.execute(sql("UPDATE doctors SET on_call = false WHERE id = 1")).await.unwrap();
    let b_update = tb.execute(sql("UPDATE doctors SET on_call = false WHERE id = 2")).await;
    ta.commit().await.unwrap();
    let err = match b_update {
        Err(e) => e,
        Ok(_) => tb.commit().await.unwrap_err(),
    };
    assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::SerializationFailure, Some("40001")));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn lock_timeout_is_busy() {
    let (db, pool) = pg!("lock_timeout", PoolConfig::new().max_size(2));
    let mut a = pool.acquire().await.unwrap();
    let mut b = pool.acquire().await.unwrap();
    exec(&mut a, "CREATE TABLE t (id int4 PRIMARY KEY)").await;
    exec(&mut a, "INSERT INTO t VALUES (1)").await;
    let mut ta = a.begin().await.unwrap();
    ta.execute(sql("SELECT * FROM t WHERE id = 1 FOR UPDATE")).await.unwrap();
    exec(&mut b, "SET lock_timeout = '100ms'").await;
    let err = b.execute(sql("UPDATE t SET id = 2 WHERE id = 1")).await.unwrap_err();
    assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::Busy, Some("55P03")));
    assert!(err.is_retryable());
    ta.rollback().await.unwrap();
    drop((a, b));
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn terminated_backends_are_connection_lost_and_discarded() {
    let (db, pool) = pg!("terminated_backends", PoolConfig::new().max_size(2));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();

    // Busy: the caller gets ConnectionLost with 57P01.
    let mut busy = pool.acquire().await.unwrap();
    let pid = busy.backend_pid();
    let sleeper = tokio::spawn(async move {
        let r = busy.execute(sql("SELECT pg_sleep(5)")).await;
        (r, busy)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        try_scalar::<bool>(&mut adm, bound("SELECT pg_terminate_backend($1)", vec![Value::I32(pid)])).await.unwrap()
    );
    let (result, mut busy) = sleeper.await.unwrap();
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err:?}");
    assert_eq!(err.sqlstate(), Some("57P01"));
    // The handle's next statement runs on a fresh connection.
    assert_eq!(busy.execute(sql("SELECT 1")).await.unwrap(), 1);
    assert_ne!(busy.backend_pid(), pid);
    drop(busy);

    // Idle: the pool never hands it out again.
    let idle = pool.acquire().await.unwrap();
    let idle_pid = idle.backend_pid();
    drop(idle);
    assert!(
        try_scalar::<bool>(&mut adm, bound("SELECT pg_terminate_backend($1)", vec![Value::I32(idle_pid)]))
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut fresh = pool.acquire().await.unwrap();
    assert_ne!(fresh.backend_pid(), idle_pid);
    assert_ne!(fresh.backend_pid(), pid);
    assert_eq!(scalar::<i32>(&mut fresh, "SELECT 1").await, 1);
    drop(fresh);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn idle_in_transaction_timeout_is_connection_lost() {
    let (db, pool) = pg!("idle_in_transaction", PoolConfig::new().max_size(1));
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "SET idle_in_transaction_session_timeout = '200ms'").await;
    let mut tx = c.begin().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let err = tx.execute(sql("SELECT 1")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err:?}");
    drop(tx);
    drop(c);
    let mut c = pool.acquire().await.unwrap();
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn deferred_constraint_fails_at_commit() {
    let (db, pool) = pg!("deferred_commit");
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "CREATE TABLE t (id int4 CONSTRAINT t_id_key UNIQUE DEFERRABLE INITIALLY DEFERRED)").await;
    let mut tx = c.begin().await.unwrap();
    tx.execute(sql("INSERT INTO t VALUES (1), (1)")).await.unwrap();
    let err = tx.commit().await.unwrap_err();
    assert_eq!((err.kind(), err.constraint()), (ErrorKind::UniqueViolation, Some("t_id_key")));
    assert!(!err.commit_outcome_unknown());
    assert_eq!(c.transaction_depth(), 0);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM t").await, 0);
    drop(c);
    common::healthy(&pool, &db).await;
}

/// Hold `n` distinct connections and run `q` on each.
async fn on_each(conns: &mut [PgConnection], q: &str) -> Vec<Result<Vec<Value>, Error>> {
    let mut out = Vec::new();
    for c in conns.iter_mut() {
        out.push(c.fetch_all::<(Value,)>(sql(q)).await.map(|rows| rows.into_iter().map(|(v,)| v).collect()));
    }
    out
}

#[tokio::test]
async fn stale_plans_are_reprepared_outside_transactions() {
    let (db, pool) = pg!("stale_plans", PoolConfig::new().max_size(3));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    let mut conns = common::stale_plan_tables(&mut adm, &pool).await;

    common::reshape_under_cached_statements(&mut conns, &mut adm).await;
    for result in on_each(&mut conns, "SELECT * FROM v").await {
        assert_eq!(result.unwrap(), vec![Value::from("a")]);
    }
    for c in &mut conns {
        let rows: Vec<(String, i32)> = c.fetch_all(sql("SELECT * FROM v")).await.unwrap();
        assert_eq!(rows, vec![("a".to_owned(), 1)]);
    }
    drop(conns);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn execute_reprepares_a_stale_plan_outside_transactions_only() {
    // A cached statement run with `execute` (its rows skipped) whose
    // result type changed is prepared again outside a transaction, and is
    // a StaleStatement error inside one.
    let (db, pool) = pg!("stale_execute", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int4)").await;
    exec(&mut adm, "INSERT INTO t VALUES (1), (2)").await;
    let mut c = pool.acquire().await.unwrap();
    let touch = || sql("UPDATE t SET id = id RETURNING *");
    assert_eq!(c.execute(touch()).await.unwrap(), 2);
    exec(&mut adm, "ALTER TABLE t ADD COLUMN y text").await;
    assert_eq!(c.execute(touch()).await.unwrap(), 2, "prepared again and run once");
    exec(&mut adm, "ALTER TABLE t ADD COLUMN z text").await;
    let mut tx = c.begin().await.unwrap();
    let err = tx.execute(touch()).await.unwrap_err();
    assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::StaleStatement, Some("0A000")));
    tx.rollback().await.unwrap();
    assert_eq!(c.execute(touch()).await.unwrap(), 2);
    let ids: Vec<(i32,)> = c.fetch_all(sql("SELECT id FROM t ORDER BY id")).await.unwrap();
    assert_eq!(ids, [(1,), (2,)]);
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn stale_plans_inside_a_transaction_are_stale_statement_errors() {
    let (db, pool) = pg!("stale_in_tx", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int4)").await;
    let mut c = pool.acquire().await.unwrap();
    let _: Vec<(i32,)> = c.fetch_all(sql("SELECT * FROM t")).await.unwrap();
    exec(&mut adm, "ALTER TABLE t ADD COLUMN y text").await;
    let mut tx = c.begin().await.unwrap();
    let err = tx.fetch_all::<(i32, Option<String>)>(sql("SELECT * FROM t")).await.unwrap_err();
    assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::StaleStatement, Some("0A000")));
    tx.rollback().await.unwrap();
    let rows: Vec<(i32, Option<String>)> = c.fetch_all(sql("SELECT * FROM t")).await.unwrap();
    assert!(rows.is_empty());
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn a_commit_whose_answer_is_lost_has_an_unknown_outcome() {
    let (db, pool) = pg!("commit_lost", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int4)").await;
    let c = pool.acquire().await.unwrap();
    let pid = c.backend_pid();
    let mut tx = quarry_core::Transaction::begin(c, &TransactionOptions::new()).await.unwrap();
    tx.execute(sql("INSERT INTO t VALUES (1)")).await.unwrap();
    // The backend stops answering; COMMIT goes out; the backend is then
    // terminated, so the answer never comes.
    let Some(stopped) = common::Stopped::stop(&db, pid) else { return };
    let commit = tokio::spawn(async move { tx.commit().await.map(|()| 0) });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let q = bound("SELECT pg_terminate_backend($1)", vec![Value::I32(pid)]);
    assert!(try_scalar::<bool>(&mut adm, q).await.unwrap());
    drop(stopped);
    let err = commit.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err:?}");
    assert!(err.commit_outcome_unknown(), "{err:?}");
    let mut c = pool.acquire().await.unwrap();
    assert_ne!(c.backend_pid(), pid);
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    drop(c);
    common::healthy(&pool, &db).await;
}

/// Unmounts (lazily) and removes a tmpfs mount point on drop.
struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[tokio::test]
async fn a_full_disk_is_disk_full() {
    let dir = std::env::temp_dir().join(format!("quarry-disk-full-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m,mode=0777", "tmpfs"])
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    let _mount = Mounted(dir.clone());
    if !mounted {
        eprintln!("SKIPPED a_full_disk_is_disk_full: cannot mount a tmpfs here");
        return;
    }
    let cluster = match quarry_testkit::start_temp_cluster().await {
        Ok(c) => c,
        Err(reason) => return quarry_testkit::pg_unavailable("a_full_disk_is_disk_full", &reason),
    };
    let _ = std::process::Command::new("chown").arg("postgres:postgres").arg(&dir).status();
    let url = format!("{}?application_name=disk_full", cluster.url());
    let pool = quarry_postgres::PgPool::connect(&url, PoolConfig::new().max_size(1)).await.unwrap();
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, &format!("CREATE TABLESPACE tiny LOCATION '{}'", dir.display())).await;
    exec(&mut c, "CREATE TABLE big (v text) TABLESPACE tiny").await;
    let err = c
        .execute(sql("INSERT INTO big SELECT repeat(md5(g::text), 40) FROM generate_series(1, 10000) g"))
        .await
        .unwrap_err();
    assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::DiskFull, Some("53100")), "{err}");
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    drop(c);
    quarry_testkit::assert_pool_healthy(&pool, quarry_testkit::Inspect::postgres(cluster.url(), "disk_full")).await;
    drop(pool);
    drop(cluster);
}
