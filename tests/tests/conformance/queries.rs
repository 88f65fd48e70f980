//! Queries: joins, conditions, `IN`, `LIKE`, `CASE`/`CAST`, `DISTINCT`,
//! ordering, `LIMIT`/`OFFSET`, aggregates, window functions, subqueries,
//! CTEs, set operations and raw SQL, with the same results on every
//! database. The portable functions are in `functions.rs`.
//!
//! Most tests use the shared shop (`common::shop`): teams `core` (1) and
//! `web` (2); users ada (1: karma 50, team 1, email), bob (2: 5, team 1),
//! cy (3: 20, team 2, email), dee (4: 0, no team); posts Engines (1: ada,
//! 120 likes), Numbers (2: ada, 45), Styles (3: cy, 300), Draft (4: cy, 0,
//! unpublished).

use quarry::ast::FrameBound;

use crate::common::shop::{Posts, Teams, Users, seed};
use crate::common::*;

fn names(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

backend_test!(async fn joins_of_every_kind(db) {
    seed(&db).await?;
    let (t, u, p) = (Teams::table(), Users::table(), Posts::table());
    let mut conn = db.conn().await?;
    // A team without users, so that both sides of a FULL JOIN have unmatched rows.
    insert_into(t).values(t.name.set("empty")).execute(&mut conn).await?;

    let inner: Vec<(String, String)> =
        select((u.name, t.name)).from(u).join(t, t.id.eq(u.team_id)).order_by(u.id).fetch_all(&mut conn).await?;
    assert_eq!(inner, vec![("ada".into(), "core".into()), ("bob".into(), "core".into()), ("cy".into(), "web".into())]);

    let left: Vec<(String, Option<String>)> =
        select((u.name, t.name)).from(u).left_join(t, t.id.eq(u.team_id)).order_by(u.id).fetch_all(&mut conn).await?;
    assert_eq!(
        left,
        vec![
            ("ada".into(), Some("core".into())),
            ("bob".into(), Some("core".into())),
            ("cy".into(), Some("web".into())),
            ("dee".into(), None),
        ]
    );

    let right: Vec<(Option<String>, String)> = select((u.name, t.name))
        .from(u)
        .right_join(t, t.id.eq(u.team_id))
        .order_by(t.id)
        .order_by(u.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(
        right,
        vec![
            (Some("ada".into()), "core".into()),
            (Some("bob".into()), "core".into()),
            (Some("cy".into()), "web".into()),
            (None, "empty".into()),
        ]
    );

    let mut full: Vec<(Option<String>, Option<String>)> =
        select((u.name, t.name)).from(u).full_join(t, t.id.eq(u.team_id)).fetch_all(&mut conn).await?;
    full.sort();
    assert_eq!(
        full,
        vec![
            (None, Some("empty".into())),
            (Some("ada".into()), Some("core".into())),
            (Some("bob".into()), Some("core".into())),
            (Some("cy".into()), Some("web".into())),
            (Some("dee".into()), None),
        ]
    );

    let crossed: i64 = select(count_star()).from(u).cross_join(t).fetch_scalar(&mut conn).await?;
    assert_eq!(crossed, 4 * 3);

    // Several joins in a row, and a table joined to itself through an alias.
    let (u2, t2) = (Users::alias("mate"), Teams::alias("t2"));
    let mates: Vec<(String, String, String)> = select((u.name, u2.name, t2.name))
        .from(u)
        .join(u2, u2.team_id.eq(u.team_id).and(u2.id.ne(u.id)))
        .join(t2, t2.id.eq(u2.team_id))
        .order_by(u.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(mates, vec![("ada".into(), "bob".into(), "core".into()), ("bob".into(), "ada".into(), "core".into())]);

    // Posts per user through a LEFT JOIN and a condition in ON.
    let published: Vec<(String, Option<String>)> = select((u.name, p.title))
        .from(u)
        .left_join(p, p.author_id.eq(u.id).and(p.published))
        .order_by(u.id)
        .order_by(p.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(
        published,
        vec![
            ("ada".into(), Some("Engines".into())),
            ("ada".into(), Some("Numbers".into())),
            ("bob".into(), None),
            ("cy".into(), Some("Styles".into())),
            ("dee".into(), None),
        ]
    );
    Ok(())
});

backend_test!(async fn conditions_and_or_not(db) {
    seed(&db).await?;
    let u = Users::table();
    let mut conn = db.conn().await?;
    let q = |cond: Expr<bool>| select(u.name).from(u).filter(cond).order_by(u.id);

    let found: Vec<String> = q(u.karma.ge(20).or(u.team_id.is_null()) & !u.name.eq("cy")).fetch_all(&mut conn).await?;
    assert_eq!(found, names(&["ada", "dee"]));
    let found: Vec<String> = q(u.karma.gt(1).and(u.karma.lt(50))).fetch_all(&mut conn).await?;
    assert_eq!(found, names(&["bob", "cy"]));
    let found: Vec<String> = q(u.karma.eq(50) | u.karma.eq(0)).fetch_all(&mut conn).await?;
    assert_eq!(found, names(&["ada", "dee"]));
    let found: Vec<String> = q(not_(u.karma.le(5))).fetch_all(&mut conn).await?;
    assert_eq!(found, names(&["ada", "cy"]));
    let found: Vec<String> = q(u.karma.ne(5).not()).fetch_all(&mut conn).await?;
    assert_eq!(found, names(&["bob"]));
    // Precedence: a OR (b AND c), and (a OR b) AND c.
    let found: Vec<String> =
        q(u.name.eq("dee").or(u.karma.gt(10).and(u.team_id.eq(2)))).fetch_all(&mut conn).await?;
    assert_eq!(found, names(&["cy", "dee"]));
    let found: Vec<String> =
        q(u.name.eq("dee").or(u.karma.gt(10)).and(u.team_id.eq(1))).fetch_all(&mut conn).await?;
    assert_eq!(found, names(&["ada"]));
    // NULL is neither true nor false: NOT (team_id = 1) skips dee.
    let found: Vec<String> = q(!u.team_id.eq(1)).fetch_all(&mut conn).await?;
    assert_eq!(found, names(&["cy"]));
    let found: Vec<String> = q(u.email.is_not_null()).fetch_all(&mut conn).await?;
    assert_eq!(found, names(&["ada", "cy"]));
    // Lists built at run time; an empty AND is true, an empty OR false.
    let found: Vec<String> = q(and_(Vec::<Expr<bool>>::new())).fetch_all(&mut conn).await?;
    assert_eq!(found.len(), 4);
    let found: Vec<String> = q(or_(Vec::<Expr<bool>>::new())).fetch_all(&mut conn).await?;
    assert!(found.is_empty());
    let found: Vec<String> = q(or_((0..100).map(|k| u.karma.eq(k)))).fetch_all(&mut conn).await?;
    assert_eq!(found, names(&["ada", "bob", "cy", "dee"]));
    let found: Vec<String> = q(and_([u.karma.ge(5), u.karma.le(20), u.email.is_null()])).fetch_all(&mut conn).await?;
    assert_eq!(found, names(&["bob"]));
    // Several filter calls are ANDed; a boolean column is a condition.
    let p = Posts::table();
    let titles: Vec<String> =
        select(p.title).from(p).filter(p.published).filter(p.likes.lt(200)).order_by(p.id).fetch_all(&mut conn).await?;
    assert_eq!(titles, names(&["Engines", "Numbers"]));
    // Comparisons in the select list are booleans.
    let flags: Vec<(bool, bool)> =
        select((u.karma.gt(10), u.email.is_null())).from(u).order_by(u.id).fetch_all(&mut conn).await?;
    assert_eq!(flags, vec![(true, false), (false, true), (true, false), (false, true)]);
    Ok(())
});

backend_test!(async fn in_lists(db) {
    seed(&db).await?;
    let (u, p) = (Users::table(), Posts::table());
    let mut conn = db.conn().await?;
    let q = |cond: Expr<bool>| select(u.name).from(u).filter(cond).order_by(u.id);

    assert_eq!(q(u.id.in_([1_i64, 3])).fetch_all::<String>(&mut conn).await?, names(&["ada", "cy"]));
    assert_eq!(q(u.id.not_in([1_i64, 3])).fetch_all::<String>(&mut conn).await?, names(&["bob", "dee"]));
    assert_eq!(q(u.name.in_(["bob", "dee", "zed"])).fetch_all::<String>(&mut conn).await?, names(&["bob", "dee"]));
    // An empty list matches nothing; NOT IN an empty list matches everything.
    assert!(q(u.id.in_(Vec::<i64>::new())).fetch_all::<String>(&mut conn).await?.is_empty());
    assert_eq!(q(u.id.not_in(Vec::<i64>::new())).fetch_all::<String>(&mut conn).await?.len(), 4);
    // A nullable column: NULL is never IN a list.
    assert_eq!(q(u.team_id.in_([1_i64, 2])).fetch_all::<String>(&mut conn).await?, names(&["ada", "bob", "cy"]));
    // Over expressions and subqueries.
    assert_eq!(q(u.karma.in_exprs([u.id.cast::<i32>() * 5, lit(0_i32)])).fetch_all::<String>(&mut conn).await?, names(&["dee"]));
    let authors = select(p.author_id).from(p).filter(p.likes.gt(100));
    assert_eq!(q(u.id.in_subquery(authors.clone())).fetch_all::<String>(&mut conn).await?, names(&["ada", "cy"]));
    assert_eq!(q(u.id.not_in_subquery(authors)).fetch_all::<String>(&mut conn).await?, names(&["bob", "dee"]));

    // 10,000 values: one array parameter on PostgreSQL, 10,000 parameters on
    // SQLite (under its limit of 32,766).
    let many: Vec<i64> = (0..10_000).map(|i| i * 3 + 1).collect();
    let compiled = select(count_star()).from(u).filter(u.id.in_(many.clone())).compile(db.engine.dialect())?;
    assert_eq!(compiled.params.len(), if db.is_postgres() { 1 } else { 10_000 });
    let n: i64 = select(count_star()).from(u).filter(u.id.in_(many.clone())).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 2, "ids 1 and 4");
    let n: i64 = select(count_star()).from(u).filter(u.id.not_in(many)).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 2, "ids 2 and 3");
    // 50,000 values: still one parameter on PostgreSQL; over SQLite's
    // parameter limit, which is a compile error before anything is sent.
    let huge: Vec<i64> = (1..=50_000).collect();
    let result = select(count_star()).from(u).filter(u.id.in_(huge)).fetch_scalar::<i64>(&mut conn).await;
    match db.backend {
        Backend::Postgres => assert_eq!(result?, 4),
        Backend::Sqlite => {
            let err = expect_kind(result, ErrorKind::Compile);
            assert!(err.message().contains("limit"), "{err}");
        }
    }
    Ok(())
});

backend_test!(async fn between(db) {
    seed(&db).await?;
    let u = Users::table();
    let mut conn = db.conn().await?;
    let q = |cond: Expr<bool>| select(u.name).from(u).filter(cond).order_by(u.id);
    assert_eq!(q(u.karma.between(5, 20)).fetch_all::<String>(&mut conn).await?, names(&["bob", "cy"]));
    assert_eq!(q(u.karma.not_between(5, 20)).fetch_all::<String>(&mut conn).await?, names(&["ada", "dee"]));
    assert_eq!(q(u.name.between("b", "cz")).fetch_all::<String>(&mut conn).await?, names(&["bob", "cy"]));
    // Bounds the wrong way round match nothing (no SYMMETRIC).
    assert!(q(u.karma.between(20, 5)).fetch_all::<String>(&mut conn).await?.is_empty());
    // Expressions as bounds.
    assert_eq!(q(u.karma.between(u.id * 5, u.id * 10)).fetch_all::<String>(&mut conn).await?, names(&["cy"]));
    Ok(())
});

quarry::table! {
    struct Words("words") {
        id: i64 [primary_key],
        w: String,
    }
}

const WORDS: [&str; 10] =
    ["100%", "1000", "a_b", "axb", "back\\slash", "backslash", "Apple", "apple pie", "PIE", "under_score_"];

async fn words(db: &TestDb) -> Result<(Words, Conn)> {
    let w = Words::table();
    db.create(MetaData::new().with(w)).await?;
    let mut conn = db.conn().await?;
    insert_into(w).rows(w.w, WORDS).execute(&mut conn).await?;
    Ok((w, conn))
}

backend_test!(async fn like_and_contains_match_literally(db) {
    let (w, mut conn) = words(&db).await?;
    let q = |cond: Expr<bool>| select(w.w).from(w).filter(cond).order_by(w.id);

    // contains / starts_with / ends_with escape %, _ and \ in the text.
    assert_eq!(q(w.w.contains("0%")).fetch_all::<String>(&mut conn).await?, names(&["100%"]));
    assert_eq!(q(w.w.contains("%")).fetch_all::<String>(&mut conn).await?, names(&["100%"]));
    assert_eq!(q(w.w.contains("a_b")).fetch_all::<String>(&mut conn).await?, names(&["a_b"]));
    assert_eq!(q(w.w.contains("_")).fetch_all::<String>(&mut conn).await?, names(&["a_b", "under_score_"]));
    assert_eq!(q(w.w.contains("\\")).fetch_all::<String>(&mut conn).await?, names(&["back\\slash"]));
    assert_eq!(q(w.w.contains("k\\s")).fetch_all::<String>(&mut conn).await?, names(&["back\\slash"]));
    assert_eq!(q(w.w.starts_with("a_")).fetch_all::<String>(&mut conn).await?, names(&["a_b"]));
    assert_eq!(q(w.w.starts_with("back")).fetch_all::<String>(&mut conn).await?, names(&["back\\slash", "backslash"]));
    assert_eq!(q(w.w.ends_with("_")).fetch_all::<String>(&mut conn).await?, names(&["under_score_"]));
    assert_eq!(q(w.w.ends_with("%")).fetch_all::<String>(&mut conn).await?, names(&["100%"]));
    assert!(q(w.w.contains("x%")).fetch_all::<String>(&mut conn).await?.is_empty());
    // Case: contains is case-sensitive, icontains is not (ASCII).
    assert_eq!(q(w.w.contains("pie")).fetch_all::<String>(&mut conn).await?, names(&["apple pie"]));
    assert_eq!(q(w.w.icontains("pie")).fetch_all::<String>(&mut conn).await?, names(&["apple pie", "PIE"]));
    assert_eq!(q(w.w.icontains("A_B")).fetch_all::<String>(&mut conn).await?, names(&["a_b"]));

    // LIKE patterns: % and _ are wildcards; LIKE is case-sensitive on both.
    assert_eq!(q(w.w.like("a_b")).fetch_all::<String>(&mut conn).await?, names(&["a_b", "axb"]));
    assert_eq!(q(w.w.like("100%")).fetch_all::<String>(&mut conn).await?, names(&["100%", "1000"]));
    assert_eq!(q(w.w.like("A%")).fetch_all::<String>(&mut conn).await?, names(&["Apple"]));
    assert_eq!(q(w.w.not_like("%a%")).fetch_all::<String>(&mut conn).await?, names(&["100%", "1000", "Apple", "PIE", "under_score_"]));
    assert_eq!(q(w.w.ilike("a%")).fetch_all::<String>(&mut conn).await?, names(&["a_b", "axb", "Apple", "apple pie"]));
    assert_eq!(q(w.w.ilike("%PIE")).fetch_all::<String>(&mut conn).await?, names(&["apple pie", "PIE"]));
    assert_eq!(q(w.w.not_ilike("%p%")).fetch_all::<String>(&mut conn).await?.len(), 7);
    // A pattern from a column or expression.
    let n: i64 = select(count_star()).from(w).filter(w.w.like(w.w.concat("%")).and(w.w.contains("\\").not())).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 9);
    Ok(())
});

// A backslash in a LIKE pattern given without ESCAPE is an ordinary
// character in standard SQL (and in SQLite); the same query must mean the
// same on PostgreSQL, whose LIKE takes `\` as its escape by default.
backend_test!(async fn like_pattern_backslash_is_literal(db) {
    let (w, mut conn) = words(&db).await?;
    let q = |cond: Expr<bool>| select(w.w).from(w).filter(cond).order_by(w.id);
    assert_eq!(q(w.w.like("back\\slash")).fetch_all::<String>(&mut conn).await?, names(&["back\\slash"]));
    assert_eq!(q(w.w.like("%\\%")).fetch_all::<String>(&mut conn).await?, names(&["back\\slash"]));
    // Every word matches itself taken as a pattern followed by `%`.
    let n: i64 = select(count_star()).from(w).filter(w.w.like(w.w.concat("%"))).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 10);
    Ok(())
});

quarry::table! {
    struct Pairs("pairs") {
        id: i64 [primary_key],
        a: Option<i64>,
        b: Option<i64>,
    }
}

backend_test!(async fn is_distinct_from(db) {
    let t = Pairs::table();
    db.create(MetaData::new().with(t)).await?;
    let mut conn = db.conn().await?;
    insert_into(t)
        .rows((t.a, t.b), [(Some(1_i64), Some(1_i64)), (Some(1), Some(2)), (Some(1), None), (None, None), (None, Some(2))])
        .execute(&mut conn)
        .await?;
    let rows: Vec<(bool, bool, Option<bool>)> = select((t.a.is_distinct_from(t.b), t.a.is_not_distinct_from(t.b), t.a.eq(t.b)))
        .from(t)
        .order_by(t.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(
        rows,
        vec![
            (false, true, Some(true)),
            (true, false, Some(false)),
            (true, false, None),
            (false, true, None),
            (true, false, None),
        ]
    );
    // With values and NULL on the right.
    let ids: Vec<i64> =
        select(t.id).from(t).filter(t.b.is_not_distinct_from(None::<i64>)).order_by(t.id).fetch_all(&mut conn).await?;
    assert_eq!(ids, [3, 4]);
    let ids: Vec<i64> = select(t.id).from(t).filter(t.a.is_distinct_from(1_i64)).order_by(t.id).fetch_all(&mut conn).await?;
    assert_eq!(ids, [4, 5]);
    Ok(())
});

backend_test!(async fn case_and_cast(db) {
    seed(&db).await?;
    let u = Users::table();
    let mut conn = db.conn().await?;
    let level = case::<String>().when(u.karma.ge(50), "high").when(u.karma.ge(10), "mid").otherwise("low");
    let team = case::<String>().on(u.team_id).when(1_i64, "core").when(2_i64, "web").end();
    let no_else = case::<i64>().when(u.karma.gt(100), lit(1_i64)).end();
    let rows: Vec<(String, String, Option<String>, Option<i64>)> =
        select((u.name, level.label("level"), team.label("team"), no_else.label("none")))
            .from(u)
            .order_by(u.id)
            .fetch_all(&mut conn)
            .await?;
    assert_eq!(
        rows,
        vec![
            ("ada".into(), "high".into(), Some("core".into()), None),
            ("bob".into(), "low".into(), Some("core".into()), None),
            ("cy".into(), "mid".into(), Some("web".into()), None),
            ("dee".into(), "low".into(), None, None),
        ]
    );
    // CASE in a filter and in ORDER BY.
    let ordered: Vec<String> = select(u.name)
        .from(u)
        .filter(case::<bool>().when(u.team_id.is_null(), true).otherwise(u.karma.gt(10)))
        .order_by(case::<i64>().when(u.name.eq("dee"), lit(0_i64)).otherwise(lit(1_i64)))
        .order_by(u.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(ordered, names(&["dee", "ada", "cy"]));

    // CAST between numbers and text.
    let row: (String, i64, f64, String, i32, f64) = select((
        u.karma.cast::<String>(),
        lit("42").cast::<i64>(),
        u.karma.cast::<f64>(),
        lit(2.5_f64).cast::<String>(),
        lit(7_i64).cast::<i32>(),
        lit("-1.25").cast::<f64>(),
    ))
    .from(u)
    .filter(u.id.eq(1))
    .fetch_one(&mut conn)
    .await?;
    assert_eq!(row, ("50".into(), 42, 50.0, "2.5".into(), 7, -1.25));
    let as_text: Vec<String> = select(u.id.cast::<String>().concat(":").concat(u.name)).from(u).order_by(u.id).fetch_all(&mut conn).await?;
    assert_eq!(as_text, names(&["1:ada", "2:bob", "3:cy", "4:dee"]));
    let null: Option<String> = select(null::<i64>().cast::<String>()).fetch_scalar(&mut conn).await?;
    assert_eq!(null, None);
    Ok(())
});

backend_test!(async fn coalesce_nullif_greatest_least(db) {
    let t = Pairs::table();
    db.create(MetaData::new().with(t)).await?;
    let mut conn = db.conn().await?;
    insert_into(t)
        .rows((t.a, t.b), [(Some(1_i64), Some(2_i64)), (Some(5), None), (None, Some(7)), (None, None), (Some(3), Some(3))])
        .execute(&mut conn)
        .await?;
    type Row = (Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let rows: Vec<Row> = select((
        coalesce(t.a, t.b),
        t.a.coalesce(t.b).coalesce(-1_i64),
        nullif(t.a, t.b),
        greatest(t.a, t.b),
        least(t.a, t.b),
        t.a.greatest(t.b).greatest(4_i64),
    ))
    .from(t)
    .order_by(t.id)
    .fetch_all(&mut conn)
    .await?;
    assert_eq!(
        rows,
        vec![
            (Some(1), Some(1), Some(1), Some(2), Some(1), Some(4)),
            (Some(5), Some(5), Some(5), Some(5), Some(5), Some(5)),
            (Some(7), Some(7), None, Some(7), Some(7), Some(7)),
            (None, Some(-1), None, None, None, Some(4)),
            (Some(3), Some(3), None, Some(3), Some(3), Some(4)),
        ]
    );
    // On literals and text.
    let row: (i64, Option<i64>, Option<i64>, Option<i64>, String, String) = select((
        coalesce(null::<i64>().cast::<i64>(), 7_i64),
        nullif(lit(5_i64), 5_i64),
        greatest(lit(3_i64), null::<i64>()),
        least(null::<i64>(), null::<i64>()),
        greatest(lit("apple"), "banana"),
        least(lit("apple"), "banana").least("aardvark"),
    ))
    .fetch_one(&mut conn)
    .await?;
    assert_eq!(row, (7, None, Some(3), None, "banana".into(), "aardvark".into()));
    Ok(())
});

// Plain Rust values stand where an expression of their type is expected and
// are bound as parameters "whose type the database infers from its context".
// When every operand of a CASE or COALESCE is such a parameter, the typed
// expression still says what the type is (`case::<i64>()`, `null::<i64>()`,
// "a typed SQL NULL"), and the query must run on every database.
backend_test!(async fn values_in_typed_case_and_coalesce(db) {
    let mut conn = db.conn().await?;
    let picked: i64 = select(case::<i64>().when(lit(1_i64).gt(0), 10_i64).otherwise(20_i64)).fetch_scalar(&mut conn).await?;
    assert_eq!(picked, 10);
    let none: Option<f64> = select(case::<f64>().when(lit(false), 1.5_f64).end()).fetch_scalar(&mut conn).await?;
    assert_eq!(none, None);
    let first: i64 = select(coalesce(null::<i64>(), 7_i64)).fetch_scalar(&mut conn).await?;
    assert_eq!(first, 7);
    let flag: bool = select(coalesce(null::<bool>(), true)).fetch_scalar(&mut conn).await?;
    assert!(flag);
    Ok(())
});

backend_test!(async fn distinct_and_distinct_on(db) {
    seed(&db).await?;
    let (u, p) = (Users::table(), Posts::table());
    let mut conn = db.conn().await?;
    let teams: Vec<Option<i64>> =
        select(u.team_id).from(u).distinct().order_by(u.team_id.asc().nulls_last()).fetch_all(&mut conn).await?;
    assert_eq!(teams, [Some(1), Some(2), None]);
    let pairs: Vec<(i64, bool)> =
        select((p.author_id, p.published)).from(p).distinct().order_by(p.author_id).order_by(p.published).fetch_all(&mut conn).await?;
    assert_eq!(pairs, vec![(1, true), (3, false), (3, true)]);
    let n: i64 = select(count_distinct(p.author_id)).from(p).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 2);

    // DISTINCT ON: each author's most liked post (PostgreSQL only).
    let best = select((p.author_id, p.title))
        .from(p)
        .distinct_on(p.author_id)
        .order_by(p.author_id)
        .order_by(p.likes.desc())
        .fetch_all::<(i64, String)>(&mut conn)
        .await;
    if let Some(best) = pg_only(&db, "DISTINCT ON", best)? {
        assert_eq!(best, vec![(1, "Engines".to_owned()), (3, "Styles".to_owned())]);
    }
    Ok(())
});

backend_test!(async fn order_by_nulls_first_last(db) {
    seed(&db).await?;
    let u = Users::table();
    let mut conn = db.conn().await?;
    let by = |item: quarry::expr::OrderBy| select(u.name).from(u).order_by(item).order_by(u.id);
    assert_eq!(by(u.team_id.asc().nulls_first()).fetch_all::<String>(&mut conn).await?, names(&["dee", "ada", "bob", "cy"]));
    assert_eq!(by(u.team_id.asc().nulls_last()).fetch_all::<String>(&mut conn).await?, names(&["ada", "bob", "cy", "dee"]));
    assert_eq!(by(u.team_id.desc().nulls_first()).fetch_all::<String>(&mut conn).await?, names(&["dee", "cy", "ada", "bob"]));
    assert_eq!(by(u.team_id.desc().nulls_last()).fetch_all::<String>(&mut conn).await?, names(&["cy", "ada", "bob", "dee"]));
    assert_eq!(by(u.email.desc().nulls_last()).fetch_all::<String>(&mut conn).await?, names(&["cy", "ada", "bob", "dee"]));
    // Several keys, an expression as a key, and the default direction (ascending).
    let rows: Vec<String> =
        select(u.name).from(u).order_by(u.team_id.desc().nulls_last()).order_by(u.karma.desc()).fetch_all(&mut conn).await?;
    assert_eq!(rows, names(&["cy", "ada", "bob", "dee"]));
    let rows: Vec<String> = select(u.name).from(u).order_by(-u.karma).fetch_all(&mut conn).await?;
    assert_eq!(rows, names(&["ada", "cy", "bob", "dee"]));
    let rows: Vec<String> = select(u.name).from(u).order_by(u.karma).fetch_all(&mut conn).await?;
    assert_eq!(rows, names(&["dee", "bob", "cy", "ada"]));
    Ok(())
});

backend_test!(async fn limit_and_offset(db) {
    seed(&db).await?;
    let u = Users::table();
    let mut conn = db.conn().await?;
    let base = || select(u.name).from(u).order_by(u.id);
    assert_eq!(base().limit(2).fetch_all::<String>(&mut conn).await?, names(&["ada", "bob"]));
    assert_eq!(base().limit(2).offset(1).fetch_all::<String>(&mut conn).await?, names(&["bob", "cy"]));
    assert_eq!(base().offset(2).fetch_all::<String>(&mut conn).await?, names(&["cy", "dee"]));
    assert_eq!(base().offset(3).limit(10).fetch_all::<String>(&mut conn).await?, names(&["dee"]));
    assert!(base().offset(4).fetch_all::<String>(&mut conn).await?.is_empty());
    assert!(base().limit(0).fetch_all::<String>(&mut conn).await?.is_empty());
    assert!(base().limit(5).offset(100).fetch_all::<String>(&mut conn).await?.is_empty());
    // Paging through every row, two at a time.
    let mut seen = Vec::new();
    for page in 0..3 {
        seen.extend(base().limit(2).offset(page * 2).fetch_all::<String>(&mut conn).await?);
    }
    assert_eq!(seen, names(&["ada", "bob", "cy", "dee"]));
    Ok(())
});

backend_test!(async fn group_by_having_and_aggregates(db) {
    seed(&db).await?;
    let (u, p) = (Users::table(), Posts::table());
    let mut conn = db.conn().await?;
    let q = select((
        u.name,
        count(p.id).label("posts"),
        count_star().filter(p.published).label("published"),
        sum(p.likes).label("likes"),
        avg(p.likes).label("mean"),
        min(p.likes).label("least"),
        max(p.likes).label("most"),
        sum(p.likes).filter(p.published).label("published_likes"),
    ))
    .from(u)
    .left_join(p, p.author_id.eq(u.id))
    .group_by(u.name)
    .order_by(u.name);
    type Row = (String, i64, i64, Option<i64>, Option<f64>, Option<i64>, Option<i64>, Option<i64>);
    let rows: Vec<Row> = q.fetch_all(&mut conn).await?;
    assert_eq!(
        rows,
        vec![
            ("ada".into(), 2, 2, Some(165), Some(82.5), Some(45), Some(120), Some(165)),
            ("bob".into(), 0, 0, None, None, None, None, None),
            ("cy".into(), 2, 1, Some(300), Some(150.0), Some(0), Some(300), Some(300)),
            ("dee".into(), 0, 0, None, None, None, None, None),
        ]
    );

    let having: Vec<(String, i64)> = select((u.name, sum(p.likes).coalesce(0_i64)))
        .from(u)
        .join(p, p.author_id.eq(u.id))
        .group_by(u.name)
        .having(sum(p.likes).gt(200).or(count_star().ge(2)))
        .having(max(p.likes).gt(100))
        .order_by(u.name)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(having, vec![("ada".into(), 165), ("cy".into(), 300)]);

    // Grouping by several keys and by an expression.
    let by_two: Vec<(Option<i64>, bool, i64)> = select((u.team_id, u.email.is_null(), count_star()))
        .from(u)
        .group_by((u.team_id, u.email.is_null()))
        .order_by(u.team_id.asc().nulls_first())
        .order_by(u.email.is_null())
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(by_two, vec![(None, true, 1), (Some(1), false, 1), (Some(1), true, 1), (Some(2), false, 1)]);

    // Over the whole table, and over no rows.
    let row: (i64, i64, i64, Option<i64>, Option<f64>, Option<i32>, Option<String>) = select((
        count_star(),
        count(u.email),
        count_distinct(u.team_id),
        sum(u.karma),
        avg(u.karma),
        max(u.karma),
        min(u.name),
    ))
    .from(u)
    .fetch_one(&mut conn)
    .await?;
    assert_eq!(row, (4, 2, 2, Some(75), Some(18.75), Some(50), Some("ada".into())));
    let empty: (i64, Option<i64>, Option<f64>, Option<i32>) =
        select((count_star(), sum(u.karma), avg(u.karma), min(u.karma))).from(u).filter(u.id.gt(100)).fetch_one(&mut conn).await?;
    assert_eq!(empty, (0, None, None, None));
    // sum and avg of floats, count(DISTINCT) with FILTER.
    let floats: (Option<f64>, Option<f64>, i64) = select((
        sum(u.karma.cast::<f64>() / 2.0),
        avg(u.karma.cast::<f64>()),
        count_distinct(u.team_id).filter(u.karma.gt(1)),
    ))
    .from(u)
    .fetch_one(&mut conn)
    .await?;
    assert_eq!(floats, (Some(37.5), Some(18.75), 2));
    // Large integer sums stay exact.
    let big: Option<i64> = select(sum(p.likes * 1_000_000_000_000_i64)).from(p).fetch_scalar(&mut conn).await?;
    assert_eq!(big, Some(465_000_000_000_000));
    Ok(())
});

backend_test!(async fn window_functions(db) {
    seed(&db).await?;
    let (u, p) = (Users::table(), Posts::table());
    let mut conn = db.conn().await?;
    let by_author = || Window::new().partition_by(p.author_id).order_by(p.id);
    type Row = (String, i64, i64, Option<i64>, Option<i64>, i64);
    let rows: Vec<Row> = select((
        p.title,
        row_number().over(by_author()).label("nth"),
        sum(p.likes).over(by_author().rows_between(FrameBound::UnboundedPreceding, FrameBound::CurrentRow)).label("running"),
        lag(p.likes, 1).over(by_author()).label("previous"),
        lead(p.likes, 1).over(by_author()).label("next"),
        count_star().over(Window::new().partition_by(p.author_id)).label("of"),
    ))
    .from(p)
    .order_by(p.id)
    .fetch_all(&mut conn)
    .await?;
    assert_eq!(
        rows,
        vec![
            ("Engines".into(), 1, 120, None, Some(45), 2),
            ("Numbers".into(), 2, 165, Some(120), None, 2),
            ("Styles".into(), 1, 300, None, Some(0), 2),
            ("Draft".into(), 2, 300, Some(300), None, 2),
        ]
    );

    // Ranks with ties: karma 5, 5, 20, 50, 50, 0 after adding two users.
    insert_into(u).rows((u.name, u.karma), [("eve", 5), ("fay", 50)]).execute(&mut conn).await?;
    let w = || Window::new().order_by(u.karma.desc());
    let ranks: Vec<(String, i64, i64, i64, i64)> = select((
        u.name,
        row_number().over(w().order_by(u.id)),
        rank().over(w()),
        dense_rank().over(w()),
        ntile(2).over(w().order_by(u.id)).cast::<i64>(),
    ))
    .from(u)
    .order_by(u.karma.desc())
    .order_by(u.id)
    .fetch_all(&mut conn)
    .await?;
    assert_eq!(
        ranks,
        vec![
            ("ada".into(), 1, 1, 1, 1),
            ("fay".into(), 2, 1, 1, 1),
            ("cy".into(), 3, 3, 2, 1),
            ("bob".into(), 4, 4, 3, 2),
            ("eve".into(), 5, 4, 3, 2),
            ("dee".into(), 6, 6, 4, 2),
        ]
    );

    // Frames: a moving sum over the previous and next row, RANGE with ties,
    // lag/lead by two, first_value/last_value over the whole partition.
    let ordered = || Window::new().order_by(u.id);
    type Frames = (String, Option<i64>, Option<i64>, Option<i32>, Option<i32>, String, String);
    let frames: Vec<Frames> = select((
        u.name,
        sum(u.karma).over(ordered().rows_between(FrameBound::preceding(1), FrameBound::following(1))),
        sum(u.karma).over(Window::new().order_by(u.karma).range_between(FrameBound::UnboundedPreceding, FrameBound::CurrentRow)),
        lag(u.karma, 2).over(ordered()),
        lead(u.karma, 2).over(ordered()),
        first_value(u.name).over(ordered().rows_between(FrameBound::UnboundedPreceding, FrameBound::UnboundedFollowing)),
        last_value(u.name).over(ordered().rows_between(FrameBound::UnboundedPreceding, FrameBound::UnboundedFollowing)),
    ))
    .from(u)
    .order_by(u.id)
    .fetch_all(&mut conn)
    .await?;
    // karma by id: ada 50, bob 5, cy 20, dee 0, eve 5, fay 50.
    assert_eq!(
        frames,
        vec![
            ("ada".into(), Some(55), Some(130), None, Some(20), "ada".into(), "fay".into()),
            ("bob".into(), Some(75), Some(10), None, Some(0), "ada".into(), "fay".into()),
            ("cy".into(), Some(25), Some(30), Some(50), Some(5), "ada".into(), "fay".into()),
            ("dee".into(), Some(25), Some(0), Some(5), Some(50), "ada".into(), "fay".into()),
            ("eve".into(), Some(55), Some(10), Some(20), None, "ada".into(), "fay".into()),
            ("fay".into(), Some(55), Some(130), Some(0), None, "ada".into(), "fay".into()),
        ]
    );
    Ok(())
});

backend_test!(async fn subqueries(db) {
    seed(&db).await?;
    let (t, u, p) = (Teams::table(), Users::table(), Posts::table());
    let mut conn = db.conn().await?;

    // Scalar subqueries: uncorrelated in a filter, correlated in the select list.
    let above: Vec<String> = select(u.name)
        .from(u)
        .filter(u.karma.cast::<f64>().gt(select(avg(u.karma)).from(u).scalar::<f64>()))
        .order_by(u.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(above, names(&["ada", "cy"]));
    let p2 = Posts::alias("p2");
    let counts: Vec<(String, i64)> = select((u.name, select(count_star()).from(p2).filter(p2.author_id.eq(u.id)).scalar::<i64>()))
        .from(u)
        .order_by(u.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(counts, vec![("ada".into(), 2), ("bob".into(), 0), ("cy".into(), 2), ("dee".into(), 0)]);
    let none: Option<i64> = select(select(p.id).from(p).filter(p.likes.gt(1000)).scalar::<Option<i64>>()).fetch_scalar(&mut conn).await?;
    assert_eq!(none, None, "a scalar subquery with no row is NULL");

    // IN, EXISTS and NOT EXISTS, correlated.
    let with_posts: Vec<String> = select(u.name)
        .from(u)
        .filter(exists(select(p.id).from(p).filter(p.author_id.eq(u.id).and(p.published))))
        .order_by(u.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(with_posts, names(&["ada", "cy"]));
    let silent: Vec<String> = select(u.name)
        .from(u)
        .filter(not_exists(select(p.id).from(p).filter(p.author_id.eq(u.id))))
        .order_by(u.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(silent, names(&["bob", "dee"]));
    let in_core: Vec<String> = select(p.title)
        .from(p)
        .filter(p.author_id.in_subquery(select(u.id).from(u).filter(u.team_id.in_subquery(select(t.id).from(t).filter(t.name.eq("core"))))))
        .order_by(p.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(in_core, names(&["Engines", "Numbers"]));
    // Correlated subquery comparing with the outer row: each author's best post.
    let best: Vec<String> = select(p.title)
        .from(p)
        .filter(p.likes.eq(select(max(p2.likes)).from(p2).filter(p2.author_id.eq(p.author_id)).scalar::<Option<i64>>()))
        .order_by(p.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(best, names(&["Engines", "Styles"]));

    // Derived tables, with and without a column list.
    let per_author = select((p.author_id, count_star(), sum(p.likes)))
        .from(p)
        .group_by(p.author_id)
        .subquery("per_author")
        .with_columns(["author_id", "n", "likes"]);
    let n = per_author.col::<i64>("n");
    let rows: Vec<(String, i64, i64)> = select((u.name, n.clone(), per_author.col::<i64>("likes")))
        .from(u)
        .join(&per_author, per_author.col::<i64>("author_id").eq(u.id))
        .filter(n.ge(2))
        .order_by(u.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(rows, vec![("ada".into(), 2, 165), ("cy".into(), 2, 300)]);
    let labelled = select((u.team_id.label("team"), max(u.karma).label("top"))).from(u).group_by(u.team_id).subquery("tops");
    let tops: Vec<(i64, i32)> = select((labelled.col::<i64>("team"), labelled.col::<i32>("top")))
        .from(&labelled)
        .filter(labelled.col::<Option<i64>>("team").is_not_null())
        .order_by(labelled.col::<i64>("team"))
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(tops, vec![(1, 50), (2, 20)]);
    Ok(())
});

quarry::table! {
    struct Employees("employees") {
        id: i64 [primary_key],
        name: String,
        manager_id: Option<i64> [references("employees", "id")],
    }
}

backend_test!(async fn common_table_expressions(db) {
    seed(&db).await?;
    let (u, p) = (Users::table(), Posts::table());
    let mut conn = db.conn().await?;

    // One CTE, then two (the second reading the first).
    let liked = select((p.author_id, sum(p.likes).label("likes"))).from(p).group_by(p.author_id).cte("liked");
    let rows: Vec<(String, i64)> = select((u.name, liked.col::<i64>("likes")))
        .from(u)
        .join(&liked, liked.col::<i64>("author_id").eq(u.id))
        .order_by(liked.col::<i64>("likes").desc())
        .with(liked.clone())
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(rows, vec![("cy".into(), 300), ("ada".into(), 165)]);
    let popular = select(liked.col::<i64>("author_id")).from(&liked).filter(liked.col::<i64>("likes").gt(200)).cte("popular");
    let rows: Vec<String> = select(u.name)
        .from(u)
        .filter(u.id.in_subquery(select(popular.col::<i64>("author_id")).from(&popular)))
        .with(liked)
        .with(popular)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(rows, names(&["cy"]));

    // A recursive counter: 1 to 100, summed.
    let numbers = table_named("numbers");
    let n = numbers.col::<i64>("n");
    let body = select(lit(1_i64)).union_all(select(n.clone() + 1).from(&numbers).filter(n.clone().lt(100)));
    let (count, total): (i64, Option<i64>) = select((count_star(), sum(n.clone())))
        .from(&numbers)
        .with(body.cte("numbers").columns(["n"]).recursive())
        .fetch_one(&mut conn)
        .await?;
    assert_eq!((count, total), (100, Some(5050)));

    // A recursive tree walk: everyone under the root, with their depth and path.
    let e = Employees::table();
    db.create(MetaData::new().with(e)).await?;
    insert_into(e)
        .rows(
            (e.name, e.manager_id),
            [("root", None), ("a", Some(1_i64)), ("b", Some(1)), ("a1", Some(2)), ("a2", Some(2)), ("a1x", Some(4))],
        )
        .execute(&mut conn)
        .await?;
    let tree = table_named("tree");
    let (tid, depth, path) = (tree.col::<i64>("id"), tree.col::<i64>("depth"), tree.col::<String>("path"));
    let base = select((e.id, lit(0_i64), lit("root"))).from(e).filter(e.manager_id.is_null());
    let step = select((e.id, depth.clone() + 1, path.clone().concat("/").concat(e.name)))
        .from(e)
        .join(&tree, e.manager_id.eq(tid.clone()));
    let walk: Vec<(i64, i64, String)> = select((tid.clone(), depth.clone(), path.clone()))
        .from(&tree)
        .with(base.union_all(step).cte("tree").columns(["id", "depth", "path"]).recursive())
        .order_by(path.clone())
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(
        walk,
        vec![
            (1, 0, "root".into()),
            (2, 1, "root/a".into()),
            (4, 2, "root/a/a1".into()),
            (6, 3, "root/a/a1/a1x".into()),
            (5, 2, "root/a/a2".into()),
            (3, 1, "root/b".into()),
        ]
    );
    Ok(())
});

backend_test!(async fn set_operations(db) {
    seed(&db).await?;
    let (t, u, p) = (Teams::table(), Users::table(), Posts::table());
    let mut conn = db.conn().await?;

    let names_union: Vec<String> =
        select(u.name.label("name")).from(u).filter(u.karma.ge(20)).union(select(t.name).from(t)).order_by(col("name")).fetch_all(&mut conn).await?;
    assert_eq!(names_union, names(&["ada", "core", "cy", "web"]));
    let authors: Vec<i64> = select(p.author_id).from(p).union(select(p.author_id).from(p)).order_by(col("author_id")).fetch_all(&mut conn).await?;
    assert_eq!(authors, [1, 3], "UNION removes duplicates");
    let all: Vec<i64> = select(p.author_id).from(p).union_all(select(u.id).from(u).filter(u.id.eq(2))).order_by(col("author_id")).fetch_all(&mut conn).await?;
    assert_eq!(all, [1, 1, 2, 3, 3]);
    let both: Vec<i64> = select(u.id).from(u).intersect(select(p.author_id).from(p)).order_by(col("id")).fetch_all(&mut conn).await?;
    assert_eq!(both, [1, 3]);
    let without: Vec<i64> = select(u.id).from(u).except(select(p.author_id).from(p)).order_by(col("id")).fetch_all(&mut conn).await?;
    assert_eq!(without, [2, 4]);
    // Chained, with LIMIT and OFFSET on the whole.
    let chained: Vec<i64> = select(u.id)
        .from(u)
        .except(select(p.author_id).from(p))
        .union(select(lit(10_i64)))
        .order_by(col("id").desc())
        .limit(2)
        .offset(1)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(chained, [4, 2]);

    // Operands with their own ORDER BY and LIMIT.
    let top: Vec<String> = select(u.name)
        .from(u)
        .order_by(u.karma.desc())
        .limit(2)
        .union_all(select(t.name).from(t).order_by(t.name.desc()).limit(1))
        .order_by(col("name"))
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(top, names(&["ada", "cy", "web"]));

    // INTERSECT ALL and EXCEPT ALL keep duplicates (PostgreSQL only).
    let authors_twice = select(p.author_id).from(p);
    let result = authors_twice.clone().intersect_all(select(p.author_id).from(p).filter(p.likes.gt(40))).fetch_all::<i64>(&mut conn).await;
    if let Some(mut rows) = pg_only(&db, "INTERSECT ALL", result)? {
        rows.sort();
        assert_eq!(rows, [1, 1, 3]);
    }
    let result = authors_twice.except_all(select(p.author_id).from(p).filter(p.likes.gt(100))).fetch_all::<i64>(&mut conn).await;
    if let Some(mut rows) = pg_only(&db, "EXCEPT ALL", result)? {
        rows.sort();
        assert_eq!(rows, [1, 3]);
    }
    Ok(())
});

backend_test!(async fn raw_fragments_and_text(db) {
    seed(&db).await?;
    let u = Users::table();
    let mut conn = db.conn().await?;
    let rows: Vec<(String, String)> = select((col("name"), raw("upper(name)")))
        .from(u)
        .filter(raw("karma BETWEEN :lo AND :hi").bind("lo", 10).bind("hi", 60))
        .order_by(col("name"))
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(rows, vec![("ada".into(), "ADA".into()), ("cy".into(), "CY".into())]);
    // A typed raw fragment mixed with typed conditions; a parameter used twice.
    let karma = raw("karma * :k + :k").bind("k", 2).typed::<i64>();
    let found: Vec<i64> = select(karma.clone().expr()).from(u).filter(karma.expr().gt(50).and(u.id.lt(4))).order_by(u.id).fetch_all(&mut conn).await?;
    assert_eq!(found, [102]);
    // Raw text with quotes and a colon inside a literal is left alone.
    let s: String = select(raw("'a:b ''c'' :d'")).fetch_scalar(&mut conn).await?;
    assert_eq!(s, "a:b 'c' :d");
    // A raw FROM item.
    let n: i64 = select(count_star()).from_raw(raw("users WHERE team_id = :team").bind("team", 1)).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 2);

    // Whole statements with text().
    let n = text("UPDATE users SET karma = karma + :d WHERE team_id = :team").bind("d", 1).bind("team", 1).execute(&mut conn).await?;
    assert_eq!(n, 2);
    let q = text("SELECT name, karma FROM users WHERE karma > :k OR name = :name ORDER BY id").bind("k", 10).bind("name", "dee").read_only();
    let rows: Vec<(String, i64)> = q.fetch_all(&mut conn).await?;
    assert_eq!(rows, vec![("ada".into(), 51), ("cy".into(), 20), ("dee".into(), 0)]);
    let n: i64 = text("SELECT count(*) FROM users WHERE karma > :k OR karma = :k").bind("k", 6).read_only().fetch_scalar(&mut conn).await?;
    assert_eq!(n, 3);
    let id: i64 = text("INSERT INTO users (name, karma) VALUES (:name, :karma) RETURNING id")
        .bind("name", "it's")
        .bind("karma", 3)
        .fetch_scalar(&mut conn)
        .await?;
    assert_eq!(id, 5);
    let name: String = select(u.name).from(u).filter(u.id.eq(id)).fetch_scalar(&mut conn).await?;
    assert_eq!(name, "it's");
    // Binding mistakes are compile errors, before anything is sent.
    expect_kind(text("SELECT :a, :b").bind("a", 1).fetch_all::<(i64, i64)>(&mut conn).await, ErrorKind::Compile);
    expect_kind(text("SELECT 1").bind("a", 1).fetch_all::<i64>(&mut conn).await, ErrorKind::Compile);
    Ok(())
});

// A bare bound value in the select list is typed (`CAST($1 AS BIGINT)` on
// PostgreSQL, which would otherwise infer `text` for a parameter with
// nothing around it), so it decodes as what was bound.
backend_test!(async fn bare_values_in_the_select_list_keep_their_type(db) {
    let mut conn = db.conn().await?;
    let row: (i64, String, f64, bool, i32) = select((
        value(1_i64 << 40),
        value("text"),
        value(2.5_f64),
        value(true),
        value(7_i32).label("seven"),
    ))
    .fetch_one(&mut conn)
    .await?;
    assert_eq!(row, (1_i64 << 40, "text".to_owned(), 2.5, true, 7));
    Ok(())
});

// Prepared statements (`param()` + `prepare()` + `bind()`): compiled once,
// run with new values on connections and transactions, shared by tasks.
backend_test!(async fn prepared_statements_run_with_new_values(db) {
    seed(&db).await?;
    let u = Users::table();
    let by_karma =
        db.engine.prepare(select((u.id, u.name)).from(u).filter(u.karma.ge(param::<i32>("min"))).order_by(u.id))?;
    let mut conn = db.conn().await?;
    let high: Vec<(i64, String)> = by_karma.bind("min", 20).fetch_all(&mut conn).await?;
    assert_eq!(high, vec![(1, "ada".to_owned()), (3, "cy".to_owned())]);
    let everyone: Vec<(i64, String)> = by_karma.bind("min", 0).fetch_all(&mut conn).await?;
    assert_eq!(everyone.len(), 4);

    let bump = db.engine.prepare(
        update(u).set(u.karma, u.karma + param::<i32>("by")).filter(u.id.eq(param::<i64>("id"))).returning(u.karma),
    )?;
    let mut tx = conn.begin().await?;
    let karma: i32 = bump.bind("by", 5).bind("id", 2_i64).fetch_scalar(&mut tx).await?;
    assert_eq!(karma, 10, "bob had 5");
    tx.commit().await?;

    // Shared by tasks, each on its own connection.
    let tasks: Vec<_> = (1..=4_i64)
        .map(|id| {
            let (engine, bump) = (db.engine.clone(), bump.clone());
            tokio::spawn(async move {
                let mut conn = engine.acquire().await?;
                bump.bind("id", id).bind("by", 1).fetch_scalar::<i32>(&mut conn).await
            })
        })
        .collect();
    let mut after = Vec::new();
    for task in tasks {
        after.push(task.await.expect("a task panicked")?);
    }
    assert_eq!(after, vec![51, 11, 21, 1]);

    // A value missing, or one for no parameter: refused before anything is sent.
    let err = by_karma.bound().fetch_all::<(i64, String)>(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Compile, "{err}");
    let err = by_karma.bind("min", 0).bind("max", 9).fetch_all::<(i64, String)>(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Compile, "{err}");
    Ok(())
});

// A prepared select carries its select list's names: structs decode by
// them, with columns and labels in any order, one row or many; a label
// that names no field is an error naming the field.
backend_test!(async fn prepared_selects_decode_structs_by_the_select_lists_names(db) {
    seed(&db).await?;
    let u = Users::table();
    #[derive(Debug, PartialEq, FromRow)]
    struct Person {
        id: i64,
        name: String,
        score: i32,
    }
    let in_order = db.engine.prepare(
        select((u.id, u.name, (u.karma * 2).label("score"))).from(u).filter(u.id.le(param::<i64>("max"))).order_by(u.id),
    )?;
    let reordered = db.engine.prepare(
        select(((u.karma * 2).label("score"), u.id, u.name)).from(u).filter(u.id.le(param::<i64>("max"))).order_by(u.id),
    )?;
    let mut conn = db.conn().await?;
    let expected = vec![
        Person { id: 1, name: "ada".into(), score: 100 },
        Person { id: 2, name: "bob".into(), score: 10 },
        Person { id: 3, name: "cy".into(), score: 40 },
    ];
    for stmt in [&in_order, &reordered] {
        assert_eq!(stmt.bind("max", 3_i64).fetch_all::<Person>(&mut conn).await?, expected);
        assert_eq!(stmt.bind("max", 1_i64).fetch_one::<Person>(&mut conn).await?, expected[0]);
    }
    let mislabelled = db.engine.prepare(
        select((u.id, u.name, (u.karma * 2).label("points"))).from(u).filter(u.id.le(param::<i64>("max"))),
    )?;
    let err = mislabelled.bind("max", 1_i64).fetch_one::<Person>(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("no column `score`"), "{err}");
    Ok(())
});

// A prepared select remembers, across its runs, which fields it found at
// their columns, for the first type decoded from it only: another type
// with the same field names in another order is still matched by name, on
// every run, before and after, one row or many.
backend_test!(async fn prepared_selects_keep_their_name_checks_per_type(db) {
    seed(&db).await?;
    let u = Users::table();
    #[derive(Debug, PartialEq, FromRow)]
    struct InOrder {
        id: i64,
        name: String,
    }
    #[derive(Debug, PartialEq, FromRow)]
    struct Swapped {
        name: String,
        id: i64,
    }
    #[derive(Debug, PartialEq, FromRow)]
    struct Misnamed {
        id: i64,
        nom: String,
    }
    let mut conn = db.conn().await?;
    for swapped_first in [false, true] {
        let by_id = db.engine.prepare(select((u.id, u.name)).from(u).filter(u.id.le(param::<i64>("max"))).order_by(u.id))?;
        for round in 0..3 {
            let run = |first: bool| (swapped_first, round, first);
            if swapped_first {
                let one: Swapped = by_id.bind("max", 1_i64).fetch_one(&mut conn).await?;
                assert_eq!(one, Swapped { name: "ada".into(), id: 1 }, "{:?}", run(true));
            }
            let one: InOrder = by_id.bind("max", 1_i64).fetch_one(&mut conn).await?;
            assert_eq!(one, InOrder { id: 1, name: "ada".into() }, "{:?}", run(false));
            let all: Vec<InOrder> = by_id.bind("max", 2_i64).fetch_all(&mut conn).await?;
            assert_eq!(all, vec![InOrder { id: 1, name: "ada".into() }, InOrder { id: 2, name: "bob".into() }]);
            let all: Vec<Swapped> = by_id.bind("max", 2_i64).fetch_all(&mut conn).await?;
            assert_eq!(all, vec![Swapped { name: "ada".into(), id: 1 }, Swapped { name: "bob".into(), id: 2 }]);
            let err = by_id.bind("max", 1_i64).fetch_one::<Misnamed>(&mut conn).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
            assert!(err.to_string().contains("no column `nom`"), "{err}");
        }
    }
    Ok(())
});
