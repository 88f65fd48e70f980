//! Decoding rows: the [`Row`] a driver hands out, and [`FromRow`] for the
//! Rust types a row becomes (scalars, tuples, `Option`s of them, and structs
//! with `#[derive(FromRow)]`).

use std::any::TypeId;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use crate::error::{Error, ErrorKind};
use crate::value::{FromValue, Interval, Value};

/// One row of a result, as a driver exposes it.
///
/// Drivers implement [`get`](Row::get) by borrowing the cell as a
/// [`ValueRef`](crate::ValueRef) and calling [`FromValue`], so decoding
/// copies only what the caller keeps. Errors name the column, the expected
/// and the found type.
pub trait Row {
    /// The number of columns.
    fn len(&self) -> usize;

    /// Whether the row has no columns.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name of column `index`.
    fn column_name(&self, index: usize) -> Option<&str>;

    /// Decode column `index`.
    fn get<T: FromValue>(&self, index: usize) -> Result<T, Error>;

    /// Whether column `index` is NULL.
    fn is_null(&self, index: usize) -> Result<bool, Error>;

    /// The index of the first column named `name`.
    fn index_of(&self, name: &str) -> Result<usize, Error> {
        (0..self.len()).find(|i| self.column_name(*i) == Some(name)).ok_or_else(|| no_such_column(self, name))
    }

    /// Decode the first column named `name`.
    fn get_named<T: FromValue>(&self, name: &str) -> Result<T, Error>
    where
        Self: Sized,
    {
        self.get(self.index_of(name)?)
    }

    /// The name the statement's select list gives column `index`, when
    /// the driver has it from the compiled statement
    /// ([`Compiled::result_columns`](crate::Compiled::result_columns)):
    /// `#[derive(FromRow)]` compares a field's name with it before asking
    /// the database for the column's name. `None` (the default) when
    /// unknown.
    fn compiled_name(&self, index: usize) -> Option<&str> {
        let _ = index;
        None
    }

    /// The statement's record of the column names already checked against
    /// the fields decoded from them, shared by all its rows; `None` (the
    /// default) checks every row.
    fn name_checks(&self) -> Option<&NameChecks> {
        None
    }
}

/// Which columns' names `#[derive(FromRow)]` has found where it expected
/// them, for the rows of one statement decoded into one type: a driver
/// keeps one per statement and hands it out through
/// [`Row::name_checks`], so that each name is compared once rather than
/// once per row. (For one type, a column position always belongs to the
/// same field, and a statement's column names do not change between rows.)
/// Columns past the 64th are checked on every row.
#[derive(Debug, Default)]
pub struct NameChecks {
    matched: AtomicU64,
}

impl NameChecks {
    /// Nothing checked yet.
    pub fn new() -> Self {
        NameChecks::default()
    }

    #[inline]
    fn is_matched(&self, index: usize) -> bool {
        index < 64 && self.matched.load(Ordering::Relaxed) & (1 << index) != 0
    }

    fn set_matched(&self, index: usize) {
        if index < 64 {
            self.matched.fetch_or(1 << index, Ordering::Relaxed);
        }
    }
}

/// The [`NameChecks`] of a [prepared](crate::statement::Prepared)
/// statement whose select list names its columns, kept across its runs:
/// its SQL, and so its column names, do not change, so a field found where
/// it was expected on one run is there on every run, and a one-row result
/// need not compare its names again each time. Kept for the first row
/// type decoded from the statement (a column position belongs to the same
/// field only within one type); other types get `None` and check per run
/// as before.
///
/// ```
/// use quarry_core::row::SharedNameChecks;
///
/// let shared = SharedNameChecks::default();
/// assert!(shared.for_type::<(i64, String)>().is_some());
/// assert!(shared.for_type::<(i64, String)>().is_some());
/// assert!(shared.for_type::<(String, i64)>().is_none());
/// ```
#[derive(Debug, Default)]
pub struct SharedNameChecks {
    first: OnceLock<(TypeId, NameChecks)>,
}

impl SharedNameChecks {
    /// The checks kept for rows decoded into `T`, if `T` is the type this
    /// statement was first decoded into.
    #[inline]
    pub fn for_type<T: 'static>(&self) -> Option<&NameChecks> {
        let (kept_for, checks) = self.first.get_or_init(|| (TypeId::of::<T>(), NameChecks::new()));
        (*kept_for == TypeId::of::<T>()).then_some(checks)
    }
}

fn no_such_column<R: Row + ?Sized>(row: &R, name: &str) -> Error {
    let names: Vec<&str> = (0..row.len()).filter_map(|i| row.column_name(i)).collect();
    Error::new(ErrorKind::Decode, format!("the row has no column `{name}` (its columns are {names:?})"))
        .with_column(name)
}

/// An error for a column index past the end of the row.
pub fn index_out_of_range(index: usize, len: usize) -> Error {
    Error::new(ErrorKind::Decode, format!("column {index} does not exist: the row has {len} columns"))
}

/// Find the column for struct field `name` expected at `offset + position`
/// among the `width` columns a struct reads: the expected position when its
/// name matches (the usual case: one comparison, once per statement where
/// the row has [`NameChecks`]), else the column of that name within the
/// struct's columns. Used by `#[derive(FromRow)]`.
#[doc(hidden)]
#[inline]
pub fn field_index<R: Row + ?Sized>(
    row: &R,
    offset: usize,
    position: usize,
    width: usize,
    name: &str,
) -> Result<usize, Error> {
    let expected = offset + position;
    match row.name_checks() {
        Some(checks) if checks.is_matched(expected) => Ok(expected),
        checks => field_index_by_name(row, checks, offset, expected, width, name),
    }
}

/// [`field_index`] when the expected column was not matched yet (each
/// field on a statement's first row): compare its name, and search the
/// struct's columns when it differs. Out of line, so that the matched case
/// inlines into every field's decoding.
#[inline(never)]
fn field_index_by_name<R: Row + ?Sized>(
    row: &R,
    checks: Option<&NameChecks>,
    offset: usize,
    expected: usize,
    width: usize,
    name: &str,
) -> Result<usize, Error> {
    // The select list's name, when the driver has it, saves asking the
    // database; a different one is checked against the database's too.
    if row.compiled_name(expected) == Some(name) || row.column_name(expected) == Some(name) {
        if let Some(c) = checks {
            c.set_matched(expected);
        }
        return Ok(expected);
    }
    let end = (offset + width).min(row.len());
    (offset..end)
        .find(|i| row.compiled_name(*i) == Some(name) || row.column_name(*i) == Some(name))
        .ok_or_else(|| no_such_column(row, name))
}

/// A Rust type that a row (or a run of its columns) decodes into.
///
/// Scalars read one column; tuples read their elements one after another;
/// `Option<T>` is `None` when all of `T`'s columns are NULL (a `LEFT JOIN`
/// that found nothing); `#[derive(FromRow)]` structs read one column per
/// field, matched by name.
///
/// ```
/// use quarry_core::{FromRow, Row, Value, Error, FromValue};
///
/// /// A row held in memory, for the example.
/// struct Cells(Vec<(&'static str, Value)>);
/// impl Row for Cells {
///     fn len(&self) -> usize { self.0.len() }
///     fn column_name(&self, i: usize) -> Option<&str> { self.0.get(i).map(|c| c.0) }
///     fn get<T: FromValue>(&self, i: usize) -> Result<T, Error> {
///         let (name, v) = &self.0[i];
///         v.decode().map_err(|e| Error::decode(i, name, e))
///     }
///     fn is_null(&self, i: usize) -> Result<bool, Error> { Ok(self.0[i].1.is_null()) }
/// }
///
/// let row = Cells(vec![("id", Value::I64(1)), ("name", Value::from("ada")), ("x", Value::Null)]);
/// let (id, name, x): (i64, String, Option<i32>) = FromRow::from_row(&row)?;
/// assert_eq!((id, name.as_str(), x), (1, "ada", None));
/// let bad = <(String,)>::from_row(&row).unwrap_err();
/// assert_eq!(bad.to_string(), "decode error: decoding column 0 `id` as String: found i64");
/// # Ok::<(), Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be decoded from a row",
    note = "derive it with `#[derive(quarry::FromRow)]`, or decode a tuple of values"
)]
pub trait FromRow: Sized {
    /// How many columns this type reads.
    const COLUMNS: usize;

    /// Decode from the columns starting at `offset`.
    fn from_row_at<R: Row + ?Sized>(row: &R, offset: usize) -> Result<Self, Error>;

    /// Decode a whole row.
    fn from_row<R: Row + ?Sized>(row: &R) -> Result<Self, Error> {
        Self::from_row_at(row, 0)
    }
}

/// `None` when every column of `T` is NULL.
impl<T: FromRow> FromRow for Option<T> {
    const COLUMNS: usize = T::COLUMNS;

    #[inline]
    fn from_row_at<R: Row + ?Sized>(row: &R, offset: usize) -> Result<Self, Error> {
        for i in offset..offset + T::COLUMNS {
            if !row.is_null(i)? {
                return T::from_row_at(row, offset).map(Some);
            }
        }
        Ok(None)
    }
}

macro_rules! scalar_rows {
    ($($ty:ty),* $(,)?) => {$(
        impl FromRow for $ty {
            const COLUMNS: usize = 1;
            #[inline]
            fn from_row_at<R: Row + ?Sized>(row: &R, offset: usize) -> Result<Self, Error> {
                row.get(offset)
            }
        }
    )*};
}

scalar_rows!(
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    f32,
    f64,
    bool,
    String,
    std::sync::Arc<str>,
    crate::value::Text,
    Vec<u8>,
    Bytes,
    Interval,
    Value,
    Vec<bool>,
    Vec<i16>,
    Vec<i32>,
    Vec<i64>,
    Vec<f32>,
    Vec<f64>,
    Vec<String>,
    Vec<Interval>,
    Vec<Vec<u8>>,
    Vec<Option<bool>>,
    Vec<Option<i16>>,
    Vec<Option<i32>>,
    Vec<Option<i64>>,
    Vec<Option<f32>>,
    Vec<Option<f64>>,
    Vec<Option<String>>,
    Vec<Option<Interval>>,
    Vec<Option<Vec<u8>>>,
);

#[cfg(feature = "chrono")]
scalar_rows!(chrono::NaiveDate, chrono::NaiveTime, chrono::NaiveDateTime, chrono::DateTime<chrono::Utc>,);
#[cfg(feature = "uuid")]
scalar_rows!(uuid::Uuid);
#[cfg(feature = "json")]
scalar_rows!(serde_json::Value);
#[cfg(feature = "rust_decimal")]
scalar_rows!(rust_decimal::Decimal);

macro_rules! tuple_rows {
    ($($name:ident)+) => {
        impl<$($name: FromRow),+> FromRow for ($($name,)+) {
            const COLUMNS: usize = 0 $(+ $name::COLUMNS)+;

            #[allow(non_snake_case, unused_assignments)]
            #[inline]
            fn from_row_at<R: Row + ?Sized>(row: &R, offset: usize) -> Result<Self, Error> {
                let mut at = offset;
                $(
                    let $name = $name::from_row_at(row, at)?;
                    at += $name::COLUMNS;
                )+
                Ok(($($name,)+))
            }
        }
    };
}

tuple_rows!(A);
tuple_rows!(A B);
tuple_rows!(A B C);
tuple_rows!(A B C D);
tuple_rows!(A B C D E);
tuple_rows!(A B C D E F);
tuple_rows!(A B C D E F G);
tuple_rows!(A B C D E F G H);
tuple_rows!(A B C D E F G H I);
tuple_rows!(A B C D E F G H I J);
tuple_rows!(A B C D E F G H I J K);
tuple_rows!(A B C D E F G H I J K L);
tuple_rows!(A B C D E F G H I J K L M);
tuple_rows!(A B C D E F G H I J K L M N);
tuple_rows!(A B C D E F G H I J K L M N O);
tuple_rows!(A B C D E F G H I J K L M N O P);
