//! Quarry: SQLAlchemy Core's composable, typed queries for Rust, compiled
//! for PostgreSQL or SQLite and run through async, pooled drivers.
//!
//! ```
//! use quarry::prelude::*;
//!
//! quarry::table! {
//!     pub struct Users("users") {
//!         id: i64 [primary_key],
//!         name: String,
//!         karma: i32,
//!     }
//! }
//!
//! #[derive(Debug, FromRow, PartialEq)]
//! struct User {
//!     id: i64,
//!     name: String,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), quarry::Error> {
//! let engine = Engine::connect("sqlite::memory:").await?;
//! let users = Users::table();
//! engine.create_all(&MetaData::new().with(users)).await?;
//!
//! let mut conn = engine.acquire().await?;
//! insert_into(users)
//!     .values((users.name.set("ada"), users.karma.set(12)))
//!     .values((users.name.set("bob"), users.karma.set(3)))
//!     .execute(&mut conn)
//!     .await?;
//!
//! let good: Vec<User> = select((users.id, users.name))
//!     .from(users)
//!     .filter(users.karma.gt(10))
//!     .fetch_all(&mut conn)
//!     .await?;
//! assert_eq!(good, vec![User { id: 1, name: "ada".into() }]);
//! # Ok(())
//! # }
//! ```
//!
//! # Behaviour
//!
//! - Values are always bound parameters, never spliced into SQL; every
//!   identifier is quoted. A construct the database lacks is a compile
//!   error naming it, never different SQL.
//! - A [`Transaction`] dropped without `commit()` — by `?`, a panic or a
//!   cancelled task — is rolled back before its connection is used again.
//! - A query whose future is dropped part-way never hands a half-used
//!   connection to the next user: the connection is discarded (and, on
//!   PostgreSQL, its query cancelled).
//! - `acquire()` always has a deadline ([`PoolConfig::acquire_timeout`]);
//!   its timeout error names the phase and the last connection error.
//! - Errors have the same [`ErrorKind`] whichever database raised them.
//!
//! # Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | `sqlite` | yes | the SQLite driver (`sqlite:` URLs), SQLite bundled |
//! | `postgres` | no | the PostgreSQL driver (`postgres:` URLs) |
//! | `chrono` | no | date, time and timestamp values |
//! | `uuid` | no | UUID values |
//! | `json` | no | JSON values |
//! | `rust_decimal` | no | decimal values |

#![forbid(unsafe_code)]

mod conn;
mod engine;
pub mod guide;
mod retry;

pub use conn::Conn;
pub use engine::Engine;
pub use retry::RetryPolicy;

pub use quarry_core::schema::MetaData;
pub use quarry_core::{
    Column, ColumnValue, Compile, CompileError, Compiled, CompiledRun, Connection, ConnectionExt, DebugSql, Dialect,
    Error, ErrorKind, Execute, Expr, FromRow, FromValue, Ident, Interval, IsolationLevel, MAX_DEPTH, Pool, PoolConfig,
    PoolStatus, Postgres, QueueMode, Result, Row, Sqlite, StatementKind, Text, TransactionBehavior, TransactionOptions,
    Value, ValueRef, table,
};
pub use quarry_core::{ast, compile, dialect, driver, expr, row, schema, statement, value};
pub use quarry_macros::FromRow;

#[cfg(feature = "postgres")]
pub use quarry_postgres;
#[cfg(feature = "sqlite")]
pub use quarry_sqlite;

/// A transaction guard; see [`quarry_core::Transaction`]. `Transaction`
/// alone is one on a [`Conn`].
pub type Transaction<C = Conn> = quarry_core::Transaction<C>;

/// Everything needed to build and run queries: `use quarry::prelude::*;`.
pub mod prelude {
    pub use crate::{Conn, Engine, FromRow, MetaData, PoolConfig, RetryPolicy, Transaction, TransactionOptions};
    pub use quarry_core::prelude::*;
}
