//! Streaming rows: `fetch_stream` reads rows from `query_raw` (or
//! `query_typed_raw` without named statements) and decodes them one at a
//! time, so memory stays flat however many rows there are.
//!
//! A stream dropped before its end leaves the connection in flight: the
//! server is asked to cancel the query and the connection is discarded,
//! rather than reading (possibly millions of, or endless) remaining rows;
//! outside a transaction the handle takes a fresh connection for its next
//! call.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use quarry_core::row::NameChecks;
use quarry_core::{Compiled, Error, FromRow};
use tokio_postgres::RowStream;
use tracing::Instrument;

use crate::connection::{PgConnection, statement_span};
use crate::decode::PgRow;
use crate::state::{ConnState, InFlight};

type Started<'a> = Result<(&'a mut ConnState, InFlight, RowStream), Error>;

enum State<'a> {
    /// Sending the statement (settling, preparing, binding).
    Starting(Pin<Box<dyn Future<Output = Started<'a>> + Send + 'a>>),
    /// Reading rows; `op` is taken when the server has answered in full.
    Running {
        conn: &'a mut ConnState,
        op: Option<InFlight>,
        rows: Pin<Box<RowStream>>,
    },
    Done,
}

/// The rows of a query, decoded as `T` one at a time. `Unpin`, so
/// `stream.next().await` works without pinning.
pub(crate) struct Rows<'a, T> {
    state: State<'a>,
    /// The field names already matched, for every row of the stream.
    checks: NameChecks,
    _rows: PhantomData<fn() -> T>,
}

/// The rows of `query`, decoded as `T`.
pub(crate) fn rows<T: FromRow>(conn: &mut PgConnection, query: Compiled) -> Rows<'_, T> {
    let span = statement_span(&query.sql);
    let start = async move {
        let conn = conn.state().await?;
        let (op, rows) = conn.start(&query).await?;
        Ok((conn, op, rows))
    };
    Rows { state: State::Starting(Box::pin(start.instrument(span))), checks: NameChecks::new(), _rows: PhantomData }
}

impl<T: FromRow> Stream for Rows<'_, T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Starting(start) => match start.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok((conn, op, rows))) => {
                        this.state = State::Running { conn, op: Some(op), rows: Box::pin(rows) };
                    }
                    Poll::Ready(Err(e)) => {
                        this.state = State::Done;
                        return Poll::Ready(Some(Err(e)));
                    }
                },
                State::Running { conn, op, rows } => {
                    match conn.io().poll_driven(cx, |quiet| rows.as_mut().poll_next(quiet)) {
                        Poll::Pending => return Poll::Pending,
                        // A decode error is one item; the stream goes on.
                        Poll::Ready(Some(Ok(row))) => {
                            return Poll::Ready(Some(T::from_row(&PgRow::of_statement(&row, &this.checks))));
                        }
                        Poll::Ready(Some(Err(e))) => {
                            let err = match op.take() {
                                Some(op) => conn.end_err(op, e),
                                None => crate::error::from_pg(e).0,
                            };
                            this.state = State::Done;
                            return Poll::Ready(Some(Err(err)));
                        }
                        Poll::Ready(None) => {
                            if let Some(op) = op.take() {
                                conn.end_ok(op);
                            }
                            this.state = State::Done;
                            return Poll::Ready(None);
                        }
                    }
                }
                State::Done => return Poll::Ready(None),
            }
        }
    }
}
