//! The engine: a pool over whichever driver the URL names.

use quarry_core::schema::MetaData;
use quarry_core::{
    Compile, Dialect, Error, ErrorKind, Execute, FromRow, FromValue, Pool, PoolConfig, PoolStatus, Transaction,
    TransactionOptions,
};

use crate::conn::Conn;
use crate::retry::RetryPolicy;

/// A pool of connections to one database, SQLAlchemy's `Engine`.
///
/// The driver is chosen by the URL's scheme among those whose cargo feature
/// is on: `sqlite:` (feature `sqlite`, on by default) and `postgres:` /
/// `postgresql:` (feature `postgres`). Cloning an engine is cheap and shares
/// the pool.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Engine {
    /// An SQLite database.
    #[cfg(feature = "sqlite")]
    Sqlite(quarry_sqlite::SqlitePool),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(quarry_postgres::PgPool),
}

/// Dispatch `$body` over the engine's drivers with `$pool` bound.
macro_rules! each_driver {
    ($engine:expr, $pool:ident => $body:expr) => {
        match *$engine {
            #[cfg(feature = "sqlite")]
            Engine::Sqlite(ref $pool) => $body,
            #[cfg(feature = "postgres")]
            Engine::Postgres(ref $pool) => $body,
        }
    };
}

fn scheme(url: &str) -> &str {
    url.split_once(':').map_or("", |(scheme, _)| scheme)
}

#[cfg_attr(all(feature = "sqlite", feature = "postgres"), allow(dead_code))]
fn feature_off(driver: &str, feature: &str) -> Error {
    Error::new(
        ErrorKind::Config,
        format!(
            "the URL names a {driver} database, but quarry was built without its `{feature}` feature; \
             enable it: quarry = {{ version = \"...\", features = [\"{feature}\"] }}"
        ),
    )
}

impl Engine {
    /// Connect with the default [`PoolConfig`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), quarry::Error> {
    /// let engine = quarry::Engine::connect("sqlite::memory:").await?;
    /// assert_eq!(engine.dialect().name(), "SQLite");
    /// let err = quarry::Engine::connect("mysql://localhost/db").await.unwrap_err();
    /// assert_eq!(err.kind(), quarry::ErrorKind::Config);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<Engine, Error> {
        Engine::connect_with(url, PoolConfig::default()).await
    }

    /// Connect with `config`. The first connection is opened at once, so a
    /// bad URL, credentials or file fail here.
    pub async fn connect_with(url: &str, config: PoolConfig) -> Result<Engine, Error> {
        match scheme(url) {
            "sqlite" => {
                #[cfg(feature = "sqlite")]
                return Ok(Engine::Sqlite(quarry_sqlite::SqlitePool::connect(url, config).await?));
                #[cfg(not(feature = "sqlite"))]
                return Err(feature_off("SQLite", "sqlite"));
            }
            "postgres" | "postgresql" => {
                #[cfg(feature = "postgres")]
                return Ok(Engine::Postgres(quarry_postgres::PgPool::connect(url, config).await?));
                #[cfg(not(feature = "postgres"))]
                return Err(feature_off("PostgreSQL", "postgres"));
            }
            other => Err(Error::new(
                ErrorKind::Config,
                format!("unknown database URL scheme {other:?}: expected sqlite: or postgres:"),
            )),
        }
    }

    /// A connection from the pool, within the acquire timeout. It returns
    /// to the pool when dropped.
    pub async fn acquire(&self) -> Result<Conn, Error> {
        each_driver!(self, pool => pool.acquire().await.map(Conn::from))
    }

    /// Run `statement` on a connection taken from the pool for it; the number
    /// of rows affected. (Take a connection with [`acquire`](Self::acquire)
    /// to run several statements, or to stream.)
    pub async fn execute(&self, statement: impl Execute) -> Result<u64, Error> {
        statement.execute(&mut self.acquire().await?).await
    }

    /// Run a query on a connection taken from the pool for it, and decode
    /// every row.
    pub async fn fetch_all<T: FromRow + Send + 'static>(&self, query: impl Execute) -> Result<Vec<T>, Error> {
        query.fetch_all(&mut self.acquire().await?).await
    }

    /// Run a query on a connection taken from the pool for it, and decode
    /// its first row; [`ErrorKind::RowNotFound`] if none.
    pub async fn fetch_one<T: FromRow + Send + 'static>(&self, query: impl Execute) -> Result<T, Error> {
        query.fetch_one(&mut self.acquire().await?).await
    }

    /// Run a query on a connection taken from the pool for it, and decode
    /// its first row, if any.
    pub async fn fetch_optional<T: FromRow + Send + 'static>(&self, query: impl Execute) -> Result<Option<T>, Error> {
        query.fetch_optional(&mut self.acquire().await?).await
    }

    /// Run a query on a connection taken from the pool for it, and decode
    /// the first column of its first row.
    pub async fn fetch_scalar<T: FromValue + Send + 'static>(&self, query: impl Execute) -> Result<T, Error>
    where
        (T,): FromRow,
    {
        query.fetch_scalar(&mut self.acquire().await?).await
    }

    /// Begin a transaction on a connection of its own; commit or roll it
    /// back, or drop it to roll back.
    pub async fn begin(&self) -> Result<Transaction<Conn>, Error> {
        self.begin_with(TransactionOptions::default()).await
    }

    /// Begin a transaction with `options`.
    pub async fn begin_with(&self, options: TransactionOptions) -> Result<Transaction<Conn>, Error> {
        Transaction::begin(self.acquire().await?, &options).await
    }

    /// Run `f` in a transaction: commit when it returns `Ok`, roll back
    /// when it returns `Err` (or panics, or its task is cancelled).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), quarry::Error> {
    /// use quarry::prelude::*;
    /// let engine = quarry::Engine::connect("sqlite::memory:").await?;
    /// let mut conn = engine.acquire().await?;
    /// text("CREATE TABLE t (x INTEGER)").execute(&mut conn).await?;
    /// let n = engine
    ///     .transaction(async |tx| {
    ///         text("INSERT INTO t VALUES (1), (2)").execute(tx).await?;
    ///         text("SELECT count(*) FROM t").fetch_scalar::<i64>(tx).await
    ///     })
    ///     .await?;
    /// assert_eq!(n, 2);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn transaction<T, F>(&self, f: F) -> Result<T, Error>
    where
        F: AsyncFnMut(&mut Transaction<Conn>) -> Result<T, Error>,
    {
        self.transaction_with(TransactionOptions::default(), RetryPolicy::none(), f).await
    }

    /// Run `f` in a transaction with `options`, running it again (in a new
    /// transaction) when it fails with a retryable error — a serialization
    /// failure, a deadlock, a busy database — as `retry` allows. A commit
    /// whose outcome is unknown is never retried.
    pub async fn transaction_with<T, F>(
        &self,
        options: TransactionOptions,
        retry: RetryPolicy,
        mut f: F,
    ) -> Result<T, Error>
    where
        F: AsyncFnMut(&mut Transaction<Conn>) -> Result<T, Error>,
    {
        let mut attempt = 1;
        loop {
            let outcome = self.run_once(&options, &mut f).await;
            match outcome {
                Err(e) if retry.should_retry(&e, attempt) => {
                    tokio::time::sleep(retry.delay(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn run_once<T, F>(&self, options: &TransactionOptions, f: &mut F) -> Result<T, Error>
    where
        F: AsyncFnMut(&mut Transaction<Conn>) -> Result<T, Error>,
    {
        let mut tx = self.begin_with(options.clone()).await?;
        match f(&mut tx).await {
            Ok(value) => tx.commit().await.map(|()| value),
            Err(e) => {
                // The error that ended the closure matters more than a failed rollback.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    /// Create the tables of `metadata` that do not exist yet, and their
    /// indexes, referenced tables first, in one transaction.
    pub async fn create_all(&self, metadata: &MetaData) -> Result<(), Error> {
        let statements = quarry_core::statement::create_all(metadata.tables(), true)?;
        self.run_ddl(statements).await
    }

    /// Drop the tables of `metadata` that exist, referencing tables first,
    /// in one transaction.
    pub async fn drop_all(&self, metadata: &MetaData) -> Result<(), Error> {
        let statements = quarry_core::statement::drop_all(metadata.tables(), true)?;
        self.run_ddl(statements).await
    }

    async fn run_ddl<S: Compile + Send>(&self, statements: Vec<S>) -> Result<(), Error> {
        let mut tx = self.begin().await?;
        for statement in statements {
            statement.execute(&mut tx).await?;
        }
        tx.commit().await
    }

    /// Compile `statement` once for this engine's database, leaving its
    /// named parameters ([`param`](quarry_core::expr::param)) to be bound
    /// each time it runs: `stmt.prepare(engine.dialect())`.
    pub fn prepare(
        &self,
        statement: impl Compile + Send + Sync + 'static,
    ) -> Result<quarry_core::statement::Prepared, quarry_core::CompileError> {
        statement.prepare(self.dialect())
    }

    /// The dialect statements are compiled for.
    pub fn dialect(&self) -> &'static dyn Dialect {
        each_driver!(self, pool => pool.dialect())
    }

    /// The pool's occupancy.
    pub fn status(&self) -> PoolStatus {
        each_driver!(self, pool => pool.status())
    }

    /// Close the pool: later acquires fail; connections in use finish.
    pub fn close(&self) {
        each_driver!(self, pool => pool.close())
    }
}
