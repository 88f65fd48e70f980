//! The connection's socket, driven by the task that waits for the server.
//!
//! tokio-postgres splits a connection in two: the `Client`, which queues
//! requests on a channel, and the `Connection`, a future that writes them
//! to the socket, reads the server's answers and hands them back over
//! channels. Spawned as a task of its own, as tokio-postgres suggests, it
//! costs each round trip two wake-ups (the socket wakes the connection's
//! task, which wakes the caller's) and often a hop between threads: a
//! prepared `select 1` ran 17.9 k client instructions that way, and runs
//! 14.1 k polled where the answer is awaited (`docs/performance.md`).
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
//!
//! A connection Quarry opened reads from a socket that tries each read
//! before waiting for the runtime ([`crate::socket`]), and after a poll
//! that sent a request, [`Io::poll_driven`] polls the connection once more
//! before the task sleeps: the server has often answered by then, and the
//! task goes on without being woken through the runtime.
//!
//! The connection is always polled with the same waker, a [`Signal`]: it
//! notes that something happened (an answer arrived, a request was
//! queued, the socket closed) and wakes the task driving an operation, if
//! one is. A connection whose signal has not fired since its last poll has
//! nothing to do (a future that returns `Pending` has registered its
//! waker with whatever it waits for), so polling it is skipped: checking
//! an idle connection costs one atomic swap.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;
use tokio_postgres::Socket;
use tokio_postgres::tls::NoTlsStream;

use crate::socket::EagerSocket;

/// tokio-postgres's half of a connection that does the I/O.
enum PgIo {
    /// Opened by Quarry, over a socket that reads before it waits (see
    /// [`crate::socket`]).
    Eager(tokio_postgres::Connection<EagerSocket, NoTlsStream>),
    /// Opened by tokio-postgres (a connection string Quarry does not open
    /// itself, see [`crate::socket::opens_itself`]).
    Standard(tokio_postgres::Connection<Socket, NoTlsStream>),
}

impl Future for PgIo {
    type Output = Result<(), tokio_postgres::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            PgIo::Eager(conn) => Pin::new(conn).poll(cx),
            PgIo::Standard(conn) => Pin::new(conn).poll(cx),
        }
    }
}

/// The waker the connection is polled with.
struct Signal {
    /// Something happened since the connection was last polled.
    fired: AtomicBool,
    /// An operation is waiting: wake `task` too.
    armed: AtomicBool,
    /// The task driving the last operation (lock-free: the socket's
    /// events wake it from the runtime's I/O thread while that task
    /// re-arms).
    task: AtomicWaker,
}

impl Signal {
    /// Wake `waker` on the next event.
    fn arm(&self, waker: &Waker) {
        self.task.register(waker);
        self.armed.store(true, Ordering::SeqCst);
    }
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Sequentially consistent, with the two accesses in `arm` and
        // `Io::poll`: either this load sees the task armed, or the driving
        // task's swap of `fired` (after arming) sees this store. With
        // release and acquire only, each side's load could pass its own
        // store (a store buffer), both would miss, and the task would wait
        // for ever (it happened once in a benchmark run).
        self.fired.store(true, Ordering::SeqCst);
        if self.armed.load(Ordering::SeqCst) {
            self.task.wake();
        }
    }
}

/// A connection's socket: polled by whoever waits for the server.
pub(crate) struct Io {
    /// `None` once the connection has ended or was closed; the client's
    /// requests then fail as on a closed connection.
    conn: Mutex<Option<PgIo>>,
    signal: Arc<Signal>,
    /// `signal` as a waker, made once.
    waker: Waker,
    /// Say goodbye (`Terminate`) when dropped: set only while the
    /// connection is idle, so there is nothing left to read but a notice.
    terminate_on_drop: AtomicBool,
    /// For a socket that reads before it waits: set by each write, so that
    /// a request just sent is followed by a read (see [`Io::poll_driven`]).
    sent: Option<Arc<AtomicBool>>,
}

impl Io {
    /// A connection Quarry opened, over an [`EagerSocket`] whose
    /// [`sent_flag`](EagerSocket::sent_flag) is `sent`.
    pub(crate) fn eager(conn: tokio_postgres::Connection<EagerSocket, NoTlsStream>, sent: Arc<AtomicBool>) -> Self {
        Io::new(PgIo::Eager(conn), Some(sent))
    }

    /// A connection tokio-postgres opened.
    pub(crate) fn standard(conn: tokio_postgres::Connection<Socket, NoTlsStream>) -> Self {
        Io::new(PgIo::Standard(conn), None)
    }

    fn new(conn: PgIo, sent: Option<Arc<AtomicBool>>) -> Self {
        let signal =
            Arc::new(Signal { fired: AtomicBool::new(true), armed: AtomicBool::new(false), task: AtomicWaker::new() });
        Io {
            conn: Mutex::new(Some(conn)),
            waker: Waker::from(signal.clone()),
            signal,
            terminate_on_drop: AtomicBool::new(false),
            sent,
        }
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

    /// Poll the connection once, if its signal fired since the last poll:
    /// write what the client queued, read what the server sent and hand it
    /// to whoever waits for it. A connection that ends (the server closed
    /// it, or it failed) is dropped, which marks its client closed.
    fn poll(&self) {
        if !self.signal.fired.swap(false, Ordering::SeqCst) {
            return;
        }
        let mut guard = self.lock();
        let Some(conn) = guard.as_mut() else { return };
        if let Poll::Ready(result) = Pin::new(conn).poll(&mut Context::from_waker(&self.waker)) {
            if let Err(e) = result {
                tracing::debug!(error = %e, "a PostgreSQL connection ended with an error");
            }
            *guard = None;
        }
    }

    /// Poll the connection once without waiting, if anything happened
    /// since its last poll: sends what is queued (a `ROLLBACK` on return),
    /// and notices a connection the server closed while it was idle.
    pub(crate) fn poll_now(&self) {
        self.signal.armed.store(false, Ordering::Release);
        poll_once_outside_budget(|_| self.poll());
    }

    /// Run `operation` (a client call, or reading its rows) while polling
    /// the connection in this task.
    pub(crate) async fn drive<F: Future>(&self, operation: F) -> F::Output {
        let mut operation = pin!(operation);
        poll_fn(|cx| self.poll_driven(cx, |quiet| operation.as_mut().poll(quiet))).await
    }

    /// [`drive`](Self::drive) as a poll function: poll `operation`, and
    /// if it waits, the connection, then `operation` again; and if that
    /// poll of the connection sent a request over a socket that reads
    /// before it waits, the connection and `operation` once more.
    ///
    /// `operation` is polled with a waker that does nothing. Whatever it
    /// waits for (an answer, room in a channel) comes from the connection,
    /// which only this task polls, and always right before the second poll
    /// of `operation`; the connection's signal wakes this task when the
    /// socket or a channel has something for it. Polled with the task's
    /// waker, the request it queues when it starts and each answer the
    /// connection hands over would also wake the task that is already
    /// running, which the runtime then polls once more for nothing (in a
    /// pool, after it has moved on to waiting for the next connection).
    /// What the operation does in its second poll (a follow-up request, room
    /// made in a full channel) does wake it, through the armed signal: the
    /// connection has work to do then.
    pub(crate) fn poll_driven<T>(
        &self,
        cx: &mut Context<'_>,
        mut operation: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        // Not armed while `operation` queues its request: that fires the
        // signal without waking this task.
        self.signal.armed.store(false, Ordering::Release);
        let mut quiet = Context::from_waker(Waker::noop());
        if let Poll::Ready(out) = operation(&mut quiet) {
            return Poll::Ready(out);
        }
        // Armed before the connection is polled, so that no event after
        // the poll is missed.
        self.signal.arm(cx.waker());
        // The first poll queued a request; this one sends it, or reads
        // the answer the socket woke the task for.
        self.poll();
        let mut polled = operation(&mut quiet);
        if polled.is_pending() && self.sent.as_ref().is_some_and(|sent| sent.swap(false, Ordering::AcqRel)) {
            // A request just went out: look for the answer once more before
            // the task sleeps. The server, woken by the request, has often
            // answered already, and reading it now spares the wake-up
            // through the runtime (see `crate::socket`).
            self.signal.fired.store(true, Ordering::SeqCst);
            self.poll();
            polled = operation(&mut quiet);
        }
        if polled.is_ready() {
            // Done: later events (a notice, the session's end while the
            // connection is idle) must not wake this task.
            self.signal.armed.store(false, Ordering::Release);
        }
        polled
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
            poll_once_outside_budget(|cx| {
                let _ = Pin::new(&mut conn).poll(cx);
            });
        }
    }
}

/// Run `f` once, with a waker that does nothing, outside tokio's
/// cooperative budget: the calling task (often in a drop) may have used its
/// budget up, and the socket would then refuse the one poll it gets and
/// leave a queued `ROLLBACK` or `Terminate` unsent.
fn poll_once_outside_budget(mut f: impl FnMut(&mut Context<'_>)) {
    let once = tokio::task::unconstrained(poll_fn(|cx| {
        f(cx);
        Poll::Ready(())
    }));
    let _ = pin!(once).poll(&mut Context::from_waker(Waker::noop()));
}
