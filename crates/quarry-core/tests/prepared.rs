//! Prepared statements: `param()` placeholders compiled once, values bound
//! per run; the same SQL and parameters as compiling the statement with the
//! values in it, on the prepared dialect (copied) and on another (compiled
//! again).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

use quarry_core::prelude::*;
use quarry_core::{CompileError, Compiled};

quarry_core::table! {
    pub struct Users("users") { id: i64 [primary_key], name: String, karma: i32 }
}

/// What running `stmt` on a connection of `dialect` with no parameter
/// limit would send.
fn sent(stmt: &impl Compile, dialect: &dyn Dialect) -> Result<Compiled, CompileError> {
    let mut chunks = stmt.compile_chunks(dialect, usize::MAX)?;
    assert_eq!(chunks.len(), 1);
    Ok(chunks.remove(0))
}

#[test]
fn a_prepared_select_sends_what_the_statement_with_its_values_compiles_to() {
    let u = Users::table();
    let prepared = select((u.id, u.name))
        .from(u)
        .filter(u.karma.gt(param::<i32>("min")).and(u.name.ne("root")).and(u.id.ne(param::<i64>("id"))))
        .order_by(u.id)
        .limit(10)
        .prepare(&Postgres)
        .unwrap();
    assert_eq!(prepared.param_names().collect::<Vec<_>>(), ["min", "id"]);
    for (min, n) in [(0_i32, 10_i64), (5, 1), (-3, 100)] {
        let literal = select((u.id, u.name))
            .from(u)
            .filter(u.karma.gt(min).and(u.name.ne("root")).and(u.id.ne(n)))
            .order_by(u.id)
            .limit(10);
        let bound = prepared.bind("id", n).bind("min", min);
        for dialect in [&Postgres as &dyn Dialect, &Sqlite] {
            let expected = literal.compile(dialect).unwrap();
            assert_eq!(sent(&bound, dialect).unwrap(), expected, "{}", dialect.name());
            assert_eq!(bound.compile(dialect).unwrap(), expected, "{}", dialect.name());
            assert_eq!(bound.clone().into_compiled(dialect).unwrap(), expected, "{}", dialect.name());
            // What `execute` runs.
            assert_eq!(
                bound.clone().compile_for_run(dialect, 100).unwrap(),
                quarry_core::CompiledRun::One(expected.clone()),
                "{}",
                dialect.name()
            );
            assert_eq!(
                bound.to_debug_sql(dialect).unwrap().as_str(),
                literal.to_debug_sql(dialect).unwrap().as_str(),
                "{}",
                dialect.name()
            );
        }
    }
    assert_eq!(
        prepared.sql(),
        r#"SELECT "users"."id", "users"."name" FROM "users" WHERE "users"."karma" > $1 AND "users"."name" <> $2 AND "users"."id" <> $3 ORDER BY "users"."id" LIMIT $4"#
    );
}

#[test]
fn a_name_used_twice_gets_its_value_in_both_places() {
    let u = Users::table();
    let p = select(u.id)
        .from(u)
        .filter(u.karma.gt(param::<i32>("k")).or(u.id.eq(param::<i64>("id"))).or(u.karma.lt(param::<i32>("k"))))
        .prepare(&Sqlite)
        .unwrap();
    assert_eq!(p.param_names().collect::<Vec<_>>(), ["k", "id", "k"]);
    let c = sent(&p.bind("k", 7_i32).bind("id", 3_i64), &Sqlite).unwrap();
    assert_eq!(c.params, [Value::I32(7), Value::I64(3), Value::I32(7)]);
    assert_eq!(c.sql.matches('?').count(), 3);
    // Bound again, the name's new value goes to both places.
    let rebound = p.bind("k", 7_i32).bind("id", 3_i64).bind("k", 8_i32);
    assert_eq!(rebound.clone().into_compiled(&Sqlite).unwrap().params, [Value::I32(8), Value::I64(3), Value::I32(8)]);
    assert_eq!(sent(&rebound, &Postgres).unwrap().params, [Value::I32(8), Value::I64(3), Value::I32(8)]);
}

#[test]
fn missing_unused_and_rebound_values() {
    let u = Users::table();
    let p =
        update(u).set(u.karma, param::<i32>("karma")).filter(u.id.eq(param::<i64>("id"))).prepare(&Postgres).unwrap();
    let missing = sent(&p.bind("id", 1_i64), &Postgres).unwrap_err();
    assert_eq!(missing, CompileError::MissingBind { name: "karma".into() });
    // The other dialect's path says the same.
    assert_eq!(sent(&p.bind("id", 1_i64), &Sqlite).unwrap_err(), CompileError::MissingBind { name: "karma".into() });
    let unused = p.bind("id", 1_i64).bind("karma", 2_i32).bind("nme", "x");
    assert_eq!(sent(&unused, &Postgres).unwrap_err(), CompileError::UnusedBind { name: "nme".into() });
    assert_eq!(sent(&unused, &Sqlite).unwrap_err(), CompileError::UnusedBind { name: "nme".into() });
    // A name the statement does not have is reported before a missing one.
    let both = p.bind("id", 1_i64).bind("nme", "x");
    assert_eq!(sent(&both, &Postgres).unwrap_err(), CompileError::UnusedBind { name: "nme".into() });
    assert_eq!(both.compile_for_run(&Postgres, 10).unwrap_err(), CompileError::UnusedBind { name: "nme".into() });
    // A later value for a name replaces the earlier one.
    let c = sent(&p.bind("id", 1_i64).bind("karma", 2_i32).bind("id", 9_i64), &Postgres).unwrap();
    assert_eq!(c.params, [Value::I32(2), Value::I64(9)]);
    assert_eq!(c.sql, r#"UPDATE "users" SET "karma" = $1 WHERE "users"."id" = $2"#);
}

#[test]
fn more_than_sixty_four_names_are_tracked_one_by_one() {
    // Which names have a value is a bit each up to 64 names, a list beyond.
    let u = Users::table();
    for count in [63_usize, 64, 65, 70] {
        // `param` takes a static name, as a name written in the code is.
        let names: Vec<&'static str> = (0..count).map(|i| &*Box::leak(format!("p{i}").into_boxed_str())).collect();
        let filter =
            names.iter().fold(u.id.eq(param::<i64>(names[0])), |all, name| all.or(u.id.eq(param::<i64>(name))));
        let p = select(u.id).from(u).filter(filter).prepare(&Postgres).unwrap();
        let all_but_last = names[..count - 1].iter().enumerate().fold(p.bound(), |b, (i, n)| b.bind(*n, i as i64));
        let missing = sent(&all_but_last, &Postgres).unwrap_err();
        assert_eq!(missing, CompileError::MissingBind { name: names[count - 1].into() }, "{count} names");
        let all = all_but_last.bind(names[count - 1], 99_i64);
        let c = sent(&all, &Postgres).unwrap();
        // p0 is used twice (first and second placeholder), then p1, p2, ...
        let mut expected: Vec<Value> = vec![Value::I64(0)];
        expected.extend((0..count).map(|i| Value::I64(if i == count - 1 { 99 } else { i as i64 })));
        assert_eq!(c.params, expected, "{count} names");
        // The other dialect's path, which binds by name, agrees.
        assert_eq!(sent(&all, &Sqlite).unwrap().params, expected, "{count} names on SQLite");
    }
}

#[test]
fn a_parameter_outside_a_prepared_statement_is_a_missing_bind() {
    let u = Users::table();
    let q = select(u.id).from(u).filter(u.id.eq(param::<i64>("id")));
    assert_eq!(q.compile(&Postgres).unwrap_err(), CompileError::MissingBind { name: "id".into() });
    assert!(q.to_debug_sql(&Sqlite).is_err());
}

#[test]
fn typed_where_the_server_cannot_infer_the_type() {
    // Alone in a select list, or a CASE result, as bare values are.
    let p = select((param::<i64>("a"), case::<String>().when(param::<bool>("b"), param::<String>("c")).otherwise("d")))
        .prepare(&Postgres)
        .unwrap();
    assert_eq!(p.sql(), "SELECT CAST($1 AS BIGINT), CASE WHEN $2 THEN CAST($3 AS TEXT) ELSE CAST($4 AS TEXT) END");
    let c = sent(&p.bind("a", 1_i64).bind("b", true).bind("c", "x"), &Postgres).unwrap();
    assert_eq!(c.params, [Value::I64(1), Value::Bool(true), Value::from("x"), Value::from("d")]);
    // SQLite's parameters carry their own type.
    let lite = p.bind("a", 1_i64).bind("b", true).bind("c", "x").compile(&Sqlite).unwrap();
    assert_eq!(lite.sql, "SELECT ?1, CASE WHEN ?2 THEN ?3 ELSE ?4 END");
}

#[test]
fn a_prepared_insert_is_one_statement() {
    let u = Users::table();
    let p = insert_into(u)
        .values((u.id.set(param::<i64>("id")), u.name.set(param::<String>("name")), u.karma.set(0)))
        .prepare(&Sqlite)
        .unwrap();
    let bound = p.bind("id", 1_i64).bind("name", "ada");
    assert_eq!(sent(&bound, &Sqlite).unwrap().params, [Value::I64(1), Value::from("ada"), Value::I32(0)]);
    // Over the connection's limit it is refused, not split.
    let err = bound.compile_chunks(&Sqlite, 2).unwrap_err();
    assert!(err.to_string().contains("limit of 2"), "{err}");
    let err = bound.clone().compile_for_run(&Sqlite, 2).unwrap_err();
    assert!(err.to_string().contains("limit of 2"), "{err}");
    // It runs on SQLite as prepared.
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, karma INTEGER NOT NULL)")
        .unwrap();
    let mut stmt = conn.prepare(p.sql()).unwrap();
    assert_eq!(stmt.parameter_count(), 3);
    stmt.execute(rusqlite::params![1_i64, "ada", 0_i32]).unwrap();
}

#[test]
fn prepared_statements_are_shared_between_threads() {
    let u = Users::table();
    let p = select(u.name).from(u).filter(u.id.eq(param::<i64>("id"))).prepare(&Postgres).unwrap();
    let handles: Vec<_> = (0..4_i64)
        .map(|i| {
            let p = p.clone();
            std::thread::spawn(move || sent(&p.bind("id", i), &Postgres).unwrap().params)
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), [Value::I64(i as i64)]);
    }
}
