//! Quarry's SQLite driver: rusqlite with a bundled SQLite, each connection
//! on its own thread through tokio-rusqlite, pooled with deadpool.
//!
//! Most applications use it through the `quarry` crate
//! (`Engine::connect("sqlite://app.db")`); this crate's [`SqlitePool`] and
//! [`SqliteConnection`] implement Quarry's `Pool` and `Connection` traits.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), quarry_core::Error> {
//! use quarry_core::prelude::*;
//! use quarry_core::{Pool, PoolConfig};
//! use quarry_sqlite::SqlitePool;
//!
//! let pool = SqlitePool::connect("sqlite::memory:", PoolConfig::new()).await?;
//! let mut conn = pool.acquire().await?;
//! text("CREATE TABLE t (x INTEGER)").execute(&mut conn).await?;
//! text("INSERT INTO t VALUES (:x)").bind("x", 41).execute(&mut conn).await?;
//! let x: i64 = text("SELECT x + 1 FROM t").read_only().fetch_scalar(&mut conn).await?;
//! assert_eq!(x, 42);
//! # Ok(())
//! # }
//! ```
//!
//! # Behaviour
//!
//! - **One writer.** The pool has one write connection and `max_size`
//!   readers. Statements that only read run on the handle's reader;
//!   everything else (and every read-write transaction, `BEGIN IMMEDIATE` by
//!   default) takes the writer, waiting up to the busy timeout for it. So
//!   "database is locked" does not happen between connections of one pool.
//! - **Every connection** runs with WAL (file databases), `foreign_keys=ON`
//!   (read back to check), double-quoted string literals off, a busy timeout,
//!   `case_sensitive_like=ON` (so `LIKE` means what it means on PostgreSQL)
//!   and a prepared statement cache. Readers are `query_only`.
//! - **`sqlite::memory:`** is one database per pool, shared by all its
//!   connections (SQLite's `memdb` VFS) and alive as long as the pool. It has
//!   no WAL: a read there waits while a write transaction is open.
//! - **Cancellation.** SQLite runs each operation to completion on the
//!   connection's thread even if its future is dropped: a connection whose
//!   operation was abandoned is interrupted and discarded, never reused.
//!   Outside a transaction the handle's next call takes a fresh connection;
//!   inside one, calls fail with
//!   [`ErrorKind::ConnectionLost`](quarry_core::ErrorKind) until the
//!   transaction's guard is dropped. A dropped stream stops its query at
//!   the next row and leaves its connection usable.
//! - **Transactions.** A transaction guard dropped without commit is rolled
//!   back before the connection runs anything else or returns to the pool.
//! - **Values.** NaN is refused (SQLite would store NULL); intervals and arrays
//!   are refused (SQLite has no such types); booleans are 0 and 1; dates and
//!   timestamps ISO-8601 text; UUIDs 16-byte blobs; JSON and decimals text.
//!
//! # Features
//!
//! | feature | adds |
//! |---|---|
//! | `chrono` | date, time and timestamp values |
//! | `uuid` | UUID values |
//! | `json` | JSON values |
//! | `rust_decimal` | decimal values |

#![forbid(unsafe_code)]

mod bind;
mod connection;
mod error;
mod pool;
mod row;
mod run;
mod stream;
mod url;
mod worker;

pub use connection::SqliteConnection;
pub use pool::SqlitePool;
