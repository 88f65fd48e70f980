//! The injection corpus round-tripped through both real databases
//! (RELIABILITY.md §4.3), through the `quarry` facade only.
//!
//! For every payload of `crates/quarry-core/tests/data/injection_corpus.txt`,
//! on SQLite and on PostgreSQL: a table named by the payload with a column
//! named by it is created (`Engine::create_all`), the payload and another
//! value are inserted, and the payload is selected back by a predicate on
//! itself, directly, through an alias named by it (the result column is
//! named by it too), and by running the statement's `to_debug_sql()` text
//! (which inlines the payload as an escaped literal); exactly the payload
//! comes back each time. The table is dropped, and a canary table is
//! checked: still there, still holding its one row, and the only table.
//!
//! Names PostgreSQL cannot hold (over 63 bytes; any name with NUL on either
//! database) are refused with a `CompileError` before anything is sent: the
//! database then still holds only the canary. A value with NUL round-trips
//! on SQLite and is refused (`ErrorKind::Encode`, before sending) on
//! PostgreSQL, whose text cannot hold it.

use quarry::expr::Any;
use quarry::prelude::*;
use quarry::row::Row;
use quarry::schema::{ColumnDef, ColumnType, Table, TableDef};
use quarry::statement::text_dynamic_unchecked;
use quarry::{ColumnValue, CompileError, ErrorKind};

#[path = "../../../crates/quarry-core/tests/shared/corpus.rs"]
mod corpus;

use corpus::{NUL_PAYLOADS, corpus};

/// The first column's name and text value.
#[derive(Debug, PartialEq)]
struct Named(String, String);

impl FromRow for Named {
    const COLUMNS: usize = 1;

    fn from_row_at<R: Row + ?Sized>(row: &R, offset: usize) -> Result<Self, Error> {
        let name = row.column_name(offset).unwrap_or_default().to_owned();
        Ok(Named(name, row.get(offset)?))
    }
}

fn table_for(payload: &str) -> Table {
    TableDef::builder(payload.to_owned())
        .column(ColumnDef::new(payload.to_owned(), ColumnType::Text).nullable(true))
        .build()
        .expect("a one-column table")
}

quarry::table! {
    pub struct Canary("canary") { v: String }
}

async fn setup(engine: &Engine) -> Result<(), Error> {
    let c = Canary::table();
    engine.create_all(&MetaData::new().with(c)).await?;
    engine.execute(insert_into(c).values(c.v.set("alive"))).await?;
    Ok(())
}

/// The canary is the only table, and holds its one row.
async fn assert_canary(engine: &Engine, payload: &str) {
    let c = Canary::table();
    let rows: Vec<String> = engine.fetch_all(select(c.v).from(c)).await.expect("read the canary");
    assert_eq!(rows, ["alive"], "{}: {payload:?} touched the canary", engine.dialect().name());
    let count = if engine.dialect().name() == "SQLite" {
        text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
    } else {
        text("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()")
    };
    let tables: i64 = engine.fetch_scalar(count).await.expect("count the tables");
    assert_eq!(tables, 1, "{}: {payload:?} left a table behind", engine.dialect().name());
}

/// The `CompileError` behind an error.
fn compile_error(err: &Error) -> Option<&CompileError> {
    std::error::Error::source(err).and_then(|s| s.downcast_ref::<CompileError>())
}

/// `result` is a `Compile` error refusing `payload` as an identifier.
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(result: Result<T, Error>, payload: &str) {
    let err = result.expect_err("an identifier the database cannot hold");
    assert_eq!(err.kind(), ErrorKind::Compile, "{payload:?}: {err}");
    assert!(
        matches!(compile_error(&err), Some(CompileError::InvalidIdentifier { ident, .. }) if *ident == format!("{payload:?}")),
        "{payload:?}: {err:?}"
    );
}

async fn round_trip(engine: &Engine, payload: &str) {
    let dialect = engine.dialect();
    let db = dialect.name();
    let t = table_for(payload);
    let c = t.typed_column::<String>(payload).expect("the column");
    let a = t.alias(payload.to_owned());
    let ac = a.typed_column::<String>(payload).expect("the aliased column");
    let insert = |v: &str| insert_into(&t).values(ColumnValue::untyped(payload.to_owned(), Expr::<Any>::value(v)));
    let by_value = select(c.clone()).from(&t).filter(c.clone().eq(payload));
    let aliased = select(ac.clone().label(payload.to_owned())).from(&a).filter(ac.eq(payload));

    if payload.len() > 63 && db == "PostgreSQL" {
        // Refused when compiled, so nothing reaches the server.
        assert_refused(engine.create_all(&MetaData::new().with(&t)).await, payload);
        assert_refused(engine.execute(insert(payload)).await, payload);
        assert_refused(engine.fetch_all::<String>(by_value).await, payload);
        assert_refused(engine.fetch_all::<Named>(aliased).await, payload);
        assert_canary(engine, payload).await;
        return;
    }

    engine.create_all(&MetaData::new().with(&t)).await.unwrap_or_else(|e| panic!("{db}: create {payload:?}: {e}"));
    for v in [payload.to_owned(), format!("{payload}x"), "other".to_owned()] {
        let n = engine.execute(insert(&v)).await.unwrap_or_else(|e| panic!("{db}: insert {v:?}: {e}"));
        assert_eq!(n, 1);
    }
    let got: Vec<String> = engine.fetch_all(by_value.clone()).await.unwrap_or_else(|e| panic!("{db}: {e}"));
    assert_eq!(got, [payload], "{db}: by a predicate on itself");
    let got: Vec<Named> = engine.fetch_all(aliased).await.unwrap_or_else(|e| panic!("{db}: {e}"));
    assert_eq!(got, [Named(payload.to_owned(), payload.to_owned())], "{db}: through an alias");
    // The debug text inlines the value as a literal: run as SQL, it finds
    // exactly the same row.
    let debug = by_value.to_debug_sql(dialect).unwrap_or_else(|e| panic!("{db}: {e}"));
    let got: Vec<String> = engine
        .fetch_all(text_dynamic_unchecked(debug.as_str().to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{db}: {e}\n{debug}"));
    assert_eq!(got, [payload], "{db}: {debug}");

    engine.execute(drop_table(&t)).await.unwrap_or_else(|e| panic!("{db}: drop {payload:?}: {e}"));
    assert_canary(engine, payload).await;
}

async fn nul_payloads(engine: &Engine) {
    let db = engine.dialect().name();
    for payload in NUL_PAYLOADS {
        let t = table_for(payload);
        assert_refused(engine.create_all(&MetaData::new().with(&t)).await, payload);
        assert_refused(engine.fetch_all::<String>(select(col(payload)).from(table_named("canary"))).await, payload);
        assert_canary(engine, payload).await;
        // As a value: SQLite holds it exactly; PostgreSQL's text cannot,
        // and Quarry says so instead of truncating.
        let c = Canary::table();
        let inserted = engine.execute(insert_into(c).values(c.v.set(payload))).await;
        if db == "SQLite" {
            assert_eq!(inserted.expect("SQLite text holds NUL"), 1);
            let got: Vec<String> =
                engine.fetch_all(select(c.v).from(c).filter(c.v.eq(payload))).await.expect("read it back");
            assert_eq!(got, [payload]);
            engine.execute(delete_from(c).filter(c.v.eq(payload))).await.expect("delete it");
        } else {
            let err = inserted.expect_err("PostgreSQL text cannot hold NUL");
            assert_eq!(err.kind(), ErrorKind::Encode, "{err}");
            assert!(err.to_string().contains("NUL"), "{err}");
        }
        assert_canary(engine, payload).await;
    }
}

#[test]
fn corpus_round_trips_through_both_databases() {
    let rt = crate::runtime();
    let Some(db) = rt.block_on(quarry_testkit::pg_test_db("security_injection")) else { return };
    rt.block_on(async {
        let config = || PoolConfig::new().max_size(1).acquire_timeout(std::time::Duration::from_secs(20));
        let postgres = Engine::connect_with(db.url(), config()).await.expect("connect to PostgreSQL");
        let sqlite = Engine::connect_with("sqlite::memory:", config()).await.expect("open SQLite");
        let payloads = corpus();
        assert!(payloads.len() > 90, "{}", payloads.len());
        for engine in [&sqlite, &postgres] {
            setup(engine).await.expect("create the canary");
            for payload in &payloads {
                round_trip(engine, payload).await;
            }
            nul_payloads(engine).await;
        }
        // Both long kinds were exercised on PostgreSQL.
        assert!(payloads.iter().any(|p| p.len() == 63) && payloads.iter().any(|p| p.len() > 63));
    });
    drop(db);
}
