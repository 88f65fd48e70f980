//! Binary `COPY ... FROM STDIN`: [`PgConnection::copy_in`] loads many rows
//! in one statement, with tokio-postgres's `BinaryCopyInWriter`.
//!
//! The column types come from the server (a probe `SELECT` of the columns
//! that returns one row of NULLs), so values convert exactly as bound
//! parameters do. With the statement cache on, the probe and the COPY are
//! sent together, so a COPY costs no round trip more than tokio-postgres's. Rows are written from borrowed values ([`CopyRow`]):
//! slices of [`Value`]s, or tuples of plain Rust values ([`CopyValue`]),
//! with no allocation per value.

use std::pin::pin;
use std::sync::Arc;

use bytes::Bytes;
use postgres_types::Type;
use quarry_core::ast::TableName;
use quarry_core::schema::TableSource;
use quarry_core::{Dialect, Error, ErrorKind, Interval, Postgres, Value, ValueRef};
use tokio_postgres::CopyInSink;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tracing::Instrument;

use crate::bind::{Bind, BindError};
use crate::connection::{PgConnection, statement_span};
use crate::state::StartedCopy;

/// The table a COPY writes to: a plain name, a schema-qualified name, or a
/// declared table (`&users`).
#[derive(Clone, Debug)]
pub struct CopyTarget {
    name: TableName,
}

impl CopyTarget {
    /// The table `name` (found through the `search_path`).
    pub fn named(name: impl Into<String>) -> Self {
        CopyTarget { name: TableName::new(name.into()) }
    }

    /// The table `schema.name`.
    pub fn qualified(schema: impl Into<String>, name: impl Into<String>) -> Self {
        CopyTarget { name: TableName::qualified(schema.into(), name.into()) }
    }
}

impl From<&str> for CopyTarget {
    fn from(name: &str) -> Self {
        CopyTarget::named(name)
    }
}

impl From<String> for CopyTarget {
    fn from(name: String) -> Self {
        CopyTarget::named(name)
    }
}

impl From<TableName> for CopyTarget {
    fn from(name: TableName) -> Self {
        CopyTarget { name }
    }
}

impl<T: TableSource> From<&T> for CopyTarget {
    fn from(table: &T) -> Self {
        CopyTarget { name: table.def().table_name() }
    }
}

/// One row to COPY: its width and its values by position.
///
/// Implemented for `[Value]`, `Vec<Value>`, `[Value; N]`, references to
/// rows, and tuples (up to 16) of [`CopyValue`]s such as
/// `(i64, &str, Option<f64>)`.
pub trait CopyRow {
    /// How many values the row has.
    fn width(&self) -> usize;

    /// The value at `index` (NULL past the end).
    fn value(&self, index: usize) -> ValueRef<'_>;
}

/// A value a [`CopyRow`] tuple can hold, borrowed as a [`ValueRef`].
pub trait CopyValue {
    /// The value, borrowed.
    fn copy_value(&self) -> ValueRef<'_>;
}

impl CopyRow for [Value] {
    fn width(&self) -> usize {
        self.len()
    }

    fn value(&self, index: usize) -> ValueRef<'_> {
        self.get(index).map_or(ValueRef::Null, Value::as_ref)
    }
}

impl CopyRow for Vec<Value> {
    fn width(&self) -> usize {
        self.len()
    }

    fn value(&self, index: usize) -> ValueRef<'_> {
        self.as_slice().value(index)
    }
}

impl<const N: usize> CopyRow for [Value; N] {
    fn width(&self) -> usize {
        N
    }

    fn value(&self, index: usize) -> ValueRef<'_> {
        self.as_slice().value(index)
    }
}

impl<R: CopyRow + ?Sized> CopyRow for &R {
    fn width(&self) -> usize {
        (**self).width()
    }

    fn value(&self, index: usize) -> ValueRef<'_> {
        (**self).value(index)
    }
}

macro_rules! copy_value {
    ($($ty:ty => |$v:ident| $e:expr),* $(,)?) => {$(
        impl CopyValue for $ty {
            fn copy_value(&self) -> ValueRef<'_> {
                let $v = self;
                $e
            }
        }
    )*};
}

copy_value! {
    bool => |v| ValueRef::Bool(*v),
    i8 => |v| ValueRef::I16(i16::from(*v)),
    u8 => |v| ValueRef::I16(i16::from(*v)),
    i16 => |v| ValueRef::I16(*v),
    u16 => |v| ValueRef::I32(i32::from(*v)),
    i32 => |v| ValueRef::I32(*v),
    u32 => |v| ValueRef::I64(i64::from(*v)),
    i64 => |v| ValueRef::I64(*v),
    f32 => |v| ValueRef::F32(*v),
    f64 => |v| ValueRef::F64(*v),
    str => |v| ValueRef::Text(v.as_bytes()),
    String => |v| ValueRef::Text(v.as_bytes()),
    Arc<str> => |v| ValueRef::Text(v.as_bytes()),
    quarry_core::Text => |v| ValueRef::Text(v.as_bytes()),
    [u8] => |v| ValueRef::Bytes(v),
    Vec<u8> => |v| ValueRef::Bytes(v),
    Bytes => |v| ValueRef::Bytes(v),
    Interval => |v| ValueRef::Interval(*v),
    Value => |v| v.as_ref(),
}

#[cfg(feature = "chrono")]
copy_value! {
    chrono::NaiveDate => |v| ValueRef::Date(*v),
    chrono::NaiveTime => |v| ValueRef::Time(*v),
    chrono::NaiveDateTime => |v| ValueRef::Timestamp(*v),
    chrono::DateTime<chrono::Utc> => |v| ValueRef::TimestampTz(*v),
}

#[cfg(feature = "uuid")]
copy_value! { uuid::Uuid => |v| ValueRef::Uuid(*v) }

#[cfg(feature = "json")]
copy_value! { serde_json::Value => |v| ValueRef::JsonValue(v) }

#[cfg(feature = "rust_decimal")]
copy_value! { rust_decimal::Decimal => |v| ValueRef::Decimal(*v) }

impl<T: CopyValue + ?Sized> CopyValue for &T {
    fn copy_value(&self) -> ValueRef<'_> {
        (**self).copy_value()
    }
}

impl<T: CopyValue> CopyValue for Option<T> {
    fn copy_value(&self) -> ValueRef<'_> {
        self.as_ref().map_or(ValueRef::Null, CopyValue::copy_value)
    }
}

macro_rules! copy_tuple {
    ($n:literal: $($name:ident $idx:tt),+) => {
        impl<$($name: CopyValue),+> CopyRow for ($($name,)+) {
            fn width(&self) -> usize {
                $n
            }

            fn value(&self, index: usize) -> ValueRef<'_> {
                match index {
                    $($idx => self.$idx.copy_value(),)+
                    _ => ValueRef::Null,
                }
            }
        }
    };
}

copy_tuple!(1: A 0);
copy_tuple!(2: A 0, B 1);
copy_tuple!(3: A 0, B 1, C 2);
copy_tuple!(4: A 0, B 1, C 2, D 3);
copy_tuple!(5: A 0, B 1, C 2, D 3, E 4);
copy_tuple!(6: A 0, B 1, C 2, D 3, E 4, F 5);
copy_tuple!(7: A 0, B 1, C 2, D 3, E 4, F 5, G 6);
copy_tuple!(8: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
copy_tuple!(9: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
copy_tuple!(10: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
copy_tuple!(11: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
copy_tuple!(12: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
copy_tuple!(13: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
copy_tuple!(14: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
copy_tuple!(15: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
copy_tuple!(16: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);

/// The `COPY` statement and the probe that finds the columns' types.
fn statements(target: &CopyTarget, columns: &[&str]) -> Result<(String, String), Error> {
    let mut table = String::new();
    if let Some(schema) = &target.name.schema {
        Postgres.write_identifier(schema, &mut table)?;
        table.push('.');
    }
    Postgres.write_identifier(&target.name.name, &mut table)?;
    let mut list = String::new();
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            list.push_str(", ");
        }
        Postgres.write_identifier(c, &mut list)?;
    }
    // Built by hand rather than with `format!`: this runs on every COPY.
    let select = if columns.is_empty() { [table.as_str(), ".*"] } else { [list.as_str(), ""] };
    let mut copy = String::with_capacity(table.len() + list.len() + 40);
    copy.push_str("COPY ");
    copy.push_str(&table);
    if !columns.is_empty() {
        copy.push_str(" (");
        copy.push_str(&list);
        copy.push(')');
    }
    copy.push_str(" FROM STDIN (FORMAT binary)");
    // One row of NULLs typed like the table's columns, even when it is empty.
    let mut probe = String::with_capacity(table.len() * 2 + list.len() + 80);
    probe.push_str("SELECT ");
    probe.extend(select);
    probe.push_str(" FROM (SELECT 1) AS \"quarry_copy_probe\" LEFT JOIN ");
    probe.push_str(&table);
    probe.push_str(" ON false");
    Ok((copy, probe))
}

enum Failure {
    /// A row could not be encoded (the COPY was aborted by the client).
    Row { row: usize, error: RowError },
    /// The server or the connection failed.
    Server(tokio_postgres::Error),
}

enum RowError {
    Width(usize),
    Bind(BindError),
}

async fn write_rows<R, I>(sink: CopyInSink<Bytes>, types: &[Type], rows: I) -> Result<u64, Failure>
where
    R: CopyRow,
    I: IntoIterator<Item = R>,
{
    let mut writer = pin!(BinaryCopyInWriter::new(sink, types));
    let width = types.len();
    for (n, row) in rows.into_iter().enumerate() {
        if row.width() != width {
            return Err(Failure::Row { row: n, error: RowError::Width(row.width()) });
        }
        let values = (0..width).map(|i| Bind::new(row.value(i), i));
        if let Err(e) = writer.as_mut().write_raw(values).await {
            let bind = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<BindError>()).cloned();
            return Err(match bind {
                Some(b) => Failure::Row { row: n, error: RowError::Bind(b) },
                None => Failure::Server(e),
            });
        }
    }
    writer.finish().await.map_err(Failure::Server)
}

impl PgConnection {
    /// Load `rows` into `table` with binary `COPY ... FROM STDIN`; the
    /// number of rows written.
    ///
    /// `table` is a name (`"events"`), a [`CopyTarget::qualified`] name or
    /// a declared table (`&events`). `columns` lists the columns the rows
    /// fill, in order; empty means every column of the table, in table
    /// order (list them when the table has generated columns). Each row is
    /// a [`CopyRow`]: `Vec<Value>`, `&[Value]`, or a tuple such as
    /// `(i64, &str)`. Values convert to the columns' types exactly as bound
    /// parameters do.
    ///
    /// A row that cannot be encoded (wrong width, a value out of range for
    /// its column) aborts the whole COPY with an [`ErrorKind::Encode`]
    /// error naming the row (counted from 1) and column: the table is
    /// unchanged and the connection stays usable (an enclosing transaction
    /// is aborted, as by any failed statement). A dropped `copy_in` future
    /// aborts the COPY too, and the connection is discarded (the handle
    /// takes a fresh one for its next call, outside a transaction).
    ///
    /// The COPY statement and the column probe are prepared statements (the
    /// COPY is prepared and closed each time when the statement cache is
    /// off; behind PgBouncer in transaction mode, run it in a transaction).
    pub async fn copy_in<R, I>(&mut self, table: impl Into<CopyTarget>, columns: &[&str], rows: I) -> Result<u64, Error>
    where
        R: CopyRow,
        I: IntoIterator<Item = R>,
    {
        let (copy_sql, probe_sql) = statements(&table.into(), columns)?;
        let span = statement_span(&copy_sql);
        async move {
            let state = self.state().await?;
            let StartedCopy { op, sink, types, names } = state.start_copy(&probe_sql, &copy_sql).await?;
            match state.io().drive(write_rows(sink, &types, rows)).await {
                Ok(n) => {
                    state.end_ok(op);
                    Ok(n)
                }
                Err(Failure::Server(e)) => Err(state.end_err(op, e)),
                Err(Failure::Row { row, error }) => {
                    state.copy_aborted(op).await;
                    let message = match error {
                        RowError::Width(w) => {
                            format!("copy: row {} has {w} values for {} columns", row + 1, types.len())
                        }
                        RowError::Bind(b) => {
                            let column = names.get(b.index()).map_or("?", String::as_str);
                            format!("copy: row {}, column `{column}`: {}", row + 1, b.message())
                        }
                    };
                    Err(Error::new(ErrorKind::Encode, message))
                }
            }
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_quote_every_identifier() {
        let (copy, probe) = statements(&CopyTarget::qualified("s", "we\"ird"), &["a", "B"]).unwrap();
        assert_eq!(copy, r#"COPY "s"."we""ird" ("a", "B") FROM STDIN (FORMAT binary)"#);
        assert_eq!(probe, r#"SELECT "a", "B" FROM (SELECT 1) AS "quarry_copy_probe" LEFT JOIN "s"."we""ird" ON false"#);
        let (copy, probe) = statements(&"t".into(), &[]).unwrap();
        assert_eq!(copy, r#"COPY "t" FROM STDIN (FORMAT binary)"#);
        assert!(probe.starts_with(r#"SELECT "t".* FROM"#));
        assert!(statements(&"".into(), &[]).is_err());
    }

    #[test]
    fn rows_expose_values_by_position() {
        let row = (1_i64, "a", None::<f64>, Some(2.5_f32));
        assert_eq!(row.width(), 4);
        assert_eq!(row.value(0), ValueRef::I64(1));
        assert_eq!(row.value(1), ValueRef::Text(b"a"));
        assert_eq!(row.value(2), ValueRef::Null);
        assert_eq!(row.value(3), ValueRef::F32(2.5));
        let values = vec![Value::I32(1), Value::from("x")];
        assert_eq!(values.width(), 2);
        assert_eq!(CopyRow::value(&&values, 1), ValueRef::Text(b"x"));
    }
}
