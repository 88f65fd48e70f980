//! Oracle 4 of RELIABILITY.md §4.1 on PostgreSQL: every generated statement
//! is prepared (parse and analysis, no execution) against the generated
//! schema, and the server's parameter count equals `params.len()`.
//!
//! Each case runs in a transaction that is rolled back: `CREATE TABLE` for
//! the schema, then one `prepare` per statement. PostgreSQL keeps only 63
//! bytes of a name, so Quarry refuses longer ones for it (a
//! `CompileError::InvalidIdentifier`, checked here): those tables and
//! columns are left out of the PostgreSQL schema, and the statements naming
//! them are skipped; the others are prepared against the rest.

use proptest::test_runner::{TestCaseError, TestRunner};
use quarry::prelude::*;
use quarry::schema::{ColumnDef, ColumnType, Table, TableDef};
use quarry::{CompileError, Compiled};
use tokio_postgres::Client;

use crate::generator::{S, Schema, build, config, schema_and_statements};

/// Compile for PostgreSQL; `None` when a name is over its 63-byte limit
/// (the only refusal allowed for a generated statement).
fn compile(q: &dyn Compile) -> Result<Option<Compiled>, TestCaseError> {
    match q.compile(&Postgres) {
        Ok(c) => Ok(Some(c)),
        Err(CompileError::InvalidIdentifier { ref reason, dialect: "PostgreSQL", .. })
            if reason.contains("over the limit of 63") =>
        {
            Ok(None)
        }
        Err(e) => Err(TestCaseError::fail(format!("PostgreSQL refused a generated statement: {e}"))),
    }
}

/// Table `i` as PostgreSQL can hold it: without the columns whose names are
/// too long (a placeholder column if none is left); `None` if its own name is.
fn postgres_table(schema: &Schema, i: usize) -> Option<Table> {
    if schema.names[i].len() > 63 {
        return None;
    }
    let def = schema.tables[i].def();
    let mut b = TableDef::builder(schema.names[i].clone());
    let mut kept = 0;
    for c in def.columns.iter().filter(|c| c.name.len() <= 63) {
        b = b.column(c.clone());
        kept += 1;
    }
    if kept == 0 {
        // `#` is not in the generator's alphabet: no clash.
        b = b.column(ColumnDef::new("#pad", ColumnType::BigInt));
    }
    Some(b.build().expect("a subset of a valid table is valid"))
}

fn db_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

async fn prepare_all(client: &Client, schema: &Schema, stmts: &[S]) -> Result<usize, TestCaseError> {
    for i in 0..schema.tables.len() {
        let Some(t) = postgres_table(schema, i) else { continue };
        let sql = create_table(&t).compile(&Postgres).map_err(|e| TestCaseError::fail(e.to_string()))?.sql;
        client.batch_execute(&sql).await.map_err(|e| TestCaseError::fail(format!("{}\n{sql}", db_error(&e))))?;
    }
    let mut prepared = 0;
    for s in stmts {
        let q = build(schema, s);
        let Some(c) = compile(&*q)? else { continue };
        let stmt = client
            .prepare(&c.sql)
            .await
            .map_err(|e| TestCaseError::fail(format!("PostgreSQL refused: {}\n{}", db_error(&e), c.sql)))?;
        if stmt.params().len() != c.params.len() {
            return Err(TestCaseError::fail(format!(
                "PostgreSQL counts {} parameters, Quarry bound {}\n{}",
                stmt.params().len(),
                c.params.len(),
                c.sql
            )));
        }
        prepared += 1;
    }
    Ok(prepared)
}

#[test]
fn postgres_prepares_every_generated_statement() {
    let rt = crate::runtime();
    let Some(db) = rt.block_on(quarry_testkit::pg_test_db("security_prepare")) else { return };
    let client = rt.block_on(quarry_testkit::connect(db.url())).expect("connect to PostgreSQL");
    let prepared = std::cell::Cell::new(0_usize);
    let mut runner = TestRunner::new(config(256, file!()));
    let result = runner.run(&schema_and_statements(), |(schema, stmts)| {
        rt.block_on(async {
            client.batch_execute("BEGIN").await.map_err(|e| TestCaseError::fail(db_error(&e)))?;
            let outcome = prepare_all(&client, &schema, &stmts).await;
            // A failed statement aborted the transaction; ROLLBACK ends it either way.
            client.batch_execute("ROLLBACK").await.map_err(|e| TestCaseError::fail(db_error(&e)))?;
            prepared.set(prepared.get() + outcome?);
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Most statements name no over-long identifier: the oracle really ran.
    assert!(prepared.get() >= runner.config().cases as usize / 2, "only {} statements prepared", prepared.get());
    drop(client);
    drop(db);
}

#[test]
fn names_over_63_bytes_are_refused_for_postgres_before_anything_is_sent() {
    let long = "n".repeat(64);
    let t = TableDef::builder(long.clone())
        .column(ColumnDef::new("id", ColumnType::BigInt))
        .build()
        .expect("a valid table for SQLite");
    for q in [&create_table(&t) as &dyn Compile, &select(col(long.clone())).from(table_named("t"))] {
        match q.compile(&Postgres) {
            Err(CompileError::InvalidIdentifier { dialect: "PostgreSQL", reason, .. }) => {
                assert!(reason.contains("64 bytes long"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(q.compile(&Sqlite).is_ok());
    }
    // Two names that PostgreSQL would truncate to the same 63 bytes.
    let a = format!("{}a", "x".repeat(63));
    let b = format!("{}b", "x".repeat(63));
    for n in [a, b] {
        assert!(matches!(select(col(n)).compile(&Postgres), Err(CompileError::InvalidIdentifier { .. })));
    }
    // 63 bytes is fine.
    assert!(select(col("x".repeat(63))).compile(&Postgres).is_ok());
}
