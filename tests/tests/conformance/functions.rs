//! The portable functions (string functions, `round`/`abs`, dates and
//! times), with identical results on every database.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use quarry::ast::{DateField, IntervalUnit};

use crate::common::*;

quarry::table! {
    struct Texts("texts") {
        id: i64 [primary_key],
        s: Option<String>,
    }
}

backend_test!(async fn string_functions(db) {
    let t = Texts::table();
    db.create(MetaData::new().with(t)).await?;
    let mut conn = db.conn().await?;
    insert_into(t).rows(t.s, [Some("  Mixed Case  "), Some("héllo wörld"), Some(""), None, Some("a.b.c")]).execute(&mut conn).await?;

    type Row = (Option<String>, Option<String>, Option<i64>, Option<String>, Option<String>, Option<String>);
    let rows: Vec<Row> = select((
        lower(t.s),
        t.s.upper(),
        length(t.s),
        trim(t.s),
        t.s.replace(".", "--"),
        t.s.concat("!"),
    ))
    .from(t)
    .order_by(t.id)
    .fetch_all(&mut conn)
    .await?;
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        rows,
        vec![
            (some("  mixed case  "), some("  MIXED CASE  "), Some(14), some("Mixed Case"), some("  Mixed Case  "), some("  Mixed Case  !")),
            // lower()/upper() of non-ASCII letters differ (documented): only ASCII is compared here.
            (rows[1].0.clone(), rows[1].1.clone(), Some(11), some("héllo wörld"), some("héllo wörld"), some("héllo wörld!")),
            (some(""), some(""), Some(0), some(""), some(""), some("!")),
            (None, None, None, None, None, None),
            (some("a.b.c"), some("A.B.C"), Some(5), some("a.b.c"), some("a--b--c"), some("a.b.c!")),
        ]
    );
    assert!(rows[1].0.as_deref().is_some_and(|s| s.starts_with('h') && s.ends_with('d')));
    assert!(rows[1].1.as_deref().is_some_and(|s| s.starts_with('H') && s.ends_with('D')));

    // On literals, and nested.
    let row: (String, i64, String, String, Option<String>) = select((
        upper(lit("quarry")).concat(lower(lit("!SQL"))),
        length(lit("日本語🦀")),
        trim(lit("\u{20}x y\u{20}\u{20}")),
        lit("aaa").replace("a", "bb"),
        lit("x").concat(null::<String>().cast::<String>()),
    ))
    .fetch_one(&mut conn)
    .await?;
    assert_eq!(row, ("QUARRY!sql".into(), 4, "x y".into(), "bbbbbb".into(), None));
    // String functions in a filter.
    let n: i64 = select(count_star()).from(t).filter(lower(t.s).eq("a.b.c").or(length(t.s).gt(12))).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 2);
    Ok(())
});

// SUBSTRING with its start and length bound as parameters.
backend_test!(async fn substring_counts_characters_from_one(db) {
    let t = Texts::table();
    db.create(MetaData::new().with(t)).await?;
    let mut conn = db.conn().await?;
    insert_into(t).rows(t.s, [Some("  Mixed Case  "), Some("héllo wörld"), Some(""), None, Some("a.b.c")]).execute(&mut conn).await?;
    let some = |s: &str| Some(s.to_owned());
    // substring counts characters from 1, with and without a length.
    let subs: Vec<(Option<String>, Option<String>, Option<String>, Option<String>)> = select((
        substring(t.s, 2, Some(3)),
        t.s.substring(3, None),
        substring(t.s, 1, Some(0)),
        substring(t.s, 100, Some(2)),
    ))
    .from(t)
    .order_by(t.id)
    .fetch_all(&mut conn)
    .await?;
    assert_eq!(
        subs,
        vec![
            (some(" Mi"), some("Mixed Case  "), some(""), some("")),
            (some("éll"), some("llo wörld"), some(""), some("")),
            (some(""), some(""), some(""), some("")),
            (None, None, None, None),
            (some(".b."), some("b.c"), some(""), some("")),
        ]
    );
    // A start below 1 means different things on different databases: refused on both.
    let err = expect_kind(select(substring(lit("abc"), 0, Some(2))).fetch_scalar::<String>(&mut conn).await, ErrorKind::Compile);
    assert!(err.message().contains("SUBSTRING"), "{err}");

    let lit_sub: String = select(substring(lit("quarry"), 2, Some(3))).fetch_scalar(&mut conn).await?;
    assert_eq!(lit_sub, "uar");
    Ok(())
});

quarry::table! {
    struct Numbers("numbers") {
        id: i64 [primary_key],
        i: Option<i32>,
        big: Option<i64>,
        x: Option<f64>,
    }
}

backend_test!(async fn round_and_abs(db) {
    let t = Numbers::table();
    db.create(MetaData::new().with(t)).await?;
    let mut conn = db.conn().await?;
    insert_into(t)
        .rows(
            (t.i, t.big, t.x),
            [
                (Some(-4_i32), Some(-5_000_000_000_i64), Some(2.5_f64)),
                (Some(7), Some(3), Some(-2.5)),
                (Some(0), Some(0), Some(1.25)),
                (None, None, None),
                (Some(-1), Some(i64::MAX), Some(-123.456)),
            ],
        )
        .execute(&mut conn)
        .await?;
    type Row = (Option<i32>, Option<i64>, Option<f64>, Option<f64>, Option<f64>, Option<f64>);
    let rows: Vec<Row> = select((abs(t.i), abs(t.big), abs(t.x), round(t.x, 0), round(t.x, 1), round(t.i, 0)))
        .from(t)
        .order_by(t.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(
        rows,
        vec![
            (Some(4), Some(5_000_000_000), Some(2.5), Some(3.0), Some(2.5), Some(-4.0)),
            (Some(7), Some(3), Some(2.5), Some(-3.0), Some(-2.5), Some(7.0)),
            (Some(0), Some(0), Some(1.25), Some(1.0), Some(1.3), Some(0.0)),
            (None, None, None, None, None, None),
            (Some(1), Some(i64::MAX), Some(123.456), Some(-123.0), Some(-123.5), Some(-1.0)),
        ]
    );
    // Halves round away from zero on both databases.
    let halves: (f64, f64, f64, f64, f64) = select((
        round(lit(0.5_f64), 0),
        round(lit(-0.5_f64), 0),
        round(lit(1.5_f64), 0),
        round(lit(0.125_f64), 2),
        round(lit(-0.375_f64), 2),
    ))
    .fetch_one(&mut conn)
    .await?;
    assert_eq!(halves, (1.0, -1.0, 2.0, 0.13, -0.38));
    // In arithmetic and filters.
    let n: i64 = select(count_star()).from(t).filter(abs(t.x).gt(2.0).and(round(t.x, 0).lt(0.0))).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 2);
    let sum: Option<i64> = select(sum(abs(t.i) * 2)).from(t).fetch_scalar(&mut conn).await?;
    assert_eq!(sum, Some(24));
    Ok(())
});

// `round(x, digits)` with negative digits rounds to tens, hundreds...: the
// same query must give the same number on both databases.
backend_test!(async fn round_to_negative_digits(db) {
    let mut conn = db.conn().await?;
    let rounded: (f64, f64) = select((round(lit(1234.5_f64), -2), round(lit(-1250.0_f64), -1))).fetch_one(&mut conn).await?;
    assert_eq!(rounded, (1200.0, -1250.0));
    Ok(())
});

quarry::table! {
    struct Events("events") {
        id: i64 [primary_key],
        day: NaiveDate,
        clock: NaiveTime,
        at: NaiveDateTime,
        at_tz: DateTime<Utc>,
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn clock(h: u32, m: u32, s: u32, milli: u32) -> NaiveTime {
    NaiveTime::from_hms_milli_opt(h, m, s, milli).expect("a valid time")
}

/// Rows at millisecond precision (microseconds have a test of their own).
fn instants() -> Vec<NaiveDateTime> {
    vec![
        day(2024, 2, 29).and_time(clock(13, 45, 30, 500)),
        day(2023, 12, 31).and_time(clock(23, 59, 59, 0)),
        day(1969, 12, 31).and_time(clock(23, 59, 59, 500)),
        day(2000, 1, 1).and_time(clock(0, 0, 0, 0)),
        day(2021, 1, 3).and_time(clock(6, 7, 8, 9)),
    ]
}

async fn events(db: &TestDb) -> Result<(Events, Conn)> {
    let e = Events::table();
    db.create(MetaData::new().with(e)).await?;
    let mut conn = db.conn().await?;
    let rows: Vec<_> = instants().into_iter().map(|at| (at.date(), at.time(), at, at.and_utc())).collect();
    insert_into(e).rows((e.day, e.clock, e.at, e.at_tz), rows).execute(&mut conn).await?;
    Ok((e, conn))
}

/// What each `DateField` should give for `at`, computed in Rust.
fn fields(at: NaiveDateTime) -> [i64; 9] {
    [
        i64::from(at.year()),
        i64::from(at.month()),
        i64::from(at.day()),
        i64::from(at.hour()),
        i64::from(at.minute()),
        i64::from(at.second()),
        i64::from(at.weekday().num_days_from_sunday()),
        i64::from(at.ordinal()),
        at.and_utc().timestamp(),
    ]
}

const FIELDS: [DateField; 9] = [
    DateField::Year,
    DateField::Month,
    DateField::Day,
    DateField::Hour,
    DateField::Minute,
    DateField::Second,
    DateField::DayOfWeek,
    DateField::DayOfYear,
    DateField::Epoch,
];

backend_test!(async fn extract_each_field(db) {
    let (e, mut conn) = events(&db).await?;
    for (i, field) in FIELDS.into_iter().enumerate() {
        let got: Vec<(i64, i64)> =
            select((extract(field, e.at), extract(field, e.at_tz))).from(e).order_by(e.id).fetch_all(&mut conn).await?;
        let want: Vec<(i64, i64)> = instants().into_iter().map(|at| (fields(at)[i], fields(at)[i])).collect();
        assert_eq!(got, want, "{field:?} of timestamps");
        if matches!(field, DateField::Hour | DateField::Minute | DateField::Second) {
            continue; // a date has no time of day: see extract_time_of_day_from_a_date
        }
        let got: Vec<i64> = select(extract(field, e.day)).from(e).order_by(e.id).fetch_all(&mut conn).await?;
        let want: Vec<i64> = instants().into_iter().map(|at| fields(at.date().and_time(NaiveTime::MIN))[i]).collect();
        assert_eq!(got, want, "{field:?} of dates");
    }
    // Times of day: hours, minutes and seconds.
    let got: Vec<(i64, i64, i64)> = select((extract(DateField::Hour, e.clock), extract(DateField::Minute, e.clock), extract(DateField::Second, e.clock)))
        .from(e)
        .order_by(e.id)
        .fetch_all(&mut conn)
        .await?;
    let want: Vec<(i64, i64, i64)> =
        instants().into_iter().map(|at| (i64::from(at.hour()), i64::from(at.minute()), i64::from(at.second()))).collect();
    assert_eq!(got, want);
    // Typed literals.
    let lit_fields: (i64, i64, i64, i64) = select((
        extract(DateField::DayOfWeek, date("2024-02-28")?),
        extract(DateField::DayOfYear, date("2024-12-31")?),
        extract(DateField::Epoch, timestamptz("1970-01-02 00:00:01Z")?),
        extract(DateField::Minute, time("10:30:00")?),
    ))
    .fetch_one(&mut conn)
    .await?;
    assert_eq!(lit_fields, (3, 366, 86_401, 30));
    Ok(())
});

// Hours, minutes and seconds of a date: midnight, so zero, on both
// databases (or refused on both; not an error on one and 0 on the other).
backend_test!(async fn extract_time_of_day_from_a_date(db) {
    let (e, mut conn) = events(&db).await?;
    let got: Vec<(i64, i64, i64)> = select((
        extract(DateField::Hour, e.day),
        extract(DateField::Minute, e.day),
        extract(DateField::Second, date("2024-01-01")?),
    ))
    .from(e)
    .fetch_all(&mut conn)
    .await?;
    assert_eq!(got, vec![(0, 0, 0); 5]);
    Ok(())
});

backend_test!(async fn date_add_units(db) {
    let (e, mut conn) = events(&db).await?;
    // Days forward and back across month, year and leap-day boundaries.
    let got: Vec<(NaiveDate, NaiveDate, NaiveDate)> = select((
        date_add(e.day, 1, IntervalUnit::Days),
        date_add(e.day, -60, IntervalUnit::Days),
        date_add(e.day, e.id, IntervalUnit::Days),
    ))
    .from(e)
    .order_by(e.id)
    .fetch_all(&mut conn)
    .await?;
    let want: Vec<(NaiveDate, NaiveDate, NaiveDate)> = instants()
        .into_iter()
        .zip(1_i64..)
        .map(|(at, id)| {
            let d = at.date();
            (d + chrono::Days::new(1), d - chrono::Days::new(60), d + chrono::Days::new(id as u64))
        })
        .collect();
    assert_eq!(got, want);

    // Hours, minutes and seconds on timestamps (with and without time zone).
    let got: Vec<(NaiveDateTime, NaiveDateTime, NaiveDateTime, DateTime<Utc>, DateTime<Utc>)> = select((
        date_add(e.at, 25, IntervalUnit::Hours),
        date_add(e.at, -90, IntervalUnit::Minutes),
        date_add(e.at, 3601, IntervalUnit::Seconds),
        date_add(e.at_tz, 1, IntervalUnit::Hours),
        date_add(e.at_tz, -2, IntervalUnit::Days),
    ))
    .from(e)
    .order_by(e.id)
    .fetch_all(&mut conn)
    .await?;
    let want: Vec<_> = instants()
        .into_iter()
        .map(|at| {
            (
                at + chrono::Duration::hours(25),
                at - chrono::Duration::minutes(90),
                at + chrono::Duration::seconds(3601),
                (at + chrono::Duration::hours(1)).and_utc(),
                (at - chrono::Duration::days(2)).and_utc(),
            )
        })
        .collect();
    assert_eq!(got, want);

    // Months and years from a day every month has.
    let got: (NaiveDate, NaiveDate, NaiveDate, NaiveDateTime) = select((
        date_add(date("2024-01-15")?, 1, IntervalUnit::Months),
        date_add(date("2024-01-15")?, -13, IntervalUnit::Months),
        date_add(date("2024-03-15")?, 10, IntervalUnit::Years),
        date_add(timestamp("2023-11-15 08:00:00")?, 3, IntervalUnit::Months),
    ))
    .fetch_one(&mut conn)
    .await?;
    assert_eq!(got, (day(2024, 2, 15), day(2022, 12, 15), day(2034, 3, 15), day(2024, 2, 15).and_time(clock(8, 0, 0, 0))));

    // Date arithmetic in a filter, compared with stored dates.
    let ids: Vec<i64> = select(e.id)
        .from(e)
        .filter(date_add(e.day, 1, IntervalUnit::Days).gt(date("2024-01-01")?))
        .order_by(e.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(ids, [1], "2023-12-31 plus a day is not after 2024-01-01");
    Ok(())
});

// Values computed by date arithmetic compare equal with the same instants
// bound as values, as they do on PostgreSQL.
backend_test!(async fn computed_timestamps_equal_bound_values(db) {
    let (e, mut conn) = events(&db).await?;
    let first = instants()[1]; // 2023-12-31 23:59:59, whole seconds
    let next = first + chrono::Duration::hours(1);
    let n: i64 = select(count_star()).from(e).filter(date_add(e.at, 1, IntervalUnit::Hours).eq(next)).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 1, "timestamp");
    let n: i64 = select(count_star()).from(e).filter(date_add(e.at_tz, 1, IntervalUnit::Hours).eq(next.and_utc())).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 1, "timestamptz");
    let n: i64 = select(count_star())
        .from(e)
        .filter(date_add(e.at_tz, 0, IntervalUnit::Seconds).eq(e.at_tz))
        .fetch_scalar(&mut conn)
        .await?;
    assert_eq!(n, 5, "adding nothing gives an equal timestamptz");
    Ok(())
});

// Timestamps keep their microseconds through date arithmetic and casts.
backend_test!(async fn date_add_keeps_microseconds(db) {
    let mut conn = db.conn().await?;
    let at = day(2024, 5, 1).and_hms_micro_opt(10, 0, 0, 123_456).expect("a valid time");
    let got: (NaiveDateTime, DateTime<Utc>, NaiveDateTime) = select((
        date_add(lit(at), 1, IntervalUnit::Hours),
        date_add(lit(at.and_utc()), 1, IntervalUnit::Days),
        lit(at).cast::<NaiveDateTime>(),
    ))
    .fetch_one(&mut conn)
    .await?;
    assert_eq!(got, (at + chrono::Duration::hours(1), (at + chrono::Duration::days(1)).and_utc(), at));
    Ok(())
});

backend_test!(async fn typed_literals_and_casts(db) {
    let mut conn = db.conn().await?;
    let got: (NaiveDate, NaiveTime, NaiveDateTime, DateTime<Utc>, DateTime<Utc>) = select((
        date("2024-02-29")?,
        time("23:59:58.25")?,
        timestamp("2024-02-29T10:30:00")?,
        timestamptz("2024-02-29 10:30:00Z")?,
        timestamptz("2024-02-29 10:30:00.5+00:00")?,
    ))
    .fetch_one(&mut conn)
    .await?;
    assert_eq!(
        got,
        (
            day(2024, 2, 29),
            clock(23, 59, 58, 250),
            day(2024, 2, 29).and_time(clock(10, 30, 0, 0)),
            day(2024, 2, 29).and_time(clock(10, 30, 0, 0)).and_utc(),
            day(2024, 2, 29).and_time(clock(10, 30, 0, 500)).and_utc(),
        )
    );
    // Bad literals are refused in Rust, before any database sees them.
    for bad in ["2024-02-30", "2024-2-1", "24-01-01", "2024-01-01; DROP TABLE x"] {
        assert_eq!(date(bad).map(|_| ()).unwrap_err().kind(), ErrorKind::Encode, "{bad}");
    }
    assert!(time("24:00:00").is_err());
    assert!(timestamptz("2024-01-01 10:00:00+02:00").is_err(), "UTC only");
    // Casts to dates and text.
    let as_text: (String, String, NaiveDate) = select((
        date("2024-03-01")?.cast::<String>(),
        date_add(date("2024-02-28")?, 2, IntervalUnit::Days).cast::<String>(),
        timestamp("2024-03-01 23:59:59")?.cast::<NaiveDate>(),
    ))
    .fetch_one(&mut conn)
    .await?;
    assert_eq!(as_text, ("2024-03-01".into(), "2024-03-01".into(), day(2024, 3, 1)));
    // Comparisons of typed literals.
    let cmp: (bool, bool, bool) = select((
        date("2024-01-31")?.lt(date("2024-02-01")?),
        timestamp("2024-01-01 10:00:00")?.between(timestamp("2024-01-01 09:59:59")?, timestamp("2024-01-01 10:00:01")?),
        time("09:00:00")?.gt(time("10:00:00")?),
    ))
    .fetch_one(&mut conn)
    .await?;
    assert_eq!(cmp, (true, true, false));
    Ok(())
});

backend_test!(async fn now_and_current_date(db) {
    let mut conn = db.conn().await?;
    let (now_db, today): (DateTime<Utc>, NaiveDate) = select((now(), current_date())).fetch_one(&mut conn).await?;
    let system = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970");
    let system = DateTime::<Utc>::from_timestamp(system.as_secs() as i64, 0).expect("in range");
    assert!((now_db - system).num_seconds().abs() < 120, "now() = {now_db}, system clock {system}");
    assert!((today - system.date_naive()).num_days().abs() <= 1, "current_date() = {today}");
    // now() in a filter against stored timestamps.
    let (e, mut conn) = events(&db).await?;
    let past: i64 = select(count_star()).from(e).filter(e.at_tz.lt(now())).fetch_scalar(&mut conn).await?;
    assert_eq!(past, 5);
    let recent: i64 = select(count_star())
        .from(e)
        .filter(e.at_tz.gt(date_add(now(), -1, IntervalUnit::Days)))
        .fetch_scalar(&mut conn)
        .await?;
    assert_eq!(recent, 0);
    Ok(())
});
