//! Binding and decoding every value type, against a real server, with
//! named prepared statements and without (statement_cache_capacity = 0).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{bound, exec, scalar, sql, try_scalar};
use quarry_core::prelude::*;
use quarry_core::{Connection, Interval, PoolConfig};

async fn roundtrip<T: FromValue + Send + 'static>(
    conn: &mut impl Connection,
    pg_type: &str,
    v: Value,
) -> Result<T, Error>
where
    (T,): FromRow,
{
    try_scalar(conn, bound(&format!("SELECT $1::{pg_type}"), vec![v])).await
}

#[tokio::test]
async fn integers_bind_to_the_inferred_type_with_range_checks() {
    let (_db, pool) = pg!("integers_bind");
    let mut c = pool.acquire().await.unwrap();
    assert_eq!(roundtrip::<i64>(&mut c, "int4", Value::I64(5)).await.unwrap(), 5);
    assert_eq!(roundtrip::<i16>(&mut c, "int2", Value::I64(-32768)).await.unwrap(), i16::MIN);
    assert_eq!(roundtrip::<i64>(&mut c, "int8", Value::I16(7)).await.unwrap(), 7);
    assert_eq!(roundtrip::<i64>(&mut c, "int8", Value::I64(i64::MIN)).await.unwrap(), i64::MIN);
    assert_eq!(roundtrip::<i32>(&mut c, "int4", Value::I32(i32::MAX)).await.unwrap(), i32::MAX);
    assert_eq!(roundtrip::<f64>(&mut c, "float8", Value::I32(3)).await.unwrap(), 3.0);
    assert_eq!(roundtrip::<i64>(&mut c, "oid", Value::I64(4_000_000_000)).await.unwrap(), 4_000_000_000);

    let err = roundtrip::<i64>(&mut c, "int4", Value::I64(i64::MAX)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    assert_eq!(
        err.to_string(),
        "encode error: parameter $1: i64 value 9223372036854775807 is out of range for a parameter of type int4"
    );
    // Nothing was sent: the connection goes on.
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);

    // The server decides: LIMIT takes int8, a comparison with an int2 column takes int2.
    exec(&mut c, "CREATE TABLE small (v int2)").await;
    exec(&mut c, "INSERT INTO small VALUES (1), (2), (3)").await;
    let q =
        bound("SELECT count(*) FROM (SELECT v FROM small WHERE v > $1 LIMIT $2) s", vec![Value::I64(1), Value::I32(5)]);
    assert_eq!(try_scalar::<i64>(&mut c, q).await.unwrap(), 2);
    let q = bound("SELECT count(*) FROM small WHERE v = $1", vec![Value::I64(70000)]);
    let err = try_scalar::<i64>(&mut c, q).await.unwrap_err();
    assert!(err.message().contains("out of range for a parameter of type int2"), "{err}");
}

#[tokio::test]
async fn floats_keep_nan_infinities_and_negative_zero() {
    let (_db, pool) = pg!("floats");
    let mut c = pool.acquire().await.unwrap();
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, f64::MIN_POSITIVE, f64::from_bits(1), f64::MAX] {
        let back: f64 = roundtrip(&mut c, "float8", Value::F64(v)).await.unwrap();
        assert_eq!(back.to_bits(), v.to_bits(), "{v}");
    }
    for v in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, f32::MIN_POSITIVE, f32::MAX, f32::MIN] {
        let back: f32 = roundtrip(&mut c, "float4", Value::F32(v)).await.unwrap();
        assert_eq!(back.to_bits(), v.to_bits(), "{v}");
    }
    // -0.0 compares equal to 0.0 in SQL too.
    assert!(try_scalar::<bool>(&mut c, bound("SELECT $1::float8 = 0", vec![Value::F64(-0.0)])).await.unwrap());
    let err = roundtrip::<f32>(&mut c, "float4", Value::F64(1e300)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
}

#[cfg(feature = "rust_decimal")]
#[tokio::test]
async fn numeric_round_trips_exactly_and_nan_is_an_error() {
    use rust_decimal::Decimal;
    let (_db, pool) = pg!("numeric");
    let mut c = pool.acquire().await.unwrap();
    for text in ["0", "1.10", "-123.4500", "12345678901234567890.123456789", "0.0000000000000000000000000001"] {
        let d: Decimal = text.parse().unwrap();
        let back: Decimal = roundtrip(&mut c, "numeric", Value::Decimal(d)).await.unwrap();
        assert_eq!(back.to_string(), d.to_string());
        let as_text: String =
            try_scalar(&mut c, bound("SELECT $1::numeric::text", vec![Value::Decimal(d)])).await.unwrap();
        assert_eq!(as_text, text);
    }
    // Integers, floats and text bind to numeric parameters.
    let t: String = try_scalar(&mut c, bound("SELECT $1::numeric::text", vec![Value::I64(i64::MIN)])).await.unwrap();
    assert_eq!(t, i64::MIN.to_string());
    let t: String = try_scalar(&mut c, bound("SELECT $1::numeric::text", vec![Value::F64(0.1)])).await.unwrap();
    assert_eq!(t, "0.1");
    let t: String = try_scalar(&mut c, bound("SELECT $1::numeric::text", vec![Value::from("12.50")])).await.unwrap();
    assert_eq!(t, "12.50");
    let t: String = try_scalar(&mut c, bound("SELECT $1::numeric::text", vec![Value::F64(f64::NAN)])).await.unwrap();
    assert_eq!(t, "NaN");

    for special in ["NaN", "Infinity", "-Infinity"] {
        let q = sql(&format!("SELECT '{special}'::numeric AS n"));
        let err = c.fetch_all::<(Decimal,)>(q).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{special}");
        assert!(err.message().starts_with("decoding column 0 `n` as Decimal: found numeric ("), "{err}");
        assert!(err.message().contains(special), "the message says which value: {err}");
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(source.contains(special), "{source}");
    }
    let max = sql("SELECT 9999999999999999999999999999.9999999999::numeric(38,10)");
    assert_eq!(c.fetch_all::<(Decimal,)>(max).await.unwrap_err().kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn text_types_bytes_and_nul() {
    let (_db, pool) = pg!("text_types");
    let mut c = pool.acquire().await.unwrap();
    for ty in ["text", "varchar", "varchar(10)", "name", "char(3)"] {
        let back: String = roundtrip(&mut c, ty, Value::from("héé")).await.unwrap();
        assert_eq!(back, "héé", "{ty}");
    }
    exec(&mut c, "CREATE TYPE mood AS ENUM ('sad', 'happy')").await;
    let back: String = roundtrip(&mut c, "mood", Value::from("happy")).await.unwrap();
    assert_eq!(back, "happy");
    let err = roundtrip::<String>(&mut c, "mood", Value::from("meh")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Database);
    assert_eq!(err.sqlstate(), Some("22P02"));

    let err = roundtrip::<String>(&mut c, "text", Value::from("a\0b")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    assert!(err.message().contains("NUL"), "{err}");

    let blob: Vec<u8> = (0..=255).collect();
    let back: Vec<u8> = roundtrip(&mut c, "bytea", Value::from(blob.clone())).await.unwrap();
    assert_eq!(back, blob);
    let back: Vec<u8> = roundtrip(&mut c, "bytea", Value::from(Vec::<u8>::new())).await.unwrap();
    assert!(back.is_empty());
    let bytes: bytes::Bytes = roundtrip(&mut c, "bytea", Value::from(vec![0_u8, 0])).await.unwrap();
    assert_eq!(&bytes[..], &[0, 0]);

    // A bool, and NULL to any type.
    assert!(roundtrip::<bool>(&mut c, "bool", Value::Bool(true)).await.unwrap());
    for ty in ["int4", "text", "bytea", "jsonb", "int8[]", "interval", "mood"] {
        let q = bound(&format!("SELECT $1::{ty} IS NULL"), vec![Value::Null]);
        assert!(try_scalar::<bool>(&mut c, q).await.unwrap(), "{ty}");
    }
    let err = roundtrip::<String>(&mut c, "int4", Value::from("1")).await.unwrap_err();
    assert_eq!(err.message(), "parameter $1: cannot bind text to a parameter of type int4 (cast it in SQL)");
}

#[tokio::test]
async fn decode_errors_name_column_rust_type_and_pg_type() {
    let (_db, pool) = pg!("decode_errors");
    let mut c = pool.acquire().await.unwrap();
    let err = c.fetch_all::<(i32, i32, i32)>(sql("SELECT 1 AS a, 2 AS b, 'x'::text AS age")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.to_string(), "decode error: decoding column 2 `age` as i32: found text");
    assert_eq!(err.column(), Some("age"));
    let err = c.fetch_all::<(i16,)>(sql("SELECT 100000::int4 AS n")).await.unwrap_err();
    assert_eq!(err.message(), "decoding column 0 `n` as i16: found int4 (100000 is out of range)");
    let err = c.fetch_all::<(i32,)>(sql("SELECT NULL::int4 AS n")).await.unwrap_err();
    assert_eq!(err.message(), "decoding column 0 `n` as i32: found null");
    let err = c.fetch_all::<(String,)>(sql("SELECT now()::timestamptz AS t")).await.unwrap_err();
    assert!(err.message().starts_with("decoding column 0 `t` as String: found timestamptz"), "{err}");
    // Decoding through Value and Option works for every column.
    let row: (Value, Option<i32>, Value) = c.fetch_one_row(sql("SELECT 1::int8, NULL::int4, 'x'::varchar")).await;
    assert_eq!(row, (Value::I64(1), None, Value::from("x")));
    // The connection is still usable after decode errors.
    assert_eq!(scalar::<i32>(&mut c, "SELECT 41 + 1").await, 42);
}

trait FetchOneRow {
    async fn fetch_one_row<T: FromRow + Send + 'static>(&mut self, q: quarry_core::Compiled) -> T;
}

impl<C: Connection> FetchOneRow for C {
    async fn fetch_one_row<T: FromRow + Send + 'static>(&mut self, q: quarry_core::Compiled) -> T {
        self.fetch_optional(q).await.unwrap().unwrap()
    }
}

#[tokio::test]
async fn intervals_and_arrays() {
    let (_db, pool) = pg!("intervals_arrays");
    let mut c = pool.acquire().await.unwrap();
    let i = Interval { months: 14, days: -3, microseconds: 1_500_000 };
    assert_eq!(roundtrip::<Interval>(&mut c, "interval", Value::Interval(i)).await.unwrap(), i);
    let t: String = try_scalar(&mut c, bound("SELECT $1::interval::text", vec![Value::Interval(i)])).await.unwrap();
    assert_eq!(t, "1 year 2 mons -3 days +00:00:01.5");

    // IN lists bind one array: `= ANY($1)`, converting i64 elements to int4.
    exec(&mut c, "CREATE TABLE items (id int4 PRIMARY KEY, tag text)").await;
    exec(&mut c, "INSERT INTO items SELECT g, 't' || g FROM generate_series(1, 10) g").await;
    let q = bound("SELECT count(*) FROM items WHERE id = ANY($1)", vec![Value::from(vec![2_i64, 5, 11])]);
    assert_eq!(try_scalar::<i64>(&mut c, q).await.unwrap(), 2);
    let q = bound("SELECT count(*) FROM items WHERE tag = ANY($1)", vec![Value::from(vec!["t1", "t3", "nope"])]);
    assert_eq!(try_scalar::<i64>(&mut c, q).await.unwrap(), 2);
    let q = bound("SELECT count(*) FROM items WHERE id = ANY($1)", vec![Value::Array(Vec::new().into())]);
    assert_eq!(try_scalar::<i64>(&mut c, q).await.unwrap(), 0);
    let q = bound("SELECT count(*) FROM items WHERE id = ANY($1)", vec![Value::from(vec![1_i64, i64::MAX])]);
    let err = try_scalar::<i64>(&mut c, q).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    assert!(err.message().contains("array element"), "{err}");

    let items = Value::Array(vec![Value::I32(1), Value::Null, Value::I64(3)].into());
    let back: Value = try_scalar(&mut c, bound("SELECT $1::int4[]", vec![items])).await.unwrap();
    assert_eq!(back.decode::<Vec<Option<i32>>>().unwrap(), vec![Some(1), None, Some(3)]);
    // Arrays with NULLs decode as rows too.
    let back: Vec<Option<i64>> = try_scalar(&mut c, sql("SELECT ARRAY[1, NULL, 3]::int8[]")).await.unwrap();
    assert_eq!(back, [Some(1), None, Some(3)]);
    let back: Vec<String> = try_scalar(&mut c, sql("SELECT ARRAY['a', 'b\"c']::text[]")).await.unwrap();
    assert_eq!(back, vec!["a".to_owned(), "b\"c".to_owned()]);
    let back: Vec<f64> = try_scalar(&mut c, sql("SELECT ARRAY['NaN', '-0']::float8[]")).await.unwrap();
    assert!(back[0].is_nan() && back[1].to_bits() == (-0.0f64).to_bits());
    let err = try_scalar::<Vec<i32>>(&mut c, sql("SELECT ARRAY[[1, 2], [3, 4]] AS m")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(std::error::Error::source(&err).unwrap().to_string().contains("2-dimensional"), "{err:?}");
    let v: Value = try_scalar(&mut c, sql("SELECT ARRAY[1, NULL]::int8[]")).await.unwrap();
    assert_eq!(v, Value::Array(vec![Value::I64(1), Value::Null].into()));
}

#[cfg(all(feature = "uuid", feature = "json"))]
#[tokio::test]
async fn uuid_and_json() {
    let (_db, pool) = pg!("uuid_json");
    let mut c = pool.acquire().await.unwrap();
    let u = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
    assert_eq!(roundtrip::<uuid::Uuid>(&mut c, "uuid", Value::Uuid(u)).await.unwrap(), u);
    // Text parsed into a uuid parameter.
    let back: uuid::Uuid = roundtrip(&mut c, "uuid", Value::from(u.to_string())).await.unwrap();
    assert_eq!(back, u);
    let err = roundtrip::<uuid::Uuid>(&mut c, "uuid", Value::from("not-a-uuid")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);

    let doc = serde_json::json!({"a": [1, 2.5, null], "b": "é"});
    for ty in ["json", "jsonb"] {
        let back: serde_json::Value = roundtrip(&mut c, ty, Value::from(doc.clone())).await.unwrap();
        assert_eq!(back, doc, "{ty}");
        let back: serde_json::Value = roundtrip(&mut c, ty, Value::from(r#"{"x": 1}"#)).await.unwrap();
        assert_eq!(back, serde_json::json!({"x": 1}), "{ty}");
    }
    // jsonb decodes as its text, without the version byte.
    let t: String = try_scalar(&mut c, sql(r#"SELECT '{"k": true}'::jsonb"#)).await.unwrap();
    assert_eq!(t, r#"{"k": true}"#);
}

#[cfg(feature = "chrono")]
#[tokio::test]
async fn dates_and_times_at_range_ends() {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
    let (_db, pool) = pg!("dates_times");
    let mut c = pool.acquire().await.unwrap();
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    for d in [day(1, 1, 1), day(1970, 1, 1), day(1999, 12, 31), day(2000, 1, 1), day(9999, 12, 31), day(-4712, 1, 1)] {
        assert_eq!(roundtrip::<NaiveDate>(&mut c, "date", Value::Date(d)).await.unwrap(), d);
    }
    let ts = |d: NaiveDate, us| d.and_hms_micro_opt(23, 59, 59, us).unwrap();
    for t in [ts(day(1, 1, 1), 0), ts(day(1969, 12, 31), 999_999), ts(day(9999, 12, 31), 999_999)] {
        assert_eq!(roundtrip::<NaiveDateTime>(&mut c, "timestamp", Value::Timestamp(t)).await.unwrap(), t);
        let utc = t.and_utc();
        assert_eq!(roundtrip::<DateTime<Utc>>(&mut c, "timestamptz", Value::TimestampTz(utc)).await.unwrap(), utc);
    }
    let t = NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap();
    assert_eq!(roundtrip::<NaiveTime>(&mut c, "time", Value::Time(t)).await.unwrap(), t);
    // Text parsed into temporal parameters.
    let back: NaiveDate = roundtrip(&mut c, "date", Value::from("2024-02-29")).await.unwrap();
    assert_eq!(back, day(2024, 2, 29));

    // A naive timestamp bound to timestamptz is an error, not a guess at its zone.
    exec(&mut c, "SET TIME ZONE 'Asia/Kathmandu'").await;
    let naive = day(2024, 1, 1).and_hms_opt(0, 0, 0).unwrap();
    let q = bound("SELECT $1::timestamptz = '2024-01-01 00:00:00+00'", vec![Value::Timestamp(naive)]);
    let err = try_scalar::<bool>(&mut c, q).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    assert!(err.to_string().contains("timestamptz"), "{err}");
    // The same instant bound as UTC.
    let q = bound("SELECT $1::timestamptz = '2024-01-01 00:00:00+00'", vec![Value::TimestampTz(naive.and_utc())]);
    assert!(try_scalar::<bool>(&mut c, q).await.unwrap());
    let back: DateTime<Utc> = try_scalar(&mut c, sql("SELECT '2024-01-01 05:45:00'::timestamptz")).await.unwrap();
    assert_eq!(back, naive.and_utc());
    // A UTC timestamp bound to a naive timestamp parameter is an error, not a shift.
    let err = roundtrip::<NaiveDateTime>(&mut c, "timestamp", Value::TimestampTz(naive.and_utc())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);

    for (text, ty) in [("infinity", "timestamp"), ("-infinity", "timestamptz"), ("infinity", "date")] {
        let q = sql(&format!("SELECT '{text}'::{ty} AS t"));
        let err = c.fetch_all::<(Value,)>(q).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{text} {ty}");
        assert!(format!("{err:?}").contains("infinity"), "{err:?}");
    }
    let err = c.fetch_all::<(Value,)>(sql("SELECT '294276-01-01'::timestamp AS t")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    let err = c.fetch_all::<(Value,)>(sql("SELECT '24:00:00'::time AS t")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[cfg(feature = "chrono")]
#[tokio::test]
async fn decoded_timestamps_do_not_depend_on_the_session_time_zone() {
    use chrono::{DateTime, Utc};
    let Some(db) = quarry_testkit::pg_test_db("session_time_zone").await else { return };
    let mut seen = Vec::new();
    for tz in ["UTC", "America/St_Johns", "Asia/Kathmandu"] {
        let url = format!("{}&options=-cTimeZone%3D{}", db.url(), tz.replace('/', "%2F"));
        let pool = quarry_postgres::PgPool::connect(&url, PoolConfig::new().max_size(1)).await.unwrap();
        let mut c = pool.acquire().await.unwrap();
        assert_eq!(scalar::<String>(&mut c, "SHOW TimeZone").await, tz);
        let v: DateTime<Utc> = scalar(&mut c, "SELECT '2024-03-10 02:30:00+00'::timestamptz").await;
        seen.push(v);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
}

#[tokio::test]
async fn without_named_statements_types_come_from_values() {
    let config = PoolConfig::new().max_size(1).statement_cache_capacity(0);
    let (_db, pool) = pg!("unnamed_types", config);
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "CREATE TABLE t (id int4, name text, tags text[], score float8, d date)").await;
    let insert = "INSERT INTO t (id, name, tags, score, d) VALUES ($1, $2, $3, $4, $5)";
    let rows = [
        vec![
            Value::I64(1),
            Value::from("a"),
            Value::from(vec!["x", "y\"z"]),
            Value::F64(0.5),
            Value::from("2024-01-02"),
        ],
        vec![Value::I32(2), Value::Null, Value::Null, Value::Null, Value::Null],
        vec![Value::I16(3), Value::from("c"), Value::Array(vec![Value::Null].into()), Value::I32(2), Value::Null],
    ];
    for params in rows {
        assert_eq!(c.execute(bound(insert, params)).await.unwrap(), 1);
    }
    let q = bound("SELECT count(*) FROM t WHERE id = ANY($1)", vec![Value::from(vec![1_i64, 3])]);
    assert_eq!(try_scalar::<i64>(&mut c, q).await.unwrap(), 2);
    let q = bound("SELECT count(*) FROM t WHERE name = ANY($1)", vec![Value::from(vec!["a", "c"])]);
    assert_eq!(try_scalar::<i64>(&mut c, q).await.unwrap(), 2);
    let q = bound("SELECT tags FROM t WHERE id = $1", vec![Value::I64(1)]);
    assert_eq!(try_scalar::<Vec<String>>(&mut c, q).await.unwrap(), vec!["x".to_owned(), "y\"z".to_owned()]);
    let q = bound("SELECT d::text FROM t WHERE name = $1", vec![Value::from("a")]);
    assert_eq!(try_scalar::<String>(&mut c, q).await.unwrap(), "2024-01-02");
    // An untyped NULL needs a context, as with any untyped parameter.
    let q = bound("SELECT $1::int8 IS NULL", vec![Value::Null]);
    assert!(try_scalar::<bool>(&mut c, q).await.unwrap());
    let q = bound("SELECT $1 IS NULL", vec![Value::Null]);
    assert_eq!(try_scalar::<bool>(&mut c, q).await.unwrap_err().sqlstate(), Some("42P18"));
    let q = bound("SELECT $1", vec![Value::from("plain")]);
    assert_eq!(try_scalar::<String>(&mut c, q).await.unwrap(), "plain");
    // Still range-checked on our side.
    let q = bound("SELECT $1::int2", vec![Value::I32(70000)]);
    assert!(try_scalar::<i16>(&mut c, q).await.is_err());
    assert_eq!(c.cached_statements(), 0);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM pg_prepared_statements").await, 0);
}

#[tokio::test]
// `vec![0; n]` is zeroed by the allocator lazily: the 1 GiB costs address
// space, not memory, unless something copies it (which would be the bug).
async fn a_value_over_one_gib_is_an_encode_error_before_sending() {
    let (_db, pool) = pg!("one_gib");
    let mut c = pool.acquire().await.unwrap();
    let big = Value::Bytes(bytes::Bytes::from(vec![0_u8; (1 << 30) + 1]));
    let err = try_scalar::<i64>(&mut c, bound("SELECT length($1::bytea)", vec![big])).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    assert!(err.message().contains("1 GiB"), "{err}");
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
}

#[tokio::test]
async fn domains_bind_and_decode_as_their_base_type() {
    let (_db, pool) = pg!("domains");
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "CREATE DOMAIN positive AS int4 CHECK (VALUE > 0)").await;
    exec(&mut c, "CREATE DOMAIN label AS text").await;
    exec(&mut c, "CREATE TABLE d (n positive, l label, ns positive[])").await;
    let q =
        bound("INSERT INTO d VALUES ($1, $2, $3)", vec![Value::I64(5), Value::from("x"), Value::from(vec![1_i64, 2])]);
    c.execute(q).await.unwrap();
    let row: Option<(i32, String, Value)> = c.fetch_optional(sql("SELECT n, l, ns FROM d")).await.unwrap();
    assert_eq!(row.unwrap(), (5, "x".to_owned(), Value::Array(vec![Value::I32(1), Value::I32(2)].into())));
    let err = c.execute(bound("INSERT INTO d (n) VALUES ($1)", vec![Value::I32(-1)])).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CheckViolation);
    let err = c.execute(bound("INSERT INTO d (n) VALUES ($1)", vec![Value::I64(1 << 40)])).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
}
