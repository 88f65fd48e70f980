//! What runs on the connection thread: preparing (cached), binding,
//! stepping, decoding.

use quarry_core::{Compiled, Error, FromRow};
use rusqlite::Connection as RawConnection;
use tokio::sync::mpsc;

use crate::bind::bind_all;
use crate::error;
use crate::row::{Columns, SqliteRow};

/// How many decoded rows a stream sends at once.
pub(crate) const STREAM_BATCH: usize = 128;

/// Run a statement to completion; the rows it changed.
pub(crate) fn execute(c: &mut RawConnection, q: &Compiled) -> Result<u64, Error> {
    let mut stmt = c.prepare_cached(&q.sql).map_err(error::map)?;
    bind_all(&mut stmt, &q.params)?;
    let readonly = stmt.readonly();
    let mut rows = stmt.raw_query();
    // Step through any RETURNING rows so the statement completes.
    while rows.next().map_err(error::map)?.is_some() {}
    drop(rows);
    Ok(if readonly { 0 } else { c.changes() })
}

/// Run a query and decode every row.
pub(crate) fn fetch_all<T: FromRow + 'static>(c: &mut RawConnection, q: &Compiled) -> Result<Vec<T>, Error> {
    let mut stmt = c.prepare_cached(&q.sql).map_err(error::map)?;
    bind_all(&mut stmt, &q.params)?;
    let columns = Columns::of::<T>(q);
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(error::map)? {
        out.push(T::from_row(&SqliteRow::new(row, &columns))?);
    }
    Ok(out)
}

/// Run a query and decode its first row. SQLite makes a statement's changes
/// at its first step, so an `INSERT ... RETURNING` of several rows is
/// complete even though only one is read.
pub(crate) fn fetch_optional<T: FromRow + 'static>(c: &mut RawConnection, q: &Compiled) -> Result<Option<T>, Error> {
    let mut stmt = c.prepare_cached(&q.sql).map_err(error::map)?;
    bind_all(&mut stmt, &q.params)?;
    let columns = Columns::of::<T>(q);
    let mut rows = stmt.raw_query();
    match rows.next().map_err(error::map)? {
        Some(row) => T::from_row(&SqliteRow::new(row, &columns)).map(Some),
        None => Ok(None),
    }
}

/// Run a query and send its decoded rows in batches over `tx`. Stops
/// quietly when the receiver is gone (the stream was dropped); the
/// statement is reset when it goes out of scope.
pub(crate) fn stream<T: FromRow + 'static>(
    c: &mut RawConnection,
    q: &Compiled,
    tx: &mpsc::Sender<Result<Vec<T>, Error>>,
) {
    let result = (|| -> Result<bool, Error> {
        let mut stmt = c.prepare_cached(&q.sql).map_err(error::map)?;
        bind_all(&mut stmt, &q.params)?;
        let columns = Columns::of::<T>(q);
        let mut rows = stmt.raw_query();
        let mut batch = Vec::with_capacity(STREAM_BATCH);
        // An error ends the loop; the rows decoded before it are sent first,
        // so that the stream yields every good row, then the error.
        let ended = loop {
            let row = match rows.next() {
                Ok(Some(row)) => row,
                Ok(None) => break Ok(()),
                Err(e) => break Err(error::map(e)),
            };
            match T::from_row(&SqliteRow::new(row, &columns)) {
                Ok(value) => batch.push(value),
                Err(e) => break Err(e),
            }
            if batch.len() == STREAM_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(STREAM_BATCH));
                if tx.blocking_send(Ok(full)).is_err() {
                    return Ok(false);
                }
            }
        };
        if !batch.is_empty() && tx.blocking_send(Ok(batch)).is_err() {
            return Ok(false);
        }
        ended.map(|()| true)
    })();
    if let Err(e) = result {
        let _ = tx.blocking_send(Err(e));
    }
}

/// Run transaction-control SQL written by Quarry.
pub(crate) fn batch(c: &mut RawConnection, sql: &str) -> Result<(), Error> {
    c.execute_batch(sql).map_err(error::map)
}

/// `COMMIT`; if it fails and SQLite left the transaction open (a busy
/// commit), roll it back so the connection is clean, and report the failure.
pub(crate) fn commit(c: &mut RawConnection) -> Result<(), Error> {
    match c.execute_batch("COMMIT") {
        Ok(()) => Ok(()),
        Err(e) => {
            let error = error::map(e);
            if !c.is_autocommit() {
                c.execute_batch("ROLLBACK").map_err(error::map)?;
            }
            Err(error)
        }
    }
}

/// Roll back the whole transaction, unless SQLite already did (after some
/// errors it rolls back by itself).
pub(crate) fn rollback(c: &mut RawConnection) -> Result<(), Error> {
    if c.is_autocommit() { Ok(()) } else { c.execute_batch("ROLLBACK").map_err(error::map) }
}

/// Roll back to savepoint `name` and release it.
pub(crate) fn rollback_to(c: &mut RawConnection, name: &str) -> Result<(), Error> {
    if c.is_autocommit() {
        return Err(Error::new(
            quarry_core::ErrorKind::Database,
            "the transaction was already rolled back by SQLite after an earlier error",
        ));
    }
    c.execute_batch(&format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}")).map_err(error::map)
}
