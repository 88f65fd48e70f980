//! The type-level vocabulary of the typed API: which Rust types stand for
//! SQL values, which compare with which, and what converts into an expression.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;

use super::{Column, Expr};
use crate::ast;
use crate::schema::ColumnType;
use crate::value::{Interval, Value};

/// The type of an expression whose type is unknown (raw fragments, columns
/// by name). It compares with anything and anything compares with it.
#[derive(Debug, Clone, Copy)]
pub enum Any {}

/// Marker types for SQL temporal values, so that date functions have a type
/// without the `chrono` feature. With `chrono`, `NaiveDate` columns are
/// `sql::Date` expressions, and so on.
pub mod sql {
    /// A SQL `DATE`.
    #[derive(Debug, Clone, Copy)]
    pub enum Date {}
    /// A SQL `TIME`.
    #[derive(Debug, Clone, Copy)]
    pub enum Time {}
    /// A SQL `TIMESTAMP` (without time zone).
    #[derive(Debug, Clone, Copy)]
    pub enum Timestamp {}
    /// A SQL `TIMESTAMPTZ`.
    #[derive(Debug, Clone, Copy)]
    pub enum TimestampTz {}
}

/// A Rust type that can be the type of an expression or column.
///
/// `Base` is the type with nullability removed: `Option<i64>` and `i64` are
/// both `i64` expressions for comparison purposes.
pub trait SqlType: 'static {
    /// The type compared against.
    type Base: 'static;
    /// Whether NULL is a legal value of this type (`Option<T>`).
    const NULLABLE: bool;

    /// The SQL type a bound value of this type is cast to where the server
    /// cannot infer a parameter's type (`CASE` results, `COALESCE`
    /// arguments); `None` for [`Any`].
    fn column_type_hint() -> Option<ColumnType> {
        None
    }
}

/// A [`SqlType`] with a SQL column type, usable in [`table!`](crate::table).
pub trait HasColumnType: SqlType {
    /// The column type `CREATE TABLE` uses.
    fn column_type() -> ColumnType;
}

/// `Self` (a base type) may be compared with or assigned to an expression
/// of base type `B`. Integers are compatible with each other, as are floats;
/// [`Any`] is compatible with everything.
#[diagnostic::on_unimplemented(
    message = "an expression of type `{Self}` cannot be used where `{B}` is expected",
    note = "use `.cast::<T>()` to convert in SQL, or `.untyped()` to drop the type"
)]
pub trait Compatible<B> {}

/// Numeric types: arithmetic and `sum`/`avg` apply.
pub trait Numeric {
    /// The type of `avg()` of this type.
    type Avg: SqlType;
    /// The type `sum()` is cast to so that every database agrees.
    fn sum_cast() -> Option<ColumnType> {
        None
    }
    /// The type `avg()` is cast to so that every database agrees.
    fn avg_cast() -> Option<ColumnType> {
        None
    }
}

/// Temporal types that `date_add` applies to.
pub trait Temporal {
    /// Whether values are dates or timestamps.
    const KIND: ast::TemporalKind;
}

/// Something that can stand where an expression of base type `B` is
/// expected: a typed [`Expr`] or [`Column`] of a compatible type, or a Rust
/// value of a compatible type (bound as a parameter).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used where an expression of type `{B}` is expected",
    label = "expected a value or expression of type `{B}`",
    note = "for a different SQL type use `.cast::<T>()`; for an untyped fragment use `raw(...)` or `col(...)`"
)]
pub trait IntoExpr<B> {
    /// Convert into a typed expression.
    fn into_expr(self) -> Expr<B>;

    /// Append `self` as one cell of a row being inserted, returning its
    /// depth. Plain values override this to append the bare [`Value`],
    /// with no expression built around it (a bulk insert appends one per
    /// cell).
    fn push_cell(self, row: &mut ast::RowWriter<'_>) -> u32
    where
        Self: Sized,
    {
        let e = self.into_expr();
        let depth = e.depth();
        row.push(e.into_node());
        depth
    }
}

impl<T: SqlType, B> IntoExpr<B> for Expr<T>
where
    T::Base: Compatible<B>,
{
    fn into_expr(self) -> Expr<B> {
        self.assume()
    }
}

impl<T: SqlType, B> IntoExpr<B> for &Expr<T>
where
    T::Base: Compatible<B>,
{
    fn into_expr(self) -> Expr<B> {
        self.clone().assume()
    }
}

impl<T: SqlType, B> IntoExpr<B> for Column<T>
where
    T::Base: Compatible<B>,
{
    fn into_expr(self) -> Expr<B> {
        self.expr().assume()
    }
}

impl<B, V: IntoExpr<B>> IntoExpr<B> for Option<V> {
    fn into_expr(self) -> Expr<B> {
        match self {
            Some(v) => v.into_expr(),
            None => Expr::from_node(ast::Expr::Value(Value::Null)),
        }
    }

    fn push_cell(self, row: &mut ast::RowWriter<'_>) -> u32 {
        match self {
            Some(v) => v.push_cell(row),
            None => {
                row.push_null();
                1
            }
        }
    }
}

/// A dynamic [`Value`] is untyped: it stands wherever a value may.
impl<B> IntoExpr<B> for Value {
    fn into_expr(self) -> Expr<B> {
        Expr::from_node(ast::Expr::Value(self))
    }

    fn push_cell(self, row: &mut ast::RowWriter<'_>) -> u32 {
        row.push_value(self);
        1
    }
}

impl SqlType for Any {
    type Base = Any;
    const NULLABLE: bool = true;
}

impl Compatible<Any> for Any {}

impl<T: SqlType> SqlType for Option<T> {
    type Base = T::Base;
    const NULLABLE: bool = true;

    fn column_type_hint() -> Option<ColumnType> {
        T::column_type_hint()
    }
}

impl<T: HasColumnType> HasColumnType for Option<T> {
    fn column_type() -> ColumnType {
        T::column_type()
    }
}

macro_rules! base_types {
    ($($ty:ty => $col:expr),* $(,)?) => {$(
        impl SqlType for $ty {
            type Base = $ty;
            const NULLABLE: bool = false;

            fn column_type_hint() -> Option<ColumnType> {
                Some($col)
            }
        }
        impl HasColumnType for $ty {
            fn column_type() -> ColumnType {
                $col
            }
        }
        impl Compatible<$ty> for $ty {}
        impl Compatible<Any> for $ty {}
        impl Compatible<$ty> for Any {}
    )*};
}

base_types! {
    bool => ColumnType::Bool,
    i16 => ColumnType::SmallInt,
    i32 => ColumnType::Integer,
    i64 => ColumnType::BigInt,
    f32 => ColumnType::Real,
    f64 => ColumnType::Double,
    String => ColumnType::Text,
    Vec<u8> => ColumnType::Bytes,
    Interval => ColumnType::Interval,
    sql::Date => ColumnType::Date,
    sql::Time => ColumnType::Time,
    sql::Timestamp => ColumnType::Timestamp,
    sql::TimestampTz => ColumnType::TimestampTz,
    Vec<bool> => ColumnType::Array(Box::new(ColumnType::Bool)),
    Vec<i16> => ColumnType::Array(Box::new(ColumnType::SmallInt)),
    Vec<i32> => ColumnType::Array(Box::new(ColumnType::Integer)),
    Vec<i64> => ColumnType::Array(Box::new(ColumnType::BigInt)),
    Vec<f32> => ColumnType::Array(Box::new(ColumnType::Real)),
    Vec<f64> => ColumnType::Array(Box::new(ColumnType::Double)),
    Vec<String> => ColumnType::Array(Box::new(ColumnType::Text)),
}

#[cfg(feature = "uuid")]
base_types! { uuid::Uuid => ColumnType::Uuid }
#[cfg(feature = "json")]
base_types! { serde_json::Value => ColumnType::Jsonb }
#[cfg(feature = "rust_decimal")]
base_types! { rust_decimal::Decimal => ColumnType::Numeric(None) }

/// Rust types that are another base type's representation (`Bytes` is
/// `Vec<u8>`, `NaiveDate` is `sql::Date`).
macro_rules! alias_types {
    ($($ty:ty => $base:ty),* $(,)?) => {$(
        impl SqlType for $ty {
            type Base = $base;
            const NULLABLE: bool = false;

            fn column_type_hint() -> Option<ColumnType> {
                Some(<$base as HasColumnType>::column_type())
            }
        }
        impl HasColumnType for $ty {
            fn column_type() -> ColumnType {
                <$base as HasColumnType>::column_type()
            }
        }
    )*};
}

alias_types! { Bytes => Vec<u8> }
#[cfg(feature = "chrono")]
alias_types! {
    chrono::NaiveDate => sql::Date,
    chrono::NaiveTime => sql::Time,
    chrono::NaiveDateTime => sql::Timestamp,
    chrono::DateTime<chrono::Utc> => sql::TimestampTz,
}

macro_rules! compatible {
    ($($a:ty => [$($b:ty),*]),* $(,)?) => {$($(
        impl Compatible<$b> for $a {}
    )*)*};
}

compatible! {
    i16 => [i32, i64],
    i32 => [i16, i64],
    i64 => [i16, i32],
    f32 => [f64],
    f64 => [f32],
}

macro_rules! integer_numeric {
    ($($ty:ty),*) => {$(
        impl Numeric for $ty {
            type Avg = f64;
            fn sum_cast() -> Option<ColumnType> {
                Some(ColumnType::BigInt)
            }
            fn avg_cast() -> Option<ColumnType> {
                Some(ColumnType::Double)
            }
        }
    )*};
}

integer_numeric!(i16, i32, i64);

impl Numeric for f32 {
    type Avg = f64;
    fn avg_cast() -> Option<ColumnType> {
        Some(ColumnType::Double)
    }
}
impl Numeric for f64 {
    type Avg = f64;
}
impl Numeric for Any {
    type Avg = Any;
}
#[cfg(feature = "rust_decimal")]
impl Numeric for rust_decimal::Decimal {
    type Avg = rust_decimal::Decimal;
}

/// Types `extract` reads fields of, with their kind when known.
pub trait Extractable {
    /// What the values are (`None` when untyped).
    const KIND: Option<ast::TemporalKind>;
}

impl Extractable for sql::Date {
    const KIND: Option<ast::TemporalKind> = Some(ast::TemporalKind::Date);
}
impl Extractable for sql::Time {
    const KIND: Option<ast::TemporalKind> = Some(ast::TemporalKind::Time);
}
impl Extractable for sql::Timestamp {
    const KIND: Option<ast::TemporalKind> = Some(ast::TemporalKind::Timestamp);
}
impl Extractable for sql::TimestampTz {
    const KIND: Option<ast::TemporalKind> = Some(ast::TemporalKind::TimestampTz);
}
impl Extractable for Any {
    const KIND: Option<ast::TemporalKind> = None;
}

impl Temporal for sql::Date {
    const KIND: ast::TemporalKind = ast::TemporalKind::Date;
}
impl Temporal for sql::Timestamp {
    const KIND: ast::TemporalKind = ast::TemporalKind::Timestamp;
}
impl Temporal for sql::TimestampTz {
    const KIND: ast::TemporalKind = ast::TemporalKind::TimestampTz;
}

/// Rust values that bind as parameters where an expression of base type
/// `B` is expected.
macro_rules! values_into {
    ($($val:ty => [$($b:ty),*]),* $(,)?) => {$(
        $(
            impl IntoExpr<$b> for $val {
                fn into_expr(self) -> Expr<$b> {
                    Expr::from_node(ast::Expr::Value(Value::from(self)))
                }

                fn push_cell(self, row: &mut ast::RowWriter<'_>) -> u32 {
                    row.push_value(Value::from(self));
                    1
                }
            }
        )*
        impl IntoExpr<Any> for $val {
            fn into_expr(self) -> Expr<Any> {
                Expr::from_node(ast::Expr::Value(Value::from(self)))
            }

            fn push_cell(self, row: &mut ast::RowWriter<'_>) -> u32 {
                row.push_value(Value::from(self));
                1
            }
        }
    )*};
}

values_into! {
    bool => [bool],
    i16 => [i16, i32, i64],
    i32 => [i16, i32, i64],
    i64 => [i16, i32, i64],
    u8 => [i16, i32, i64],
    u16 => [i16, i32, i64],
    u32 => [i16, i32, i64],
    f32 => [f32, f64],
    f64 => [f32, f64],
    Arc<str> => [String],
    crate::value::Text => [String],
    Vec<u8> => [Vec<u8>],
    &[u8] => [Vec<u8>],
    Bytes => [Vec<u8>],
    Interval => [Interval],
    Vec<bool> => [Vec<bool>],
    Vec<i16> => [Vec<i16>],
    Vec<i32> => [Vec<i32>],
    Vec<i64> => [Vec<i64>],
    Vec<f32> => [Vec<f32>],
    Vec<f64> => [Vec<f64>],
    Vec<String> => [Vec<String>],
}

/// Borrowed or owned strings: as [`values_into!`], but a cell of a bulk
/// insert copies the text straight into its place in the row list.
macro_rules! text_into {
    ($($val:ty),* $(,)?) => {$(
        impl IntoExpr<String> for $val {
            fn into_expr(self) -> Expr<String> {
                Expr::from_node(ast::Expr::Value(Value::from(self)))
            }

            fn push_cell(self, row: &mut ast::RowWriter<'_>) -> u32 {
                row.push_text(&self);
                1
            }
        }
        impl IntoExpr<Any> for $val {
            fn into_expr(self) -> Expr<Any> {
                Expr::from_node(ast::Expr::Value(Value::from(self)))
            }

            fn push_cell(self, row: &mut ast::RowWriter<'_>) -> u32 {
                row.push_text(&self);
                1
            }
        }
    )*};
}

text_into!(&str, String, &String, Cow<'_, str>);

#[cfg(feature = "chrono")]
values_into! {
    chrono::NaiveDate => [sql::Date],
    chrono::NaiveTime => [sql::Time],
    chrono::NaiveDateTime => [sql::Timestamp],
    chrono::DateTime<chrono::Utc> => [sql::TimestampTz],
}
#[cfg(feature = "uuid")]
values_into! { uuid::Uuid => [uuid::Uuid] }
#[cfg(feature = "json")]
values_into! { serde_json::Value => [serde_json::Value] }
#[cfg(feature = "rust_decimal")]
values_into! { rust_decimal::Decimal => [rust_decimal::Decimal] }

/// A Rust value that [`lit`](super::lit) turns into a parameter with a fixed
/// SQL type (`CAST($1 AS BIGINT)` on PostgreSQL), for select lists and
/// other places where the server cannot infer a parameter's type.
pub trait IntoLiteral: Into<Value> {
    /// The expression type of the literal.
    type Sql: SqlType;
    /// The SQL type it is cast to.
    fn column_type() -> ColumnType;
}

macro_rules! literals {
    ($($val:ty => $sql:ty),* $(,)?) => {$(
        impl IntoLiteral for $val {
            type Sql = $sql;
            fn column_type() -> ColumnType {
                <$sql as HasColumnType>::column_type()
            }
        }
    )*};
}

literals! {
    bool => bool,
    i16 => i16,
    i32 => i32,
    i64 => i64,
    f32 => f32,
    f64 => f64,
    &str => String,
    String => String,
    Vec<u8> => Vec<u8>,
    Interval => Interval,
}

#[cfg(feature = "chrono")]
literals! {
    chrono::NaiveDate => sql::Date,
    chrono::NaiveTime => sql::Time,
    chrono::NaiveDateTime => sql::Timestamp,
    chrono::DateTime<chrono::Utc> => sql::TimestampTz,
}
#[cfg(feature = "uuid")]
literals! { uuid::Uuid => uuid::Uuid }
#[cfg(feature = "json")]
literals! { serde_json::Value => serde_json::Value }
#[cfg(feature = "rust_decimal")]
literals! { rust_decimal::Decimal => rust_decimal::Decimal }
