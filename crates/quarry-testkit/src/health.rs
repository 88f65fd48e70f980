//! [`assert_pool_healthy`]: the invariants RELIABILITY.md §2 asks to hold
//! after every fault test.
//!
//! 1. **No leaked slot.** Once the test has dropped its handles, the pool
//!    becomes quiet (every connection back, nobody waiting, size ≤ max size)
//!    within a few seconds, and every one of its `max_size` slots can be
//!    held at once (a slot leaked by a cancelled acquire or a lost handle
//!    would make that wait forever).
//! 2. **Every pooled connection is usable and outside any transaction**: a
//!    round trip on each while all are held. PostgreSQL: the session's
//!    `pg_stat_activity.state` is `idle` right after it answered (it would
//!    be `idle in transaction` inside one) and `txid_current_if_assigned()`
//!    is NULL. SQLite: `BEGIN` succeeds on every reader and on the writer
//!    (SQLite refuses it inside a transaction), and the writer's is
//!    `BEGIN IMMEDIATE`, so no other connection holds the write lock.
//! 3. **Nothing left behind on the server.** PostgreSQL: no session with
//!    the pool's `application_name` is left `idle in transaction` or still
//!    running a statement (`active`), e.g. a `pg_sleep` whose future was
//!    dropped. SQLite file: a connection of its own takes the write lock,
//!    writes one page that changes nothing (`user_version` set to itself),
//!    and checkpoints the WAL with `TRUNCATE` without being blocked by a
//!    writer or a reader (a read transaction left open).
//! 4. **Acquire works promptly**: a fresh `acquire()` plus `SELECT 1` takes
//!    under a second.
//!
//! Invariant (d) of RELIABILITY.md ("no write from an uncommitted or
//! dropped transaction is visible") depends on each test's data, so each
//! test asserts it itself.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use quarry_core::{
    Compiled, Connection, ConnectionExt, ErrorKind, Pool, PoolStatus, StatementKind, TransactionBehavior,
    TransactionOptions,
};

use crate::{PgTestDb, SqliteTestDb};

/// How long the pool may take to become quiet: handles dropped by the test
/// come back at once, but a rollback spawned by a dropped SQLite handle, or
/// a connection closed in the background, may take a moment.
const QUIET_WAIT: Duration = Duration::from_secs(3);
/// A fresh `acquire()` + `SELECT 1` (RELIABILITY.md invariant (c)).
const FRESH_ACQUIRE: Duration = Duration::from_secs(1);
/// Holding every slot at once and a round trip on each ("does not hang").
const ALL_SLOTS: Duration = Duration::from_secs(20);
/// How long the server side may take to settle: the backend of a connection
/// whose socket was just closed exits asynchronously.
const SERVER_SETTLE: Duration = Duration::from_secs(3);

/// What [`assert_pool_healthy`] may look at besides the pool itself.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Inspect<'a> {
    /// A PostgreSQL server: a superuser URL for `pg_stat_activity`, and the
    /// `application_name` the pool's connections carry ([`PgTestDb::url`]
    /// sets it to the schema's name).
    Postgres {
        /// A URL the check connects to (with tokio-postgres, not Quarry).
        admin_url: &'a str,
        /// The pool's sessions in `pg_stat_activity`.
        application_name: &'a str,
    },
    /// The SQLite database file the pool uses.
    SqliteFile(&'a Path),
    /// Nothing but the pool (an in-memory SQLite database; a server the
    /// test cannot see).
    PoolOnly,
}

impl<'a> Inspect<'a> {
    /// A PostgreSQL server seen through `admin_url`, the pool's sessions
    /// named `application_name`.
    pub fn postgres(admin_url: &'a str, application_name: &'a str) -> Self {
        Inspect::Postgres { admin_url, application_name }
    }
}

impl<'a> From<&'a PgTestDb> for Inspect<'a> {
    fn from(db: &'a PgTestDb) -> Self {
        Inspect::Postgres { admin_url: db.admin_url(), application_name: db.schema() }
    }
}

impl<'a> From<&'a SqliteTestDb> for Inspect<'a> {
    fn from(db: &'a SqliteTestDb) -> Self {
        Inspect::SqliteFile(db.path())
    }
}

impl<'a> From<&'a Path> for Inspect<'a> {
    fn from(path: &'a Path) -> Self {
        Inspect::SqliteFile(path)
    }
}

impl<'a> From<&'a PathBuf> for Inspect<'a> {
    fn from(path: &'a PathBuf) -> Self {
        Inspect::SqliteFile(path)
    }
}

/// Panics, naming what is wrong, unless the pool passes every check of
/// [`check_pool_health`]. Call it at the end of a fault test, after the
/// test's own handles (connections, guards, streams) are dropped.
///
/// ```no_run
/// # async fn example(pool: impl quarry_core::Pool, db: quarry_testkit::PgTestDb) {
/// quarry_testkit::assert_pool_healthy(&pool, &db).await;
/// # }
/// ```
///
/// # Panics
///
/// When a check fails (that is its purpose).
pub async fn assert_pool_healthy<'a, P: Pool>(pool: &P, inspect: impl Into<Inspect<'a>>) {
    if let Err(problem) = check_pool_health(pool, inspect.into()).await {
        panic!("the pool is not healthy: {problem}");
    }
}

/// The checks of [`assert_pool_healthy`] (see the module documentation),
/// returning what failed instead of panicking. PostgreSQL and SQLite pools
/// are told apart by their dialect's name; on SQLite the pool's `max_size`
/// counts the one writer beside the readers (as `quarry_sqlite` reports it).
pub async fn check_pool_health<P: Pool>(pool: &P, inspect: Inspect<'_>) -> Result<(), String> {
    let sqlite = pool.dialect().name() == "SQLite";
    let before = quiet(pool).await.map_err(|e| format!("before the checks: {e}"))?;

    // (c) A fresh acquire and a round trip, promptly.
    let fresh = tokio::time::timeout(FRESH_ACQUIRE, async {
        let mut conn = pool.acquire().await?;
        conn.fetch_all::<(i64,)>(read("SELECT CAST(1 AS BIGINT)")).await
    })
    .await;
    match fresh {
        Ok(Ok(rows)) if rows == [(1,)] => {}
        Ok(Ok(rows)) => return Err(format!("SELECT 1 returned {rows:?}")),
        Ok(Err(e)) => return Err(format!("a fresh acquire() + SELECT 1 failed: {e} ({:?})", e.kind())),
        Err(_) => {
            return Err(format!(
                "a fresh acquire() + SELECT 1 took more than {FRESH_ACQUIRE:?} (status before: {before:?}, now: {:?})",
                pool.status()
            ));
        }
    }

    // (a), (b) Every slot held at once, a round trip on each, outside any transaction.
    let slots = if sqlite { before.max_size.saturating_sub(1).max(1) } else { before.max_size };
    tokio::time::timeout(ALL_SLOTS, hold_every_slot(pool, slots, sqlite, inspect)).await.map_err(|_| {
        format!(
            "could not hold all {slots} slots with a round trip on each within {ALL_SLOTS:?} \
                 (a leaked slot?): status {:?}",
            pool.status()
        )
    })??;

    let after = quiet(pool).await.map_err(|e| format!("after holding every slot: {e}"))?;
    if after.size > after.max_size {
        return Err(format!("more connections than max_size: {after:?}"));
    }

    // Nothing left behind on the server.
    match inspect {
        Inspect::Postgres { admin_url, application_name } => {
            settled_postgres(admin_url, application_name).await?;
        }
        Inspect::SqliteFile(path) => settled_sqlite(path.to_owned()).await?,
        Inspect::PoolOnly => {}
    }
    Ok(())
}

fn read(sql: &str) -> Compiled {
    Compiled::new(sql, Vec::new(), StatementKind::Read)
}

/// Waits until every connection is back in the pool and nobody waits.
async fn quiet<P: Pool>(pool: &P) -> Result<PoolStatus, String> {
    let deadline = Instant::now() + QUIET_WAIT;
    loop {
        let status = pool.status();
        if status.size > status.max_size {
            return Err(format!("more connections than max_size: {status:?}"));
        }
        if status.waiting == 0 && status.available == status.size {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the pool did not become quiet within {QUIET_WAIT:?}: {status:?} (a connection is still \
                 out: held by the test, or leaked)"
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Holds `slots` connections at once and checks each (and, on SQLite, the
/// writer through the first).
async fn hold_every_slot<P: Pool>(pool: &P, slots: usize, sqlite: bool, inspect: Inspect<'_>) -> Result<(), String> {
    let mut held = Vec::with_capacity(slots);
    for i in 0..slots {
        let conn = pool
            .acquire()
            .await
            .map_err(|e| format!("acquiring connection {} of {slots} (all held at once): {e}", i + 1))?;
        held.push(conn);
    }
    let mut pids = Vec::new();
    for (i, conn) in held.iter_mut().enumerate() {
        if sqlite {
            // SQLite refuses BEGIN inside a transaction: this is
            // `is_autocommit()` seen from SQL. Read-only: on the reader.
            let what = format!("reader {} of {slots}", i + 1);
            in_transaction(conn, TransactionOptions::new().read_only(), &what).await.map_err(|(_, e)| e)?;
        } else {
            let (pid, no_xid): (i64, bool) = conn
                .fetch_all(read("SELECT CAST(pg_backend_pid() AS BIGINT), txid_current_if_assigned() IS NULL"))
                .await
                .map_err(|e| format!("round trip on connection {} of {slots}: {e} ({:?})", i + 1, e.kind()))?
                .pop()
                .ok_or("no row from the round trip")?;
            if !no_xid {
                return Err(format!("connection {} of {slots} (pid {pid}) is inside a transaction that wrote", i + 1));
            }
            if pids.contains(&pid) {
                return Err(format!("two held connections share backend pid {pid}"));
            }
            pids.push(pid);
        }
    }
    if sqlite {
        // The writer, BEGIN IMMEDIATE: outside any transaction, and nobody
        // else holds the write lock.
        let first = held.first_mut().ok_or("no connection held")?;
        match in_transaction(first, TransactionOptions::new(), "the writer").await {
            Ok(()) => {}
            // A read-only database (`?mode=ro`, `immutable=1`) refuses the
            // write lock itself: a deferred BEGIN still shows the state.
            Err((Some(ErrorKind::ReadOnly), _)) => {
                let deferred = TransactionOptions::new().behavior(TransactionBehavior::Deferred);
                in_transaction(first, deferred, "the (read-only) writer").await.map_err(|(_, e)| e)?;
            }
            Err((_, e)) => return Err(e),
        }
    } else if let Inspect::Postgres { admin_url, .. } = inspect {
        // Each held session answered and is now idle, not idle in transaction.
        let client = admin(admin_url).await?;
        let rows = client
            .query(
                "SELECT pid::int8, coalesce(state, '?') FROM pg_stat_activity WHERE pid = ANY($1)",
                &[&pids.iter().map(|&p| p as i32).collect::<Vec<i32>>()],
            )
            .await
            .map_err(|e| format!("reading pg_stat_activity: {e}"))?;
        for pid in &pids {
            let state = rows.iter().find(|r| r.get::<_, i64>(0) == *pid).map(|r| r.get::<_, String>(1));
            match state.as_deref() {
                Some("idle") => {}
                Some(other) => return Err(format!("held connection (backend {pid}) is `{other}`, not `idle`")),
                None => return Err(format!("held connection (backend {pid}) has no session on the server")),
            }
        }
    }
    drop(held);
    Ok(())
}

/// Begin (with `options`), run `SELECT 1`, roll back; the failure's kind with the message.
async fn in_transaction<C: Connection>(
    conn: &mut C,
    options: TransactionOptions,
    what: &str,
) -> Result<(), (Option<ErrorKind>, String)> {
    let failed =
        |doing: &str, e: quarry_core::Error| (Some(e.kind()), format!("{doing} on {what}: {e} ({:?})", e.kind()));
    let mut tx = conn.begin_with(options).await.map_err(|e| failed("BEGIN (left inside a transaction?)", e))?;
    let rows = tx.fetch_all::<(i64,)>(read("SELECT CAST(1 AS BIGINT)")).await.map_err(|e| failed("SELECT 1", e))?;
    if rows != [(1,)] {
        return Err((None, format!("SELECT 1 on {what} returned {rows:?}")));
    }
    tx.rollback().await.map_err(|e| failed("ROLLBACK", e))
}

async fn admin(url: &str) -> Result<tokio_postgres::Client, String> {
    crate::server::connect_within(url, Duration::from_secs(10)).await
}

/// No session of the pool is left inside a transaction or running a statement.
async fn settled_postgres(admin_url: &str, application_name: &str) -> Result<(), String> {
    let client = admin(admin_url).await?;
    let deadline = Instant::now() + SERVER_SETTLE;
    loop {
        let rows = client
            .query(
                "SELECT pid::int8, state, left(query, 80) FROM pg_stat_activity \
                 WHERE application_name = $1 AND pid <> pg_backend_pid() AND state <> 'idle'",
                &[&application_name],
            )
            .await
            .map_err(|e| format!("reading pg_stat_activity: {e}"))?;
        if rows.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let sessions: Vec<String> = rows
                .iter()
                .map(|r| {
                    format!(
                        "pid {} `{}` running {:?}",
                        r.get::<_, i64>(0),
                        r.get::<_, String>(1),
                        r.get::<_, String>(2)
                    )
                })
                .collect();
            return Err(format!(
                "sessions of `{application_name}` still busy or inside a transaction after {SERVER_SETTLE:?}: {}",
                sessions.join("; ")
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A connection of our own takes the write lock and checkpoints the WAL
/// (`TRUNCATE` waits for every reader to leave it) without being blocked.
async fn settled_sqlite(path: PathBuf) -> Result<(), String> {
    tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + SERVER_SETTLE;
        loop {
            match sqlite_unblocked(&path) {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    })
    .await
    .map_err(|e| format!("the SQLite check panicked: {e}"))?
}

fn sqlite_unblocked(path: &Path) -> Result<(), String> {
    use rusqlite::{Connection as Raw, OpenFlags};
    let shown = path.display();
    let conn = Raw::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| format!("opening {shown} to check it: {e}"))?;
    conn.busy_timeout(Duration::from_millis(200)).map_err(|e| e.to_string())?;
    if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(true) {
        return Ok(()); // a read-only file system: nobody can hold a write lock
    }
    // Take the write lock, and write one page that changes nothing
    // (`user_version` set to itself): a read transaction started before it
    // must then keep its snapshot, so the checkpoint below sees it.
    let user_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    conn.execute_batch(&format!("BEGIN IMMEDIATE; PRAGMA user_version = {user_version}; COMMIT")).map_err(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        format!("{shown}: the write lock is held by someone (a transaction left open?): {e}")
    })?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    if mode.eq_ignore_ascii_case("wal") {
        let (busy, log, done): (i64, i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| format!("{shown}: checkpoint: {e}"))?;
        if busy != 0 {
            return Err(format!(
                "{shown}: the WAL checkpoint was blocked ({done} of {log} frames): a read transaction is still open"
            ));
        }
    }
    Ok(())
}
