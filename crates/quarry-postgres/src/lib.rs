//! Quarry's PostgreSQL driver: a pool of tokio-postgres connections
//! (managed by deadpool) implementing Quarry's [`Pool`](quarry_core::Pool)
//! and [`Connection`](quarry_core::Connection), with prepared statements
//! cached per connection, rows streamed and decoded in place, and binary
//! `COPY`. Applications normally use it through the `quarry` facade.
//!
//! ```no_run
//! use quarry_core::prelude::*;
//! use quarry_core::{Connection, PoolConfig};
//! use quarry_postgres::PgPool;
//!
//! # async fn demo() -> Result<(), quarry_core::Error> {
//! let pool = PgPool::connect("postgres://app@localhost/app", PoolConfig::new().max_size(8)).await?;
//! let mut conn = pool.acquire().await?;
//!
//! let q = text("SELECT id, name FROM users WHERE karma > :k").bind("k", 10).compile(&Postgres)?;
//! let users: Vec<(i64, String)> = conn.fetch_all(q).await?;
//!
//! let mut tx = conn.begin().await?;
//! let insert = text("INSERT INTO users (name) VALUES (:n)").bind("n", "ada").compile(&Postgres)?;
//! tx.execute(insert).await?;
//! tx.commit().await?;
//!
//! // Bulk load with binary COPY.
//! let rows = vec![(1_i64, "ada"), (2, "grace")];
//! conn.copy_in("users", &["id", "name"], rows).await?;
//! # let _ = users;
//! # Ok(())
//! # }
//! ```
//!
//! # Behaviour
//!
//! - **A dropped transaction guard** (an early return, `?`, a panic) rolls
//!   its transaction back — `ROLLBACK`, or `ROLLBACK TO SAVEPOINT` and
//!   `RELEASE SAVEPOINT` for a nested one — before the handle runs anything
//!   else. A handle returned to the pool inside a transaction sends
//!   `ROLLBACK` at once and the pool confirms it before anyone else gets
//!   the connection; if the rollback fails the connection is discarded.
//! - **A dropped future or stream** (a timeout, `select!`, a stream not read
//!   to its end) leaves its connection in an unknown state: the server is
//!   sent a cancel request for the running statement, the connection's
//!   socket is closed (so the server rolls back and releases its locks at
//!   once), and the pool discards the connection. Outside a transaction
//!   the handle's next call runs on a fresh connection from the pool, so
//!   `stream.take(3)` followed by another query just works; inside one,
//!   later calls fail with
//!   [`ErrorKind::ConnectionLost`](quarry_core::ErrorKind::ConnectionLost)
//!   until the transaction's guard is dropped.
//! - **A lost connection** (I/O error, server shutdown, SQLSTATE class
//!   `08`, `57P01`–`57P03`, `25P03`) is reported as `ConnectionLost` and the
//!   connection is discarded (the handle reconnects on its next call, as
//!   above); idle connections older than the loss are pinged before reuse. Statements are never retried after a connection
//!   loss; a `COMMIT` whose answer was lost is flagged
//!   [`commit_outcome_unknown`](quarry_core::Error::commit_outcome_unknown).
//!   A `COMMIT` of a transaction that an earlier error aborted is an error,
//!   not a silent rollback.
//! - **Stale prepared statements** ("cached plan must not change result
//!   type" after `ALTER TABLE`) are evicted; outside a transaction the
//!   statement is re-prepared and run again once, inside one the error is
//!   [`ErrorKind::StaleStatement`](quarry_core::ErrorKind::StaleStatement).
//! - **Parameters** take the type the server inferred; values convert to
//!   it exactly or fail with `ErrorKind::Encode` before anything is sent
//!   (an `i64` out of range for `int4`, a value over 1 GiB, text with NUL).
//!   A naive timestamp is never bound to a `timestamptz` parameter, nor a
//!   `DateTime<Utc>` to a `timestamp` one: either would shift the instant
//!   by a time zone nobody named.
//!   With `statement_cache_capacity = 0` (PgBouncer in transaction mode) no
//!   named statement is prepared: parameter types then come from the values,
//!   and text and NULL parameters are sent untyped for the server to infer.
//!   (Columns of extension types still make tokio-postgres prepare one
//!   statement to look the type up, once per connection; `copy_in` prepares
//!   and closes its `COPY` statement.)
//! - **No background task per connection.** The connection's socket is
//!   read and written by the task that awaits the server (sqlx works the
//!   same way), which saves a wake-up and a hop between threads per round
//!   trip. Between calls nothing reads it: a notice the server sends to an
//!   idle connection is logged when the connection is next used, and a
//!   session the server ended is noticed at the next checkout or call (and,
//!   outside a transaction, replaced as above), or by the pool's reaper
//!   when `max_lifetime` or `idle_timeout` is set. The socket's work counts
//!   against the calling task's tokio budget, like any I/O it awaits.
//! - `acquire()` never waits longer than `acquire_timeout`; connection
//!   failures that may pass are retried until then and reported in the
//!   `PoolTimeout` error; bad credentials fail at once. TLS is not
//!   supported yet: `sslmode=require` and stricter are a configuration
//!   error, never a silent plain connection.
//!
//! # Features
//!
//! | feature | adds |
//! |---|---|
//! | `chrono` | `date`, `time`, `timestamp`, `timestamptz` ↔ `chrono` types |
//! | `uuid` | `uuid` ↔ `uuid::Uuid` |
//! | `json` | `json`/`jsonb` ↔ `serde_json::Value` (without it, JSON decodes as text) |
//! | `rust_decimal` | `numeric` ↔ `rust_decimal::Decimal` (without it, `numeric` columns are a decode error: cast them in SQL) |

#![forbid(unsafe_code)]

mod bind;
mod connection;
mod copy;
mod decode;
mod error;
mod io;
mod numeric;
mod pool;
mod socket;
mod state;
mod statement_cache;
mod stream;
#[cfg(feature = "chrono")]
mod temporal;
mod types;
mod url;

pub use connection::PgConnection;
pub use copy::{CopyRow, CopyTarget, CopyValue};
pub use decode::PgRow;
pub use pool::PgPool;
