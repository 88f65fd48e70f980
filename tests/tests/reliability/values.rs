//! Values at the edges (RELIABILITY.md §2.14, §2.17), and what the server
//! does to statements it has cached (§2.5), on both backends. NaN, ±inf,
//! −0.0, numeric precision, NUL and the date range ends are in the
//! conformance suite's `types` module and the PostgreSQL driver's
//! `types` tests; these add what those do not cover.

use chrono::{DateTime, NaiveDate, Utc};

use crate::common::*;

quarry::table! {
    pub struct Stamps("stamps") { id: i64 [primary_key], at: DateTime<Utc> }
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("an RFC 3339 time").with_timezone(&Utc)
}

// Instants from both ends of the supported range, around the epoch, one
// microsecond apart, and given with offsets of several zones (converted to
// UTC by the caller, as `DateTime<Utc>` requires): `ORDER BY` and range
// filters on the stored column follow time, on SQLite too (its fixed-width
// UTC text sorts as time does).
both!(async fn stored_timestamps_sort_and_filter_in_time_order(db) {
    let s = Stamps::table();
    db.engine.create_all(&MetaData::new().with(s)).await?;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
    let mut times = vec![
        day(1, 1, 1).and_hms_opt(0, 0, 0).expect("a time").and_utc(),
        day(9999, 12, 31).and_hms_micro_opt(23, 59, 59, 999_999).expect("a time").and_utc(),
        day(1969, 12, 31).and_hms_micro_opt(23, 59, 59, 999_999).expect("a time").and_utc(),
        day(1970, 1, 1).and_hms_opt(0, 0, 0).expect("a time").and_utc(),
        utc("2024-03-10T12:00:00.000001+00:00"),
        utc("2024-03-10T12:00:00+00:00"),
        utc("2024-03-10T17:44:59.999999+05:45"), // Kathmandu: 11:59:59.999999 UTC
        utc("2024-03-10T08:30:00-03:30"),        // St John's: 12:00:00 UTC, equal to the one above
        utc("2024-03-10T23:30:00+14:00"),        // Kiritimati: 09:30 UTC
        utc("2024-03-09T23:30:00-12:00"),        // Baker Island: 11:30 UTC on the 10th
    ];
    let rows: Vec<(i64, DateTime<Utc>)> = times.iter().enumerate().map(|(i, t)| (i as i64, *t)).collect();
    db.engine.execute(insert_into(s).rows((s.id, s.at), rows)).await?;
    times.sort();
    let ordered: Vec<DateTime<Utc>> = db.engine.fetch_all(select(s.at).from(s).order_by(s.at).order_by(s.id)).await?;
    assert_eq!(ordered, times);
    let (from, to) = (utc("2024-03-10T11:30:00Z"), utc("2024-03-10T12:00:00Z"));
    let inside: Vec<i64> =
        db.engine.fetch_all(select(s.id).from(s).filter(s.at.ge(from).and(s.at.le(to))).order_by(s.id)).await?;
    assert_eq!(inside, [5, 6, 7, 9]);
    let later: i64 = db.engine.fetch_scalar(select(count_star()).from(s).filter(s.at.gt(to))).await?;
    assert_eq!(later, 2, "12:00:00.000001 and 9999-12-31");
    db.assert_healthy().await;
    Ok(())
});

quarry::table! {
    pub struct Cached("cached") { id: i64 [primary_key], name: String }
}

// A statement cached on every pooled connection, then the table changes
// shape from another engine (as a migration would). Outside a transaction
// the same statement works on every connection and returns the new shape
// (PostgreSQL re-prepares it once; SQLite re-prepares by itself). Inside a
// transaction PostgreSQL reports `StaleStatement` (a retry there would fail
// with 25P02) and the next transaction works; SQLite re-prepares there too.
both!(async fn cached_statements_survive_a_schema_change(db) {
    let c = Cached::table();
    db.engine.create_all(&MetaData::new().with(c)).await?;
    db.engine.execute(insert_into(c).values((c.id.set(1), c.name.set("a")))).await?;
    let mut conns = vec![db.engine.acquire().await?, db.engine.acquire().await?];
    for conn in &mut conns {
        let rows: Vec<(i64, String)> = text("SELECT * FROM cached").fetch_all(conn).await?;
        assert_eq!(rows, [(1, "a".to_owned())]);
    }
    let migrator = db.connect_again(config()).await?;
    migrator.execute(text("ALTER TABLE cached ADD COLUMN extra BIGINT NOT NULL DEFAULT 7")).await?;
    for conn in &mut conns {
        let rows: Vec<(i64, String, i64)> = text("SELECT * FROM cached").fetch_all(conn).await?;
        assert_eq!(rows, [(1, "a".to_owned(), 7)]);
    }
    migrator.execute(text("ALTER TABLE cached ADD COLUMN more TEXT")).await?;
    let mut tx = conns[0].begin().await?;
    let in_tx = text("SELECT * FROM cached").fetch_all::<(i64, String, i64, Option<String>)>(&mut tx).await;
    match db.backend {
        Backend::Postgres => {
            let err = in_tx.unwrap_err();
            assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::StaleStatement, Some("0A000")), "{err:?}");
        }
        Backend::Sqlite => assert_eq!(in_tx?, [(1, "a".to_owned(), 7, None)]),
    }
    drop(tx);
    let mut tx = conns[0].begin().await?;
    let rows: Vec<(i64, String, i64, Option<String>)> = text("SELECT * FROM cached").fetch_all(&mut tx).await?;
    assert_eq!(rows, [(1, "a".to_owned(), 7, None)]);
    tx.commit().await?;
    drop(conns);
    db.assert_healthy().await;
    Ok(())
});

// Text that is not UTF-8 (written by another program, or a blob cast to
// text): decoding it as a `String` is a decode error naming the column,
// never a panic; as bytes it comes back exactly. A column whose *name* is
// not UTF-8 (a schema written with `writable_schema`, as in sqlx#4193)
// neither panics: the row decodes by position.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_on_sqlite_is_a_decode_error_not_a_panic() -> Result {
    let db = Db::sqlite(config()).await?;
    let mut conn = db.engine.acquire().await?;
    let err =
        text("SELECT CAST(X'61FF62' AS TEXT) AS t").read_only().fetch_scalar::<String>(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err:?}");
    assert_eq!(err.column(), Some("t"), "{err:?}");
    assert!(err.to_string().contains("UTF-8"), "{err}");
    let bytes: Vec<u8> = text("SELECT CAST(X'61FF62' AS BLOB)").read_only().fetch_scalar(&mut conn).await?;
    assert_eq!(bytes, [0x61, 0xFF, 0x62]);
    // The same through a stream: an error item (whether rows after it
    // follow is not specified), and the connection goes on.
    let items: Vec<Result<(String,)>> = futures_util::StreamExt::collect(
        text("SELECT CAST(X'FF' AS TEXT) UNION ALL SELECT 'ok'").read_only().stream::<(String,)>(&mut conn),
    )
    .await;
    assert_eq!(items[0].as_ref().unwrap_err().kind(), ErrorKind::Decode, "{items:?}");
    let ok: String = text("SELECT 'ok'").read_only().fetch_scalar(&mut conn).await?;
    assert_eq!(ok, "ok");

    // A column named with an invalid byte.
    text("CREATE TABLE odd (a INTEGER, b INTEGER)").execute(&mut conn).await?;
    text("INSERT INTO odd VALUES (1, 2)").execute(&mut conn).await?;
    // `CREATE TABLE odd (a INTEGER, "b\xFF" INTEGER)`
    let mut ddl = b"CREATE TABLE odd (a INTEGER, \"b".to_vec();
    ddl.push(0xFF);
    ddl.extend_from_slice(b"\" INTEGER)");
    let hex: String = ddl.iter().map(|b| format!("{b:02X}")).collect();
    let rewrite = format!("UPDATE sqlite_schema SET sql = CAST(X'{hex}' AS TEXT) WHERE name = 'odd'");
    let mut tx = conn.begin().await?;
    text("PRAGMA writable_schema = ON").execute(&mut tx).await?;
    quarry::statement::text_dynamic_unchecked(rewrite).execute(&mut tx).await?;
    text("PRAGMA writable_schema = OFF").execute(&mut tx).await?;
    tx.commit().await?;
    drop(conn);
    db.engine.close();
    let engine = Engine::connect_with(&db.url, config()).await?;
    let mut conn = engine.acquire().await?;
    let err = text("SELECT b FROM odd").read_only().fetch_all::<(i64,)>(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Syntax, "the column was renamed: {err:?}");
    let row: (i64, i64) = text("SELECT * FROM odd").read_only().fetch_one(&mut conn).await?;
    assert_eq!(row, (1, 2));
    let streamed: Vec<Result<(i64, i64)>> =
        futures_util::StreamExt::collect(text("SELECT * FROM odd").read_only().stream::<(i64, i64)>(&mut conn)).await;
    assert_eq!(streamed.len(), 1);
    assert_eq!(*streamed[0].as_ref().expect("decodes by position"), (1, 2));
    let check: String = text("PRAGMA integrity_check").fetch_scalar(&mut conn).await?;
    assert!(!check.is_empty());
    drop(conn);
    assert_healthy(&engine, db.inspect()).await;
    Ok(())
}

// PostgreSQL validates text in a UTF8 database; a `SQL_ASCII` database
// stores any bytes, but the server converts text to the client's encoding
// (UTF8, which tokio-postgres always asks for) and refuses bytes that are
// not UTF-8 with SQLSTATE 22021: invalid text never reaches Quarry's
// decoder. The error is an ordinary one and the connection goes on; the
// bytes come back exactly as `bytea`. A private cluster, so that no
// database is left behind on the shared server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_never_sends_invalid_utf8_text() -> Result {
    let cluster = match quarry_testkit::start_temp_cluster().await {
        Ok(cluster) => cluster,
        Err(reason) => {
            quarry_testkit::pg_unavailable("invalid_utf8_sql_ascii", &format!("no private cluster: {reason}"));
            return Ok(());
        }
    };
    let admin = Engine::connect_with(cluster.url(), config()).await?;
    admin
        .execute(text("CREATE DATABASE raw_bytes ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"))
        .await?;
    let url = format!("postgres://postgres@127.0.0.1:{}/raw_bytes?application_name=raw_bytes", cluster.port());
    let engine = Engine::connect_with(&url, config()).await?;
    let mut conn = engine.acquire().await?;
    text("CREATE TABLE t (s text)").execute(&mut conn).await?;
    text("INSERT INTO t VALUES (convert_from('\\x61ff62'::bytea, 'SQL_ASCII'))").execute(&mut conn).await?;
    let n: i32 = text("SELECT octet_length(s) FROM t").fetch_scalar(&mut conn).await?;
    assert_eq!(n, 3, "the row holds the three bytes a, 0xFF, b");
    let err = text("SELECT s FROM t").fetch_scalar::<String>(&mut conn).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("22021"), "{err:?}");
    let bytes: Vec<u8> = text("SELECT convert_to(s, 'SQL_ASCII') FROM t").fetch_scalar(&mut conn).await?;
    assert_eq!(bytes, [0x61, 0xFF, 0x62]);
    drop(conn);
    assert_healthy(&engine, quarry_testkit::Inspect::postgres(cluster.url(), "raw_bytes")).await;
    Ok(())
}

// A statement over `temp_file_limit` (SQLSTATE 53400, a resource limit) is
// an error with its SQLSTATE, and the connection goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_temp_file_limit_is_an_error_and_the_connection_goes_on() -> Result {
    let Some(db) = Db::postgres("rel_temp_file_limit", config().max_size(1)).await? else { return Ok(()) };
    let mut conn = db.engine.acquire().await?;
    text("SET temp_file_limit = '64kB'").execute(&mut conn).await?;
    text("SET work_mem = '64kB'").execute(&mut conn).await?;
    let err = text("SELECT count(*) FROM (SELECT g FROM generate_series(1, 200000) g ORDER BY g DESC) s")
        .fetch_scalar::<i64>(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("53400"), "{err:?}");
    let one: i64 = select(lit(1_i64)).fetch_scalar(&mut conn).await?;
    assert_eq!(one, 1);
    drop(conn);
    db.assert_healthy().await;
    Ok(())
}
