//! The core of Quarry, a SQL toolkit for Rust: schema metadata, a typed
//! expression language, a compiler with PostgreSQL and SQLite dialects,
//! values and row decoding, and the driver seam (`Connection`, `Pool`).
//! It does no I/O and depends on no async runtime; users depend on the
//! `quarry` facade, which adds the drivers.
//!
//! ```
//! use quarry_core::prelude::*;
//!
//! quarry_core::table! {
//!     pub struct Users("users") {
//!         id: i64 [primary_key],
//!         name: String,
//!         karma: i32,
//!     }
//! }
//!
//! let users = Users::table();
//! let q = select((users.name, count_star().label("n")))
//!     .from(users)
//!     .filter(users.karma.gt(10).and(users.name.starts_with("a")))
//!     .group_by(users.name)
//!     .order_by(users.name.asc());
//!
//! let pg = q.compile(&Postgres)?;
//! assert_eq!(
//!     pg.sql,
//!     r#"SELECT "users"."name", count(*) AS "n" FROM "users" WHERE "users"."karma" > $1 AND "users"."name" LIKE $2 ESCAPE E'\\' GROUP BY "users"."name" ORDER BY "users"."name" ASC"#
//! );
//! assert_eq!(pg.params, vec![Value::I32(10), Value::from("a%")]);
//! assert!(q.compile(&Sqlite)?.sql.contains("?1"));
//! # Ok::<(), quarry_core::CompileError>(())
//! ```
//!
//! # Behaviour
//!
//! - Values are always bound as parameters; `to_debug_sql()` renders them
//!   inline for logs, and nothing executes that text.
//! - Every identifier is quoted, with the quote doubled, whether it came from
//!   a declared table or a run-time string; identifiers a database would
//!   truncate or cannot hold are a [`CompileError`].
//! - A construct a dialect lacks is a [`CompileError`] naming the construct
//!   and the dialect, never different SQL.
//! - Expression trees are bounded to [`MAX_DEPTH`] levels, so compiling,
//!   cloning, comparing, printing and dropping never exhaust the stack.
//!
//! # Features
//!
//! | feature | adds |
//! |---|---|
//! | `chrono` | `NaiveDate`, `NaiveTime`, `NaiveDateTime`, `DateTime<Utc>` values |
//! | `uuid` | `Uuid` values |
//! | `json` | `serde_json::Value` values |
//! | `rust_decimal` | `Decimal` values |

#![forbid(unsafe_code)]

pub mod ast;
pub mod compile;
pub mod dialect;
pub mod driver;
mod error;
mod exec;
pub mod expr;
mod ident;
pub mod row;
pub mod schema;
pub mod statement;
pub mod value;
mod vec_alloc;

pub use compile::{Compile, CompileError, Compiled, CompiledRun, DebugSql, StatementKind};
pub use dialect::{Dialect, Postgres, Sqlite};
pub use driver::{
    Connection, ConnectionExt, IsolationLevel, Pool, PoolConfig, PoolStatus, QueueMode, Transaction,
    TransactionBehavior, TransactionOptions,
};
pub use error::{BoxError, Error, ErrorKind, Result};
pub use exec::Execute;
pub use expr::{Column, ColumnValue, Expr, MAX_DEPTH};
pub use ident::Ident;
pub use row::{FromRow, Row};
pub use value::{DecodeError, FromValue, Interval, Text, Value, ValueRef};

/// Everything needed to build and run queries: `use quarry_core::prelude::*;`.
pub mod prelude {
    pub use crate::ast::{DateField, FrameBound, IntervalUnit};
    pub use crate::expr::{
        Any, BoolExprMethods, ExprMethods, TextExprMethods, Window, abs, and_, avg, case, cast, coalesce, col, count,
        count_distinct, count_star, cume_dist, current_date, date, date_add, dense_rank, exists, extract, first_value,
        func, greatest, lag, last_value, lead, least, length, lit, lower, max, min, not_, not_exists, now, nth_value,
        ntile, null, nullif, or_, param, percent_rank, rank, raw, round, row_number, substring, sum, time, timestamp,
        timestamptz, trim, upper, value,
    };
    pub use crate::statement::{
        Prepared, create_index, create_table, delete_from, drop_index, drop_table, insert_into, select, table_named,
        text, update,
    };
    pub use crate::{
        Column, Compile, ConnectionExt, Dialect, Error, ErrorKind, Execute, Expr, FromRow, FromValue, Postgres, Sqlite,
        Value,
    };
}
