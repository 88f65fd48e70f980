//! The SQL of INSERT, UPDATE and DELETE, for both dialects side by side.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

mod common;

use common::*;
use quarry_core::ast::{self, Statement};
use quarry_core::prelude::*;
use quarry_core::schema::IndexDef;
use quarry_core::{CompiledRun, StatementKind};

quarry_core::table! {
    /// A table with client-side defaults.
    pub struct Events("events") {
        id: i64 [primary_key],
        kind: String [default_value("note")],
        level: i32 [default_value(3_i32)],
    }
}

quarry_core::table! {
    /// A table with a column SQLite has no type for.
    pub struct Spans("spans") {
        id: i64 [primary_key],
        span: quarry_core::Interval,
    }
}

fn i32v(v: i32) -> Value {
    Value::I32(v)
}
fn i64v(v: i64) -> Value {
    Value::I64(v)
}

#[test]
fn insert_one_row() {
    let u = Users::table();
    let q = insert_into(u).values((u.name.set("ada"), u.karma.set(5), u.active.set(true)));
    check_same_params(
        &q,
        r#"INSERT INTO "users" ("name", "karma", "active") VALUES ($1, $2, $3)"#,
        r#"INSERT INTO "users" ("name", "karma", "active") VALUES (?1, ?2, ?3)"#,
        &[t("ada"), i32v(5), Value::Bool(true)],
    );
    assert_eq!(pg(&q).kind, StatementKind::Write);
    sqlite_prepares(&q);
}

#[test]
fn insert_many_rows_in_any_column_order() {
    let u = Users::table();
    let q = insert_into(u)
        .values((u.name.set("ada"), u.email.set(None::<String>)))
        .values((u.email.set("b@x"), u.name.set("bob")));
    check_same_params(
        &q,
        r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2), ($3, $4)"#,
        r#"INSERT INTO "users" ("name", "email") VALUES (?1, ?2), (?3, ?4)"#,
        &[t("ada"), Value::Null, t("bob"), t("b@x")],
    );
}

#[test]
fn insert_rows_of_typed_values() {
    let u = Users::table();
    let q = insert_into(u).rows((u.name, u.karma, u.team_id), [("a", 1, Some(7_i64)), ("b", 2, None)]);
    check_same_params(
        &q,
        r#"INSERT INTO "users" ("name", "karma", "team_id") VALUES ($1, $2, $3), ($4, $5, $6)"#,
        r#"INSERT INTO "users" ("name", "karma", "team_id") VALUES (?1, ?2, ?3), (?4, ?5, ?6)"#,
        &[t("a"), i32v(1), i64v(7), t("b"), i32v(2), Value::Null],
    );
    sqlite_prepares(&q);
}

#[test]
fn insert_rows_mixing_values_and_expressions_keep_their_order() {
    let u = Users::table();
    // The first rows hold plain values only; the third brings an expression.
    let rows = [(value("a"), 1), (value("b"), 2), (lower(value("C")), 3), (value("d"), 4)];
    let q = insert_into(u).rows((u.name, u.karma), rows);
    check_same_params(
        &q,
        r#"INSERT INTO "users" ("name", "karma") VALUES ($1, $2), ($3, $4), (lower($5), $6), ($7, $8)"#,
        r#"INSERT INTO "users" ("name", "karma") VALUES (?1, ?2), (?3, ?4), (lower(?5), ?6), (?7, ?8)"#,
        &[t("a"), i32v(1), t("b"), i32v(2), t("C"), i32v(3), t("d"), i32v(4)],
    );
    sqlite_prepares(&q);
}

#[test]
fn inserted_text_keeps_its_value_whether_short_or_long_before_or_after_an_expression() {
    let u = Users::table();
    let long = "a name of more than twenty-four bytes";
    // Plain rows: text of every length written straight into the value list,
    // borrowed and owned.
    let q = insert_into(u).rows((u.name, u.email), [("ada", Some(long)), (long, None)]);
    let c = pg(&q);
    assert_eq!(c.params, [t("ada"), t(long), t(long), Value::Null]);
    let owned = [(long.to_owned(), 1), ("24 bytes exactly, inline".to_owned(), 2)];
    assert_eq!(
        pg(&insert_into(u).rows((u.name, u.karma), owned)).params,
        [t(long), i32v(1), t("24 bytes exactly, inline"), i32v(2)]
    );
    // Once a cell is an expression the list holds expressions, and later
    // text goes in as an expression too.
    let q = insert_into(u).rows((u.karma, u.name), [(value(1) + 1, "bo"), (value(2) + 1, long)]);
    check_same_params(
        &q,
        r#"INSERT INTO "users" ("karma", "name") VALUES ($1 + $2, $3), ($4 + $5, $6)"#,
        r#"INSERT INTO "users" ("karma", "name") VALUES (?1 + ?2, ?3), (?4 + ?5, ?6)"#,
        &[i32v(1), i32v(1), t("bo"), i32v(2), i32v(1), t(long)],
    );
    sqlite_prepares(&q);
}

#[test]
fn inserted_rows_of_a_type_the_dialect_lacks_are_refused() {
    // Enough rows for the placeholders to be written in one piece, were
    // the values not of a type the dialect must be asked about.
    let s = Spans::table();
    let q = insert_into(s).rows(s.span, vec![quarry_core::Interval::default(); 100]);
    let c = pg(&q);
    assert_eq!(c.params.len(), 100);
    assert!(c.sql.ends_with("($99), ($100)"), "{}", c.sql);
    assert!(matches!(
        q.compile(&Sqlite),
        Err(quarry_core::CompileError::Unsupported { construct: "the INTERVAL type", dialect: "SQLite" })
    ));
    // One such value after many plain ones, and in the last of the chunks
    // a driver splits the rows into, is still found.
    let mut spans = vec![quarry_core::Interval::default(); 99];
    spans.push(quarry_core::Interval::days(3));
    let q = insert_into(s).rows(s.span, spans);
    assert_eq!(pg(&q).params.last(), Some(&Value::Interval(quarry_core::Interval::days(3))));
    let refused = |e: quarry_core::CompileError| {
        matches!(e, quarry_core::CompileError::Unsupported { construct: "the INTERVAL type", .. })
    };
    assert!(q.compile(&Sqlite).is_err_and(refused));
    assert!(q.compile_chunks(&Sqlite, 10).is_err_and(refused));
    assert!(q.into_compiled(&Sqlite).is_err_and(refused));
}

#[test]
fn inserts_used_up_compile_as_when_borrowed() {
    // `execute` compiles with `compile_chunks_owned`, and `into_compiled`
    // without a limit, which move the rows' values into the parameters:
    // the SQL, the parameters and the chunks must be those of the
    // borrowing `compile_chunks` and `compile`, whatever binds before or
    // after the rows.
    let (u, e) = (Users::table(), Events::table());
    let people = |n: i32| (0..n).map(|i| (format!("p{i}"), i)).collect::<Vec<_>>();
    let recent = select(u.id).from(u).filter(u.karma.gt(7)).cte("recent");
    let inserts = [
        ("plain", insert_into(u).rows((u.name, u.karma), people(40))),
        ("short", insert_into(u).rows((u.name, u.karma), people(2))),
        ("returning a value", insert_into(u).rows((u.name, u.karma), people(40)).returning((u.id, u.karma + 5))),
        ("with a CTE binding first", insert_into(u).rows((u.name, u.karma), people(40)).with(recent)),
        ("client defaults", insert_into(e).rows(e.id, 0..40_i64)),
        ("upsert", insert_into(u).rows((u.name, u.karma), people(40)).on_conflict(u.name).do_update(u.karma.set(9))),
        ("expressions", insert_into(u).rows((u.name, u.karma), [(lower(value("A")), 1)])),
    ];
    for (name, q) in inserts {
        for (dialect, limit) in [(&Postgres as &dyn quarry_core::Dialect, 65_535), (&Sqlite, 32_766), (&Postgres, 33)] {
            let borrowed = q.compile_chunks(dialect, limit);
            let owned = q.clone().compile_chunks_owned(dialect, limit);
            // What `execute` runs: the one chunk as itself, or the split.
            let run = q.clone().compile_for_run(dialect, limit);
            match (borrowed, owned) {
                (Ok(b), Ok(o)) => {
                    assert_eq!(b.len(), o.len(), "{name}: chunks");
                    for (b, o) in b.iter().zip(&o) {
                        assert_eq!((&b.sql, &b.params), (&o.sql, &o.params), "{name} on {}", dialect.name());
                    }
                    match run.unwrap_or_else(|e| panic!("{name}: compile_for_run failed: {e}")) {
                        CompiledRun::One(one) => assert_eq!(vec![one], o, "{name}: one statement"),
                        CompiledRun::Split(chunks) => {
                            assert!(chunks.len() > 1, "{name}: a split of {}", chunks.len());
                            assert_eq!(chunks, o, "{name}: the split");
                        }
                    }
                }
                (Err(b), Err(o)) => {
                    assert_eq!(b.to_string(), o.to_string(), "{name}");
                    assert_eq!(run.map_err(|e| e.to_string()).err(), Some(o.to_string()), "{name}: compile_for_run");
                }
                (b, o) => panic!("{name}: borrowed {b:?}, owned {o:?}"),
            }
        }
        // `into_compiled`, the owned form of `compile`, under no limit.
        for dialect in [&Postgres as &dyn quarry_core::Dialect, &Sqlite] {
            match (q.compile(dialect), q.clone().into_compiled(dialect)) {
                (Ok(b), Ok(o)) => assert_eq!(b, o, "{name} on {}", dialect.name()),
                (Err(b), Err(o)) => assert_eq!(b.to_string(), o.to_string(), "{name}"),
                (b, o) => panic!("{name}: compiled {b:?}, into_compiled {o:?}"),
            }
        }
    }
}

#[test]
fn insert_rows_that_do_not_match_are_an_error() {
    let u = Users::table();
    let q = insert_into(u).values(u.name.set("a")).values(u.karma.set(1));
    assert!(matches!(q.compile(&Postgres), Err(quarry_core::CompileError::Invalid { .. })));
    assert!(matches!(q.compile(&Sqlite), Err(quarry_core::CompileError::Invalid { .. })));
}

#[test]
fn insert_from_select() {
    let (u, tm) = (Users::table(), Teams::table());
    let q =
        insert_into(u).from_select((u.name, u.karma), select((tm.name, lit(0_i32))).from(tm).filter(tm.id.gt(1_i64)));
    check(
        &q,
        r#"INSERT INTO "users" ("name", "karma") SELECT "teams"."name", CAST($1 AS INTEGER) FROM "teams" WHERE "teams"."id" > $2"#,
        &[i32v(0), i64v(1)],
        r#"INSERT INTO "users" ("name", "karma") SELECT "teams"."name", ?1 FROM "teams" WHERE "teams"."id" > ?2"#,
        &[i32v(0), i64v(1)],
    );
    sqlite_prepares(&q);
}

#[test]
fn insert_from_select_with_upsert_wraps_the_select() {
    let (u, tm) = (Users::table(), Teams::table());
    let q =
        insert_into(u).from_select((u.id, u.name), select((tm.id, tm.name)).from(tm)).on_conflict(u.id).do_nothing();
    check_same_params(
        &q,
        r#"INSERT INTO "users" ("id", "name") SELECT * FROM (SELECT "teams"."id", "teams"."name" FROM "teams") AS "quarry_source" WHERE TRUE ON CONFLICT ("id") DO NOTHING"#,
        r#"INSERT INTO "users" ("id", "name") SELECT * FROM (SELECT "teams"."id", "teams"."name" FROM "teams") AS "quarry_source" WHERE TRUE ON CONFLICT ("id") DO NOTHING"#,
        &[],
    );
    sqlite_prepares(&q);
}

#[test]
fn insert_default_values() {
    let q = insert_into(Users::table()).default_values();
    check_same_params(&q, r#"INSERT INTO "users" DEFAULT VALUES"#, r#"INSERT INTO "users" DEFAULT VALUES"#, &[]);
    sqlite_prepares(&q);
}

#[test]
fn client_side_defaults_are_bound_for_columns_left_out() {
    let e = Events::table();
    let q = insert_into(e).values(e.kind.set("alert"));
    check_same_params(
        &q,
        r#"INSERT INTO "events" ("kind", "level") VALUES ($1, $2)"#,
        r#"INSERT INTO "events" ("kind", "level") VALUES (?1, ?2)"#,
        &[t("alert"), i32v(3)],
    );
    let q = insert_into(e).values(e.id.set(1_i64)).values(e.id.set(2_i64));
    check_same_params(
        &q,
        r#"INSERT INTO "events" ("id", "kind", "level") VALUES ($1, $2, $3), ($4, $5, $6)"#,
        r#"INSERT INTO "events" ("id", "kind", "level") VALUES (?1, ?2, ?3), (?4, ?5, ?6)"#,
        &[i64v(1), t("note"), i32v(3), i64v(2), t("note"), i32v(3)],
    );
    // DEFAULT VALUES still gets the client-side defaults.
    let q = insert_into(e).default_values();
    check_same_params(
        &q,
        r#"INSERT INTO "events" ("kind", "level") VALUES ($1, $2)"#,
        r#"INSERT INTO "events" ("kind", "level") VALUES (?1, ?2)"#,
        &[t("note"), i32v(3)],
    );
    // So does a row that sets no column: the defaults alone, comma-separated.
    let q = insert_into(e).values(Vec::<quarry_core::ColumnValue>::new());
    check_same_params(
        &q,
        r#"INSERT INTO "events" ("kind", "level") VALUES ($1, $2)"#,
        r#"INSERT INTO "events" ("kind", "level") VALUES (?1, ?2)"#,
        &[t("note"), i32v(3)],
    );
}

#[test]
fn insert_returning() {
    let u = Users::table();
    let q = insert_into(u).values(u.name.set("ada")).returning((u.id, u.name.label("n")));
    check_same_params(
        &q,
        r#"INSERT INTO "users" ("name") VALUES ($1) RETURNING "users"."id", "users"."name" AS "n""#,
        r#"INSERT INTO "users" ("name") VALUES (?1) RETURNING "users"."id", "users"."name" AS "n""#,
        &[t("ada")],
    );
    sqlite_prepares(&q);
}

#[test]
fn on_conflict_do_nothing() {
    let u = Users::table();
    let q = insert_into(u).values(u.name.set("a")).on_conflict_do_nothing();
    check_same_params(
        &q,
        r#"INSERT INTO "users" ("name") VALUES ($1) ON CONFLICT DO NOTHING"#,
        r#"INSERT INTO "users" ("name") VALUES (?1) ON CONFLICT DO NOTHING"#,
        &[t("a")],
    );
    let q = insert_into(u).values((u.id.set(1_i64), u.name.set("a"))).on_conflict(u.id).do_nothing();
    check_same_params(
        &q,
        r#"INSERT INTO "users" ("id", "name") VALUES ($1, $2) ON CONFLICT ("id") DO NOTHING"#,
        r#"INSERT INTO "users" ("id", "name") VALUES (?1, ?2) ON CONFLICT ("id") DO NOTHING"#,
        &[i64v(1), t("a")],
    );
    sqlite_prepares(&q);
}

#[test]
fn on_conflict_do_update_with_excluded_and_where() {
    let u = Users::table();
    let q = insert_into(u)
        .values((u.id.set(1_i64), u.name.set("a"), u.karma.set(2)))
        .on_conflict(u.id)
        .do_update_where((u.name.set(u.name.excluded()), u.karma.set(u.karma + u.karma.excluded())), u.active)
        .returning(u.karma);
    check_same_params(
        &q,
        r#"INSERT INTO "users" ("id", "name", "karma") VALUES ($1, $2, $3) ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "karma" = "users"."karma" + excluded."karma" WHERE "users"."active" RETURNING "users"."karma""#,
        r#"INSERT INTO "users" ("id", "name", "karma") VALUES (?1, ?2, ?3) ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "karma" = "users"."karma" + excluded."karma" WHERE "users"."active" RETURNING "users"."karma""#,
        &[i64v(1), t("a"), i32v(2)],
    );
    sqlite_prepares(&q);
    let q = insert_into(u).values((u.id.set(1_i64), u.name.set("a"))).on_conflict(u.id).do_update(u.name.set("b"));
    check_same_params(
        &q,
        r#"INSERT INTO "users" ("id", "name") VALUES ($1, $2) ON CONFLICT ("id") DO UPDATE SET "name" = $3"#,
        r#"INSERT INTO "users" ("id", "name") VALUES (?1, ?2) ON CONFLICT ("id") DO UPDATE SET "name" = ?3"#,
        &[i64v(1), t("a"), t("b")],
    );
}

/// The conflict target of a partial unique index carries the index's
/// predicate, with its literals inline: the database matches it against the
/// index when preparing, before parameters are bound.
#[test]
fn on_conflict_with_a_partial_index_target() {
    let u = Users::table();
    let q = insert_into(u)
        .values((u.email.set("a@x"), u.name.set("a"), u.active.set(true), u.karma.set(0)))
        .on_conflict(u.email)
        .filter(u.active.eq(true))
        .do_update(u.name.set(u.name.excluded()));
    check_same_params(
        &q,
        r#"INSERT INTO "users" ("email", "name", "active", "karma") VALUES ($1, $2, $3, $4) ON CONFLICT ("email") WHERE "users"."active" = TRUE DO UPDATE SET "name" = excluded."name""#,
        r#"INSERT INTO "users" ("email", "name", "active", "karma") VALUES (?1, ?2, ?3, ?4) ON CONFLICT ("email") WHERE "users"."active" = 1 DO UPDATE SET "name" = excluded."name""#,
        &[t("a@x"), t("a"), Value::Bool(true), i32v(0)],
    );
    // SQLite matches the target against a partial unique index made by
    // `create_index` with the same predicate, and upserts through it.
    let conn = sqlite_db();
    let ix = create_index(u, IndexDef::new("users_active_email", ["email"]).unique().filter(u.active.eq(true)));
    conn.execute(&lite(&ix).sql, []).unwrap();
    let c = lite(&q);
    for name in ["first", "second"] {
        conn.execute(&c.sql, rusqlite::params!["a@x", name, true, 0]).unwrap();
    }
    let rows: Vec<(String, String)> = conn
        .prepare("SELECT email, name FROM users")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, [("a@x".to_owned(), "second".to_owned())]);
}

#[test]
fn on_conflict_on_constraint_is_postgres_only() {
    let u = Users::table();
    let q = insert_into(u)
        .values((u.id.set(1_i64), u.name.set("a")))
        .on_conflict_on_constraint("users_pkey")
        .do_update(u.name.set(u.name.excluded()));
    let c = pg_only(&q, "ON CONFLICT ON CONSTRAINT");
    assert_eq!(
        c.sql,
        r#"INSERT INTO "users" ("id", "name") VALUES ($1, $2) ON CONFLICT ON CONSTRAINT "users_pkey" DO UPDATE SET "name" = excluded."name""#
    );
    assert_eq!(c.params, [i64v(1), t("a")]);
}

#[test]
fn default_in_values_is_postgres_only() {
    let stmt = Statement::Insert(ast::Insert {
        with: None,
        table: ast::TableName::new("users"),
        columns: vec!["name".into(), "karma".into()],
        source: ast::InsertSource::Values(
            ast::ValuesRows::from_rows(vec![
                vec![ast::Expr::Value(t("a")), ast::Expr::Default],
                vec![ast::Expr::Value(t("b")), ast::Expr::Value(i32v(1))],
            ])
            .expect("rows of one width"),
        ),
        column_defaults: Vec::new(),
        on_conflict: None,
        returning: Vec::new(),
    });
    let c = pg_only(&stmt, "DEFAULT in a multi-row VALUES list");
    assert_eq!(c.sql, r#"INSERT INTO "users" ("name", "karma") VALUES ($1, DEFAULT), ($2, $3)"#);
    assert_eq!(c.params, [t("a"), t("b"), i32v(1)]);
}

#[test]
fn update_set_from_returning() {
    let (u, tm) = (Users::table(), Teams::table());
    let q = update(u)
        .set(u.karma, u.karma + 1)
        .set(u.name, "renamed")
        .from(tm)
        .filter(u.team_id.eq(tm.id))
        .filter(tm.name.eq("core"))
        .returning((u.id, tm.name.label("team")));
    check_same_params(
        &q,
        r#"UPDATE "users" SET "karma" = "users"."karma" + $1, "name" = $2 FROM "teams" WHERE "users"."team_id" = "teams"."id" AND "teams"."name" = $3 RETURNING "users"."id", "teams"."name" AS "team""#,
        r#"UPDATE "users" SET "karma" = "users"."karma" + ?1, "name" = ?2 FROM "teams" WHERE "users"."team_id" = "teams"."id" AND "teams"."name" = ?3 RETURNING "users"."id", "teams"."name" AS "team""#,
        &[i32v(1), t("renamed"), t("core")],
    );
    assert_eq!(pg(&q).kind, StatementKind::Write);
    // SQLite's RETURNING may only name the updated table's columns (it
    // refuses `"teams"."name"` when preparing); the rest prepares.
    let q = update(u).set(u.karma, u.karma + 1).from(tm).filter(u.team_id.eq(tm.id)).returning(u.id);
    sqlite_prepares(&q);
}

#[test]
fn update_through_an_alias_with_values() {
    let u = Users::alias("u");
    let q = update(u).values((u.active.set(false), u.email.set(None::<String>))).filter(u.id.eq(3_i64));
    check_same_params(
        &q,
        r#"UPDATE "users" AS "u" SET "active" = $1, "email" = $2 WHERE "u"."id" = $3"#,
        r#"UPDATE "users" AS "u" SET "active" = ?1, "email" = ?2 WHERE "u"."id" = ?3"#,
        &[Value::Bool(false), Value::Null, i64v(3)],
    );
    sqlite_prepares(&q);
}

#[test]
fn update_without_assignments_is_an_error() {
    let q = update(Users::table());
    assert!(matches!(q.compile(&Postgres), Err(quarry_core::CompileError::Invalid { .. })));
    assert!(matches!(q.compile(&Sqlite), Err(quarry_core::CompileError::Invalid { .. })));
}

#[test]
fn delete_where_returning() {
    let u = Users::table();
    let q = delete_from(u).filter(u.karma.lt(0)).returning(u.id);
    check_same_params(
        &q,
        r#"DELETE FROM "users" WHERE "users"."karma" < $1 RETURNING "users"."id""#,
        r#"DELETE FROM "users" WHERE "users"."karma" < ?1 RETURNING "users"."id""#,
        &[i32v(0)],
    );
    assert_eq!(pg(&q).kind, StatementKind::Write);
    check_same_params(&delete_from(u), r#"DELETE FROM "users""#, r#"DELETE FROM "users""#, &[]);
}

#[test]
fn delete_using_is_rewritten_to_exists_on_sqlite() {
    let (u, tm) = (Users::table(), Teams::table());
    let q = delete_from(u).using(tm).filter(u.team_id.eq(tm.id).and(tm.name.eq("gone"))).returning(u.name);
    check_same_params(
        &q,
        r#"DELETE FROM "users" USING "teams" WHERE "users"."team_id" = "teams"."id" AND "teams"."name" = $1 RETURNING "users"."name""#,
        r#"DELETE FROM "users" WHERE EXISTS (SELECT 1 FROM "teams" WHERE "users"."team_id" = "teams"."id" AND "teams"."name" = ?1) RETURNING "users"."name""#,
        &[t("gone")],
    );
    // The rewrite deletes the same rows USING would.
    let conn = sqlite_db();
    conn.execute_batch(
        "INSERT INTO teams (id, name) VALUES (1, 'gone'), (2, 'kept');
         INSERT INTO users (id, name, karma, active, team_id) VALUES
           (1, 'a', 0, 1, 1), (2, 'b', 0, 1, 2), (3, 'c', 0, 1, NULL), (4, 'd', 0, 1, 1);",
    )
    .unwrap();
    let c = lite(&q);
    let mut deleted: Vec<String> =
        conn.prepare(&c.sql).unwrap().query_map(["gone"], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
    deleted.sort();
    assert_eq!(deleted, ["a", "d"]);
    let left: i64 = conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 2);
}

#[test]
fn delete_using_through_an_alias() {
    let u = Users::alias("u");
    let o = Orders::table();
    let q = delete_from(u).using(o).filter(o.user_id.eq(u.id));
    check_same_params(
        &q,
        r#"DELETE FROM "users" AS "u" USING "orders" WHERE "orders"."user_id" = "u"."id""#,
        r#"DELETE FROM "users" AS "u" WHERE EXISTS (SELECT 1 FROM "orders" WHERE "orders"."user_id" = "u"."id")"#,
        &[],
    );
    sqlite_prepares(&q);
}

#[test]
fn insert_chunks_stay_under_the_parameter_limit() {
    let u = Users::table();
    let rows: Vec<(String, i32)> = (0..10).map(|i| (format!("n{i}"), i)).collect();
    let q = insert_into(u).rows((u.name, u.karma), rows).returning(u.id);
    let chunks = q.compile_chunks(&Sqlite, 6).unwrap();
    assert_eq!(chunks.len(), 4);
    assert!(chunks.iter().all(|c| c.params.len() <= 6));
    assert_eq!(
        chunks[0].sql,
        r#"INSERT INTO "users" ("name", "karma") VALUES (?1, ?2), (?3, ?4), (?5, ?6) RETURNING "users"."id""#
    );
    assert_eq!(chunks[3].sql, r#"INSERT INTO "users" ("name", "karma") VALUES (?1, ?2) RETURNING "users"."id""#);
    let total: usize = chunks.iter().map(|c| c.params.len()).sum();
    assert_eq!(total, 20);
    // A statement that cannot be split is refused rather than sent.
    let q = select(Users::table().id).from(Users::table()).filter(Users::table().id.in_((0..10).collect::<Vec<i64>>()));
    assert!(q.compile_chunks(&Sqlite, 5).is_err());
}
