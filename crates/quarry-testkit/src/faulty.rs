//! A fake driver whose steps can be made to fail, stall or never finish,
//! for testing transaction and statement logic with no database (SQLite's
//! FAULTSIM, HikariCP's StubDataSource, SQLAlchemy's MockDBAPI).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_core::Stream;
use quarry_core::{Compiled, Connection, Dialect, Error, ErrorKind, FromRow, Sqlite, TransactionOptions};
use tokio::sync::Notify;

/// The operations of the [`Connection`] trait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `execute`
    Execute,
    /// `fetch_all`
    FetchAll,
    /// `fetch_optional`
    FetchOptional,
    /// `fetch_stream`
    Stream,
    /// `begin_transaction`
    Begin,
    /// `commit_transaction`
    Commit,
    /// `rollback_transaction`
    Rollback,
}

/// What one call does.
#[derive(Clone, Debug)]
pub enum Step {
    /// Succeed (no rows, zero rows affected).
    Ok,
    /// Fail with an error of this kind.
    Fail(ErrorKind),
    /// Wait until the gate is notified, then succeed.
    Stall(Arc<Notify>),
    /// Never finish.
    Never,
}

/// One call the connection received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// An operation, with the SQL of statements.
    Op(Op, Option<String>),
    /// `abandon_transaction` (a guard was dropped).
    Abandon,
}

#[derive(Debug, Default)]
struct Script {
    /// The step for the n-th (1-based) call of an operation.
    steps: HashMap<(Op, usize), Step>,
    counts: HashMap<Op, usize>,
    calls: Vec<Call>,
    depth: usize,
    max_params: usize,
}

/// Controls a [`FaultyConnection`]: what its calls do, and what it received.
#[derive(Clone, Debug)]
pub struct FaultScript {
    inner: Arc<Mutex<Script>>,
}

impl FaultScript {
    fn lock(&self) -> MutexGuard<'_, Script> {
        match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Make the `nth` (1-based) call of `op` do `step`; calls not scripted succeed.
    pub fn on(&self, op: Op, nth: usize, step: Step) -> &Self {
        self.lock().steps.insert((op, nth), step);
        self
    }

    /// The parameter limit the connection reports.
    pub fn max_params(&self, n: usize) -> &Self {
        self.lock().max_params = n;
        self
    }

    /// Every call received so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// The operations received so far, in order, without SQL.
    pub fn ops(&self) -> Vec<Op> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Op(op, _) => Some(op),
                Call::Abandon => None,
            })
            .collect()
    }

    /// How many times a transaction guard was dropped without commit or rollback.
    pub fn abandoned(&self) -> usize {
        self.calls().iter().filter(|c| **c == Call::Abandon).count()
    }

    /// The transaction depth the connection believes in.
    pub fn depth(&self) -> usize {
        self.lock().depth
    }
}

/// A [`Connection`] that runs nothing: it records its calls and does what
/// its [`FaultScript`] says. It speaks the SQLite dialect.
#[derive(Debug)]
pub struct FaultyConnection {
    script: FaultScript,
}

impl FaultyConnection {
    /// A connection and the script that controls it. Unscripted calls
    /// succeed; the parameter limit is 32,766 until set.
    pub fn new() -> (FaultyConnection, FaultScript) {
        let script = FaultScript { inner: Arc::new(Mutex::new(Script { max_params: 32_766, ..Script::default() })) };
        (FaultyConnection { script: script.clone() }, script)
    }

    /// Record the call and find its step.
    fn begin_call(&self, op: Op, sql: Option<&str>) -> Step {
        let mut s = self.script.lock();
        let n = {
            let count = s.counts.entry(op).or_insert(0);
            *count += 1;
            *count
        };
        s.calls.push(Call::Op(op, sql.map(str::to_owned)));
        s.steps.get(&(op, n)).cloned().unwrap_or(Step::Ok)
    }

    fn run(&self, op: Op, sql: Option<&str>) -> impl Future<Output = Result<(), Error>> + Send + use<> {
        let step = self.begin_call(op, sql);
        async move {
            match step {
                Step::Ok => Ok(()),
                Step::Fail(kind) => Err(Error::new(kind, format!("scripted failure of {op:?}"))),
                Step::Stall(gate) => {
                    gate.notified().await;
                    Ok(())
                }
                Step::Never => std::future::pending().await,
            }
        }
    }
}

impl Connection for FaultyConnection {
    fn dialect(&self) -> &'static dyn Dialect {
        &Sqlite
    }

    fn max_params(&self) -> usize {
        self.script.lock().max_params
    }

    fn execute(&mut self, query: Compiled) -> impl Future<Output = Result<u64, Error>> + Send {
        let run = self.run(Op::Execute, Some(&query.sql));
        async move { run.await.map(|()| 0) }
    }

    fn fetch_all<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Future<Output = Result<Vec<T>, Error>> + Send {
        let run = self.run(Op::FetchAll, Some(&query.sql));
        async move { run.await.map(|()| Vec::new()) }
    }

    fn fetch_optional<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Future<Output = Result<Option<T>, Error>> + Send {
        let run = self.run(Op::FetchOptional, Some(&query.sql));
        async move { run.await.map(|()| None) }
    }

    fn fetch_stream<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Stream<Item = Result<T, Error>> + Send + '_ {
        let run = Box::pin(self.run(Op::Stream, Some(&query.sql)));
        FakeStream { run: Some(run), _rows: std::marker::PhantomData }
    }

    fn begin_transaction(&mut self, _options: &TransactionOptions) -> impl Future<Output = Result<(), Error>> + Send {
        let run = self.run(Op::Begin, None);
        let script = self.script.clone();
        async move {
            run.await?;
            script.lock().depth += 1;
            Ok(())
        }
    }

    fn commit_transaction(&mut self) -> impl Future<Output = Result<(), Error>> + Send {
        let run = self.run(Op::Commit, None);
        let script = self.script.clone();
        async move {
            let result = run.await;
            let mut s = script.lock();
            s.depth = s.depth.saturating_sub(1);
            result
        }
    }

    fn rollback_transaction(&mut self) -> impl Future<Output = Result<(), Error>> + Send {
        let run = self.run(Op::Rollback, None);
        let script = self.script.clone();
        async move {
            let result = run.await;
            let mut s = script.lock();
            s.depth = s.depth.saturating_sub(1);
            result
        }
    }

    fn abandon_transaction(&mut self) {
        let mut s = self.script.lock();
        s.calls.push(Call::Abandon);
        s.depth = s.depth.saturating_sub(1);
    }

    fn transaction_depth(&self) -> usize {
        self.script.lock().depth
    }
}

type Running = std::pin::Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// A stream that runs its step, then ends with no rows.
struct FakeStream<T> {
    run: Option<Running>,
    _rows: std::marker::PhantomData<fn() -> T>,
}

impl<T> Stream for FakeStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let Some(run) = self.run.as_mut() else {
            return std::task::Poll::Ready(None);
        };
        match run.as_mut().poll(cx) {
            std::task::Poll::Pending => std::task::Poll::Pending,
            std::task::Poll::Ready(result) => {
                self.run = None;
                std::task::Poll::Ready(result.err().map(Err))
            }
        }
    }
}
