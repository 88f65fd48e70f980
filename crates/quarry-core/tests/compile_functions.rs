//! The portable functions: each dialect's SQL for the same meaning.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

mod common;

use common::*;
use quarry_core::ast::{DateField, IntervalUnit};
use quarry_core::expr::sql;
use quarry_core::prelude::*;
use quarry_core::{CompileError, ErrorKind};

fn i32v(v: i32) -> Value {
    Value::I32(v)
}
fn i64v(v: i64) -> Value {
    Value::I64(v)
}

/// `select(e)` for both dialects: the select-list SQL and params.
#[track_caller]
fn check_expr<T: quarry_core::expr::SqlType>(e: Expr<T>, pg_sql: &str, lite_sql: &str, params: &[Value]) {
    let q = select(e.label("x"));
    check_same_params(&q, &format!(r#"SELECT {pg_sql} AS "x""#), &format!(r#"SELECT {lite_sql} AS "x""#), params);
}

/// Evaluate a SQLite select of one value.
fn sqlite_value(q: &impl Compile) -> rusqlite::types::Value {
    let c = lite(q);
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let params: Vec<rusqlite::types::Value> = c
        .params
        .iter()
        .map(|p| match p {
            Value::Null => rusqlite::types::Value::Null,
            Value::I32(v) => rusqlite::types::Value::Integer(i64::from(*v)),
            Value::I64(v) => rusqlite::types::Value::Integer(*v),
            Value::F64(v) => rusqlite::types::Value::Real(*v),
            Value::Text(v) => rusqlite::types::Value::Text(v.to_string()),
            other => panic!("unexpected param {other:?}"),
        })
        .collect();
    conn.query_row(&c.sql, rusqlite::params_from_iter(params), |r| r.get(0)).unwrap()
}

#[test]
fn typed_date_time_timestamp_literals() {
    check(
        &select((date("2024-02-29").unwrap(), time("23:59:59.5").unwrap())),
        r#"SELECT CAST($1::text AS DATE), CAST($2::text AS TIME)"#,
        &[t("2024-02-29"), t("23:59:59.500000")],
        r#"SELECT ?1, ?2"#,
        &[t("2024-02-29"), t("23:59:59.500000")],
    );
    check(
        &select((timestamp("2024-01-02T03:04:05").unwrap(), timestamptz("2024-01-02 03:04:05.123456Z").unwrap())),
        r#"SELECT CAST($1::text AS TIMESTAMP), CAST($2::text AS TIMESTAMPTZ)"#,
        &[t("2024-01-02 03:04:05.000000"), t("2024-01-02 03:04:05.123456+00:00")],
        r#"SELECT ?1, ?2"#,
        &[t("2024-01-02 03:04:05.000000"), t("2024-01-02 03:04:05.123456+00:00")],
    );
    // Inline (debug) they are typed literals.
    let q = select(date("2024-01-01").unwrap());
    assert_eq!(q.to_debug_sql(&Postgres).unwrap().as_str(), "SELECT CAST('2024-01-01' AS DATE)");
    assert_eq!(q.to_debug_sql(&Sqlite).unwrap().as_str(), "SELECT '2024-01-01'");
}

#[test]
fn invalid_temporal_literals_are_refused() {
    for bad in
        ["2023-02-29", "2024-13-01", "2024-00-10", "2024-01-00", "24-01-01", "2024-01-01x", "'; DROP TABLE x; --", ""]
    {
        let e = date(bad).expect_err(bad);
        assert_eq!(e.kind(), ErrorKind::Encode, "{bad}");
    }
    for bad in ["24:00:00", "12:60:00", "12:00:60", "12:00", "12:00:00.", "12:00:00.1234567", "1a:00:00"] {
        assert_eq!(time(bad).expect_err(bad).kind(), ErrorKind::Encode, "{bad}");
    }
    for bad in ["2024-01-01", "2024-01-01 25:00:00", "2024-02-30 00:00:00", "2024-01-01_00:00:00"] {
        assert_eq!(timestamp(bad).expect_err(bad).kind(), ErrorKind::Encode, "{bad}");
    }
    for bad in ["2024-01-01 10:00:00+02:00", "2024-01-01 10:00:00-00:00", "2024-01-01 10:00:00 UTC"] {
        assert_eq!(timestamptz(bad).expect_err(bad).kind(), ErrorKind::Encode, "{bad}");
    }
    assert!(timestamptz("2024-01-01 10:00:00+00:00").is_ok());
    assert!(time("00:00:00.000001").is_ok());
}

/// `YYYY-MM-DD` means two-digit months and days: PostgreSQL reads
/// `2024-1-1` as a date, but SQLite's date functions give NULL for it and
/// it sorts after `2024-01-31` as text, so the two databases would disagree.
#[test]
fn temporal_literals_need_two_digit_fields() {
    for bad in ["2024-1-1", "2024-01-1", "2024-1-01"] {
        assert!(date(bad).is_err(), "date({bad:?}) should be refused");
        assert!(timestamp(&format!("{bad} 00:00:00")).is_err(), "timestamp of {bad:?} should be refused");
    }
    for bad in ["1:02:03", "01:2:03", "01:02:3"] {
        assert!(time(bad).is_err(), "time({bad:?}) should be refused");
    }
}

#[test]
fn date_add_on_dates_for_each_unit() {
    let d = || date("2024-01-31").unwrap();
    let cases = [
        (IntervalUnit::Seconds, "secs", "DOUBLE PRECISION", "seconds"),
        (IntervalUnit::Minutes, "mins", "INTEGER", "minutes"),
        (IntervalUnit::Hours, "hours", "INTEGER", "hours"),
        (IntervalUnit::Months, "months", "INTEGER", "months"),
        (IntervalUnit::Years, "years", "INTEGER", "years"),
    ];
    for (unit, pg_unit, pg_ty, lite_unit) in cases {
        check_expr(
            date_add(d(), 2_i64, unit),
            &format!("CAST(CAST($1::text AS DATE) + make_interval({pg_unit} => CAST($2 AS {pg_ty})) AS DATE)"),
            &format!("date(?1, ?2 || ' {lite_unit}')"),
            &[t("2024-01-31"), i64v(2)],
        );
    }
    // date + integer days stays a date on PostgreSQL.
    check_expr(
        date_add(d(), -3_i64, IntervalUnit::Days),
        "(CAST($1::text AS DATE) + CAST($2 AS INTEGER))",
        "date(?1, ?2 || ' days')",
        &[t("2024-01-31"), i64v(-3)],
    );
    assert_eq!(
        sqlite_value(&select(date_add(d(), -3_i64, IntervalUnit::Days))),
        rusqlite::types::Value::Text("2024-01-28".into())
    );
    assert_eq!(
        sqlite_value(&select(date_add(d(), 1_i64, IntervalUnit::Years))),
        rusqlite::types::Value::Text("2025-01-31".into())
    );
}

#[test]
fn date_add_on_timestamps_for_each_unit() {
    let ts = || timestamp("2024-01-31 10:00:00").unwrap();
    for (unit, pg_unit, pg_ty, lite_unit) in [
        (IntervalUnit::Seconds, "secs", "DOUBLE PRECISION", "seconds"),
        (IntervalUnit::Minutes, "mins", "INTEGER", "minutes"),
        (IntervalUnit::Hours, "hours", "INTEGER", "hours"),
        (IntervalUnit::Days, "days", "INTEGER", "days"),
        (IntervalUnit::Months, "months", "INTEGER", "months"),
        (IntervalUnit::Years, "years", "INTEGER", "years"),
    ] {
        let q = select(date_add(ts(), 90_i64, unit).label("x"));
        let ts_text = t("2024-01-31 10:00:00.000000");
        check(
            &q,
            &format!(
                r#"SELECT (CAST($1::text AS TIMESTAMP) + make_interval({pg_unit} => CAST($2 AS {pg_ty}))) AS "x""#
            ),
            &[ts_text.clone(), i64v(90)],
            // Whole seconds moved by SQLite, the microseconds copied over.
            &format!(
                "SELECT (strftime('%Y-%m-%d %H:%M:%S', strftime('%Y-%m-%d %H:%M:%S', ?1), ?2 || ' {lite_unit}') \
                 || substr(printf('%.6f', CAST('0' || substr(?3, instr(?4 || '.', '.'), 7) AS REAL)), 2)) AS \"x\""
            ),
            &[ts_text.clone(), i64v(90), ts_text.clone(), ts_text],
        );
    }
    let moved = |ts: &str, n: i64, unit| sqlite_value(&select(date_add(timestamp(ts).unwrap(), n, unit)));
    use rusqlite::types::Value::Text;
    assert_eq!(moved("2024-01-31 10:00:00", 90, IntervalUnit::Minutes), Text("2024-01-31 11:30:00.000000".into()));
    assert_eq!(
        moved("2024-01-31 10:00:00.123456", -1, IntervalUnit::Months),
        Text("2023-12-31 10:00:00.123456".into()),
        "microseconds kept"
    );
    // SQLite rounds a moved time to milliseconds: 59.9996 would carry into
    // the next minute were the seconds not truncated first.
    assert_eq!(moved("2024-01-31 10:00:59.999600", 1, IntervalUnit::Hours), Text("2024-01-31 11:00:59.999600".into()));
    assert_eq!(moved("2024-01-31 23:59:59.5", 1, IntervalUnit::Seconds), Text("2024-02-01 00:00:00.500000".into()));
    let tz = sqlite_value(&select(date_add(timestamptz("2024-01-31 10:00:00.25Z").unwrap(), 2, IntervalUnit::Days)));
    assert_eq!(tz, Text("2024-02-02 10:00:00.250000+00:00".into()));
    // A column amount that is an expression is parenthesised before `||`.
    let u = Users::table();
    let q = select(date_add(ts(), (u.karma + 1).cast::<i64>(), IntervalUnit::Days)).from(u);
    assert!(
        lite(&q).sql.contains(r#"strftime('%Y-%m-%d %H:%M:%S', ?1), CAST("users"."karma" + ?2 AS BIGINT) || ' days')"#),
        "{}",
        lite(&q).sql
    );
}

#[test]
fn casts_to_temporal_types_keep_microseconds_on_sqlite() {
    use rusqlite::types::Value::Text;
    assert_eq!(
        sqlite_value(&select(value("2024-05-01T10:00:00.123456").cast::<sql::Timestamp>())),
        Text("2024-05-01 10:00:00.123456".into())
    );
    assert_eq!(
        sqlite_value(&select(value("2024-05-01").cast::<sql::Timestamp>())),
        Text("2024-05-01 00:00:00.000000".into())
    );
    assert_eq!(
        sqlite_value(&select(value("2024-05-01 10:00:00.5").cast::<sql::TimestampTz>())),
        Text("2024-05-01 10:00:00.500000+00:00".into())
    );
    assert_eq!(
        sqlite_value(&select(value("2024-05-01 10:00:07.000001").cast::<sql::Time>())),
        Text("10:00:07.000001".into())
    );
    assert_eq!(sqlite_value(&select(value("2024-05-01 10:00:07").cast::<sql::Date>())), Text("2024-05-01".into()));
}

#[test]
fn extract_each_field() {
    for (field, pg_field, lite_fmt) in [
        (DateField::Year, "YEAR", "%Y"),
        (DateField::Month, "MONTH", "%m"),
        (DateField::Day, "DAY", "%d"),
        (DateField::Hour, "HOUR", "%H"),
        (DateField::Minute, "MINUTE", "%M"),
        (DateField::Second, "SECOND", "%S"),
        (DateField::DayOfWeek, "DOW", "%w"),
        (DateField::DayOfYear, "DOY", "%j"),
        (DateField::Epoch, "EPOCH", "%s"),
    ] {
        check_expr(
            extract(field, timestamp("2024-03-05 06:07:08.9").unwrap()),
            &format!("CAST(FLOOR(EXTRACT({pg_field} FROM CAST($1::text AS TIMESTAMP))) AS BIGINT)"),
            &format!("CAST(strftime('{lite_fmt}', ?1) AS INTEGER)"),
            &[t("2024-03-05 06:07:08.900000")],
        );
    }
    // PostgreSQL has no time of day in a date: it is read as a timestamp.
    assert_eq!(
        pg(&select(extract(DateField::Hour, date("2024-03-05").unwrap()))).sql,
        "SELECT CAST(FLOOR(EXTRACT(HOUR FROM CAST(CAST($1::text AS DATE) AS TIMESTAMP))) AS BIGINT)"
    );
    assert_eq!(
        pg(&select(extract(DateField::Year, date("2024-03-05").unwrap()))).sql,
        "SELECT CAST(FLOOR(EXTRACT(YEAR FROM CAST($1::text AS DATE))) AS BIGINT)"
    );
    // A timestamptz's fields are read in UTC, as SQLite reads them; its
    // epoch needs no zone.
    let tz = || timestamptz("2024-03-05 23:30:00Z").unwrap();
    assert_eq!(
        pg(&select(extract(DateField::Day, tz()))).sql,
        "SELECT CAST(FLOOR(EXTRACT(DAY FROM (CAST($1::text AS TIMESTAMPTZ) AT TIME ZONE 'UTC'))) AS BIGINT)"
    );
    assert_eq!(
        pg(&select(extract(DateField::Epoch, tz()))).sql,
        "SELECT CAST(FLOOR(EXTRACT(EPOCH FROM CAST($1::text AS TIMESTAMPTZ))) AS BIGINT)"
    );
    let v = |f| sqlite_value(&select(extract(f, timestamp("2024-03-05 06:07:08.9").unwrap())));
    use rusqlite::types::Value::Integer;
    assert_eq!(v(DateField::Year), Integer(2024));
    assert_eq!(v(DateField::Month), Integer(3));
    assert_eq!(v(DateField::Second), Integer(8));
    assert_eq!(v(DateField::DayOfWeek), Integer(2));
    assert_eq!(v(DateField::DayOfYear), Integer(65));
}

#[test]
fn substring_and_its_start_check() {
    let u = Users::table();
    let q = select((u.name.substring(2, Some(3)), substring(u.name, 1, None))).from(u);
    check_same_params(
        &q,
        r#"SELECT SUBSTRING("users"."name" FROM CAST($1 AS INTEGER) FOR CAST($2 AS INTEGER)), SUBSTRING("users"."name" FROM CAST($3 AS INTEGER)) FROM "users""#,
        r#"SELECT substr("users"."name", ?1, ?2), substr("users"."name", ?3) FROM "users""#,
        &[i64v(2), i64v(3), i64v(1)],
    );
    for start in [0, -1] {
        let q = select(u.name.substring(start, Some(2))).from(u);
        for d in [&Postgres as &dyn Dialect, &Sqlite] {
            match q.compile(d) {
                Err(CompileError::Invalid { reason }) => assert!(reason.contains("SUBSTRING start"), "{reason}"),
                other => panic!("start {start} should be refused, got {other:?}"),
            }
        }
    }
}

#[test]
fn concat_coalesce_nullif() {
    let u = Users::table();
    let q = select((
        u.name.concat(u.email.coalesce("none")).label("a"),
        coalesce(u.email, "x").coalesce(u.name).label("b"),
        nullif(u.karma, 0).label("c"),
    ))
    .from(u);
    check_same_params(
        &q,
        concat!(
            r#"SELECT "users"."name" || COALESCE("users"."email", CAST($1 AS TEXT)) AS "a", "#,
            r#"COALESCE("users"."email", CAST($2 AS TEXT), "users"."name") AS "b", "#,
            r#"NULLIF("users"."karma", CAST($3 AS INTEGER)) AS "c" FROM "users""#
        ),
        r#"SELECT "users"."name" || COALESCE("users"."email", ?1) AS "a", COALESCE("users"."email", ?2, "users"."name") AS "b", NULLIF("users"."karma", ?3) AS "c" FROM "users""#,
        &[t("none"), t("x"), i32v(0)],
    );
    sqlite_prepares(&q);
}

#[test]
fn greatest_and_least_ignore_nulls_on_sqlite_too() {
    let u = Users::table();
    let q = select((greatest(u.karma, 1).greatest(u.karma).label("g"), least(u.karma, 2).label("l"))).from(u);
    // SQLite's scalar max()/min() are NULL if any argument is: the
    // aggregate over the arguments as rows ignores NULLs, each written once.
    check(
        &q,
        r#"SELECT GREATEST("users"."karma", CAST($1 AS INTEGER), "users"."karma") AS "g", LEAST("users"."karma", CAST($2 AS INTEGER)) AS "l" FROM "users""#,
        &[i32v(1), i32v(2)],
        concat!(
            r#"SELECT (SELECT max("v") FROM (SELECT "users"."karma" AS "v" UNION ALL SELECT ?1 UNION ALL SELECT "users"."karma")) AS "g", "#,
            r#"(SELECT min("v") FROM (SELECT "users"."karma" AS "v" UNION ALL SELECT ?2)) AS "l" FROM "users""#
        ),
        &[i32v(1), i32v(2)],
    );
    sqlite_prepares(&q);
    // The emulation's meaning: NULLs are ignored, all-NULL is NULL.
    use rusqlite::types::Value::{Integer, Null};
    assert_eq!(sqlite_value(&select(greatest(null::<i64>(), 5_i64))), Integer(5));
    assert_eq!(sqlite_value(&select(least(value(3_i64), null::<i64>()).least(1_i64))), Integer(1));
    assert_eq!(sqlite_value(&select(greatest(value(3_i64), null::<i64>()).greatest(7_i64))), Integer(7));
    assert_eq!(sqlite_value(&select(greatest(null::<i64>(), null::<i64>()))), Null);
}

#[test]
fn string_functions() {
    let u = Users::table();
    let q = select((
        lower(u.name),
        upper(u.name),
        length(u.name),
        trim(u.name),
        u.name.replace("a", "b"),
        u.name.lower().upper(),
    ))
    .from(u);
    check_same_params(
        &q,
        r#"SELECT lower("users"."name"), upper("users"."name"), length("users"."name"), trim("users"."name"), replace("users"."name", $1, $2), upper(lower("users"."name")) FROM "users""#,
        r#"SELECT lower("users"."name"), upper("users"."name"), length("users"."name"), trim("users"."name"), replace("users"."name", ?1, ?2), upper(lower("users"."name")) FROM "users""#,
        &[t("a"), t("b")],
    );
    sqlite_prepares(&q);
}

#[test]
fn round_and_abs() {
    let o = Orders::table();
    let q = select((round(o.amount, 2), abs(o.amount), abs(-(o.amount)))).from(o);
    check_same_params(
        &q,
        r#"SELECT CAST(round(CAST("orders"."amount" AS NUMERIC), CAST($1 AS INTEGER)) AS DOUBLE PRECISION), abs("orders"."amount"), abs(-"orders"."amount") FROM "orders""#,
        r#"SELECT round("orders"."amount", ?1), abs("orders"."amount"), abs(-"orders"."amount") FROM "orders""#,
        &[i32v(2)],
    );
    sqlite_prepares(&q);
    assert_eq!(sqlite_value(&select(round(value(2.345_f64), 2))), rusqlite::types::Value::Real(2.35));
    // SQLite's round() reads negative digits as 0: Quarry divides instead.
    check(
        &select(round(value(1250.0_f64), -2)),
        "SELECT CAST(round(CAST($1 AS NUMERIC), CAST($2 AS INTEGER)) AS DOUBLE PRECISION)",
        &[Value::F64(1250.0), i32v(-2)],
        "SELECT (round(?1 / ?2) * ?3)",
        &[Value::F64(1250.0), Value::F64(100.0), Value::F64(100.0)],
    );
    use rusqlite::types::Value::Real;
    assert_eq!(sqlite_value(&select(round(value(1250.0_f64), -2))), Real(1300.0));
    assert_eq!(sqlite_value(&select(round(value(-1249.0_f64), -1))), Real(-1250.0));
    assert_eq!(sqlite_value(&select(round(value(1.0e300_f64), -400))), Real(0.0));
}

#[test]
fn now_and_current_date() {
    check_same_params(
        &select((now(), current_date())),
        "SELECT CURRENT_TIMESTAMP, CURRENT_DATE",
        "SELECT (strftime('%Y-%m-%d %H:%M:%f', 'now') || '000+00:00'), CURRENT_DATE",
        &[],
    );
}

#[test]
fn named_functions_must_be_plain_names() {
    let q = select(func("pg_catalog.lower", [lit("A").untyped()]).expr());
    check(&q, "SELECT pg_catalog.lower(CAST($1 AS TEXT))", &[t("A")], "SELECT pg_catalog.lower(?1)", &[t("A")]);
    for bad in ["lower(1); DROP TABLE x; --", "", "1abc", "a b", "a\"b"] {
        let q = select(func(bad.to_owned(), Vec::new()).expr());
        for d in [&Postgres as &dyn Dialect, &Sqlite] {
            assert!(matches!(q.compile(d), Err(CompileError::Invalid { .. })), "{bad:?}");
        }
    }
}

#[test]
fn lit_typed_literals_for_each_type() {
    check(
        &select((lit(1_i16), lit(2.5_f32), lit(String::from("s")))),
        "SELECT CAST($1 AS SMALLINT), CAST($2 AS REAL), CAST($3 AS TEXT)",
        &[Value::I16(1), Value::F32(2.5), t("s")],
        "SELECT ?1, ?2, ?3",
        &[Value::I16(1), Value::F32(2.5), t("s")],
    );
}

#[test]
fn intervals_are_postgres_only() {
    use quarry_core::Interval;
    let c = pg_only(&select(lit(Interval::default())), "the INTERVAL type");
    assert_eq!(c.sql, "SELECT CAST($1 AS INTERVAL)");
    // A bare value in a select list is typed as `lit` is.
    let c = pg_only(&select(value(Interval::default())), "the INTERVAL type");
    assert_eq!(c.sql, "SELECT CAST($1 AS INTERVAL)");
    assert_eq!(c.params, [Value::Interval(Interval::default())]);
}

#[test]
fn arrays_are_postgres_only() {
    let q = select(Expr::<quarry_core::expr::Any>::value(vec![1_i64, 2]).label("a"));
    let c = pg_only(&q, "array types");
    assert_eq!(c.sql, r#"SELECT $1 AS "a""#);
    assert_eq!(c.params, [Value::Array(vec![i64v(1), i64v(2)].into())]);
    assert_eq!(q.to_debug_sql(&Postgres).unwrap().as_str(), r#"SELECT ARRAY[1, 2] AS "a""#);
    assert!(matches!(
        q.to_debug_sql(&Sqlite),
        Err(CompileError::Unsupported { construct: "array types", dialect: "SQLite" })
    ));
    let _: Option<Expr<sql::Date>> = None;
}
