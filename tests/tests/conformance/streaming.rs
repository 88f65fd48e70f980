//! Streaming results: large results counted and summed row by row, streams
//! dropped early (the connection works again at once), and errors as items.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::common::*;

quarry::table! {
    struct Items("items") {
        id: i64 [primary_key],
        label: String,
        weight: Option<i64>,
    }
}

#[derive(Debug, PartialEq, FromRow)]
struct Item {
    id: i64,
    label: String,
    weight: Option<i64>,
}

const ROWS: i64 = 100_000;

/// The numbers 1 to `to`, from a recursive CTE.
fn numbers(to: Option<i64>) -> quarry::statement::Select {
    let numbers = table_named("numbers");
    let n = numbers.col::<i64>("n");
    let next = select(n.clone() + 1).from(&numbers);
    let next = match to {
        Some(to) => next.filter(n.clone().lt(to)),
        None => next,
    };
    let body = select(lit(1_i64)).union_all(next);
    select(n).from(&numbers).with(body.cte("numbers").columns(["n"]).recursive())
}

/// `ROWS` items, every 1000th without a weight.
async fn items(db: &TestDb) -> Result<(Items, Conn)> {
    let t = Items::table();
    db.create(MetaData::new().with(t)).await?;
    let mut conn = db.conn().await?;
    let rows = (1..=ROWS).map(|i| (format!("item {i}"), if i % 1000 == 0 { None } else { Some(i) }));
    let n = insert_into(t).rows((t.label, t.weight), rows).execute(&mut conn).await?;
    assert_eq!(n, ROWS as u64);
    Ok((t, conn))
}

backend_test!(async fn stream_a_large_result(db) {
    let mut conn = db.conn().await?;
    let mut rows = numbers(Some(ROWS)).stream::<i64>(&mut conn);
    let (mut count, mut sum, mut last) = (0_i64, 0_i64, 0_i64);
    while let Some(n) = rows.next().await {
        let n = n?;
        assert_eq!(n, last + 1, "in order");
        last = n;
        count += 1;
        sum += n;
    }
    drop(rows);
    assert_eq!((count, sum), (ROWS, ROWS * (ROWS + 1) / 2));

    // The rows of a table, decoded into structs as they arrive.
    let (t, mut conn) = items(&db).await?;
    let mut rows = select(t).from(t).order_by(t.id).stream::<Item>(&mut conn);
    let (mut count, mut weights, mut missing) = (0_i64, 0_i64, 0_i64);
    while let Some(item) = rows.next().await {
        let item = item?;
        count += 1;
        assert_eq!(item.id, count);
        match item.weight {
            Some(w) => weights += w,
            None => missing += 1,
        }
        if count == 12_345 {
            assert_eq!(item, Item { id: 12_345, label: "item 12345".into(), weight: Some(12_345) });
        }
    }
    drop(rows);
    let skipped: i64 = (1..=ROWS / 1000).map(|k| k * 1000).sum();
    assert_eq!((count, weights, missing), (ROWS, ROWS * (ROWS + 1) / 2 - skipped, ROWS / 1000));
    // Streams work inside a transaction too.
    let mut tx = conn.begin_with(TransactionOptions::new().read_only()).await?;
    let n = select(t.id).from(t).filter(t.weight.is_null()).stream::<i64>(&mut tx).fold(0, async |n, _| n + 1).await;
    assert_eq!(n, ROWS / 1000);
    tx.commit().await?;
    Ok(())
});

backend_test!(async fn dropping_a_stream_early_frees_the_connection(db) {
    let mut conn = db.conn().await?;
    // An endless sequence: only the rows taken are ever produced.
    let first: Vec<i64> = numbers(None).stream::<i64>(&mut conn).take(3).map(|n| n.expect("a number")).collect().await;
    assert_eq!(first, [1, 2, 3]);
    let started = Instant::now();
    let one: i64 = select(lit(1_i64)).fetch_scalar(&mut conn).await?;
    assert_eq!(one, 1);
    assert!(started.elapsed() < Duration::from_secs(2), "the next query waited {:?}", started.elapsed());

    // A large result read part-way, then dropped.
    let (t, mut conn) = items(&db).await?;
    {
        let mut rows = select((t.id, t.label)).from(t).order_by(t.id).stream::<(i64, String)>(&mut conn);
        for expected in 1..=1000 {
            let (id, _) = rows.next().await.expect("a row")?;
            assert_eq!(id, expected);
        }
    }
    let started = Instant::now();
    let n: i64 = select(count_star()).from(t).fetch_scalar(&mut conn).await?;
    assert_eq!(n, ROWS);
    insert_into(t).values((t.label.set("after the stream"), t.weight.set(1_i64))).execute(&mut conn).await?;
    assert!(started.elapsed() < Duration::from_secs(2), "the next statements waited {:?}", started.elapsed());
    // The connection goes back to the pool in working order, too.
    drop(conn);
    for _ in 0..4 {
        let n: i64 = select(count_star()).from(t).fetch_scalar(&mut db.conn().await?).await?;
        assert_eq!(n, ROWS + 1);
    }
    Ok(())
});

backend_test!(async fn stream_errors_are_items(db) {
    let (t, mut conn) = items(&db).await?;
    // A row that cannot be decoded is an Err item naming the column; the
    // rows before it arrive intact and in order. (Whether rows after it
    // follow is not specified: the rest is read to the end here, so that
    // the connection is not left mid-query.)
    let mut rows =
        select((t.id, t.weight)).from(t).filter(t.id.le(1500)).order_by(t.id).stream::<(i64, i64)>(&mut conn);
    let mut before = Vec::new();
    let error = loop {
        match rows.next().await {
            Some(Ok((id, weight))) => {
                assert_eq!(id, weight);
                before.push(id);
            }
            Some(Err(e)) => break e,
            None => panic!("no error after {} rows", before.len()),
        }
    };
    assert_eq!(error.kind(), ErrorKind::Decode, "{error:?}");
    assert_eq!(error.column(), Some("weight"));
    assert!(error.message().contains("weight"), "{error}");
    assert!(before.iter().copied().eq(1..before.len() as i64 + 1), "in order");
    assert_eq!((before.len(), before.last()), (999, Some(&999)), "every row before the bad one arrives");
    while rows.next().await.is_some() {}
    drop(rows);
    let n: i64 = select(count_star()).from(t).fetch_scalar(&mut conn).await?;
    assert_eq!(n, ROWS, "the connection works after the error");

    // A statement the database refuses: one Err, then the end.
    let mut rows = text("SELECT nope FROM items").read_only().stream::<i64>(&mut conn);
    expect_kind(rows.next().await.expect("one item"), ErrorKind::Syntax);
    assert!(rows.next().await.is_none());
    drop(rows);
    // A statement that does not compile: one Err, then the end.
    let mut rows = text("SELECT :missing").stream::<i64>(&mut conn);
    expect_kind(rows.next().await.expect("one item"), ErrorKind::Compile);
    assert!(rows.next().await.is_none());
    drop(rows);
    let one: i64 = select(lit(1_i64)).fetch_scalar(&mut conn).await?;
    assert_eq!(one, 1);
    Ok(())
});
