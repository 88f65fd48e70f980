//! Quarry's end-to-end benchmarks: the same workloads, on the same data,
//! through Quarry and through the raw drivers, one module per contender
//! with the same function names (the [`harness::Contender`] trait). The sqlx
//! contender is in `../sqlx`, a workspace of its own (see its Cargo.toml).
//!
//! `just bench` drives the worker binary (`src/bin/e2e-bench.rs`) through
//! the runner (`../run`); `cargo bench --bench e2e` runs the same functions
//! under criterion.

#[path = "shared/model.rs"]
pub mod model;

#[path = "shared/harness.rs"]
pub mod harness;

#[path = "shared/callgrind.rs"]
pub mod callgrind;

pub mod setup;

pub mod via_quarry;
pub mod via_rusqlite;
pub mod via_tokio_postgres;
pub mod via_tokio_rusqlite;

define_model!(quarry::FromRow);

/// The SQLite PRAGMAs of every raw SQLite connection: what Quarry's
/// driver sets (plus `synchronous = NORMAL`, which the benchmark URL gives
/// Quarry and sqlx too).
pub fn configure_sqlite(c: &rusqlite::Connection, query_only: bool) -> rusqlite::Result<()> {
    use rusqlite::config::DbConfig;
    c.set_db_config(DbConfig::SQLITE_DBCONFIG_DQS_DML, false)?;
    c.set_db_config(DbConfig::SQLITE_DBCONFIG_DQS_DDL, false)?;
    c.busy_timeout(std::time::Duration::from_secs(5))?;
    c.set_prepared_statement_cache_capacity(256);
    c.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA case_sensitive_like = ON; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = NORMAL;",
    )?;
    if query_only {
        c.execute_batch("PRAGMA query_only = ON")?;
    }
    Ok(())
}

/// `INSERT INTO table (name, hair_color) VALUES (?1, ?2), ...` for `n` rows.
pub fn insert_sql(table: &str, n: usize, dollar: bool) -> String {
    let mut sql = format!("INSERT INTO {table} (name, hair_color) VALUES ");
    for i in 0..n {
        if i > 0 {
            sql.push_str(", ");
        }
        let p = if dollar { '$' } else { '?' };
        sql.push_str(&format!("({p}{}, {p}{})", 2 * i + 1, 2 * i + 2));
    }
    sql
}
