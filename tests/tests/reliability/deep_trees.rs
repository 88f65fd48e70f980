//! Very deep expression trees on real databases (RELIABILITY.md §2.18).
//! quarry-core's tests (crates/quarry-core/tests/depth.rs) build, compile,
//! clone, compare, format and drop 100,000-deep trees on a 2 MiB stack and
//! prepare the statements on SQLite; these run them through both drivers.

use quarry::MAX_DEPTH;

use crate::common::*;

quarry::table! {
    pub struct Items("items") { id: i64 [primary_key], n: i64, flag: bool }
}

async fn items(db: &Db) -> Result<Items> {
    let t = Items::table();
    db.engine.create_all(&MetaData::new().with(t)).await?;
    db.engine.execute(insert_into(t).rows((t.n, t.flag), [(1_i64, true), (4999, false), (5000, true)])).await?;
    Ok(t)
}

/// A NOT chain exactly `depth` deep (NOT NOT ... flag = true).
fn not_chain(t: Items, depth: u32) -> Expr<bool> {
    let mut e = t.flag.eq(true);
    while e.depth() < depth {
        e = not_(e);
    }
    e
}

// An expression exactly at Quarry's depth limit compiles on the test's
// thread (a 2 MiB stack, as tokio's workers) and both servers run it; one
// level deeper is a compile error before anything is sent, and the
// connection is unaffected.
both!(async fn an_expression_at_the_depth_limit_runs_on_the_server(db) {
    let t = items(&db).await?;
    let mut conn = db.engine.acquire().await?;
    let at_limit = not_chain(t, MAX_DEPTH);
    assert_eq!(at_limit.depth(), MAX_DEPTH);
    // MAX_DEPTH - 2 NOTs around `flag = true`: an even number keeps its meaning.
    let expected = if (MAX_DEPTH - 2).is_multiple_of(2) { 2 } else { 1 };
    let n: i64 = select(count_star()).from(t).filter(at_limit).fetch_scalar(&mut conn).await?;
    assert_eq!(n, expected);

    let too_deep = not_(not_chain(t, MAX_DEPTH));
    let err = select(count_star()).from(t).filter(too_deep).fetch_scalar::<i64>(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Compile, "{err:?}");
    assert!(err.to_string().contains("deep"), "{err}");
    let n: i64 = select(count_star()).from(t).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 3);
    drop(conn);
    db.assert_healthy().await;
    Ok(())
});

// 5,000 OR'd and 5,000 AND'ed terms: rendered as balanced trees, under
// SQLite's expression depth limit (1,000) and PostgreSQL's stack limit.
both!(async fn five_thousand_or_and_and_terms_run_on_the_server(db) {
    let t = items(&db).await?;
    let mut conn = db.engine.acquire().await?;
    let any = or_((0..5000_i64).map(|i| t.n.eq(i)));
    let ids: Vec<i64> = select(t.n).from(t).filter(any).order_by(t.n).fetch_all(&mut conn).await?;
    assert_eq!(ids, [1, 4999]);
    let none = and_((0..5000_i64).map(|i| t.n.ne(i)));
    let ids: Vec<i64> = select(t.n).from(t).filter(none).fetch_all(&mut conn).await?;
    assert_eq!(ids, [5000]);
    drop(conn);
    db.assert_healthy().await;
    Ok(())
});
