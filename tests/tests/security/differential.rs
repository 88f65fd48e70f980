//! Oracle 6 of RELIABILITY.md §4.1, SQLite's SLT idea: the same random data
//! and the same random statements, run through the `quarry` facade on
//! SQLite and on PostgreSQL, give the same results.
//!
//! The statements are the generator's portable profile
//! (`crates/quarry-core/tests/shared/generator.rs`, whose comment lists what
//! it leaves out and why): joins of every kind, filters, `IN` lists and
//! subqueries, `EXISTS`, `LIKE`/`ILIKE` and the escaping helpers, `CASE`,
//! `COALESCE`, `NULLIF`, `GREATEST`/`LEAST`, string functions, casts,
//! aggregates, `GROUP BY` ... `HAVING`, window functions, `DISTINCT`, `ORDER
//! BY` with explicit `NULLS FIRST/LAST` and a unique tiebreaker,
//! `LIMIT`/`OFFSET`, set operations (with operands of their own `ORDER BY`
//! and `LIMIT`), and `INSERT`, upserts, `UPDATE` (with `FROM`), `DELETE`
//! (with `USING`), with and without `RETURNING`, after which both tables
//! are compared too. Results are compared row by row where the order is
//! total, as multisets otherwise; booleans are compared as 0/1 (SQLite has
//! no boolean type) and integers whatever their width (`length()` is an
//! `integer` on PostgreSQL).
//!
//! Each case runs inside a transaction on each database that is rolled back.

use std::fmt;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use quarry::prelude::*;
use quarry::row::Row;
use quarry::{ColumnValue, Connection, Transaction};

use crate::generator::{S, Schema, build, config, portable, statement, text_lit};

/// A cell as compared: booleans are integers (SQLite stores them so).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Null => f.write_str("NULL"),
            Cell::Int(v) => write!(f, "{v}"),
            Cell::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// A row of any width, normalised.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Cells(Vec<Cell>);

impl FromRow for Cells {
    const COLUMNS: usize = 0;

    fn from_row_at<R: Row + ?Sized>(row: &R, offset: usize) -> Result<Self, Error> {
        (offset..row.len())
            .map(|i| {
                Ok(match row.get::<Value>(i)? {
                    Value::Null => Cell::Null,
                    Value::Bool(b) => Cell::Int(i64::from(b)),
                    Value::I16(v) => Cell::Int(v.into()),
                    Value::I32(v) => Cell::Int(v.into()),
                    Value::I64(v) => Cell::Int(v),
                    Value::Text(s) => Cell::Text(s.to_string()),
                    other => panic!("a portable statement returned {other:?}"),
                })
            })
            .collect::<Result<_, Error>>()
            .map(Cells)
    }
}

/// What one statement gave on one database.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Rows(Vec<Cells>),
    Affected(u64),
}

fn show(rows: &[Cells]) -> String {
    rows.iter()
        .map(|r| format!("({})", r.0.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One table's rows: `(id, s, f, a, b, u)`; the key is the position.
type Data = Vec<Vec<(Option<String>, Option<bool>, Option<i64>, Option<i64>, Option<String>)>>;

fn data() -> impl Strategy<Value = Data> {
    let int = || proptest::option::weighted(0.8, -3..=3_i64);
    let text = || proptest::option::weighted(0.8, text_lit(portable(false)));
    let row = (text(), proptest::option::weighted(0.8, any::<bool>()), int(), int(), text());
    vec(vec(row, 0..9), 2..3)
}

fn or_null<V: Into<Value>>(v: Option<V>) -> Value {
    v.map_or(Value::Null, Into::into)
}

/// Run one statement: rows when it returns rows, else the count affected.
async fn run(tx: &mut Transaction, schema: &Schema, s: &S) -> Result<Outcome, Error> {
    let q = build(schema, s);
    let returns_rows = match s {
        S::Select(_) | S::SetOp { .. } => true,
        S::Insert { returning, .. }
        | S::Update { returning, .. }
        | S::Delete { returning, .. }
        | S::Upsert { returning, .. }
        | S::UpdateFrom { returning, .. }
        | S::DeleteUsing { returning, .. } => *returning,
    };
    let compiled = q.compile(tx.dialect())?;
    if returns_rows {
        Ok(Outcome::Rows(tx.fetch_all::<Cells>(compiled).await?))
    } else {
        Ok(Outcome::Affected(tx.execute(compiled).await?))
    }
}

/// Create and fill the tables, then run the statements; the outcomes, and
/// after each modification both tables' rows in key order.
async fn case(engine: &Engine, schema: &Schema, data: &Data, stmts: &[S]) -> Result<Vec<(String, Outcome)>, String> {
    let mut tx = engine.begin().await.map_err(|e| format!("begin: {e}"))?;
    let mut out = Vec::new();
    let result = async {
        for (i, t) in schema.tables.iter().enumerate() {
            create_table(t).execute(&mut tx).await.map_err(|e| format!("create: {e}"))?;
            if data[i].is_empty() {
                continue;
            }
            let mut insert = insert_into(t);
            for (k, (s, f, a, b, u)) in data[i].iter().enumerate() {
                let cells = [
                    Value::I64(k as i64 + 1),
                    or_null(s.as_deref()),
                    or_null(*f),
                    or_null(*a),
                    or_null(*b),
                    or_null(u.as_deref()),
                ];
                let columns = t.def().columns.iter().zip(cells);
                insert = insert.values(
                    columns
                        .map(|(c, v)| ColumnValue::untyped(c.name.clone(), Expr::<quarry::expr::Any>::value(v)))
                        .collect::<Vec<_>>(),
                );
            }
            insert.execute(&mut tx).await.map_err(|e| format!("insert: {e}"))?;
        }
        for s in stmts {
            let label = format!("{s:?}");
            let outcome = run(&mut tx, schema, s).await.map_err(|e| format!("{e}\nin {label}"))?;
            out.push((label, outcome));
            if !matches!(s, S::Select(_) | S::SetOp { .. }) {
                for t in &schema.tables {
                    let key = t.columns()[0].clone();
                    let rows = select(t.columns()).from(t).order_by(key.asc()).fetch_all::<Cells>(&mut tx).await;
                    let rows = rows.map_err(|e| format!("reading {} back: {e}", t.def().name))?;
                    out.push((format!("{} after it", t.def().name), Outcome::Rows(rows)));
                }
            }
        }
        Ok::<_, String>(())
    }
    .await;
    tx.rollback().await.map_err(|e| format!("rollback: {e}"))?;
    result.map(|()| out)
}

/// Whether a statement's rows come in one order only.
fn ordered(s: &S) -> bool {
    matches!(s, S::Select(q) if q.totally_ordered())
}

/// Whether PostgreSQL's collation orders text by bytes, as SQLite does.
async fn byte_order_collation(engine: &Engine) -> bool {
    let collation: String = engine
        .fetch_scalar(text("SELECT datcollate::text FROM pg_database WHERE datname = current_database()"))
        .await
        .expect("read the database's collation");
    let byte_order = matches!(collation.as_str(), "C" | "POSIX") || collation.starts_with("C.");
    if !byte_order {
        eprintln!("differential: collation {collation:?} is not byte order; text is not ordered in this run");
    }
    byte_order
}

#[test]
fn sqlite_and_postgres_agree() {
    let rt = crate::runtime();
    let Some(db) = rt.block_on(quarry_testkit::pg_test_db("security_differential")) else { return };
    let config_pool = || PoolConfig::new().max_size(1).acquire_timeout(std::time::Duration::from_secs(20));
    let postgres = rt.block_on(Engine::connect_with(db.url(), config_pool())).expect("connect to PostgreSQL");
    let sqlite = rt.block_on(Engine::connect_with("sqlite::memory:", config_pool())).expect("open SQLite");
    let profile = portable(rt.block_on(byte_order_collation(&postgres)));
    let schema = Schema::portable();
    let statements = vec(statement(profile, true), 1..5).prop_map(|mut stmts| {
        // Fresh keys for inserted rows (the data's keys are 1..=8; an
        // upsert's stay in 1..=10, to conflict).
        for (i, s) in stmts.iter_mut().enumerate() {
            if let S::Insert { id, .. } = s {
                *id = 100 + i as i64;
            }
        }
        stmts
    });
    let nonempty = std::cell::Cell::new(0_usize);
    let mut runner = TestRunner::new(config(128, file!()));
    let result = runner.run(&(data(), statements), |(data, stmts)| {
        let (lite, pg) = rt.block_on(async {
            (case(&sqlite, &schema, &data, &stmts).await, case(&postgres, &schema, &data, &stmts).await)
        });
        let sql = |s: &S| {
            let q = build(&schema, s);
            format!(
                "SQLite:     {}\nPostgreSQL: {}",
                q.compile(&Sqlite).map(|c| c.sql).unwrap_or_else(|e| e.to_string()),
                q.compile(&Postgres).map(|c| c.sql).unwrap_or_else(|e| e.to_string())
            )
        };
        let all_sql = stmts.iter().map(sql).collect::<Vec<_>>().join("\n");
        let (lite, pg) = match (lite, pg) {
            (Ok(l), Ok(p)) => (l, p),
            (l, p) => {
                return Err(TestCaseError::fail(format!(
                    "a portable statement failed\nSQLite: {:?}\nPostgreSQL: {:?}\n{all_sql}",
                    l.err(),
                    p.err()
                )));
            }
        };
        let mut kinds = stmts.iter().flat_map(|s| {
            let dumps = if matches!(s, S::Select(_) | S::SetOp { .. }) { 0 } else { schema.tables.len() };
            std::iter::once((Some(s), ordered(s))).chain(std::iter::repeat_n((None, true), dumps))
        });
        for ((label, l), (_, p)) in lite.iter().zip(&pg) {
            let (stmt, is_ordered) = kinds.next().expect("one kind per outcome");
            if stmt.is_some() && matches!(l, Outcome::Rows(r) if !r.is_empty()) {
                nonempty.set(nonempty.get() + 1);
            }
            let (l, p) = match (l, p) {
                (Outcome::Rows(l), Outcome::Rows(p)) if !is_ordered => {
                    let (mut l, mut p) = (l.clone(), p.clone());
                    l.sort();
                    p.sort();
                    (Outcome::Rows(l), Outcome::Rows(p))
                }
                _ => (l.clone(), p.clone()),
            };
            if l != p {
                let text = |o: &Outcome| match o {
                    Outcome::Rows(r) => show(r),
                    Outcome::Affected(n) => format!("{n} rows affected"),
                };
                let what = stmt.map_or_else(|| label.clone(), sql);
                return Err(TestCaseError::fail(format!(
                    "SQLite and PostgreSQL differ\n{what}\nSQLite:     {}\nPostgreSQL: {}\n(all statements:\n{all_sql})",
                    text(&l),
                    text(&p)
                )));
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The statements found rows often enough for the comparison to mean something.
    let cases = runner.config().cases as usize;
    assert!(nonempty.get() >= cases / 2, "only {} statements returned rows in {cases} cases", nonempty.get());
    drop((sqlite, postgres));
    drop(db);
}
