//! The connection's socket, driven by the task that waits for the server.
//!
//! tokio-postgres splits a connection in two: the `Client`, which queues
//! requests on a channel, and the `Connection`, a future that writes them
//! to the socket, reads the server's answers and hands them back over
//! channels. Spawned as a task of its own, as tokio-postgres suggests, it
//! costs each round trip two wake-ups (the socket wakes the connection's
//! task, which wakes the caller's), often a hop between threads, and about
//! 1.4 k instructions more than polling it where the answer is awaited.
//!
//! Quarry polls it where the answer is awaited, as sqlx does: every
//! operation on a connection runs inside [`Io::drive`], which polls the
//! operation and the connection in the caller's task. Between operations
//! nobody polls it, and what the server sends (a notice, the end of the
//! session) waits in the socket's buffer until the next operation or
//! checkout reads it ([`Io::poll_now`]).
//!
//! The connection sits behind a mutex, never contended: the one task that
//! uses the connection polls it, and an operation dropped mid-way closes
//! it from its drop ([`Io::close`]), which no poll can overlap.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio_postgres::Socket;
use tokio_postgres::tls::NoTlsStream;

/// tokio-postgres's half of a connection that does the I/O.
pub(crate) type PgIo = tokio_postgres::Connection<Socket, NoTlsStream>;

/// A connection's socket: polled by whoever waits for the server.
pub(crate) struct Io {
    /// `None` once the connection has ended or was closed; the client's
    /// requests then fail as on a closed connection.
    conn: Mutex<Option<PgIo>>,
    /// Say goodbye (`Terminate`) when dropped: set only while the
    /// connection is idle, so there is nothing left to read but a notice.
    terminate_on_drop: AtomicBool,
}

impl Io {
    pub(crate) fn new(conn: PgIo) -> Self {
        Io { conn: Mutex::new(Some(conn)), terminate_on_drop: AtomicBool::new(false) }
    }

    fn lock(&self) -> MutexGuard<'_, Option<PgIo>> {
        // A poll that panicked left tokio-postgres's state unknown: the
        // connection is dropped below, so its requests fail.
        self.conn.lock().unwrap_or_else(|poisoned| {
            let mut guard = poisoned.into_inner();
            *guard = None;
            guard
        })
    }

    /// Poll the connection once: write what the client queued, read what
    /// the server sent and hand it to whoever waits for it. A connection
    /// that ends (the server closed it, or it failed) is dropped, which
    /// marks its client closed.
    fn poll(&self, cx: &mut Context<'_>) {
        let mut guard = self.lock();
        let Some(conn) = guard.as_mut() else { return };
        if let Poll::Ready(result) = Pin::new(conn).poll(cx) {
            if let Err(e) = result {
                tracing::debug!(error = %e, "a PostgreSQL connection ended with an error");
            }
            *guard = None;
        }
    }

    /// Poll the connection once without waiting: sends what is queued
    /// (a `ROLLBACK` on return), and notices a connection the server
    /// closed while it was idle.
    pub(crate) fn poll_now(&self) {
        self.poll(&mut Context::from_waker(Waker::noop()));
    }

    /// Run `operation` (a client call, or reading its rows) while polling
    /// the connection in this task.
    pub(crate) async fn drive<F: Future>(&self, operation: F) -> F::Output {
        let mut operation = pin!(operation);
        poll_fn(|cx| {
            if let Poll::Ready(out) = operation.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
            // The first poll queued the request; this one sends it, or
            // reads the answer the socket woke us for.
            self.poll(cx);
            operation.as_mut().poll(cx)
        })
        .await
    }

    /// [`drive`](Self::drive) for a poll function: poll `f`, and the
    /// connection if `f` waits.
    pub(crate) fn poll_driven<T>(
        &self,
        cx: &mut Context<'_>,
        mut f: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        if let Poll::Ready(out) = f(cx) {
            return Poll::Ready(out);
        }
        self.poll(cx);
        f(cx)
    }

    /// Close the socket now, without a goodbye: the server ends the
    /// session and rolls back whatever it had open. Queued requests are
    /// never sent; waiting ones fail as on a lost connection.
    pub(crate) fn close(&self) {
        let conn = self.lock().take();
        drop(conn);
    }

    /// Send `Terminate` before closing when dropped (the client must be
    /// dropped first, and nothing be in flight).
    pub(crate) fn terminate_on_drop(&self) {
        self.terminate_on_drop.store(true, Ordering::Relaxed);
    }
}

impl Drop for Io {
    fn drop(&mut self) {
        let conn = self.conn.get_mut().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(mut conn) = conn
            && *self.terminate_on_drop.get_mut()
        {
            // With its client gone and no answer awaited, one poll writes
            // `Terminate` and shuts the socket down, if the socket takes it
            // at once; otherwise the socket is just closed.
            let _ = Pin::new(&mut conn).poll(&mut Context::from_waker(Waker::noop()));
        }
    }
}
