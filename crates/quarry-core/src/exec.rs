//! Running statements: `stmt.execute(&mut conn)`, `stmt.fetch_all(&mut conn)`
//! and friends, on any [`Connection`] or [`Transaction`](crate::Transaction).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::compile::{Compile, CompiledRun};
use crate::driver::{Connection, ConnectionExt};
use crate::error::Error;
use crate::row::FromRow;
use crate::value::FromValue;

/// Compile `stmt` for `conn`: one statement, or several under its
/// parameter limit. The statement is used up, so its values can move
/// rather than be copied.
fn compile_for<S: Compile>(stmt: S, conn: &impl Connection) -> Result<CompiledRun, Error> {
    Ok(stmt.compile_for_run(conn.dialect(), conn.max_params())?)
}

/// The ways to run a statement. Every statement builder has them (bring
/// the trait into scope with `use quarry::prelude::*`).
///
/// A bulk insert whose parameters exceed the connection's limit is split
/// into several statements run in one transaction: all or nothing.
pub trait Execute: Compile + Send + Sized {
    /// Run the statement; the number of rows affected.
    fn execute(self, conn: &mut impl Connection) -> impl Future<Output = Result<u64, Error>> + Send {
        async move {
            let chunks = match compile_for(self, conn)? {
                CompiledRun::One(only) => return conn.execute(only).await,
                CompiledRun::Split(chunks) => chunks,
            };
            let mut tx = conn.begin().await?;
            let mut total = 0;
            for chunk in chunks {
                total += tx.execute(chunk).await?;
            }
            tx.commit().await?;
            Ok(total)
        }
    }

    /// Run the query and decode every row as `T`.
    fn fetch_all<T: FromRow + Send + 'static>(
        self,
        conn: &mut impl Connection,
    ) -> impl Future<Output = Result<Vec<T>, Error>> + Send {
        async move {
            let chunks = match compile_for(self, conn)? {
                CompiledRun::One(only) => return conn.fetch_all(only).await,
                CompiledRun::Split(chunks) => chunks,
            };
            let mut tx = conn.begin().await?;
            let mut rows = Vec::new();
            for chunk in chunks {
                rows.extend(tx.fetch_all::<T>(chunk).await?);
            }
            tx.commit().await?;
            Ok(rows)
        }
    }

    /// Run the query and decode its first row, if any.
    fn fetch_optional<T: FromRow + Send + 'static>(
        self,
        conn: &mut impl Connection,
    ) -> impl Future<Output = Result<Option<T>, Error>> + Send {
        async move {
            let chunks = match compile_for(self, conn)? {
                CompiledRun::One(only) => return conn.fetch_optional(only).await,
                CompiledRun::Split(chunks) => chunks,
            };
            let mut tx = conn.begin().await?;
            let mut first = None;
            for chunk in chunks {
                let row = tx.fetch_optional::<T>(chunk).await?;
                first = first.or(row);
            }
            tx.commit().await?;
            Ok(first)
        }
    }

    /// Run the query and decode its first row; [`ErrorKind::RowNotFound`](crate::ErrorKind::RowNotFound) if none.
    fn fetch_one<T: FromRow + Send + 'static>(
        self,
        conn: &mut impl Connection,
    ) -> impl Future<Output = Result<T, Error>> + Send {
        async move { self.fetch_optional(conn).await?.ok_or_else(Error::row_not_found) }
    }

    /// Run the query and decode the first column of its first row.
    fn fetch_scalar<T: FromValue + Send + 'static>(
        self,
        conn: &mut impl Connection,
    ) -> impl Future<Output = Result<T, Error>> + Send
    where
        (T,): FromRow,
    {
        async move { self.fetch_one::<(T,)>(conn).await.map(|(v,)| v) }
    }

    /// Run the query and decode its rows as they arrive; memory stays flat
    /// however many rows there are. Dropping the stream stops the query.
    fn stream<'c, T: FromRow + Send + 'static>(
        self,
        conn: &'c mut impl Connection,
    ) -> impl Stream<Item = Result<T, Error>> + Send + 'c {
        match compile_for(self, conn) {
            Ok(CompiledRun::One(only)) => RowStream::Running(Box::pin(conn.fetch_stream(only))),
            Ok(CompiledRun::Split(_)) => RowStream::Failed(Some(Error::new(
                crate::ErrorKind::Config,
                "a statement split into several cannot be streamed",
            ))),
            Err(e) => RowStream::Failed(Some(e)),
        }
    }
}

impl<S: Compile + Send> Execute for S {}

/// A row stream, or the error that kept it from starting.
enum RowStream<S> {
    Failed(Option<Error>),
    Running(Pin<Box<S>>),
}

impl<T, S: Stream<Item = Result<T, Error>>> Stream for RowStream<S> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.get_mut() {
            RowStream::Failed(error) => Poll::Ready(error.take().map(Err)),
            RowStream::Running(stream) => stream.as_mut().poll_next(cx),
        }
    }
}
