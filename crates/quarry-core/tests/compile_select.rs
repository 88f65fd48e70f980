//! The SQL of each query construct, for both dialects side by side: exact
//! text and exact parameters.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

mod common;

use common::*;
use quarry_core::StatementKind;
use quarry_core::ast::FrameBound;
use quarry_core::prelude::*;
use quarry_core::statement::Select;

fn i32v(v: i32) -> Value {
    Value::I32(v)
}
fn i64v(v: i64) -> Value {
    Value::I64(v)
}

// ---------------------------------------------------------------- operators

#[test]
fn comparison_operators() {
    let u = Users::table();
    let q = select(u.id)
        .from(u)
        .filter(u.karma.eq(1))
        .filter(u.karma.ne(2))
        .filter(u.karma.lt(3))
        .filter(u.karma.le(4))
        .filter(u.karma.gt(5))
        .filter(u.karma.ge(6));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."karma" = $1 AND "users"."karma" <> $2 AND "users"."karma" < $3 AND "users"."karma" <= $4 AND "users"."karma" > $5 AND "users"."karma" >= $6"#,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."karma" = ?1 AND "users"."karma" <> ?2 AND "users"."karma" < ?3 AND "users"."karma" <= ?4 AND "users"."karma" > ?5 AND "users"."karma" >= ?6"#,
        &[i32v(1), i32v(2), i32v(3), i32v(4), i32v(5), i32v(6)],
    );
    sqlite_prepares(&q);
}

#[test]
fn column_compared_with_column() {
    let (u, o) = (Users::table(), Orders::table());
    let q = select(o.id).from(o).join(u, o.user_id.eq(u.id));
    check_same_params(
        &q,
        r#"SELECT "orders"."id" FROM "orders" JOIN "users" ON "orders"."user_id" = "users"."id""#,
        r#"SELECT "orders"."id" FROM "orders" JOIN "users" ON "orders"."user_id" = "users"."id""#,
        &[],
    );
}

#[test]
fn arithmetic_operators_and_precedence() {
    let u = Users::table();
    let q = select(((u.karma + 1) * 2 - u.karma / 3 % 4).label("x")).from(u).filter((-u.karma).gt(-(u.karma + 5)));
    check_same_params(
        &q,
        r#"SELECT (("users"."karma" + $1) * $2) - (("users"."karma" / $3) % $4) AS "x" FROM "users" WHERE -"users"."karma" > -("users"."karma" + $5)"#,
        r#"SELECT (("users"."karma" + ?1) * ?2) - (("users"."karma" / ?3) % ?4) AS "x" FROM "users" WHERE -"users"."karma" > -("users"."karma" + ?5)"#,
        &[i32v(1), i32v(2), i32v(3), i32v(4), i32v(5)],
    );
    sqlite_prepares(&q);
}

#[test]
fn left_nested_subtraction_is_parenthesised() {
    // (a - b) - c and a - (b - c) must both survive.
    let u = Users::table();
    let q = select(((u.karma - 1) - (u.karma - 2)).label("d")).from(u);
    check_same_params(
        &q,
        r#"SELECT ("users"."karma" - $1) - ("users"."karma" - $2) AS "d" FROM "users""#,
        r#"SELECT ("users"."karma" - ?1) - ("users"."karma" - ?2) AS "d" FROM "users""#,
        &[i32v(1), i32v(2)],
    );
}

#[test]
fn string_concatenation() {
    let u = Users::table();
    let q = select(u.name.concat("-").concat(u.name).label("n")).from(u);
    check_same_params(
        &q,
        r#"SELECT ("users"."name" || $1) || "users"."name" AS "n" FROM "users""#,
        r#"SELECT ("users"."name" || ?1) || "users"."name" AS "n" FROM "users""#,
        &[t("-")],
    );
}

#[test]
fn and_or_not() {
    let u = Users::table();
    let e = u.karma.gt(1).and(u.active).or(not_(u.name.eq("x"))).and(!(u.karma.lt(0) | u.karma.gt(9)));
    let q = select(u.id).from(u).filter(e);
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE (("users"."karma" > $1 AND "users"."active") OR NOT "users"."name" = $2) AND NOT ("users"."karma" < $3 OR "users"."karma" > $4)"#,
        r#"SELECT "users"."id" FROM "users" WHERE (("users"."karma" > ?1 AND "users"."active") OR NOT "users"."name" = ?2) AND NOT ("users"."karma" < ?3 OR "users"."karma" > ?4)"#,
        &[i32v(1), t("x"), i32v(0), i32v(9)],
    );
    sqlite_prepares(&q);
}

#[test]
fn or_inside_and_is_parenthesised() {
    let u = Users::table();
    let e = u.active.and(u.karma.eq(1).or(u.karma.eq(2)));
    let q = select(u.id).from(u).filter(e);
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."active" AND ("users"."karma" = $1 OR "users"."karma" = $2)"#,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."active" AND ("users"."karma" = ?1 OR "users"."karma" = ?2)"#,
        &[i32v(1), i32v(2)],
    );
}

#[test]
fn and_or_of_lists() {
    let u = Users::table();
    let q = select(u.id).from(u).filter(and_([u.active.eq(true), or_([u.karma.eq(1), u.karma.eq(2)])]));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."active" = $1 AND ("users"."karma" = $2 OR "users"."karma" = $3)"#,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."active" = ?1 AND ("users"."karma" = ?2 OR "users"."karma" = ?3)"#,
        &[Value::Bool(true), i32v(1), i32v(2)],
    );
    // Empty lists are the identity of their operator.
    let empty = select(u.id).from(u).filter(and_(Vec::<Expr<bool>>::new()).and(or_(Vec::<Expr<bool>>::new())));
    check(
        &empty,
        r#"SELECT "users"."id" FROM "users" WHERE CAST($1 AS BOOLEAN) AND CAST($2 AS BOOLEAN)"#,
        &[Value::Bool(true), Value::Bool(false)],
        r#"SELECT "users"."id" FROM "users" WHERE ?1 AND ?2"#,
        &[Value::Bool(true), Value::Bool(false)],
    );
}

#[test]
fn long_or_lists_are_balanced() {
    let u = Users::table();
    let q = select(u.id).from(u).filter(or_((0..100).map(|i| u.karma.eq(i))));
    let c = lite(&q);
    assert_eq!(c.params.len(), 100);
    // 100 terms split into two parenthesised halves of 50.
    assert!(c.sql.starts_with(r#"SELECT "users"."id" FROM "users" WHERE ("users"."karma" = ?1 OR "#), "{}", c.sql);
    assert!(c.sql.contains(r#""users"."karma" = ?50) OR ("users"."karma" = ?51 OR"#), "{}", c.sql);
    assert!(c.sql.ends_with(r#""users"."karma" = ?100)"#), "{}", c.sql);
    sqlite_prepares(&q);
}

#[test]
fn is_null_and_is_not_null() {
    let u = Users::table();
    let q = select(u.id).from(u).filter(u.email.is_null().or(u.team_id.is_not_null()));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."email" IS NULL OR "users"."team_id" IS NOT NULL"#,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."email" IS NULL OR "users"."team_id" IS NOT NULL"#,
        &[],
    );
    // An arithmetic operand stays bare; a predicate operand is parenthesised.
    let q = select(u.id).from(u).filter((u.karma + 1).is_null().and(u.active.eq(true).is_not_null()));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."karma" + $1 IS NULL AND ("users"."active" = $2) IS NOT NULL"#,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."karma" + ?1 IS NULL AND ("users"."active" = ?2) IS NOT NULL"#,
        &[i32v(1), Value::Bool(true)],
    );
    sqlite_prepares(&q);
}

#[test]
fn is_distinct_from() {
    let u = Users::table();
    let q = select(u.id).from(u).filter(u.email.is_distinct_from("a").and(u.team_id.is_not_distinct_from(u.id)));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."email" IS DISTINCT FROM $1 AND "users"."team_id" IS NOT DISTINCT FROM "users"."id""#,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."email" IS DISTINCT FROM ?1 AND "users"."team_id" IS NOT DISTINCT FROM "users"."id""#,
        &[t("a")],
    );
    sqlite_prepares(&q);
}

#[test]
fn in_values_binds_one_array_on_postgres() {
    let u = Users::table();
    let q = select(u.id).from(u).filter(u.id.in_([1_i64, 2, 3]).and(u.karma.not_in([7_i32])));
    check(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."id" = ANY($1) AND "users"."karma" <> ALL($2)"#,
        &[Value::Array(vec![i64v(1), i64v(2), i64v(3)].into()), Value::Array(vec![i32v(7)].into())],
        r#"SELECT "users"."id" FROM "users" WHERE "users"."id" IN (?1, ?2, ?3) AND "users"."karma" NOT IN (?4)"#,
        &[i64v(1), i64v(2), i64v(3), i32v(7)],
    );
    sqlite_prepares(&q);
}

#[test]
fn in_values_empty() {
    let u = Users::table();
    let q = select(u.id).from(u).filter(u.id.in_(Vec::<i64>::new()));
    check(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."id" = ANY($1)"#,
        &[Value::Array(Vec::new().into())],
        r#"SELECT "users"."id" FROM "users" WHERE (1 = 0)"#,
        &[],
    );
    sqlite_prepares(&q);
}

#[test]
fn in_expression_list() {
    let u = Users::table();
    let q = select(u.id).from(u).filter(u.id.in_exprs([u.team_id.expr().assume::<i64>(), value(5_i64)]));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."id" IN ("users"."team_id", $1)"#,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."id" IN ("users"."team_id", ?1)"#,
        &[i64v(5)],
    );
}

#[test]
fn in_empty_expression_list_is_false() {
    // `IN ()` is not PostgreSQL syntax: an empty list is written as the
    // constant it evaluates to; on SQLite as a comparison, which its parser
    // does not fold into an integer.
    let u = Users::table();
    let q = select(u.id).from(u).filter(u.id.in_exprs(Vec::<Expr<i64>>::new()));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE FALSE"#,
        r#"SELECT "users"."id" FROM "users" WHERE (1 = 0)"#,
        &[],
    );
    sqlite_prepares(&q);
}

#[test]
fn empty_in_list_in_order_by_is_not_a_column_number_on_sqlite() {
    // SQLite folds `p AND FALSE` (and `p AND x IN ()`) to the integer 0
    // while parsing, and an integer ORDER BY or GROUP BY term is a column
    // number ("1st ORDER BY term out of range").
    let u = Users::table();
    let term = u.id.gt(1_i64).and(u.id.in_exprs(Vec::<Expr<i64>>::new()));
    let q = select(u.id)
        .from(u)
        .group_by(term.clone())
        .order_by(term)
        .order_by(u.id.gt(1_i64).and(u.id.in_(Vec::<i64>::new())))
        .order_by(u.id.not_in(Vec::<i64>::new()));
    let lite = r#"SELECT "users"."id" FROM "users" GROUP BY "users"."id" > ?1 AND (1 = 0) ORDER BY "users"."id" > ?2 AND (1 = 0), "users"."id" > ?3 AND (1 = 0), (1 = 1)"#;
    assert_eq!(q.compile(&Sqlite).unwrap().sql, lite);
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE users (id INTEGER); INSERT INTO users VALUES (1), (2);").unwrap();
    let mut stmt = conn.prepare(lite).expect("SQLite reads the empty IN as a predicate");
    let ids: Vec<i64> = stmt.query_map([1_i64, 1_i64, 1_i64], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(ids.len(), 1, "one group: every row's term is false");
}

#[test]
fn in_subquery() {
    let (u, o) = (Users::table(), Orders::table());
    let q = select(u.id)
        .from(u)
        .filter(u.id.in_subquery(select(o.user_id).from(o).filter(o.amount.gt(10.0))))
        .filter(u.id.not_in_subquery(select(o.user_id).from(o)));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."id" IN (SELECT "orders"."user_id" FROM "orders" WHERE "orders"."amount" > $1) AND "users"."id" NOT IN (SELECT "orders"."user_id" FROM "orders")"#,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."id" IN (SELECT "orders"."user_id" FROM "orders" WHERE "orders"."amount" > ?1) AND "users"."id" NOT IN (SELECT "orders"."user_id" FROM "orders")"#,
        &[Value::F64(10.0)],
    );
    sqlite_prepares(&q);
}

#[test]
fn between() {
    let u = Users::table();
    let q = select(u.id).from(u).filter(u.karma.between(1, 10).or(u.karma.not_between(u.karma - 1, 20)));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."karma" BETWEEN $1 AND $2 OR "users"."karma" NOT BETWEEN "users"."karma" - $3 AND $4"#,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."karma" BETWEEN ?1 AND ?2 OR "users"."karma" NOT BETWEEN "users"."karma" - ?3 AND ?4"#,
        &[i32v(1), i32v(10), i32v(1), i32v(20)],
    );
    sqlite_prepares(&q);
}

#[test]
fn like_and_not_like() {
    let u = Users::table();
    let q = select(u.id).from(u).filter(u.name.like("a%").and(u.name.not_like("%b")));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."name" LIKE $1 ESCAPE '' AND "users"."name" NOT LIKE $2 ESCAPE ''"#,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."name" LIKE ?1 AND "users"."name" NOT LIKE ?2"#,
        &[t("a%"), t("%b")],
    );
}

#[test]
fn ilike_is_emulated_on_sqlite() {
    let u = Users::table();
    let q = select(u.id).from(u).filter(u.name.ilike("A%").and(u.name.not_ilike("%B")));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."name" ILIKE $1 ESCAPE '' AND "users"."name" NOT ILIKE $2 ESCAPE ''"#,
        r#"SELECT "users"."id" FROM "users" WHERE lower("users"."name") LIKE lower(?1) AND lower("users"."name") NOT LIKE lower(?2)"#,
        &[t("A%"), t("%B")],
    );
    sqlite_prepares(&q);
}

#[test]
fn like_escape_helpers() {
    let u = Users::table();
    let q = select(u.id)
        .from(u)
        .filter(u.name.contains("100%_\\"))
        .filter(u.name.starts_with("a_"))
        .filter(u.name.ends_with("%z"))
        .filter(u.name.icontains("Q"));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."name" LIKE $1 ESCAPE E'\\' AND "users"."name" LIKE $2 ESCAPE E'\\' AND "users"."name" LIKE $3 ESCAPE E'\\' AND "users"."name" ILIKE $4 ESCAPE E'\\'"#,
        r#"SELECT "users"."id" FROM "users" WHERE "users"."name" LIKE ?1 ESCAPE '\' AND "users"."name" LIKE ?2 ESCAPE '\' AND "users"."name" LIKE ?3 ESCAPE '\' AND lower("users"."name") LIKE lower(?4) ESCAPE '\'"#,
        &[t("%100\\%\\_\\\\%"), t("a\\_%"), t("%\\%z"), t("%Q%")],
    );
    sqlite_prepares(&q);
}

#[test]
fn like_escape_helper_matches_literally_on_sqlite() {
    let conn = sqlite_db();
    conn.execute_batch(
        "PRAGMA case_sensitive_like = ON;
         INSERT INTO users (id, name, karma, active) VALUES
           (1, '100%_\\', 0, 1), (2, '100xx\\', 0, 1), (3, '100%_', 0, 1), (4, 'x100%_\\y', 0, 1);",
    )
    .unwrap();
    let u = Users::table();
    let q = select(u.id).from(u).filter(u.name.contains("100%_\\")).order_by(u.id.asc());
    let c = lite(&q);
    let mut stmt = conn.prepare(&c.sql).unwrap();
    let ids: Vec<i64> = stmt
        .query_map(
            rusqlite::params_from_iter(c.params.iter().map(|p| match p {
                Value::Text(s) => s.to_string(),
                other => panic!("{other:?}"),
            })),
            |r| r.get(0),
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids, vec![1, 4]);
}

#[test]
fn searched_case() {
    let u = Users::table();
    let grade = case::<String>().when(u.karma.ge(90), "A").when(u.karma.ge(50), "B").otherwise("C");
    let q = select(grade.label("grade")).from(u);
    check_same_params(
        &q,
        r#"SELECT CASE WHEN "users"."karma" >= $1 THEN CAST($2 AS TEXT) WHEN "users"."karma" >= $3 THEN CAST($4 AS TEXT) ELSE CAST($5 AS TEXT) END AS "grade" FROM "users""#,
        r#"SELECT CASE WHEN "users"."karma" >= ?1 THEN ?2 WHEN "users"."karma" >= ?3 THEN ?4 ELSE ?5 END AS "grade" FROM "users""#,
        &[i32v(90), t("A"), i32v(50), t("B"), t("C")],
    );
}

#[test]
fn simple_case_with_operand() {
    let u = Users::table();
    let e = case::<String>().on(u.karma + 1).when(1, "one").when(2, "two").end();
    let q = select(e.label("w")).from(u);
    check_same_params(
        &q,
        r#"SELECT CASE ("users"."karma" + $1) WHEN $2 THEN CAST($3 AS TEXT) WHEN $4 THEN CAST($5 AS TEXT) END AS "w" FROM "users""#,
        r#"SELECT CASE ("users"."karma" + ?1) WHEN ?2 THEN ?3 WHEN ?4 THEN ?5 END AS "w" FROM "users""#,
        &[i32v(1), i32v(1), t("one"), i32v(2), t("two")],
    );
    sqlite_prepares(&q);
}

#[test]
fn cast_expressions() {
    let u = Users::table();
    let q = select((u.karma.cast::<i64>().label("a"), u.karma.cast::<String>().label("b"), cast::<f64, _>(u.karma)))
        .from(u);
    check_same_params(
        &q,
        r#"SELECT CAST("users"."karma" AS BIGINT) AS "a", CAST("users"."karma" AS TEXT) AS "b", CAST("users"."karma" AS DOUBLE PRECISION) FROM "users""#,
        r#"SELECT CAST("users"."karma" AS BIGINT) AS "a", CAST("users"."karma" AS TEXT) AS "b", CAST("users"."karma" AS REAL) FROM "users""#,
        &[],
    );
}

#[test]
fn cast_to_temporal_types_uses_date_functions_on_sqlite() {
    use quarry_core::expr::sql;
    let u = Users::table();
    let q = select((
        u.name.cast::<sql::Date>(),
        u.name.cast::<sql::Time>(),
        u.name.cast::<sql::Timestamp>(),
        u.name.cast::<sql::TimestampTz>(),
    ))
    .from(u);
    check_same_params(
        &q,
        r#"SELECT CAST("users"."name" AS DATE), CAST("users"."name" AS TIME), CAST("users"."name" AS TIMESTAMP), CAST("users"."name" AS TIMESTAMPTZ) FROM "users""#,
        r#"SELECT date("users"."name"), (strftime('%H:%M:%S', "users"."name") || substr(printf('%.6f', CAST('0' || substr("users"."name", instr("users"."name" || '.', '.'), 7) AS REAL)), 2)), (strftime('%Y-%m-%d %H:%M:%S', "users"."name") || substr(printf('%.6f', CAST('0' || substr("users"."name", instr("users"."name" || '.', '.'), 7) AS REAL)), 2)), (strftime('%Y-%m-%d %H:%M:%S', "users"."name") || substr(printf('%.6f', CAST('0' || substr("users"."name", instr("users"."name" || '.', '.'), 7) AS REAL)), 2) || '+00:00') FROM "users""#,
        &[],
    );
    sqlite_prepares(&q);
}

// --------------------------------------------------------------- aggregates

#[test]
fn aggregates_with_distinct_and_filter() {
    let (u, o) = (Users::table(), Orders::table());
    let q = select((
        count_star().label("n"),
        count(u.email).label("e"),
        count_distinct(u.name).label("d"),
        count_star().filter(u.active).label("f"),
        sum(u.karma).label("s"),
        avg(u.karma).label("a"),
        min(u.name).label("lo"),
        max(o.amount).label("hi"),
        sum(o.amount).distinct().filter(o.amount.gt(1.0)).label("sf"),
    ))
    .from(u)
    .join(o, o.user_id.eq(u.id));
    check_same_params(
        &q,
        r#"SELECT count(*) AS "n", count("users"."email") AS "e", count(DISTINCT "users"."name") AS "d", count(*) FILTER (WHERE "users"."active") AS "f", CAST(sum("users"."karma") AS BIGINT) AS "s", CAST(avg("users"."karma") AS DOUBLE PRECISION) AS "a", min("users"."name") AS "lo", max("orders"."amount") AS "hi", sum(DISTINCT "orders"."amount") FILTER (WHERE "orders"."amount" > $1) AS "sf" FROM "users" JOIN "orders" ON "orders"."user_id" = "users"."id""#,
        r#"SELECT count(*) AS "n", count("users"."email") AS "e", count(DISTINCT "users"."name") AS "d", count(*) FILTER (WHERE "users"."active") AS "f", CAST(sum("users"."karma") AS BIGINT) AS "s", CAST(avg("users"."karma") AS REAL) AS "a", min("users"."name") AS "lo", max("orders"."amount") AS "hi", sum(DISTINCT "orders"."amount") FILTER (WHERE "orders"."amount" > ?1) AS "sf" FROM "users" JOIN "orders" ON "orders"."user_id" = "users"."id""#,
        &[Value::F64(1.0)],
    );
    sqlite_prepares(&q);
}

#[test]
fn group_by_having() {
    let u = Users::table();
    let q = select((u.team_id, count_star().label("n")))
        .from(u)
        .group_by((u.team_id, u.active))
        .having(count_star().expr().gt(2))
        .having(max(u.karma).expr().lt(100));
    check_same_params(
        &q,
        r#"SELECT "users"."team_id", count(*) AS "n" FROM "users" GROUP BY "users"."team_id", "users"."active" HAVING count(*) > $1 AND max("users"."karma") < $2"#,
        r#"SELECT "users"."team_id", count(*) AS "n" FROM "users" GROUP BY "users"."team_id", "users"."active" HAVING count(*) > ?1 AND max("users"."karma") < ?2"#,
        &[i32v(2), i32v(100)],
    );
    sqlite_prepares(&q);
}

// ------------------------------------------------------------------ windows

#[test]
fn window_functions() {
    let u = Users::table();
    let w = || Window::new().partition_by(u.team_id).order_by(u.karma.desc());
    let q = select((
        row_number().over(w()).label("rn"),
        rank().over(w()).label("r"),
        dense_rank().over(w()).label("dr"),
        percent_rank().over(w()).label("pr"),
        cume_dist().over(w()).label("cd"),
        ntile(4).over(w()).label("nt"),
        lag(u.karma, 1).over(w()).label("lg"),
        lead(u.karma, 2).over(w()).label("ld"),
        first_value(u.name).over(w()).label("fv"),
        last_value(u.name).over(w()).label("lv"),
        nth_value(u.name, 2).over(Window::new()).label("nv"),
    ))
    .from(u);
    check_same_params(
        &q,
        concat!(
            r#"SELECT row_number() OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "rn", "#,
            r#"rank() OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "r", "#,
            r#"dense_rank() OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "dr", "#,
            r#"percent_rank() OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "pr", "#,
            r#"cume_dist() OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "cd", "#,
            r#"ntile(CAST($1 AS INTEGER)) OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "nt", "#,
            r#"lag("users"."karma", CAST($2 AS INTEGER)) OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "lg", "#,
            r#"lead("users"."karma", CAST($3 AS INTEGER)) OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "ld", "#,
            r#"first_value("users"."name") OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "fv", "#,
            r#"last_value("users"."name") OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "lv", "#,
            r#"nth_value("users"."name", CAST($4 AS INTEGER)) OVER () AS "nv" FROM "users""#
        ),
        concat!(
            r#"SELECT row_number() OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "rn", "#,
            r#"rank() OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "r", "#,
            r#"dense_rank() OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "dr", "#,
            r#"percent_rank() OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "pr", "#,
            r#"cume_dist() OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "cd", "#,
            r#"ntile(?1) OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "nt", "#,
            r#"lag("users"."karma", ?2) OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "lg", "#,
            r#"lead("users"."karma", ?3) OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "ld", "#,
            r#"first_value("users"."name") OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "fv", "#,
            r#"last_value("users"."name") OVER (PARTITION BY "users"."team_id" ORDER BY "users"."karma" DESC) AS "lv", "#,
            r#"nth_value("users"."name", ?4) OVER () AS "nv" FROM "users""#
        ),
        &[i32v(4), i32v(1), i32v(2), i32v(2)],
    );
    sqlite_prepares(&q);
}

#[test]
fn window_frames() {
    let u = Users::table();
    let q = select((
        sum(u.karma)
            .over(Window::new().order_by(u.id).rows_between(FrameBound::UnboundedPreceding, FrameBound::CurrentRow))
            .label("a"),
        count_star()
            .over(Window::new().order_by(u.id).range_between(FrameBound::CurrentRow, FrameBound::UnboundedFollowing))
            .label("b"),
        count_star()
            .over(Window::new().order_by(u.id).groups_between(FrameBound::preceding(1), FrameBound::following(2)))
            .label("c"),
    ))
    .from(u);
    check_same_params(
        &q,
        r#"SELECT CAST(sum("users"."karma") OVER (ORDER BY "users"."id" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS "a", count(*) OVER (ORDER BY "users"."id" RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS "b", count(*) OVER (ORDER BY "users"."id" GROUPS BETWEEN $1 PRECEDING AND $2 FOLLOWING) AS "c" FROM "users""#,
        r#"SELECT CAST(sum("users"."karma") OVER (ORDER BY "users"."id" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS "a", count(*) OVER (ORDER BY "users"."id" RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS "b", count(*) OVER (ORDER BY "users"."id" GROUPS BETWEEN ?1 PRECEDING AND ?2 FOLLOWING) AS "c" FROM "users""#,
        &[i64v(1), i64v(2)],
    );
    sqlite_prepares(&q);
}

// -------------------------------------------------------------- subqueries

#[test]
fn exists_and_not_exists_correlated() {
    let (u, o) = (Users::table(), Orders::table());
    let q = select(u.id)
        .from(u)
        .filter(exists(select(o.id).from(o).filter(o.user_id.eq(u.id))))
        .filter(not_exists(select(o.id).from(o).filter(o.user_id.eq(u.id).and(o.amount.gt(100.0)))));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" WHERE EXISTS (SELECT "orders"."id" FROM "orders" WHERE "orders"."user_id" = "users"."id") AND NOT EXISTS (SELECT "orders"."id" FROM "orders" WHERE "orders"."user_id" = "users"."id" AND "orders"."amount" > $1)"#,
        r#"SELECT "users"."id" FROM "users" WHERE EXISTS (SELECT "orders"."id" FROM "orders" WHERE "orders"."user_id" = "users"."id") AND NOT EXISTS (SELECT "orders"."id" FROM "orders" WHERE "orders"."user_id" = "users"."id" AND "orders"."amount" > ?1)"#,
        &[Value::F64(100.0)],
    );
    sqlite_prepares(&q);
}

#[test]
fn scalar_subquery_correlated_through_an_alias() {
    let o = Orders::table();
    let u = Users::alias("u");
    let total = select(sum(o.amount)).from(o).filter(o.user_id.eq(u.id)).scalar::<Option<f64>>();
    let q = select((u.name, total.label("total"))).from(u).filter(u.karma.gt(0));
    check_same_params(
        &q,
        r#"SELECT "u"."name", (SELECT sum("orders"."amount") FROM "orders" WHERE "orders"."user_id" = "u"."id") AS "total" FROM "users" AS "u" WHERE "u"."karma" > $1"#,
        r#"SELECT "u"."name", (SELECT sum("orders"."amount") FROM "orders" WHERE "orders"."user_id" = "u"."id") AS "total" FROM "users" AS "u" WHERE "u"."karma" > ?1"#,
        &[i32v(0)],
    );
    sqlite_prepares(&q);
}

#[test]
fn derived_table() {
    let o = Orders::table();
    let per_user = select((o.user_id, count_star().label("n"))).from(o).group_by(o.user_id).subquery("per_user");
    let n = per_user.col::<i64>("n");
    let q = select((per_user.col::<i64>("user_id"), n.clone())).from(&per_user).filter(n.gt(3));
    check_same_params(
        &q,
        r#"SELECT "per_user"."user_id", "per_user"."n" FROM (SELECT "orders"."user_id", count(*) AS "n" FROM "orders" GROUP BY "orders"."user_id") AS "per_user" WHERE "per_user"."n" > $1"#,
        r#"SELECT "per_user"."user_id", "per_user"."n" FROM (SELECT "orders"."user_id", count(*) AS "n" FROM "orders" GROUP BY "orders"."user_id") AS "per_user" WHERE "per_user"."n" > ?1"#,
        // The literal 3 is an i32, bound as such (the comparison is with a BIGINT).
        &[i32v(3)],
    );
    sqlite_prepares(&q);
}

#[test]
fn derived_table_column_list_is_relabelled_on_sqlite() {
    let u = Users::table();
    let sub = select((u.id, u.name.label("ignored"))).from(u).filter(u.active).subquery("s").with_columns(["a", "b"]);
    let q = select(sub.col::<i64>("a")).from(&sub);
    check_same_params(
        &q,
        r#"SELECT "s"."a" FROM (SELECT "users"."id", "users"."name" AS "ignored" FROM "users" WHERE "users"."active") AS "s" ("a", "b")"#,
        r#"SELECT "s"."a" FROM (SELECT "users"."id" AS "a", "users"."name" AS "b" FROM "users" WHERE "users"."active") AS "s""#,
        &[],
    );
    sqlite_prepares(&q);
}

#[test]
fn derived_table_column_list_over_a_set_operation() {
    let (u, tm) = (Users::table(), Teams::table());
    let sub =
        select((u.id, u.name)).from(u).union(select((tm.id, tm.name)).from(tm)).subquery("s").with_columns(["k", "v"]);
    let q = select(sub.col::<String>("v")).from(&sub);
    check_same_params(
        &q,
        r#"SELECT "s"."v" FROM (SELECT "users"."id", "users"."name" FROM "users" UNION SELECT "teams"."id", "teams"."name" FROM "teams") AS "s" ("k", "v")"#,
        r#"SELECT "s"."v" FROM (SELECT "users"."id" AS "k", "users"."name" AS "v" FROM "users" UNION SELECT "teams"."id", "teams"."name" FROM "teams") AS "s""#,
        &[],
    );
    sqlite_prepares(&q);
}

#[test]
fn derived_table_column_list_over_values() {
    use quarry_core::ast;
    let values = ast::Query::new(ast::SetExpr::Values(vec![
        vec![ast::Expr::Value(i64v(1)), ast::Expr::Value(t("a"))],
        vec![ast::Expr::Value(i64v(2)), ast::Expr::Value(t("b"))],
    ]));
    let stmt = ast::Statement::Query(ast::Query::new(ast::SetExpr::Select(Box::new(ast::Select {
        projection: vec![ast::SelectItem::new(ast::Expr::Wildcard(None))],
        from: vec![ast::TableWithJoins {
            relation: ast::TableRef::Derived {
                query: Box::new(values),
                alias: "v".into(),
                columns: vec!["id".into(), "name".into()],
                lateral: false,
            },
            joins: Vec::new(),
        }],
        ..ast::Select::default()
    }))));
    check_same_params(
        &stmt,
        r#"SELECT * FROM (VALUES ($1, $2), ($3, $4)) AS "v" ("id", "name")"#,
        r#"SELECT * FROM (SELECT column1 AS "id", column2 AS "name" FROM (VALUES (?1, ?2), (?3, ?4))) AS "v""#,
        &[i64v(1), t("a"), i64v(2), t("b")],
    );
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let c = lite(&stmt);
    let names: Vec<String> = conn
        .prepare(&c.sql)
        .unwrap()
        .query_map(rusqlite::params![1, "a", 2, "b"], |r| r.get::<_, String>("name"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, ["a", "b"]);
}

// ------------------------------------------------------- aliases and joins

#[test]
fn table_alias_and_labels() {
    let a = Users::alias("a");
    let b = Users::alias("b");
    let q = select((a.name.label("left"), b.name.label("right"))).from(a).join(b, a.team_id.eq(b.team_id));
    check_same_params(
        &q,
        r#"SELECT "a"."name" AS "left", "b"."name" AS "right" FROM "users" AS "a" JOIN "users" AS "b" ON "a"."team_id" = "b"."team_id""#,
        r#"SELECT "a"."name" AS "left", "b"."name" AS "right" FROM "users" AS "a" JOIN "users" AS "b" ON "a"."team_id" = "b"."team_id""#,
        &[],
    );
    sqlite_prepares(&q);
}

#[test]
fn every_join_kind() {
    let (u, tm, o) = (Users::table(), Teams::table(), Orders::table());
    let q = select(u.id)
        .from(u)
        .join(tm, u.team_id.eq(tm.id))
        .left_join(o, o.user_id.eq(u.id))
        .right_join(Teams::alias("t2"), Teams::alias("t2").id.eq(tm.id))
        .full_join(Orders::alias("o2"), Orders::alias("o2").id.eq(o.id))
        .cross_join(Users::alias("u2"));
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" JOIN "teams" ON "users"."team_id" = "teams"."id" LEFT JOIN "orders" ON "orders"."user_id" = "users"."id" RIGHT JOIN "teams" AS "t2" ON "t2"."id" = "teams"."id" FULL JOIN "orders" AS "o2" ON "o2"."id" = "orders"."id" CROSS JOIN "users" AS "u2""#,
        r#"SELECT "users"."id" FROM "users" JOIN "teams" ON "users"."team_id" = "teams"."id" LEFT JOIN "orders" ON "orders"."user_id" = "users"."id" RIGHT JOIN "teams" AS "t2" ON "t2"."id" = "teams"."id" FULL JOIN "orders" AS "o2" ON "o2"."id" = "orders"."id" CROSS JOIN "users" AS "u2""#,
        &[],
    );
    sqlite_prepares(&q);
}

#[test]
fn several_from_items() {
    let (u, tm) = (Users::table(), Teams::table());
    let q = select((u.name, tm.name)).from(u).from(tm).filter(u.team_id.eq(tm.id));
    check_same_params(
        &q,
        r#"SELECT "users"."name", "teams"."name" FROM "users", "teams" WHERE "users"."team_id" = "teams"."id""#,
        r#"SELECT "users"."name", "teams"."name" FROM "users", "teams" WHERE "users"."team_id" = "teams"."id""#,
        &[],
    );
}

#[test]
fn join_before_from_is_an_error() {
    let u = Users::table();
    let q = select(u.id).join(Teams::table(), u.team_id.eq(Teams::table().id));
    assert!(matches!(q.compile(&Postgres), Err(quarry_core::CompileError::Invalid { .. })));
    assert!(matches!(q.compile(&Sqlite), Err(quarry_core::CompileError::Invalid { .. })));
}

#[test]
fn whole_table_in_select_list() {
    let tm = Teams::table();
    let q = select(tm).from(tm);
    check_same_params(
        &q,
        r#"SELECT "teams"."id", "teams"."name" FROM "teams""#,
        r#"SELECT "teams"."id", "teams"."name" FROM "teams""#,
        &[],
    );
}

// --------------------------------------------- ordering, limits, distinct

#[test]
fn order_by_with_nulls_first_and_last() {
    let u = Users::table();
    let q = select(u.id)
        .from(u)
        .order_by(u.email.asc().nulls_first())
        .order_by(u.karma.desc().nulls_last())
        .order_by(u.name);
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" ORDER BY "users"."email" ASC NULLS FIRST, "users"."karma" DESC NULLS LAST, "users"."name""#,
        r#"SELECT "users"."id" FROM "users" ORDER BY "users"."email" ASC NULLS FIRST, "users"."karma" DESC NULLS LAST, "users"."name""#,
        &[],
    );
    sqlite_prepares(&q);
}

#[test]
fn limit_and_offset() {
    let u = Users::table();
    let q = select(u.id).from(u).limit(10).offset(20);
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" LIMIT $1 OFFSET $2"#,
        r#"SELECT "users"."id" FROM "users" LIMIT ?1 OFFSET ?2"#,
        &[i64v(10), i64v(20)],
    );
    let q = select(u.id).from(u).limit(10);
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" LIMIT $1"#,
        r#"SELECT "users"."id" FROM "users" LIMIT ?1"#,
        &[i64v(10)],
    );
}

#[test]
fn offset_alone_needs_limit_minus_one_on_sqlite() {
    let u = Users::table();
    let q = select(u.id).from(u).offset(5);
    check_same_params(
        &q,
        r#"SELECT "users"."id" FROM "users" OFFSET $1"#,
        r#"SELECT "users"."id" FROM "users" LIMIT -1 OFFSET ?1"#,
        &[i64v(5)],
    );
    sqlite_prepares(&q);
}

#[test]
fn distinct() {
    let u = Users::table();
    let q = select(u.name).from(u).distinct();
    check_same_params(
        &q,
        r#"SELECT DISTINCT "users"."name" FROM "users""#,
        r#"SELECT DISTINCT "users"."name" FROM "users""#,
        &[],
    );
}

#[test]
fn distinct_on_is_postgres_only() {
    let u = Users::table();
    let q = select((u.team_id, u.name)).from(u).distinct_on(u.team_id).order_by(u.team_id).order_by(u.karma.desc());
    let c = pg_only(&q, "DISTINCT ON");
    assert_eq!(
        c.sql,
        r#"SELECT DISTINCT ON ("users"."team_id") "users"."team_id", "users"."name" FROM "users" ORDER BY "users"."team_id", "users"."karma" DESC"#
    );
    assert!(c.params.is_empty());
}

// ------------------------------------------------------------------- CTEs

#[test]
fn common_table_expression() {
    let o = Orders::table();
    let big = select((o.user_id, o.amount)).from(o).filter(o.amount.gt(100.0)).cte("big");
    let q = select(big.col::<i64>("user_id")).from(&big).with(big.clone());
    check_same_params(
        &q,
        r#"WITH "big" AS (SELECT "orders"."user_id", "orders"."amount" FROM "orders" WHERE "orders"."amount" > $1) SELECT "big"."user_id" FROM "big""#,
        r#"WITH "big" AS (SELECT "orders"."user_id", "orders"."amount" FROM "orders" WHERE "orders"."amount" > ?1) SELECT "big"."user_id" FROM "big""#,
        &[Value::F64(100.0)],
    );
    sqlite_prepares(&q);
}

#[test]
fn recursive_cte_with_columns() {
    let tn = table_named("t");
    let n = tn.col::<i64>("n");
    let body = select(lit(1_i64)).union_all(select(n.clone() + 1).from(&tn).filter(n.clone().lt(5)));
    let cte = body.cte("t").columns(["n"]).recursive();
    let q = select(n).from(&tn).with(cte);
    check_same_params(
        &q,
        r#"WITH RECURSIVE "t" ("n") AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT "t"."n" + $2 FROM "t" WHERE "t"."n" < $3) SELECT "t"."n" FROM "t""#,
        r#"WITH RECURSIVE "t" ("n") AS (SELECT ?1 UNION ALL SELECT "t"."n" + ?2 FROM "t" WHERE "t"."n" < ?3) SELECT "t"."n" FROM "t""#,
        &[i64v(1), i32v(1), i32v(5)],
    );
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let c = lite(&q);
    let ns: Vec<i64> = conn
        .prepare(&c.sql)
        .unwrap()
        .query_map(rusqlite::params![1, 1, 5], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ns, [1, 2, 3, 4, 5]);
}

#[test]
fn materialized_ctes() {
    let u = Users::table();
    let a = select(u.id).from(u).cte("a").materialized(true);
    let b = select(u.id).from(u).cte("b").materialized(false);
    let q = select(a.col::<i64>("id")).from(&a).cross_join(&b).with(a.clone()).with(b.clone());
    check_same_params(
        &q,
        r#"WITH "a" AS MATERIALIZED (SELECT "users"."id" FROM "users"), "b" AS NOT MATERIALIZED (SELECT "users"."id" FROM "users") SELECT "a"."id" FROM "a" CROSS JOIN "b""#,
        r#"WITH "a" AS MATERIALIZED (SELECT "users"."id" FROM "users"), "b" AS NOT MATERIALIZED (SELECT "users"."id" FROM "users") SELECT "a"."id" FROM "a" CROSS JOIN "b""#,
        &[],
    );
    sqlite_prepares(&q);
}

// --------------------------------------------------------- set operations

fn names_of_active() -> Select {
    let u = Users::table();
    select(u.name).from(u).filter(u.active)
}

fn names_of_teams() -> Select {
    let tm = Teams::table();
    select(tm.name).from(tm)
}

const ACTIVE: &str = r#"SELECT "users"."name" FROM "users" WHERE "users"."active""#;
const TEAMS: &str = r#"SELECT "teams"."name" FROM "teams""#;

#[test]
fn union_intersect_except() {
    for (q, op) in [
        (names_of_active().union(names_of_teams()), "UNION"),
        (names_of_active().union_all(names_of_teams()), "UNION ALL"),
        (names_of_active().intersect(names_of_teams()), "INTERSECT"),
        (names_of_active().except(names_of_teams()), "EXCEPT"),
    ] {
        let sql = format!("{ACTIVE} {op} {TEAMS}");
        check_same_params(&q, &sql, &sql, &[]);
        sqlite_prepares(&q);
        assert_eq!(pg(&q).kind, StatementKind::Read);
    }
}

#[test]
fn intersect_all_and_except_all_are_postgres_only() {
    let c = pg_only(&names_of_active().intersect_all(names_of_teams()), "INTERSECT ALL");
    assert_eq!(c.sql, format!("{ACTIVE} INTERSECT ALL {TEAMS}"));
    let c = pg_only(&names_of_active().except_all(names_of_teams()), "EXCEPT ALL");
    assert_eq!(c.sql, format!("{ACTIVE} EXCEPT ALL {TEAMS}"));
}

#[test]
fn chained_set_operations_of_one_operator_stay_flat() {
    let q = names_of_active().union(names_of_teams()).union(names_of_active());
    let sql = format!("{ACTIVE} UNION {TEAMS} UNION {ACTIVE}");
    check_same_params(&q, &sql, &sql, &[]);
}

#[test]
fn nested_set_operations() {
    // (a UNION b) INTERSECT c: the left operand has another operator.
    let q = names_of_active().union(names_of_teams()).intersect(names_of_teams());
    check_same_params(
        &q,
        &format!("({ACTIVE} UNION {TEAMS}) INTERSECT {TEAMS}"),
        &format!("SELECT * FROM ({ACTIVE} UNION {TEAMS}) INTERSECT {TEAMS}"),
        &[],
    );
    sqlite_prepares(&q);
    // a EXCEPT (b UNION c): a compound right operand.
    let q = names_of_active().except(names_of_teams().union(names_of_active()));
    check_same_params(
        &q,
        &format!("{ACTIVE} EXCEPT ({TEAMS} UNION {ACTIVE})"),
        &format!("{ACTIVE} EXCEPT SELECT * FROM ({TEAMS} UNION {ACTIVE})"),
        &[],
    );
    sqlite_prepares(&q);
}

#[test]
fn set_operands_with_their_own_order_by_and_limit() {
    let u = Users::table();
    let tm = Teams::table();
    let left = select(u.name).from(u).order_by(u.karma.desc()).limit(3);
    let right = select(tm.name).from(tm).order_by(tm.name).limit(2);
    let q = left.union_all(right).order_by(col("name")).limit(4);
    check_same_params(
        &q,
        r#"(SELECT "users"."name" FROM "users" ORDER BY "users"."karma" DESC LIMIT $1) UNION ALL (SELECT "teams"."name" FROM "teams" ORDER BY "teams"."name" LIMIT $2) ORDER BY "name" LIMIT $3"#,
        r#"SELECT * FROM (SELECT "users"."name" FROM "users" ORDER BY "users"."karma" DESC LIMIT ?1) UNION ALL SELECT * FROM (SELECT "teams"."name" FROM "teams" ORDER BY "teams"."name" LIMIT ?2) ORDER BY "name" LIMIT ?3"#,
        &[i64v(3), i64v(2), i64v(4)],
    );
    sqlite_prepares(&q);
}

// ---------------------------------------------------------------- locking

#[test]
fn row_locking_is_postgres_only() {
    let u = Users::table();
    let cases = [
        (select(u.id).from(u).for_update(), " FOR UPDATE"),
        (select(u.id).from(u).for_no_key_update(), " FOR NO KEY UPDATE"),
        (select(u.id).from(u).for_share(), " FOR SHARE"),
        (select(u.id).from(u).for_key_share(), " FOR KEY SHARE"),
        (select(u.id).from(u).for_update().of(u), r#" FOR UPDATE OF "users""#),
        (select(u.id).from(u).for_update().nowait(), " FOR UPDATE NOWAIT"),
        (select(u.id).from(u).for_share().of(u).skip_locked(), r#" FOR SHARE OF "users" SKIP LOCKED"#),
        (
            select(u.id)
                .from(u)
                .join(Teams::alias("t"), u.team_id.eq(Teams::alias("t").id))
                .for_update()
                .of(Teams::alias("t")),
            r#" JOIN "teams" AS "t" ON "users"."team_id" = "t"."id" FOR UPDATE OF "t""#,
        ),
    ];
    for (q, tail) in cases {
        let c = pg_only(&q, "FOR UPDATE/FOR SHARE row locking");
        assert_eq!(c.sql, format!(r#"SELECT "users"."id" FROM "users"{tail}"#));
        assert_eq!(c.kind, StatementKind::Write);
    }
    let q = select(u.id).from(u).limit(1).for_update().skip_locked();
    assert_eq!(pg(&q).sql, r#"SELECT "users"."id" FROM "users" LIMIT $1 FOR UPDATE SKIP LOCKED"#);
}

#[test]
fn lock_modifiers_without_a_lock_are_an_error() {
    let u = Users::table();
    for q in [select(u.id).from(u).skip_locked(), select(u.id).from(u).nowait()] {
        assert!(matches!(q.compile(&Postgres), Err(quarry_core::CompileError::Invalid { .. })));
    }
}

#[test]
fn lateral_is_postgres_only() {
    let (u, o) = (Users::table(), Orders::table());
    let last =
        select(o.amount).from(o).filter(o.user_id.eq(u.id)).order_by(o.id.desc()).limit(1).subquery("last").lateral();
    let q = select((u.name, last.col::<f64>("amount"))).from(u).cross_join(last);
    let c = pg_only(&q, "LATERAL");
    assert_eq!(
        c.sql,
        r#"SELECT "users"."name", "last"."amount" FROM "users" CROSS JOIN LATERAL (SELECT "orders"."amount" FROM "orders" WHERE "orders"."user_id" = "users"."id" ORDER BY "orders"."id" DESC LIMIT $1) AS "last""#
    );
    assert_eq!(c.params, [i64v(1)]);
}

#[test]
fn raw_from_item_and_untyped_columns() {
    let q = select(col("x")).from_raw(raw("generate_series(1, :n)").bind("n", 3_i64)).filter(col("x").gt(1_i64));
    check_same_params(
        &q,
        r#"SELECT "x" FROM generate_series(1, $1) WHERE "x" > $2"#,
        r#"SELECT "x" FROM generate_series(1, ?1) WHERE "x" > ?2"#,
        &[i64v(3), i64v(1)],
    );
}

#[test]
fn typed_literals_in_the_select_list() {
    let q = select((lit(1_i64), lit(2_i32), lit(1.5_f64), lit("s"), lit(true), lit(vec![1_u8, 2])));
    check(
        &q,
        r#"SELECT CAST($1 AS BIGINT), CAST($2 AS INTEGER), CAST($3 AS DOUBLE PRECISION), CAST($4 AS TEXT), CAST($5 AS BOOLEAN), CAST($6 AS BYTEA)"#,
        &[i64v(1), i32v(2), Value::F64(1.5), t("s"), Value::Bool(true), Value::Bytes(vec![1, 2].into())],
        r#"SELECT ?1, ?2, ?3, ?4, ?5, ?6"#,
        &[i64v(1), i32v(2), Value::F64(1.5), t("s"), Value::Bool(true), Value::Bytes(vec![1, 2].into())],
    );
}

#[test]
fn statement_kind_of_a_plain_select_is_read() {
    let u = Users::table();
    let c = pg(&select(u.id).from(u));
    assert_eq!(c.kind, StatementKind::Read);
    assert!(c.is_read_only());
}

#[test]
fn empty_select_list_is_an_error() {
    let q = select(Vec::<Expr<i64>>::new());
    assert!(matches!(q.compile(&Postgres), Err(quarry_core::CompileError::Invalid { .. })));
    assert!(matches!(q.compile(&Sqlite), Err(quarry_core::CompileError::Invalid { .. })));
}
