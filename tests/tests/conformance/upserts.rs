//! `INSERT ... ON CONFLICT`: do nothing (on any conflict, or on named
//! columns), do update with `excluded` values and a `WHERE`, a partial
//! unique index as the target, `ON CONSTRAINT` (PostgreSQL only), and
//! `INSERT ... SELECT` with a conflict clause.

use quarry::schema::IndexDef;

use crate::common::*;

quarry::table! {
    struct Accounts("accounts") {
        id: i64 [primary_key],
        email: String,
        name: String,
        visits: i32 [default_value(1)],
        active: bool [default_value(true)],
    }
    [
        unique_named("accounts_email_key", ["email"]),
        index(IndexDef::new("accounts_active_name", ["name"]).unique().filter(col("active").eq(true))),
    ]
}

async fn accounts(db: &TestDb) -> Result<(Accounts, Conn)> {
    let a = Accounts::table();
    db.create(MetaData::new().with(a)).await?;
    let mut conn = db.conn().await?;
    insert_into(a)
        .rows((a.email, a.name), [("ada@example.com", "ada"), ("bob@example.com", "bob")])
        .execute(&mut conn)
        .await?;
    Ok((a, conn))
}

async fn state(a: Accounts, conn: &mut Conn) -> Result<Vec<(String, String, i32)>> {
    select((a.email, a.name, a.visits)).from(a).order_by(a.id).fetch_all(conn).await
}

fn row(email: &str, name: &str, visits: i32) -> (String, String, i32) {
    (email.to_owned(), name.to_owned(), visits)
}

backend_test!(async fn do_nothing_on_any_conflict(db) {
    let (a, mut conn) = accounts(&db).await?;
    let n = insert_into(a)
        .values((a.email.set("ada@example.com"), a.name.set("again")))
        .on_conflict_do_nothing()
        .execute(&mut conn)
        .await?;
    assert_eq!(n, 0, "a skipped row is not counted");
    // Several rows, some conflicting on one constraint or another: only the others go in.
    let inserted: Vec<String> = insert_into(a)
        .rows(
            (a.email, a.name),
            [("bob@example.com", "robert"), ("cy@example.com", "cy"), ("dee@example.com", "ada"), ("eve@example.com", "eve")],
        )
        .on_conflict_do_nothing()
        .returning(a.email)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(inserted, strings(["cy@example.com", "eve@example.com"]));
    assert_eq!(
        state(a, &mut conn).await?,
        vec![row("ada@example.com", "ada", 1), row("bob@example.com", "bob", 1), row("cy@example.com", "cy", 1), row("eve@example.com", "eve", 1)]
    );
    Ok(())
});

backend_test!(async fn do_nothing_on_named_columns(db) {
    let (a, mut conn) = accounts(&db).await?;
    let n = insert_into(a)
        .values((a.email.set("ada@example.com"), a.name.set("other")))
        .on_conflict(a.email)
        .do_nothing()
        .execute(&mut conn)
        .await?;
    assert_eq!(n, 0);
    let n = insert_into(a).values((a.email.set("new@example.com"), a.name.set("new"))).on_conflict(a.email).do_nothing().execute(&mut conn).await?;
    assert_eq!(n, 1);
    // A conflict on another constraint than the target is still an error.
    let err = insert_into(a)
        .values((a.id.set(1_i64), a.email.set("x@example.com"), a.name.set("x")))
        .on_conflict(a.email)
        .do_nothing()
        .execute(&mut conn)
        .await;
    expect_kind(err, ErrorKind::UniqueViolation);
    assert_eq!(state(a, &mut conn).await?.len(), 3);
    Ok(())
});

backend_test!(async fn do_update_with_excluded_and_where(db) {
    let (a, mut conn) = accounts(&db).await?;
    // Count a visit: insert, or add the proposed visits to the existing row.
    let visit = |email: &'static str, name: &'static str| {
        insert_into(a)
            .values((a.email.set(email), a.name.set(name)))
            .on_conflict(a.email)
            .do_update((a.visits.set(a.visits + a.visits.excluded()), a.name.set(a.name.excluded())))
    };
    assert_eq!(visit("ada@example.com", "Ada").execute(&mut conn).await?, 1);
    assert_eq!(visit("ada@example.com", "Ada L.").execute(&mut conn).await?, 1);
    let (visits, name): (i32, String) =
        visit("cy@example.com", "cy").returning((a.visits, a.name)).fetch_one(&mut conn).await?;
    assert_eq!((visits, name.as_str()), (1, "cy"), "no conflict: inserted");
    let (visits, name): (i32, String) =
        visit("ada@example.com", "ada").returning((a.visits, a.name)).fetch_one(&mut conn).await?;
    assert_eq!((visits, name.as_str()), (4, "ada"), "conflict: updated from excluded");

    // DO UPDATE ... WHERE: only rows matching the condition are updated (and counted).
    let guarded = |email: &'static str, visits: i32| {
        insert_into(a)
            .values((a.email.set(email), a.name.set("guarded"), a.visits.set(visits)))
            .on_conflict(a.email)
            .do_update_where(a.visits.set(a.visits.excluded()), a.visits.excluded().gt(a.visits))
    };
    assert_eq!(guarded("ada@example.com", 2).execute(&mut conn).await?, 0, "2 is not more than 4");
    let none: Option<i32> = guarded("ada@example.com", 3).returning(a.visits).fetch_optional(&mut conn).await?;
    assert_eq!(none, None, "a row left alone returns nothing");
    assert_eq!(guarded("ada@example.com", 10).execute(&mut conn).await?, 1);
    assert_eq!(
        state(a, &mut conn).await?,
        vec![row("ada@example.com", "ada", 10), row("bob@example.com", "bob", 1), row("cy@example.com", "cy", 1)]
    );

    // Several rows at once: inserted and updated rows are both counted.
    let n = insert_into(a)
        .rows((a.email, a.name, a.visits), [("bob@example.com", "bob", 5), ("dee@example.com", "dee", 5)])
        .on_conflict(a.email)
        .do_update(a.visits.set(a.visits + a.visits.excluded()))
        .execute(&mut conn)
        .await?;
    assert_eq!(n, 2);
    let visits: Vec<i32> = select(a.visits).from(a).order_by(a.id).fetch_all(&mut conn).await?;
    assert_eq!(visits, [10, 6, 1, 5]);
    Ok(())
});

backend_test!(async fn partial_unique_index_as_target(db) {
    let (a, mut conn) = accounts(&db).await?;
    // `name` is unique among active accounts only.
    insert_into(a).values((a.email.set("old@example.com"), a.name.set("ada"), a.active.set(false))).execute(&mut conn).await?;
    let err = insert_into(a).values((a.email.set("ada2@example.com"), a.name.set("ada"))).execute(&mut conn).await;
    expect_kind(err, ErrorKind::UniqueViolation);

    let n = insert_into(a)
        .values((a.email.set("ada2@example.com"), a.name.set("ada")))
        .on_conflict(a.name)
        .filter(col("active").eq(true))
        .do_update(a.visits.set(a.visits + 1))
        .execute(&mut conn)
        .await?;
    assert_eq!(n, 1);
    // The same predicate through the typed column.
    let visits: i32 = insert_into(a)
        .values((a.email.set("ada3@example.com"), a.name.set("ada")))
        .on_conflict(a.name)
        .filter(a.active.eq(true))
        .do_update(a.visits.set(a.visits + 1))
        .returning(a.visits)
        .fetch_scalar(&mut conn)
        .await?;
    assert_eq!(visits, 3);
    let n = insert_into(a)
        .values((a.email.set("bob2@example.com"), a.name.set("bob")))
        .on_conflict(a.name)
        .filter(col("active").eq(true))
        .do_nothing()
        .execute(&mut conn)
        .await?;
    assert_eq!(n, 0);
    // An inactive row with the same name does not conflict.
    let n = insert_into(a)
        .values((a.email.set("bob3@example.com"), a.name.set("bob"), a.active.set(false)))
        .on_conflict(a.name)
        .filter(col("active").eq(true))
        .do_nothing()
        .execute(&mut conn)
        .await?;
    assert_eq!(n, 1);
    // A target no unique index matches is refused by the database (SQLite
    // `SQLITE_ERROR`, PostgreSQL `42P10`: both `Syntax`).
    let err = insert_into(a)
        .values((a.email.set("z@example.com"), a.name.set("z")))
        .on_conflict(a.visits)
        .do_nothing()
        .execute(&mut conn)
        .await;
    expect_kind(err, ErrorKind::Syntax);
    assert_eq!(
        state(a, &mut conn).await?,
        vec![
            row("ada@example.com", "ada", 3),
            row("bob@example.com", "bob", 1),
            row("old@example.com", "ada", 1),
            row("bob3@example.com", "bob", 1),
        ]
    );
    Ok(())
});

backend_test!(async fn on_conflict_on_constraint(db) {
    let (a, mut conn) = accounts(&db).await?;
    let result = insert_into(a)
        .values((a.email.set("ada@example.com"), a.name.set("Ada")))
        .on_conflict_on_constraint("accounts_email_key")
        .do_update(a.name.set(a.name.excluded()))
        .execute(&mut conn)
        .await;
    if let Some(n) = pg_only(&db, "ON CONFLICT ON CONSTRAINT", result)? {
        assert_eq!(n, 1);
        assert_eq!(state(a, &mut conn).await?[0], row("ada@example.com", "Ada", 1));
    }
    let result = insert_into(a)
        .values((a.email.set("bob@example.com"), a.name.set("Bob")))
        .on_conflict_on_constraint("accounts_email_key")
        .do_nothing()
        .execute(&mut conn)
        .await;
    if let Some(n) = pg_only(&db, "ON CONFLICT ON CONSTRAINT", result)? {
        assert_eq!(n, 0);
    }
    Ok(())
});

quarry::table! {
    struct Totals("totals") {
        email: String [primary_key],
        total: i64,
    }
}

backend_test!(async fn insert_select_with_on_conflict(db) {
    let (a, mut conn) = accounts(&db).await?;
    let t = Totals::table();
    db.create(MetaData::new().with(t)).await?;
    let source = || select((a.email, a.visits.cast::<i64>())).from(a).filter(a.active);
    let n = insert_into(t).from_select((t.email, t.total), source()).on_conflict(t.email).do_nothing().execute(&mut conn).await?;
    assert_eq!(n, 2);
    let n = insert_into(t).from_select((t.email, t.total), source()).on_conflict(t.email).do_nothing().execute(&mut conn).await?;
    assert_eq!(n, 0, "every row conflicts the second time");

    insert_into(a).values((a.email.set("cy@example.com"), a.name.set("cy"), a.visits.set(7))).execute(&mut conn).await?;
    let mut changed: Vec<(String, i64)> = insert_into(t)
        .from_select((t.email, t.total), source())
        .on_conflict(t.email)
        .do_update(t.total.set(t.total + t.total.excluded()))
        .returning((t.email, t.total))
        .fetch_all(&mut conn)
        .await?;
    changed.sort();
    assert_eq!(changed, vec![("ada@example.com".into(), 2), ("bob@example.com".into(), 2), ("cy@example.com".into(), 7)]);
    // From a query with a join, a WHERE and its own ORDER BY/LIMIT.
    let n = insert_into(t)
        .from_select(
            (t.email, t.total),
            select((a.name.concat("@alias"), lit(100_i64))).from(a).filter(a.visits.gt(1)).order_by(a.id).limit(1),
        )
        .on_conflict_do_nothing()
        .execute(&mut conn)
        .await?;
    assert_eq!(n, 1);
    let totals: Vec<(String, i64)> = select((t.email, t.total)).from(t).order_by(t.email).fetch_all(&mut conn).await?;
    assert_eq!(
        totals,
        vec![
            ("ada@example.com".into(), 2),
            ("bob@example.com".into(), 2),
            ("cy@alias".into(), 100),
            ("cy@example.com".into(), 7),
        ]
    );
    Ok(())
});
