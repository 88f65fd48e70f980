//! Decoding rusqlite rows through Quarry's [`Row`] trait, on the
//! connection's own thread.

use std::cell::{Cell, OnceCell};
use std::sync::Arc;

use quarry_core::row::NameChecks;
use quarry_core::{Compiled, DecodeError, Error, FromValue, Ident, Row, ValueRef};
use rusqlite::types::ValueRef as SqliteRef;

use crate::error;

/// What the rows of one statement share: the column count, and the column
/// names, read from SQLite once per statement rather than once per field
/// and row: `#[derive(FromRow)]` checks each field's name, and
/// `sqlite3_column_name` plus UTF-8 validation on every cell cost a third
/// of the decoding time of a `SELECT` of 10,000 rows (callgrind). The first
/// row's lookups go to SQLite directly, so that one-row results (most
/// queries) allocate nothing for the cache.
pub(crate) struct Columns<'q> {
    /// Read from the first row, not from the statement before it ran: a
    /// cached statement whose table changed shape since it was prepared
    /// (another connection's `ALTER TABLE`) is prepared again by SQLite at
    /// its first step, and only then has its new columns.
    count: OnceCell<usize>,
    /// Name lookups made without the cache.
    lookups: Cell<usize>,
    /// Every column's name.
    names: OnceCell<Vec<Box<str>>>,
    /// The names already matched to fields (`#[derive(FromRow)]`), for
    /// this statement's rows only.
    checks: NameChecks,
    /// The same, kept across the runs of a prepared statement; used
    /// instead of `checks` when given.
    kept_checks: Option<&'q NameChecks>,
    /// The names the compiled statement's select list gives the columns,
    /// when known (prepared statements).
    compiled: Option<Arc<[Ident]>>,
}

impl<'q> Columns<'q> {
    /// The columns of `q`'s rows, decoded into `T`.
    pub(crate) fn of<T: 'static>(q: &'q Compiled) -> Self {
        Columns {
            count: OnceCell::new(),
            lookups: Cell::new(0),
            names: OnceCell::new(),
            checks: NameChecks::new(),
            kept_checks: q.kept_name_checks::<T>(),
            compiled: q.result_columns.clone(),
        }
    }

    fn name_checks(&self) -> &NameChecks {
        self.kept_checks.unwrap_or(&self.checks)
    }

    /// The select list's name for column `index`, if the statement has as
    /// many columns as its select list (always, unless the SQL was not
    /// Quarry's).
    fn compiled_name<'r>(&'r self, row: &rusqlite::Row<'_>, index: usize) -> Option<&'r str> {
        let names = self.compiled.as_deref()?;
        if names.len() != self.count(row) {
            return None;
        }
        names.get(index).map(Ident::as_str)
    }

    fn count(&self, row: &rusqlite::Row<'_>) -> usize {
        *self.count.get_or_init(|| row.as_ref().column_count())
    }

    fn name<'r>(&'r self, row: &'r rusqlite::Row<'_>, index: usize) -> Option<&'r str> {
        if let Some(names) = self.names.get() {
            return names.get(index).map(|n| &**n);
        }
        let count = self.count(row);
        if index >= count {
            return None;
        }
        if self.lookups.get() < count {
            self.lookups.set(self.lookups.get() + 1);
            return row.as_ref().column_name(index).ok();
        }
        let names = self.names.get_or_init(|| {
            let stmt = row.as_ref();
            // A name SQLite cannot give (out of memory) matches no field.
            (0..count).map(|i| stmt.column_name(i).unwrap_or_default().into()).collect()
        });
        names.get(index).map(|n| &**n)
    }
}

/// A row being read on the connection thread.
pub(crate) struct SqliteRow<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    columns: &'r Columns<'r>,
}

impl<'r, 's> SqliteRow<'r, 's> {
    pub(crate) fn new(row: &'r rusqlite::Row<'s>, columns: &'r Columns<'r>) -> Self {
        SqliteRow { row, columns }
    }
}

/// SQLite's storage class of a cell, for decode errors.
fn storage_class(v: &SqliteRef<'_>) -> &'static str {
    match v {
        SqliteRef::Null => "NULL",
        SqliteRef::Integer(_) => "INTEGER",
        SqliteRef::Real(_) => "REAL",
        SqliteRef::Text(_) => "TEXT",
        SqliteRef::Blob(_) => "BLOB",
    }
}

fn to_value_ref<'a>(v: SqliteRef<'a>) -> ValueRef<'a> {
    match v {
        SqliteRef::Null => ValueRef::Null,
        SqliteRef::Integer(i) => ValueRef::I64(i),
        SqliteRef::Real(f) => ValueRef::F64(f),
        SqliteRef::Text(t) => ValueRef::Text(t),
        SqliteRef::Blob(b) => ValueRef::Bytes(b),
    }
}

impl SqliteRow<'_, '_> {
    /// The cell at `index`. rusqlite checks the index; only its error is
    /// rewritten here, out of the way of the cells that exist.
    #[inline]
    fn cell(&self, index: usize) -> Result<SqliteRef<'_>, Error> {
        self.row.get_ref(index).map_err(|e| self.cell_error(index, e))
    }

    #[cold]
    #[inline(never)]
    fn cell_error(&self, index: usize, e: rusqlite::Error) -> Error {
        match e {
            rusqlite::Error::InvalidColumnIndex(_) => {
                quarry_core::row::index_out_of_range(index, self.columns.count(self.row))
            }
            other => error::map(other),
        }
    }

    /// The error for a cell `FromValue` refused (out of the decoding path,
    /// which is generic and should stay small enough to inline).
    #[cold]
    #[inline(never)]
    fn decode_error(&self, index: usize, cell: SqliteRef<'_>, e: DecodeError) -> Error {
        let name = self.column_name(index).unwrap_or("?");
        Error::decode(index, name, e.with_found(storage_class(&cell)))
    }
}

impl Row for SqliteRow<'_, '_> {
    fn len(&self) -> usize {
        self.columns.count(self.row)
    }

    fn column_name(&self, index: usize) -> Option<&str> {
        self.columns.name(self.row, index)
    }

    fn compiled_name(&self, index: usize) -> Option<&str> {
        self.columns.compiled_name(self.row, index)
    }

    #[inline]
    fn get<T: FromValue>(&self, index: usize) -> Result<T, Error> {
        let cell = self.cell(index)?;
        T::from_value(to_value_ref(cell)).map_err(|e| self.decode_error(index, cell, e))
    }

    fn is_null(&self, index: usize) -> Result<bool, Error> {
        Ok(matches!(self.cell(index)?, SqliteRef::Null))
    }

    fn name_checks(&self) -> Option<&NameChecks> {
        Some(self.columns.name_checks())
    }
}
