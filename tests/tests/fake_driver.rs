//! Transaction and statement logic written once in quarry-core, tested
//! against a scripted fake connection: no database, every failure and
//! stall on demand.

use std::sync::Arc;
use std::time::Duration;

use quarry::prelude::*;
use quarry::{Connection, ErrorKind};
use quarry_testkit::{FaultyConnection, Op, Step};
use tokio::sync::Notify;

quarry::table! {
    pub struct Items("items") { id: i64 [primary_key], name: String, qty: i32 }
}

#[tokio::test]
async fn a_committed_transaction_sends_begin_statements_commit() -> Result<(), Error> {
    let (mut conn, script) = FaultyConnection::new();
    let mut tx = conn.begin().await?;
    text("UPDATE items SET qty = 0").execute(&mut tx).await?;
    tx.commit().await?;
    assert_eq!(script.ops(), [Op::Begin, Op::Execute, Op::Commit]);
    assert_eq!(script.abandoned(), 0);
    assert_eq!(script.depth(), 0);
    Ok(())
}

#[tokio::test]
async fn a_dropped_guard_abandons_once_and_a_finished_one_never() -> Result<(), Error> {
    let (mut conn, script) = FaultyConnection::new();
    {
        let mut tx = conn.begin().await?;
        text("DELETE FROM items").execute(&mut tx).await?;
    }
    assert_eq!(script.abandoned(), 1);
    let tx = conn.begin().await?;
    tx.rollback().await?;
    assert_eq!(script.abandoned(), 1, "rollback() finishes the guard");
    // A failing commit also finishes it: the driver owns the outcome.
    script.on(Op::Commit, 1, Step::Fail(ErrorKind::SerializationFailure));
    let tx = conn.begin().await?;
    let err = tx.commit().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SerializationFailure);
    assert_eq!(script.abandoned(), 1);
    Ok(())
}

#[tokio::test]
async fn nested_guards_unwind_innermost_first() -> Result<(), Error> {
    let (mut conn, script) = FaultyConnection::new();
    let mut outer = conn.begin().await?;
    {
        let mut inner = outer.begin().await?;
        let inner2 = inner.begin().await?;
        assert_eq!(script.depth(), 3);
        drop(inner2);
        assert_eq!(script.depth(), 2);
    }
    assert_eq!(script.depth(), 1);
    outer.commit().await?;
    assert_eq!(script.ops(), [Op::Begin, Op::Begin, Op::Begin, Op::Commit]);
    assert_eq!(script.abandoned(), 2);
    Ok(())
}

#[tokio::test]
async fn a_failed_begin_gives_no_guard() -> Result<(), Error> {
    let (mut conn, script) = FaultyConnection::new();
    script.on(Op::Begin, 1, Step::Fail(ErrorKind::Busy));
    let err = conn.begin().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy);
    assert_eq!((script.abandoned(), script.depth()), (0, 0));
    Ok(())
}

#[tokio::test]
async fn a_bulk_insert_over_the_limit_runs_in_chunks_inside_one_transaction() -> Result<(), Error> {
    let (mut conn, script) = FaultyConnection::new();
    script.max_params(10); // 3 parameters a row: 3 rows a chunk
    let items = Items::table();
    let rows: Vec<(i64, String, i32)> = (0..8).map(|i| (i, format!("n{i}"), 1)).collect();
    insert_into(items).rows((items.id, items.name, items.qty), rows).execute(&mut conn).await?;
    assert_eq!(script.ops(), [Op::Begin, Op::Execute, Op::Execute, Op::Execute, Op::Commit]);
    let params: Vec<usize> = script
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            quarry_testkit::Call::Op(Op::Execute, Some(sql)) => Some(sql.matches('?').count()),
            _ => None,
        })
        .collect();
    assert_eq!(params, [9, 9, 6]);
    Ok(())
}

#[tokio::test]
async fn a_failing_chunk_rolls_the_whole_insert_back() -> Result<(), Error> {
    let (mut conn, script) = FaultyConnection::new();
    script.max_params(10).on(Op::Execute, 2, Step::Fail(ErrorKind::UniqueViolation));
    let items = Items::table();
    let rows: Vec<(i64, String, i32)> = (0..8).map(|i| (i, format!("n{i}"), 1)).collect();
    let err = insert_into(items).rows((items.id, items.name, items.qty), rows).execute(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UniqueViolation);
    // The third chunk never ran, nothing was committed, the guard rolled back.
    assert_eq!(script.ops(), [Op::Begin, Op::Execute, Op::Execute]);
    assert_eq!(script.abandoned(), 1);
    assert_eq!(script.depth(), 0);
    Ok(())
}

#[tokio::test]
async fn a_bulk_insert_cancelled_between_chunks_is_rolled_back() -> Result<(), Error> {
    let (mut conn, script) = FaultyConnection::new();
    let gate = Arc::new(Notify::new());
    script.max_params(10).on(Op::Execute, 2, Step::Stall(gate.clone()));
    let items = Items::table();
    let rows: Vec<(i64, String, i32)> = (0..8).map(|i| (i, format!("n{i}"), 1)).collect();
    let insert = insert_into(items).rows((items.id, items.name, items.qty), rows).execute(&mut conn);
    assert!(tokio::time::timeout(Duration::from_millis(50), insert).await.is_err(), "stalled in chunk 2");
    assert_eq!(script.ops(), [Op::Begin, Op::Execute, Op::Execute]);
    assert_eq!(script.abandoned(), 1, "the dropped future's guard asks for a rollback");
    assert_eq!(conn.transaction_depth(), 0);
    Ok(())
}

#[tokio::test]
async fn a_row_too_wide_for_the_limit_is_a_compile_error_before_anything_runs() -> Result<(), Error> {
    let (mut conn, script) = FaultyConnection::new();
    script.max_params(2);
    let items = Items::table();
    let err = insert_into(items)
        .rows((items.id, items.name, items.qty), [(1_i64, "a".to_owned(), 1)])
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Compile, "{err}");
    assert!(script.calls().is_empty());
    Ok(())
}

#[tokio::test]
async fn fetch_one_of_nothing_is_row_not_found() -> Result<(), Error> {
    let (mut conn, _script) = FaultyConnection::new();
    let err = text("SELECT 1").fetch_one::<(i64,)>(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RowNotFound);
    Ok(())
}

#[tokio::test]
async fn a_statement_future_that_never_finishes_can_be_timed_out() -> Result<(), Error> {
    let (mut conn, script) = FaultyConnection::new();
    script.on(Op::FetchAll, 1, Step::Never);
    let fetch = text("SELECT 1").fetch_all::<(i64,)>(&mut conn);
    assert!(tokio::time::timeout(Duration::from_millis(20), fetch).await.is_err());
    assert_eq!(script.ops(), [Op::FetchAll]);
    Ok(())
}

/// The transaction a fault loop runs: BEGIN, three statements, COMMIT.
const SCENARIO: [Op; 5] = [Op::Begin, Op::Execute, Op::Execute, Op::Execute, Op::Commit];

async fn scenario(conn: &mut FaultyConnection) -> Result<(), Error> {
    let mut tx = conn.begin().await?;
    for qty in 0..3 {
        text("UPDATE items SET qty = :q").bind("q", qty).execute(&mut tx).await?;
    }
    tx.commit().await
}

/// The call `SCENARIO[at]` is the how-many-th call of its operation.
fn nth_of_its_kind(at: usize) -> usize {
    SCENARIO[..=at].iter().filter(|op| **op == SCENARIO[at]).count()
}

/// SQLite's FAULTSIM idea at the driver seam: the transaction fails at its
/// 1st, 2nd, ... 5th call in turn. Every run fails with that call's error,
/// sends nothing after it, never commits after a failed statement, and
/// leaves the connection outside any transaction (the dropped guard asks
/// for a rollback; a failed COMMIT ends the transaction itself).
#[tokio::test]
async fn a_transaction_failing_at_each_call_in_turn_is_left_clean() -> Result<(), Error> {
    for (at, op) in SCENARIO.iter().enumerate() {
        let (mut conn, script) = FaultyConnection::new();
        script.on(*op, nth_of_its_kind(at), Step::Fail(ErrorKind::ConnectionLost));
        let err = scenario(&mut conn).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionLost, "failing call {at}");
        assert_eq!(script.ops(), SCENARIO[..=at], "failing call {at}: nothing runs after the failure");
        let guard_dropped = at > 0 && *op != Op::Commit;
        assert_eq!(script.abandoned(), usize::from(guard_dropped), "failing call {at}");
        assert_eq!((script.depth(), conn.transaction_depth()), (0, 0), "failing call {at}");
    }
    Ok(())
}

/// The same transaction stalled at each call in turn and cancelled there (a
/// timeout dropping its future): the guard, if `begin` had finished, asks
/// for a rollback, and the connection is outside any transaction.
#[tokio::test]
async fn a_transaction_cancelled_at_each_call_in_turn_is_left_clean() -> Result<(), Error> {
    for (at, op) in SCENARIO.iter().enumerate() {
        let (mut conn, script) = FaultyConnection::new();
        script.on(*op, nth_of_its_kind(at), Step::Never);
        let run = scenario(&mut conn);
        assert!(tokio::time::timeout(Duration::from_millis(5), run).await.is_err(), "stalled at call {at}");
        assert_eq!(script.ops(), SCENARIO[..=at], "stalled at call {at}");
        assert_eq!(script.abandoned(), usize::from(at > 0), "stalled at call {at}");
        assert_eq!(conn.transaction_depth(), 0, "stalled at call {at}");
    }
    Ok(())
}

/// A bulk insert of four chunks failing at each chunk and at its COMMIT in
/// turn: never a COMMIT after a failed chunk, always a rollback asked for.
#[tokio::test]
async fn a_bulk_insert_failing_at_each_chunk_in_turn_commits_nothing() -> Result<(), Error> {
    let items = Items::table();
    let rows: Vec<(i64, String, i32)> = (0..12).map(|i| (i, format!("n{i}"), 1)).collect();
    for failing in 1..=4 {
        let (mut conn, script) = FaultyConnection::new();
        script.max_params(9).on(Op::Execute, failing, Step::Fail(ErrorKind::DiskFull));
        let insert = insert_into(items).rows((items.id, items.name, items.qty), rows.clone());
        let err = insert.execute(&mut conn).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::DiskFull);
        let mut expected = vec![Op::Begin];
        expected.extend(std::iter::repeat_n(Op::Execute, failing));
        assert_eq!(script.ops(), expected, "chunk {failing} failed");
        assert_eq!((script.abandoned(), script.depth()), (1, 0), "chunk {failing} failed");
    }
    let (mut conn, script) = FaultyConnection::new();
    script.max_params(9).on(Op::Commit, 1, Step::Fail(ErrorKind::Busy));
    let insert = insert_into(items).rows((items.id, items.name, items.qty), rows);
    assert_eq!(insert.execute(&mut conn).await.unwrap_err().kind(), ErrorKind::Busy);
    assert_eq!(script.ops().last(), Some(&Op::Commit));
    assert_eq!((script.abandoned(), script.depth()), (0, 0), "a failed COMMIT ends the transaction");
    Ok(())
}
