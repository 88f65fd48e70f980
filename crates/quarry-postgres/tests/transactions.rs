//! Transactions and savepoints: commit, rollback, dropped guards at every
//! depth, errors inside transactions, panics.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{bound, exec, scalar, sql};
use quarry_core::prelude::*;
use quarry_core::{Connection, IsolationLevel, PoolConfig, Transaction, TransactionOptions};
use quarry_postgres::PgConnection;

async fn ids(c: &mut impl Connection) -> Vec<i32> {
    let rows: Vec<(i32,)> = c.fetch_all(sql("SELECT id FROM t ORDER BY id")).await.unwrap();
    rows.into_iter().map(|(id,)| id).collect()
}

async fn insert(c: &mut impl Connection, id: i32) {
    c.execute(bound("INSERT INTO t VALUES ($1)", vec![Value::I32(id)])).await.unwrap();
}

/// Sessions of this test idle inside a transaction (RELIABILITY.md invariant b).
async fn idle_in_transaction(admin: &mut PgConnection, schema: &str) -> i64 {
    let q = bound(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'",
        vec![Value::from(schema)],
    );
    common::try_scalar(admin, q).await.unwrap()
}

#[tokio::test]
async fn commit_rollback_and_options() {
    let (_db, pool) = pg!("commit_rollback");
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "CREATE TABLE t (id int4)").await;
    let mut tx = c.begin().await.unwrap();
    insert(&mut tx, 1).await;
    assert_eq!(tx.transaction_depth(), 1);
    tx.commit().await.unwrap();
    let mut tx = c.begin().await.unwrap();
    insert(&mut tx, 2).await;
    tx.rollback().await.unwrap();
    assert_eq!(ids(&mut c).await, vec![1]);

    let options = TransactionOptions::new().isolation(IsolationLevel::Serializable).read_only().deferrable();
    let mut tx = c.begin_with(options).await.unwrap();
    assert_eq!(scalar::<String>(&mut tx, "SHOW transaction_isolation").await, "serializable");
    assert_eq!(scalar::<String>(&mut tx, "SHOW transaction_read_only").await, "on");
    assert_eq!(scalar::<String>(&mut tx, "SHOW transaction_deferrable").await, "on");
    // Options belong to the outermost transaction.
    let err = tx.begin_with(TransactionOptions::new().read_only()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    tx.commit().await.unwrap();
    let tx = c.begin_with(TransactionOptions::new().isolation(IsolationLevel::RepeatableRead)).await.unwrap();
    tx.commit().await.unwrap();
    let err = c.commit_transaction().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn nested_savepoints_five_deep() {
    let (_db, pool) = pg!("nested_savepoints");
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "CREATE TABLE t (id int4)").await;
    let mut t1 = c.begin().await.unwrap();
    insert(&mut t1, 1).await;
    {
        let mut t2 = t1.begin().await.unwrap();
        insert(&mut t2, 2).await;
        {
            let mut t3 = t2.begin().await.unwrap();
            insert(&mut t3, 3).await;
            {
                let mut t4 = t3.begin().await.unwrap();
                insert(&mut t4, 4).await;
                {
                    let mut t5 = t4.begin().await.unwrap();
                    insert(&mut t5, 5).await;
                    assert_eq!(t5.transaction_depth(), 5);
                    assert_eq!(ids(&mut t5).await, vec![1, 2, 3, 4, 5]);
                    // Dropped without commit: rolled back to its savepoint.
                }
                assert_eq!(t4.transaction_depth(), 4);
                insert(&mut t4, 44).await;
                assert_eq!(ids(&mut t4).await, vec![1, 2, 3, 4, 44]);
                t4.commit().await.unwrap();
            }
            assert_eq!(ids(&mut t3).await, vec![1, 2, 3, 4, 44]);
            t3.rollback().await.unwrap();
        }
        assert_eq!(t2.transaction_depth(), 2);
        assert_eq!(ids(&mut t2).await, vec![1, 2]);
        insert(&mut t2, 22).await;
        t2.commit().await.unwrap();
    }
    t1.commit().await.unwrap();
    assert_eq!(c.transaction_depth(), 0);
    assert_eq!(ids(&mut c).await, vec![1, 2, 22]);

    // Two levels dropped at once roll back with one statement.
    let mut t1 = c.begin().await.unwrap();
    insert(&mut t1, 100).await;
    {
        let mut t2 = t1.begin().await.unwrap();
        let mut t3 = t2.begin().await.unwrap();
        insert(&mut t3, 300).await;
        drop(t3);
        drop(t2);
    }
    assert_eq!(t1.transaction_depth(), 1);
    assert_eq!(ids(&mut t1).await, vec![1, 2, 22, 100]);
    t1.commit().await.unwrap();
}

#[tokio::test]
async fn errors_inside_savepoints_roll_back_to_them() {
    let (db, pool) = pg!("savepoint_errors");
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "CREATE TABLE t (id int4 PRIMARY KEY)").await;
    let mut t1 = c.begin().await.unwrap();
    insert(&mut t1, 1).await;
    let mut t2 = t1.begin().await.unwrap();
    let err = t2.execute(sql("INSERT INTO t VALUES (1)")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UniqueViolation);
    // The transaction is aborted (25P02) until the savepoint is rolled back.
    assert_eq!(t2.execute(sql("SELECT 1")).await.unwrap_err().sqlstate(), Some("25P02"));
    t2.rollback().await.unwrap();
    insert(&mut t1, 2).await;
    t1.commit().await.unwrap();
    assert_eq!(ids(&mut c).await, vec![1, 2]);
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn dropped_guards_roll_back_before_the_next_borrower() {
    let (db, pool) = pg!("dropped_guards", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int4 PRIMARY KEY)").await;
    let first_pid = pool.acquire().await.unwrap().backend_pid();
    for i in 0..1000 {
        let mut c = pool.acquire().await.unwrap();
        assert_eq!(c.transaction_depth(), 0);
        let mut tx = c.begin().await.unwrap();
        insert(&mut tx, i).await;
        if i % 3 == 0 {
            // An error inside the transaction first (25P02 afterwards).
            let err = tx.execute(bound("INSERT INTO t VALUES ($1)", vec![Value::I32(i)])).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UniqueViolation);
        }
        if i % 2 == 0 {
            drop(tx); // then the handle, with the rollback pending
        } else {
            drop(tx);
            // The same handle: the rollback runs before this statement.
            assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM t").await, 0);
            assert_eq!(c.transaction_depth(), 0);
        }
        drop(c);
    }
    let mut c = pool.acquire().await.unwrap();
    assert_eq!(c.backend_pid(), first_pid, "the connection was reused, not replaced");
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM t").await, 0);
    assert!(scalar::<bool>(&mut c, "SELECT txid_current_if_assigned() IS NULL").await);
    drop(c);
    assert_eq!(idle_in_transaction(&mut adm, db.schema()).await, 0);
    assert_eq!(pool.status().size, 1);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn an_owned_guard_dropped_with_its_connection_rolls_back() {
    let (db, pool) = pg!("owned_guard", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int4)").await;
    let c = pool.acquire().await.unwrap();
    let mut tx = Transaction::begin(c, &TransactionOptions::new()).await.unwrap();
    insert(&mut tx, 1).await;
    exec(&mut tx, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE").await;
    drop(tx);
    // The ROLLBACK went out when the connection was returned: the lock is
    // released even though nobody has borrowed the connection since.
    exec(&mut adm, "SET lock_timeout = '1s'").await;
    assert_eq!(scalar::<i64>(&mut adm, "SELECT count(*) FROM t").await, 0);
    assert_eq!(idle_in_transaction(&mut adm, db.schema()).await, 0);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn a_panic_inside_a_transaction_rolls_back() {
    let (db, pool) = pg!("panic_in_transaction", PoolConfig::new().max_size(1));
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "CREATE TABLE t (id int4)").await;
    drop(c);
    let task_pool = pool.clone();
    let task = tokio::spawn(async move {
        let mut c = task_pool.acquire().await.unwrap();
        let mut tx = c.begin().await.unwrap();
        insert(&mut tx, 1).await;
        panic!("boom inside a transaction");
    });
    assert!(task.await.unwrap_err().is_panic());
    let mut c = pool.acquire().await.unwrap();
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM t").await, 0);
    drop(c);
    let admin = common::admin(&db).await;
    assert_eq!(idle_in_transaction(&mut admin.acquire().await.unwrap(), db.schema()).await, 0);
    common::healthy(&pool, &db).await;
}
