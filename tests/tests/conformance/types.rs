//! Every value type through a column of its type and back, with NULLs, on
//! every backend: a round-trip table in the spirit of sqlx's `test_type!`.
//!
//! Each `round_trip!` line declares a table `cells (id, v)` whose `v` is a
//! nullable column of the type, inserts the values (and a NULL) in one
//! multi-row insert and again one by one with `RETURNING`, and reads them
//! back. With `lit`, each value also goes through a typed literal in a
//! select list (`lit(v)`); with `eq`, each value is found again by an
//! equality filter on the column. Values the databases store differently
//! (NaN, NUL in text, intervals, arrays) have tests of their own below.

use std::fmt::Debug;
use std::str::FromStr;

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use quarry::expr::{HasColumnType, IntoExpr, IntoLiteral, SqlType};
use quarry::schema::TableSource;
use quarry::{Column, Interval};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use crate::common::*;

/// Equality for round trips: floats compare by bits (so `-0.0` is not
/// `0.0`, and NaN is NaN), everything else with `==`.
trait Same: Debug {
    fn same(&self, other: &Self) -> bool;
}

macro_rules! same_by_eq {
    ($($ty:ty),* $(,)?) => {$(
        impl Same for $ty {
            fn same(&self, other: &Self) -> bool {
                self == other
            }
        }
    )*};
}

same_by_eq!(
    bool,
    i16,
    i32,
    i64,
    String,
    Vec<u8>,
    Bytes,
    NaiveDate,
    NaiveTime,
    NaiveDateTime,
    DateTime<Utc>,
    Uuid,
    serde_json::Value,
    Interval,
    Vec<i64>,
    Vec<String>,
);

impl Same for f64 {
    fn same(&self, other: &Self) -> bool {
        self.to_bits() == other.to_bits() || (self.is_nan() && other.is_nan())
    }
}

impl Same for f32 {
    fn same(&self, other: &Self) -> bool {
        self.to_bits() == other.to_bits() || (self.is_nan() && other.is_nan())
    }
}

/// Decimals compare by value and scale: `1.50` is not `1.5`.
impl Same for Decimal {
    fn same(&self, other: &Self) -> bool {
        self == other && self.scale() == other.scale()
    }
}

impl<T: Same> Same for Option<T> {
    fn same(&self, other: &Self) -> bool {
        match (self, other) {
            (Some(a), Some(b)) => a.same(b),
            (None, None) => true,
            _ => false,
        }
    }
}

/// `Debug`, cut short for megabyte values.
fn short(value: &impl Debug) -> String {
    let text = format!("{value:?}");
    if text.len() > 200 { format!("{}... ({} bytes of Debug)", &text[..200], text.len()) } else { text }
}

#[track_caller]
fn assert_same<T: Same>(got: &T, expected: &T, what: &str) {
    assert!(got.same(expected), "{what}: got {}, expected {}", short(got), short(expected));
}

/// The body of every `round_trip!` test: create the table, then check it.
async fn check_round_trip<S, T>(
    db: &TestDb,
    table: S,
    id: Column<i64>,
    v: Column<Option<T>>,
    values: Vec<T>,
    eq: bool,
) -> Result
where
    S: TableSource + Copy + Send + Sync + 'static,
    T: HasColumnType + IntoExpr<<T as SqlType>::Base> + FromValue + FromRow + Same + Clone + Send + Sync + 'static,
{
    db.create(MetaData::new().with(table)).await?;
    check_existing(db, table, id, v, values, eq).await
}

/// Round-trip `values` (and a NULL) through column `v` of an existing, empty table.
async fn check_existing<S, T>(
    db: &TestDb,
    table: S,
    id: Column<i64>,
    v: Column<Option<T>>,
    values: Vec<T>,
    eq: bool,
) -> Result
where
    S: TableSource + Copy + Send + Sync + 'static,
    T: HasColumnType + IntoExpr<<T as SqlType>::Base> + FromValue + FromRow + Same + Clone + Send + Sync + 'static,
{
    let mut conn = db.conn().await?;
    let expected: Vec<Option<T>> = values.iter().cloned().map(Some).chain([None]).collect();

    // One multi-row insert, read back in order.
    let n = insert_into(table).rows(v, expected.clone()).execute(&mut conn).await?;
    assert_eq!(n, expected.len() as u64);
    let back: Vec<Option<T>> = select(v).from(table).order_by(id).fetch_all(&mut conn).await?;
    assert_eq!(back.len(), expected.len());
    for (i, (got, want)) in back.iter().zip(&expected).enumerate() {
        assert_same(got, want, &format!("row {i} read back"));
    }

    // One row at a time, read back through RETURNING.
    for (i, want) in expected.iter().enumerate() {
        let got: Option<T> =
            insert_into(table).values(v.set(want.clone())).returning(v).fetch_scalar(&mut conn).await?;
        assert_same(&got, want, &format!("value {i} through RETURNING"));
    }

    // Every value is found again by an equality filter (twice: once per insert).
    if eq {
        for (i, want) in values.iter().enumerate() {
            let matches = values.iter().filter(|other| other.same(want)).count() as i64 * 2;
            let n: i64 = select(count_star()).from(table).filter(v.eq(want.clone())).fetch_scalar(&mut conn).await?;
            assert_eq!(n, matches, "value {i} ({}) found by `=`", short(want));
        }
    }
    let nulls: i64 = select(count_star()).from(table).filter(v.is_null()).fetch_scalar(&mut conn).await?;
    assert_eq!(nulls, 2);
    Ok(())
}

/// Each value as a typed literal alone in a select list, and a NULL of the type.
async fn check_literals<T>(db: &TestDb, values: Vec<T>) -> Result
where
    T: IntoLiteral + FromValue + FromRow + Same + Clone + Send + 'static,
    T::Sql: HasColumnType,
{
    let mut conn = db.conn().await?;
    for (i, want) in values.iter().enumerate() {
        let got: T = select(lit(want.clone()).label("v")).fetch_scalar(&mut conn).await?;
        assert_same(&got, want, &format!("literal {i}"));
    }
    let null: Option<T> = select(null::<T::Sql>().cast::<T::Sql>().label("v")).fetch_scalar(&mut conn).await?;
    assert!(null.is_none());
    Ok(())
}

/// `round_trip!(name: Type => values)`, optionally followed by `lit` and `eq`.
macro_rules! round_trip {
    ($name:ident: $ty:ty => $values:expr $(, $check:ident)* $(,)?) => {
        backend_test!(async fn $name(db) {
            quarry::table! {
                struct Cells("cells") {
                    id: i64 [primary_key],
                    v: Option<$ty>,
                }
            }
            let t = Cells::table();
            let values: Vec<$ty> = $values;
            let checks: &[&str] = &[$(stringify!($check)),*];
            check_round_trip(&db, t, t.id, t.v, values.clone(), checks.contains(&"eq")).await?;
            round_trip!(@lit db values $($check)*);
            Ok(())
        });
    };
    (@lit $db:ident $values:ident lit $($rest:ident)*) => {
        check_literals(&$db, $values).await?;
    };
    (@lit $db:ident $values:ident $other:ident $($rest:ident)*) => {
        round_trip!(@lit $db $values $($rest)*);
    };
    (@lit $db:ident $values:ident) => {};
}

round_trip!(bool_values: bool => vec![true, false], lit, eq);
round_trip!(i16_values: i16 => vec![0, 1, -1, 42, i16::MIN, i16::MAX], lit, eq);
round_trip!(i32_values: i32 => vec![0, 1, -1, 1 << 20, i32::MIN, i32::MAX], lit, eq);
round_trip!(i64_values: i64 => vec![0, 1, -1, 1 << 40, i64::MIN, i64::MAX, i64::MIN + 1, i64::MAX - 1], lit, eq);
round_trip!(
    f32_values: f32 => vec![
        0.0,
        1.5,
        -2.25,
        0.1,
        f32::MIN,
        f32::MAX,
        f32::MIN_POSITIVE,
        f32::EPSILON,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ],
    lit
);
round_trip!(
    f64_values: f64 => vec![
        0.0,
        0.1,
        -1.5,
        std::f64::consts::PI,
        1e300,
        -1e-300,
        f64::MIN,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        f64::EPSILON,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ],
    lit
);
round_trip!(
    string_values: String => vec![
        String::new(),
        "a".to_owned(),
        " padded ".to_owned(),
        "héllo wörld".to_owned(),
        "日本語のテキスト".to_owned(),
        "emoji 🦀 and \u{200d} joiner".to_owned(),
        "it's \"quoted\"".to_owned(),
        "''".to_owned(),
        "back\\slash \\n \\\\".to_owned(),
        "100% _under_ [brackets]".to_owned(),
        "line\nbreak\r\ttab".to_owned(),
        "'; DROP TABLE cells; --".to_owned(),
        "$1 ?1 :name".to_owned(),
        // Around 24 bytes, the most a `Text` value holds inline: ASCII, and
        // multi-byte characters ending on either side of the limit.
        "x".repeat(23),
        "x".repeat(24),
        "x".repeat(25),
        "é".repeat(11) + "a",
        "é".repeat(12),
        "é".repeat(12) + "a",
        "日".repeat(7) + "ab",
        "日".repeat(8),
        "日".repeat(8) + "a",
        "🦀".repeat(5) + "abc",
        "🦀".repeat(6),
        "🦀".repeat(6) + "a",
        "x".repeat(100_000),
        "é".repeat(50_000),
    ],
    lit,
    eq
);

fn blobs() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        vec![0],
        vec![0, 0, 0],
        (0..=255).collect(),
        b"text-like bytes \\x00 '".to_vec(),
        (0..1 << 20).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect(),
    ]
}

round_trip!(bytes_values: Vec<u8> => blobs(), lit, eq);
round_trip!(bytes_crate_values: Bytes => blobs().into_iter().map(Bytes::from).collect(), eq);

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn clock(h: u32, m: u32, s: u32, micro: u32) -> NaiveTime {
    NaiveTime::from_hms_micro_opt(h, m, s, micro).expect("a valid time")
}

/// Dates from year 1 to 9999, which both databases' date functions handle.
fn dates() -> Vec<NaiveDate> {
    vec![day(1970, 1, 1), day(2024, 2, 29), day(2000, 12, 31), day(1, 1, 1), day(9999, 12, 31), day(1899, 12, 30)]
}

fn times() -> Vec<NaiveTime> {
    vec![
        clock(0, 0, 0, 0),
        clock(23, 59, 59, 999_999),
        clock(12, 34, 56, 789_000),
        clock(0, 0, 0, 1),
        clock(9, 5, 7, 0),
    ]
}

fn timestamps() -> Vec<NaiveDateTime> {
    vec![
        day(1970, 1, 1).and_time(clock(0, 0, 0, 0)),
        day(2024, 2, 29).and_time(clock(23, 59, 59, 999_999)),
        day(2024, 3, 1).and_time(clock(0, 0, 0, 1)),
        day(1, 1, 1).and_time(clock(0, 0, 0, 0)),
        day(9999, 12, 31).and_time(clock(23, 59, 59, 999_999)),
        day(1969, 12, 31).and_time(clock(23, 59, 59, 500_000)),
    ]
}

round_trip!(date_values: NaiveDate => dates(), lit, eq);
round_trip!(time_values: NaiveTime => times(), lit, eq);
round_trip!(timestamp_values: NaiveDateTime => timestamps(), lit, eq);
round_trip!(
    timestamptz_values: DateTime<Utc> => timestamps().into_iter().map(|t| t.and_utc()).collect(),
    lit,
    eq
);

/// The far ends of chrono's range that PostgreSQL can hold too: 4713 BC
/// (PostgreSQL's first day) and chrono's last day, 262142-12-31. SQLite
/// stores dates as text, so it keeps them as well.
fn far_dates() -> Vec<NaiveDate> {
    vec![day(-4712, 11, 24), day(0, 1, 1), day(10_000, 1, 1), NaiveDate::MAX]
}

round_trip!(far_date_values: NaiveDate => far_dates(), lit);
round_trip!(
    far_timestamp_values: NaiveDateTime => far_dates().into_iter().map(|d| d.and_time(clock(23, 59, 59, 999_999))).collect(),
    lit
);
round_trip!(
    far_timestamptz_values: DateTime<Utc> =>
        far_dates().into_iter().map(|d| d.and_time(clock(0, 0, 0, 1)).and_utc()).collect(),
    lit
);

round_trip!(
    uuid_values: Uuid => vec![
        Uuid::nil(),
        Uuid::max(),
        Uuid::new_v4(),
        Uuid::from_str("67e55044-10b1-426f-9247-bb680e5fe0c8").expect("a UUID"),
    ],
    lit,
    eq
);

round_trip!(
    json_values: serde_json::Value => vec![
        json!(null),
        json!(true),
        json!(0),
        json!(-1.5),
        json!(u64::MAX),
        json!(i64::MIN),
        json!("text with \"quotes\", 'apostrophes', \\ and é"),
        json!([]),
        json!({}),
        json!([1, "two", null, [3.5], {"four": 4}]),
        json!({"a": {"b": [1, 2, {"c": null}]}, "z": "last", "m": false}),
        json!({"unicode 🦀": "日本", "empty": ""}),
    ],
    lit,
    eq
);

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).expect("a decimal")
}

// Decimals keep every digit and their scale (trailing zeros included):
// PostgreSQL's `numeric`, text on SQLite.
round_trip!(
    decimal_values: Decimal => vec![
        dec("0"),
        dec("1"),
        dec("-1.5"),
        dec("1.50"),
        dec("0.1"),
        dec("-0.010"),
        dec("123456789.123456789"),
        dec("3.141592653589793238462643383"),
        dec("0.0000000000000000000000000001"),
        dec("-0.0000000000000000000000000001"),
        dec("12345678901234567890.5"),
        dec("1.0000000000000000000000000001"),
        Decimal::MAX,
        Decimal::MIN,
    ],
    lit,
    eq
);

// `-0.0` keeps its sign through a column, `RETURNING` and a literal on
// PostgreSQL. SQLite keeps it in a literal but stores a REAL that is a whole
// number as an integer, so a stored `-0.0` reads back as `0.0` (equal, sign
// lost; documented in the guide's differences).
backend_test!(async fn negative_zero(db) {
    let t = Floats::table();
    db.create(MetaData::new().with(t)).await?;
    let mut conn = db.conn().await?;
    let returned: (Option<f64>, Option<f32>) = insert_into(t)
        .values((t.double.set(-0.0_f64), t.single.set(-0.0_f32)))
        .returning((t.double, t.single))
        .fetch_one(&mut conn)
        .await?;
    let literal: f64 = select(lit(-0.0_f64)).fetch_scalar(&mut conn).await?;
    let stored: (Option<f64>, Option<f32>) = select((t.double, t.single)).from(t).fetch_one(&mut conn).await?;
    let negative = |v: Option<f64>| v.is_some_and(|v| v == 0.0 && v.is_sign_negative());
    let negative32 = |v: Option<f32>| v.is_some_and(|v| v == 0.0 && v.is_sign_negative());
    assert!(literal == 0.0 && literal.is_sign_negative(), "literal: {literal:?}");
    if db.is_postgres() {
        assert!(negative(returned.0) && negative32(returned.1), "RETURNING: {returned:?}");
        assert!(negative(stored.0) && negative32(stored.1), "read back: {stored:?}");
    } else {
        let positive = |v: Option<f64>| v.is_some_and(|v| v == 0.0 && v.is_sign_positive());
        let positive32 = |v: Option<f32>| v.is_some_and(|v| v == 0.0 && v.is_sign_positive());
        assert!(positive(returned.0) && positive32(returned.1), "RETURNING: {returned:?}");
        assert!(positive(stored.0) && positive32(stored.1), "read back: {stored:?}");
    }
    Ok(())
});

// Values the databases hold differently.

quarry::table! {
    struct Floats("floats") {
        id: i64 [primary_key],
        double: Option<f64>,
        single: Option<f32>,
    }
}

backend_test!(async fn float_nan(db) {
    let t = Floats::table();
    db.create(MetaData::new().with(t)).await?;
    let mut conn = db.conn().await?;
    let double = insert_into(t).values(t.double.set(f64::NAN)).returning(t.double).fetch_scalar::<Option<f64>>(&mut conn).await;
    let single = insert_into(t).values(t.single.set(f32::NAN)).returning(t.single).fetch_scalar::<Option<f32>>(&mut conn).await;
    let literal = select(lit(f64::NAN)).fetch_scalar::<f64>(&mut conn).await;
    match db.backend {
        Backend::Postgres => {
            assert!(double?.is_some_and(f64::is_nan));
            assert!(single?.is_some_and(f32::is_nan));
            assert!(literal?.is_nan());
        }
        Backend::Sqlite => {
            // SQLite would store NaN as NULL: refused rather than changed.
            for err in [expect_kind(double, ErrorKind::Encode), expect_kind(single, ErrorKind::Encode), expect_kind(literal, ErrorKind::Encode)] {
                assert!(err.message().contains("NaN"), "{err}");
            }
            let n: i64 = select(count_star()).from(t).fetch_scalar(&mut conn).await?;
            assert_eq!(n, 0, "nothing was stored");
        }
    }
    Ok(())
});

quarry::table! {
    struct Texts("texts") {
        id: i64 [primary_key],
        body: Option<String>,
    }
}

backend_test!(async fn text_with_nul(db) {
    let t = Texts::table();
    db.create(MetaData::new().with(t)).await?;
    let mut conn = db.conn().await?;
    let with_nul = "before\0after".to_owned();
    let stored = insert_into(t).values(t.body.set(with_nul.clone())).returning(t.body).fetch_scalar::<Option<String>>(&mut conn).await;
    match db.backend {
        // SQLite text holds any bytes, NUL included.
        Backend::Sqlite => {
            assert_eq!(stored?, Some(with_nul.clone()));
            let n: i64 = select(count_star()).from(t).filter(t.body.eq(with_nul.clone())).fetch_scalar(&mut conn).await?;
            assert_eq!(n, 1);
        }
        // PostgreSQL text cannot hold NUL: the value cannot be encoded.
        Backend::Postgres => {
            expect_kind(stored, ErrorKind::Encode);
            let n: i64 = select(count_star()).from(t).fetch_scalar(&mut conn).await?;
            assert_eq!(n, 0);
        }
    }
    Ok(())
});

// Types only PostgreSQL has: the same body round-trips them there and gets
// a compile error naming the type and SQLite on SQLite, for the column, for
// a typed literal and for a bound value.

quarry::table! {
    struct Intervals("intervals") {
        id: i64 [primary_key],
        v: Option<Interval>,
    }
}

fn intervals() -> Vec<Interval> {
    vec![
        Interval::default(),
        Interval::days(3),
        Interval::months(-14),
        Interval::microseconds(1),
        Interval { months: 1, days: -2, microseconds: 3_600_000_001 },
        Interval { months: 12 * 1000, days: 30, microseconds: -86_399_999_999 },
    ]
}

backend_test!(async fn interval_values(db) {
    let t = Intervals::table();
    let created = pg_only(&db, "INTERVAL", db.create(MetaData::new().with(t)).await)?;
    let mut conn = db.conn().await?;
    let literal = select(lit(Interval::days(2)).label("v")).fetch_scalar::<Interval>(&mut conn).await;
    let literal = pg_only(&db, "INTERVAL", literal)?;
    let bound = text("SELECT CAST(:v AS INTERVAL)").bind("v", Interval::months(1)).fetch_scalar::<Interval>(&mut conn).await;
    let bound = pg_only(&db, "INTERVAL", bound)?;
    if created.is_some() {
        assert_eq!(literal, Some(Interval::days(2)));
        assert_eq!(bound, Some(Interval::months(1)));
        check_existing(&db, t, t.id, t.v, intervals(), true).await?;
        check_literals(&db, intervals()).await?;
    }
    Ok(())
});

quarry::table! {
    struct Arrays("arrays") {
        id: i64 [primary_key],
        numbers: Option<Vec<i64>>,
        words: Option<Vec<String>>,
    }
}

fn number_arrays() -> Vec<Vec<i64>> {
    vec![Vec::new(), vec![0], vec![i64::MIN, -1, 0, 1, i64::MAX], (0..1000).collect()]
}

fn word_arrays() -> Vec<Vec<String>> {
    vec![
        Vec::new(),
        strings([""]),
        strings(["a,b", "{braces}", "\"quoted\"", "back\\slash", "NULL", "null", " spaced ", "é🦀"]),
        strings(["ARRAY[1]", "'single'", "x"]),
    ]
}

backend_test!(async fn array_values(db) {
    let t = Arrays::table();
    let created = pg_only(&db, "array", db.create(MetaData::new().with(t)).await)?;
    let mut conn = db.conn().await?;
    let bound = text("SELECT CAST(:v AS BIGINT[])").bind("v", vec![1_i64, 2, 3]).fetch_scalar::<Vec<i64>>(&mut conn).await;
    let bound = pg_only(&db, "array", bound)?;
    let words = text("SELECT CAST(:v AS TEXT[])").bind("v", strings(["a", "b"])).fetch_scalar::<Vec<String>>(&mut conn).await;
    let words = pg_only(&db, "array", words)?;
    if created.is_some() {
        assert_eq!(bound, Some(vec![1, 2, 3]));
        assert_eq!(words, Some(strings(["a", "b"])));
        check_existing(&db, t, t.id, t.numbers, number_arrays(), true).await?;
        delete_from(t).execute(&mut conn).await?;
        check_existing(&db, t, t.id, t.words, word_arrays(), true).await?;
    }
    Ok(())
});
