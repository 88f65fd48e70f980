//! Streaming rows: the connection thread decodes rows and sends them in
//! small batches over a bounded channel, so memory stays flat however many
//! rows there are.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use quarry_core::{Compiled, Error, FromRow};
use rusqlite::InterruptHandle;
use tokio::sync::mpsc;

use crate::run;
use crate::worker::PooledConn;

/// Batches in flight between the connection thread and the stream.
const CHANNEL_BATCHES: usize = 2;

type Batches<T> = mpsc::Receiver<Result<Vec<T>, Error>>;
type Starting<'a, T> = Pin<Box<dyn Future<Output = Result<(Batches<T>, Arc<InterruptHandle>), Error>> + Send + 'a>>;

/// Hand the query to `conn`'s thread on a task of its own. The task is
/// kept in `conn` so the next operation waits for it to stop.
pub(crate) async fn start<T: FromRow + Send + 'static>(
    conn: &mut PooledConn,
    query: Compiled,
) -> Result<(Batches<T>, Arc<InterruptHandle>), Error> {
    conn.settle().await?;
    let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
    let worker = conn.worker();
    let failed = tx.clone();
    let task = tokio::spawn(async move {
        let sent = worker
            .call(move |c| {
                run::stream::<T>(c, &query, &tx);
                Ok::<_, Error>(())
            })
            .await;
        if sent.is_err() {
            let _ = failed.send(Err(crate::error::worker_gone())).await;
        }
    });
    conn.draining = Some(task);
    Ok((rx, conn.interrupt_handle()))
}

/// The rows of a query, decoded on the connection thread.
pub(crate) struct RowStream<'a, T> {
    starting: Option<Starting<'a, T>>,
    batches: Option<Batches<T>>,
    interrupt: Option<Arc<InterruptHandle>>,
    current: std::vec::IntoIter<T>,
    done: bool,
}

impl<'a, T> RowStream<'a, T> {
    pub(crate) fn new(starting: Starting<'a, T>) -> Self {
        RowStream {
            starting: Some(starting),
            batches: None,
            interrupt: None,
            current: Vec::new().into_iter(),
            done: false,
        }
    }
}

impl<T> Unpin for RowStream<'_, T> {}

impl<T> Stream for RowStream<'_, T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(starting) = &mut this.starting {
            match starting.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok((batches, interrupt))) => {
                    this.starting = None;
                    this.batches = Some(batches);
                    this.interrupt = Some(interrupt);
                }
                Poll::Ready(Err(e)) => {
                    this.starting = None;
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
        loop {
            if let Some(row) = this.current.next() {
                return Poll::Ready(Some(Ok(row)));
            }
            let Some(batches) = &mut this.batches else {
                return Poll::Ready(None);
            };
            match batches.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(batch))) => this.current = batch.into_iter(),
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    this.batches = None;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    this.batches = None;
                    return Poll::Ready(None);
                }
            }
        }
    }
}

impl<T> Drop for RowStream<'_, T> {
    /// A stream dropped before its end closes the channel, which stops the
    /// connection thread at its next row; a statement still computing its
    /// first row is interrupted.
    fn drop(&mut self) {
        if !self.done
            && let Some(interrupt) = &self.interrupt
        {
            interrupt.interrupt();
        }
    }
}
