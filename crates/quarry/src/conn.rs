//! A connection of whichever driver the engine uses.

use std::pin::Pin;

use futures_core::Stream;
use quarry_core::{Compiled, Connection, Dialect, Error, FromRow, TransactionOptions};

/// A connection from an [`Engine`](crate::Engine), returned to its pool
/// when dropped. Statements run on `&mut conn`; `conn.begin()` opens a
/// transaction.
#[derive(Debug)]
#[non_exhaustive]
pub enum Conn {
    /// An SQLite connection.
    #[cfg(feature = "sqlite")]
    Sqlite(quarry_sqlite::SqliteConnection),
    /// A PostgreSQL connection.
    #[cfg(feature = "postgres")]
    Postgres(quarry_postgres::PgConnection),
}

#[cfg(feature = "sqlite")]
impl From<quarry_sqlite::SqliteConnection> for Conn {
    fn from(c: quarry_sqlite::SqliteConnection) -> Self {
        Conn::Sqlite(c)
    }
}

#[cfg(feature = "postgres")]
impl From<quarry_postgres::PgConnection> for Conn {
    fn from(c: quarry_postgres::PgConnection) -> Self {
        Conn::Postgres(c)
    }
}

/// Dispatch `$body` over the connection's drivers with `$conn` bound.
macro_rules! each_driver {
    ($value:expr, ref mut $conn:ident => $body:expr) => {
        match $value {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(ref mut $conn) => $body,
            #[cfg(feature = "postgres")]
            Conn::Postgres(ref mut $conn) => $body,
        }
    };
    ($value:expr, ref $conn:ident => $body:expr) => {
        match $value {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(ref $conn) => $body,
            #[cfg(feature = "postgres")]
            Conn::Postgres(ref $conn) => $body,
        }
    };
}

type BoxStream<'a, T> = Pin<Box<dyn Stream<Item = Result<T, Error>> + Send + 'a>>;

impl Connection for Conn {
    fn dialect(&self) -> &'static dyn Dialect {
        each_driver!(*self, ref c => c.dialect())
    }

    fn max_params(&self) -> usize {
        each_driver!(*self, ref c => c.max_params())
    }

    async fn execute(&mut self, query: Compiled) -> Result<u64, Error> {
        each_driver!(*self, ref mut c => c.execute(query).await)
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&mut self, query: Compiled) -> Result<Vec<T>, Error> {
        each_driver!(*self, ref mut c => c.fetch_all(query).await)
    }

    async fn fetch_optional<T: FromRow + Send + 'static>(&mut self, query: Compiled) -> Result<Option<T>, Error> {
        each_driver!(*self, ref mut c => c.fetch_optional(query).await)
    }

    fn fetch_stream<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Stream<Item = Result<T, Error>> + Send + '_ {
        let stream: BoxStream<'_, T> = each_driver!(*self, ref mut c => Box::pin(c.fetch_stream(query)));
        stream
    }

    async fn begin_transaction(&mut self, options: &TransactionOptions) -> Result<(), Error> {
        each_driver!(*self, ref mut c => c.begin_transaction(options).await)
    }

    async fn commit_transaction(&mut self) -> Result<(), Error> {
        each_driver!(*self, ref mut c => c.commit_transaction().await)
    }

    async fn rollback_transaction(&mut self) -> Result<(), Error> {
        each_driver!(*self, ref mut c => c.rollback_transaction().await)
    }

    fn abandon_transaction(&mut self) {
        each_driver!(*self, ref mut c => c.abandon_transaction())
    }

    fn transaction_depth(&self) -> usize {
        each_driver!(*self, ref c => c.transaction_depth())
    }
}

impl Conn {
    /// The SQLite connection, if this is one.
    #[cfg(feature = "sqlite")]
    pub fn as_sqlite(&mut self) -> Option<&mut quarry_sqlite::SqliteConnection> {
        match self {
            Conn::Sqlite(c) => Some(c),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The PostgreSQL connection, if this is one (for its extras, such as
    /// binary `COPY`).
    #[cfg(feature = "postgres")]
    pub fn as_postgres(&mut self) -> Option<&mut quarry_postgres::PgConnection> {
        match self {
            Conn::Postgres(c) => Some(c),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}
