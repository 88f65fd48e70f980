//! Free functions that build expressions: literals, logic, `CASE`,
//! aggregates, window functions, and the portable scalar functions.

use std::borrow::Cow;
use std::marker::PhantomData;

use super::methods::{arg, call, cast_to, split_args};
use super::types::{Any, Extractable, HasColumnType, IntoLiteral, Numeric, SqlType, Temporal, sql};
use super::{Expr, ExprMethods, IntoExpr, OrderBy};
use crate::ast::{
    self, DateField, FrameBound, FrameUnits, Func, FunctionCall, IntervalUnit, LogicalOp, RawSql, WindowFrame,
    WindowSpec,
};
use crate::error::{Error, ErrorKind};
use crate::ident::Ident;
use crate::schema::ColumnType;
use crate::statement::IntoQuery;
use crate::value::Value;

/// A literal value with a fixed SQL type: bound as a parameter, cast on
/// PostgreSQL (`CAST($1 AS BIGINT)`) so that the server knows its type even
/// in a select list. Use it where there is no column to infer the type from.
///
/// ```
/// use quarry_core::prelude::*;
/// let q = select(lit(1_i64).label("one"));
/// assert_eq!(q.compile(&Postgres)?.sql, r#"SELECT CAST($1 AS BIGINT) AS "one""#);
/// assert_eq!(q.compile(&Sqlite)?.sql, r#"SELECT ?1 AS "one""#);
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
pub fn lit<V: IntoLiteral>(value: V) -> Expr<V::Sql> {
    Expr::from_node(ast::Expr::TypedValue { value: value.into(), ty: V::column_type() })
}

/// A bound parameter of `value`'s type, without a cast: the server infers
/// its type from where it stands.
pub fn value<V: IntoLiteral>(value: V) -> Expr<V::Sql> {
    Expr::from_node(ast::Expr::Value(value.into()))
}

/// A typed SQL `NULL` (a bound null parameter).
pub fn null<T: SqlType>() -> Expr<Option<T>> {
    Expr::from_node(ast::Expr::Value(Value::Null))
}

/// An unqualified column by name, untyped: the escape hatch for columns
/// that no declared table describes. The name is quoted like any other.
pub fn col(name: impl Into<Ident>) -> Expr<Any> {
    Expr::from_node(ast::Expr::Column(ast::ColumnRef { table: None, name: name.into() }))
}

/// A named parameter, bound each time a prepared statement runs (as
/// SQLAlchemy's `bindparam()`): see [`Prepared`](crate::statement::Prepared).
/// Compiling a statement that holds one without preparing it is a
/// [`CompileError::MissingBind`](crate::CompileError::MissingBind).
///
/// ```
/// use quarry_core::prelude::*;
/// let q = select(param::<i64>("n").label("n")).prepare(&Postgres)?;
/// assert_eq!(q.sql(), r#"SELECT CAST($1 AS BIGINT) AS "n""#);
/// assert_eq!(q.param_names().collect::<Vec<_>>(), ["n"]);
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
pub fn param<T: SqlType>(name: &'static str) -> Expr<T> {
    Expr::from_node(ast::Expr::Param { name: Ident::new_static(name), ty: None })
}

/// A raw SQL fragment, untyped, whose `:name` parameters are bound with
/// [`Raw::bind`]. Only `&'static str` is accepted: SQL text should be
/// written by the programmer, not assembled from input. For the rare
/// dynamic case see [`raw_dynamic_unchecked`].
///
/// ```
/// use quarry_core::prelude::*;
/// let recent = raw("created_at > now() - :age::interval").bind("age", "1 day");
/// let q = select(col("id")).from_raw(raw("events")).filter(recent);
/// assert_eq!(
///     q.compile(&Postgres)?.sql,
///     r#"SELECT "id" FROM events WHERE created_at > now() - $1::interval"#
/// );
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
pub fn raw(sql: &'static str) -> Raw {
    Raw { sql: RawSql::new(sql), _type: PhantomData }
}

/// A raw SQL fragment from a run-time string. The text goes into the
/// statement as written: never build it from user input. Its `:name`
/// parameters are still bound.
pub fn raw_dynamic_unchecked(sql: String) -> Raw {
    Raw { sql: RawSql::new(sql), _type: PhantomData }
}

/// A raw SQL fragment; see [`raw`].
#[derive(Debug, Clone)]
#[must_use]
pub struct Raw<T = Any> {
    pub(crate) sql: RawSql,
    _type: PhantomData<fn() -> T>,
}

impl<T> Raw<T> {
    /// Bind `:name` to `value`.
    pub fn bind(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> Self {
        self.sql = self.sql.bind(name, value);
        self
    }

    /// Give the fragment a type.
    pub fn typed<U: SqlType>(self) -> Raw<U> {
        Raw { sql: self.sql, _type: PhantomData }
    }

    /// The plain fragment.
    pub fn into_raw_sql(self) -> RawSql {
        self.sql
    }

    /// As an expression.
    pub fn expr(self) -> Expr<T> {
        Expr::from_node(ast::Expr::Raw(self.sql))
    }
}

impl<T: SqlType> ExprMethods<T> for Raw<T> {
    fn into_typed(self) -> Expr<T> {
        self.expr()
    }
}

impl<T: SqlType, B> IntoExpr<B> for Raw<T>
where
    T::Base: super::Compatible<B>,
{
    fn into_expr(self) -> Expr<B> {
        self.expr().assume()
    }
}

pub(crate) fn logical(op: LogicalOp, left: Expr<bool>, right: Expr<bool>) -> Expr<bool> {
    let (ld, rd) = (left.depth(), right.depth());
    // A side of the same operator is spliced in: its terms are one level
    // below it. Any other side becomes a term itself.
    let (mut terms, left_terms_depth) = match left.into_node() {
        ast::Expr::Logical { op: o, terms } if o == op => (terms, ld.saturating_sub(1)),
        node => (vec![node], ld),
    };
    let right_terms_depth = match right.into_node() {
        ast::Expr::Logical { op: o, terms: more } if o == op => {
            terms.extend(more);
            rd.saturating_sub(1)
        }
        node => {
            terms.push(node);
            rd
        }
    };
    Expr::compose(ast::Expr::Logical { op, terms }, left_terms_depth.max(right_terms_depth))
}

fn fold_logical<E: IntoExpr<bool>>(op: LogicalOp, terms: impl IntoIterator<Item = E>, empty: bool) -> Expr<bool> {
    terms.into_iter().map(IntoExpr::into_expr).reduce(|acc, term| logical(op, acc, term)).unwrap_or_else(|| lit(empty))
}

/// `a AND b AND ...`; `TRUE` for an empty list.
pub fn and_<E: IntoExpr<bool>>(terms: impl IntoIterator<Item = E>) -> Expr<bool> {
    fold_logical(LogicalOp::And, terms, true)
}

/// `a OR b OR ...`; `FALSE` for an empty list.
pub fn or_<E: IntoExpr<bool>>(terms: impl IntoIterator<Item = E>) -> Expr<bool> {
    fold_logical(LogicalOp::Or, terms, false)
}

/// `NOT e`
pub fn not_(e: impl IntoExpr<bool>) -> Expr<bool> {
    let e = e.into_expr();
    let d = e.depth();
    Expr::compose(ast::Expr::Unary { op: ast::UnaryOp::Not, expr: Box::new(e.into_node()) }, d)
}

/// `EXISTS (SELECT ...)`
pub fn exists(query: impl IntoQuery) -> Expr<bool> {
    let (query, d) = query.into_query_with_depth();
    Expr::compose(ast::Expr::Exists { query: Box::new(query), negated: false }, d)
}

/// `NOT EXISTS (SELECT ...)`
pub fn not_exists(query: impl IntoQuery) -> Expr<bool> {
    let (query, d) = query.into_query_with_depth();
    Expr::compose(ast::Expr::Exists { query: Box::new(query), negated: true }, d)
}

/// `CAST(e AS type)` typed as `U`.
pub fn cast<U: HasColumnType, T: SqlType>(e: impl ExprMethods<T>) -> Expr<U> {
    cast_to(e.into_typed(), U::column_type())
}

/// `CASE WHEN ... THEN ... [ELSE ...] END` with results of type `T`.
///
/// ```
/// use quarry_core::prelude::*;
/// let grade = case::<String>()
///     .when(col("score").ge(90), "A")
///     .when(col("score").ge(80), "B")
///     .otherwise("C");
/// let q = select(grade.label("grade"));
/// assert_eq!(
///     q.compile(&Sqlite)?.sql,
///     r#"SELECT CASE WHEN "score" >= ?1 THEN ?2 WHEN "score" >= ?3 THEN ?4 ELSE ?5 END AS "grade""#
/// );
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
pub fn case<T: SqlType>() -> Case<T> {
    Case { operand: None, whens: Vec::new(), depth: 0, _type: PhantomData }
}

/// A `CASE` expression being built; see [`case`]. `K` is the type of the
/// `WHEN` operands: `bool` conditions, or the operand's type after
/// [`on`](Case::on).
#[derive(Debug, Clone)]
#[must_use]
pub struct Case<T, K = bool> {
    operand: Option<ast::Expr>,
    whens: Vec<(ast::Expr, ast::Expr)>,
    depth: u32,
    _type: PhantomData<fn() -> (T, K)>,
}

impl<T: SqlType> Case<T, bool> {
    /// `CASE operand WHEN value THEN ...`: compare `operand` with each
    /// `WHEN` value instead of testing conditions.
    pub fn on<O: SqlType>(self, operand: impl ExprMethods<O>) -> Case<T, O::Base> {
        let e = operand.into_typed();
        Case { depth: self.depth.max(e.depth()), operand: Some(e.into_node()), whens: self.whens, _type: PhantomData }
    }
}

impl<T: SqlType, K> Case<T, K> {
    /// `WHEN condition THEN result` (after [`on`](Case::on), `condition`
    /// is the value compared with the operand).
    pub fn when(mut self, condition: impl IntoExpr<K>, result: impl IntoExpr<T::Base>) -> Self
    where
        T::Base: SqlType,
    {
        let (c, r) = (condition.into_expr(), result.into_expr().typed_if_value());
        self.depth = self.depth.max(c.depth()).max(r.depth());
        self.whens.push((c.into_node(), r.into_node()));
        self
    }

    /// `ELSE result END`
    pub fn otherwise(self, result: impl IntoExpr<T::Base>) -> Expr<T>
    where
        T::Base: SqlType,
    {
        let r = result.into_expr().typed_if_value();
        let depth = self.depth.max(r.depth());
        Expr::compose(
            ast::Expr::Case {
                operand: self.operand.map(Box::new),
                whens: self.whens,
                else_result: Some(Box::new(r.into_node())),
            },
            depth,
        )
    }

    /// `END` without `ELSE` (NULL when nothing matches).
    pub fn end(self) -> Expr<Option<T>> {
        Expr::compose(
            ast::Expr::Case { operand: self.operand.map(Box::new), whens: self.whens, else_result: None },
            self.depth,
        )
    }
}

/// `COALESCE(first, second)`: the first non-NULL.
pub fn coalesce<T: SqlType>(first: impl ExprMethods<T>, second: impl IntoExpr<T::Base>) -> Expr<T> {
    first.coalesce(second)
}

/// `NULLIF(a, b)`: NULL when equal, else `a`.
pub fn nullif<T: SqlType>(a: impl ExprMethods<T>, b: impl IntoExpr<T::Base>) -> Expr<T> {
    a.nullif(b)
}

/// `GREATEST(a, b)`, ignoring NULLs on every database.
pub fn greatest<T: SqlType>(a: impl ExprMethods<T>, b: impl IntoExpr<T::Base>) -> Expr<T> {
    a.greatest(b)
}

/// `LEAST(a, b)`, ignoring NULLs on every database.
pub fn least<T: SqlType>(a: impl ExprMethods<T>, b: impl IntoExpr<T::Base>) -> Expr<T> {
    a.least(b)
}

/// `lower(s)`
pub fn lower<T: SqlType>(s: impl ExprMethods<T>) -> Expr<T> {
    call(Func::Lower, [arg(s.into_typed())])
}

/// `upper(s)`
pub fn upper<T: SqlType>(s: impl ExprMethods<T>) -> Expr<T> {
    call(Func::Upper, [arg(s.into_typed())])
}

/// The length of `s` in characters.
pub fn length<T: SqlType>(s: impl ExprMethods<T>) -> Expr<i64> {
    call(Func::Length, [arg(s.into_typed())])
}

/// `trim(s)`
pub fn trim<T: SqlType>(s: impl ExprMethods<T>) -> Expr<T> {
    call(Func::Trim, [arg(s.into_typed())])
}

/// The substring of `s` from 1-based `start`, of at most `len` characters.
pub fn substring<T: SqlType>(s: impl ExprMethods<T>, start: i64, len: Option<i64>) -> Expr<T> {
    call(Func::Substring, [arg(s.into_typed()), int_arg(start)].into_iter().chain(len.map(int_arg)))
}

/// An integer argument of a function, typed `INTEGER` so that PostgreSQL
/// picks the right overload (`SUBSTRING`'s regular-expression form takes text).
pub(crate) fn int_arg(n: impl Into<Value>) -> (ast::Expr, u32) {
    (ast::Expr::TypedValue { value: n.into(), ty: ColumnType::Integer }, 1)
}

/// `round(x, digits)` of a number, half away from zero, as a double.
pub fn round<T: SqlType>(x: impl ExprMethods<T>, digits: i32) -> Expr<f64>
where
    T::Base: Numeric,
{
    call(Func::Round, [arg(x.into_typed()), int_arg(digits)])
}

/// `abs(x)`
pub fn abs<T: SqlType>(x: impl ExprMethods<T>) -> Expr<T>
where
    T::Base: Numeric,
{
    call(Func::Abs, [arg(x.into_typed())])
}

/// The current timestamp with time zone.
pub fn now() -> Expr<sql::TimestampTz> {
    call(Func::Now, Vec::new())
}

/// The current date.
pub fn current_date() -> Expr<sql::Date> {
    call(Func::CurrentDate, Vec::new())
}

/// `EXTRACT(field FROM x)` as a whole number.
pub fn extract<T: SqlType>(field: DateField, x: impl ExprMethods<T>) -> Expr<i64>
where
    T::Base: Extractable,
{
    call(Func::Extract { field, on: <T::Base as Extractable>::KIND }, [arg(x.into_typed())])
}

/// A date or timestamp plus `amount` units (minus, when negative). Adding
/// months or years to the 31st clamps to the month's end on PostgreSQL and
/// overflows into the next month on SQLite; add days where that matters.
pub fn date_add<T: SqlType>(x: impl ExprMethods<T>, amount: impl IntoExpr<i64>, unit: IntervalUnit) -> Expr<T>
where
    T::Base: Temporal,
{
    call(Func::DateAdd { unit, on: <T::Base as Temporal>::KIND }, [arg(x.into_typed()), arg(amount.into_expr())])
}

fn typed_text<T>(text: &str, ty: ColumnType) -> Expr<T> {
    Expr::from_node(ast::Expr::TypedValue { value: Value::from(text), ty })
}

fn literal_error(what: &str, text: &str, expected: &str) -> Error {
    Error::new(ErrorKind::Encode, format!("{text:?} is not a valid {what} literal (expected {expected})"))
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn valid_date(s: &str) -> bool {
    let mut parts = s.split('-');
    let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    // SQLite's date functions read only two-digit months and days.
    let two = |s: &str| digits(s).filter(|_| s.len() == 2);
    let (Some(y), Some(m), Some(d)) = (digits(y).filter(|_| y.len() == 4), two(m), two(d)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

fn valid_time(s: &str) -> bool {
    let (hms, frac) = match s.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (s, None),
    };
    if frac.is_some_and(|f| f.is_empty() || f.len() > 6 || digits(f).is_none()) {
        return false;
    }
    let mut parts = hms.split(':');
    let (Some(h), Some(m), Some(sec), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let two = |s: &str| digits(s).filter(|_| s.len() == 2);
    matches!((two(h), two(m), two(sec)), (Some(h), Some(m), Some(s)) if h < 24 && m < 60 && s < 60)
}

/// A checked time of day in the fixed-width form Quarry stores in SQLite,
/// `HH:MM:SS.ffffff`, so that a literal equals the same value bound.
fn canonical_time(text: &str) -> String {
    let (hms, frac) = text.split_once('.').unwrap_or((text, ""));
    format!("{hms}.{frac:0<6}")
}

/// A `DATE` literal from `YYYY-MM-DD` text, checked here so that both
/// databases see the same date.
pub fn date(text: &str) -> Result<Expr<sql::Date>, Error> {
    if valid_date(text) {
        Ok(typed_text(text, ColumnType::Date))
    } else {
        Err(literal_error("date", text, "YYYY-MM-DD"))
    }
}

/// A `TIME` literal from `HH:MM:SS[.ffffff]` text.
pub fn time(text: &str) -> Result<Expr<sql::Time>, Error> {
    if valid_time(text) {
        Ok(typed_text(&canonical_time(text), ColumnType::Time))
    } else {
        Err(literal_error("time", text, "HH:MM:SS[.ffffff]"))
    }
}

fn split_timestamp(text: &str) -> Option<(&str, &str)> {
    let (d, t) = text.split_once(' ').or_else(|| text.split_once('T'))?;
    (valid_date(d) && valid_time(t)).then_some((d, t))
}

/// A `TIMESTAMP` literal from `YYYY-MM-DD HH:MM:SS[.ffffff]` text.
pub fn timestamp(text: &str) -> Result<Expr<sql::Timestamp>, Error> {
    match split_timestamp(text) {
        Some((d, t)) => Ok(typed_text(&format!("{d} {}", canonical_time(t)), ColumnType::Timestamp)),
        None => Err(literal_error("timestamp", text, "YYYY-MM-DD HH:MM:SS[.ffffff]")),
    }
}

/// A `TIMESTAMPTZ` literal from UTC text, `YYYY-MM-DD HH:MM:SS[.ffffff]`
/// optionally followed by `Z` or `+00:00`. Other offsets are refused: SQLite
/// compares timestamps as text, which is only correct in one time zone.
pub fn timestamptz(text: &str) -> Result<Expr<sql::TimestampTz>, Error> {
    let bare = text.strip_suffix('Z').or_else(|| text.strip_suffix("+00:00")).unwrap_or(text);
    match split_timestamp(bare) {
        Some((d, t)) => Ok(typed_text(&format!("{d} {}+00:00", canonical_time(t)), ColumnType::TimestampTz)),
        None => Err(literal_error("UTC timestamp", text, "YYYY-MM-DD HH:MM:SS[.ffffff][Z|+00:00]")),
    }
}

/// A function call being built: an aggregate or window function that may
/// take `DISTINCT`, `FILTER (WHERE ...)` and `OVER (...)`.
#[derive(Debug, Clone)]
#[must_use]
pub struct FunctionExpr<T> {
    call: FunctionCall,
    depth: u32,
    result: Option<ColumnType>,
    _type: PhantomData<fn() -> T>,
}

impl<T> FunctionExpr<T> {
    fn new(func: Func, args: impl IntoIterator<Item = (ast::Expr, u32)>) -> Self {
        let (args, depth) = split_args(args);
        FunctionExpr { call: FunctionCall::new(func, args), depth, result: None, _type: PhantomData }
    }

    fn cast_result(mut self, ty: Option<ColumnType>) -> Self {
        self.result = ty;
        self
    }

    /// `f(DISTINCT x)`
    pub fn distinct(mut self) -> Self {
        self.call.distinct = true;
        self
    }

    /// `f(x) FILTER (WHERE condition)`: aggregate only matching rows.
    pub fn filter(mut self, condition: impl IntoExpr<bool>) -> Self {
        let c = condition.into_expr();
        self.depth = self.depth.max(c.depth());
        self.call.filter = Some(c.into_node());
        self
    }

    /// `f(x) OVER (window)`
    pub fn over(mut self, window: Window) -> Self {
        self.depth = self.depth.max(window.depth);
        self.call.over = Some(window.spec);
        self
    }

    /// As an expression.
    pub fn expr(self) -> Expr<T> {
        let call = Expr::<T>::compose(ast::Expr::Function(Box::new(self.call)), self.depth);
        match self.result {
            Some(ty) => cast_to(call, ty),
            None => call,
        }
    }
}

impl<T: SqlType> ExprMethods<T> for FunctionExpr<T> {
    fn into_typed(self) -> Expr<T> {
        self.expr()
    }
}

impl<T: SqlType, B> IntoExpr<B> for FunctionExpr<T>
where
    T::Base: super::Compatible<B>,
{
    fn into_expr(self) -> Expr<B> {
        self.expr().assume()
    }
}

/// `count(x)`: the number of non-NULL values.
pub fn count<T: SqlType>(x: impl ExprMethods<T>) -> FunctionExpr<i64> {
    FunctionExpr::new(Func::Count, [arg(x.into_typed())])
}

/// `count(DISTINCT x)`
pub fn count_distinct<T: SqlType>(x: impl ExprMethods<T>) -> FunctionExpr<i64> {
    count(x).distinct()
}

/// `count(*)`: the number of rows.
pub fn count_star() -> FunctionExpr<i64> {
    FunctionExpr::new(Func::Count, [(ast::Expr::Wildcard(None), 1)])
}

/// `sum(x)`. Integer sums are cast to `BIGINT`, so that PostgreSQL (whose
/// `sum(bigint)` is `numeric`) and SQLite give the same type.
pub fn sum<T: SqlType>(x: impl ExprMethods<T>) -> FunctionExpr<Option<T::Base>>
where
    T::Base: Numeric + SqlType,
{
    FunctionExpr::new(Func::Sum, [arg(x.into_typed())]).cast_result(<T::Base as Numeric>::sum_cast())
}

/// `avg(x)`. Integer averages are cast to `DOUBLE PRECISION` on every database.
pub fn avg<T: SqlType>(x: impl ExprMethods<T>) -> FunctionExpr<Option<<T::Base as Numeric>::Avg>>
where
    T::Base: Numeric,
{
    FunctionExpr::new(Func::Avg, [arg(x.into_typed())]).cast_result(<T::Base as Numeric>::avg_cast())
}

/// `min(x)`
pub fn min<T: SqlType>(x: impl ExprMethods<T>) -> FunctionExpr<Option<T::Base>>
where
    T::Base: SqlType,
{
    FunctionExpr::new(Func::Min, [arg(x.into_typed())])
}

/// `max(x)`
pub fn max<T: SqlType>(x: impl ExprMethods<T>) -> FunctionExpr<Option<T::Base>>
where
    T::Base: SqlType,
{
    FunctionExpr::new(Func::Max, [arg(x.into_typed())])
}

/// `row_number()`; use with [`FunctionExpr::over`].
pub fn row_number() -> FunctionExpr<i64> {
    FunctionExpr::new(Func::RowNumber, Vec::new())
}

/// `rank()`
pub fn rank() -> FunctionExpr<i64> {
    FunctionExpr::new(Func::Rank, Vec::new())
}

/// `dense_rank()`
pub fn dense_rank() -> FunctionExpr<i64> {
    FunctionExpr::new(Func::DenseRank, Vec::new())
}

/// `percent_rank()`
pub fn percent_rank() -> FunctionExpr<f64> {
    FunctionExpr::new(Func::PercentRank, Vec::new())
}

/// `cume_dist()`
pub fn cume_dist() -> FunctionExpr<f64> {
    FunctionExpr::new(Func::CumeDist, Vec::new())
}

/// `ntile(buckets)`
pub fn ntile(buckets: i32) -> FunctionExpr<i32> {
    FunctionExpr::new(Func::Ntile, [int_arg(buckets)])
}

/// `lag(x, offset)`: the value `offset` rows before, NULL before the first.
pub fn lag<T: SqlType>(x: impl ExprMethods<T>, offset: i32) -> FunctionExpr<Option<T::Base>> {
    FunctionExpr::new(Func::Lag, [arg(x.into_typed()), int_arg(offset)])
}

/// `lead(x, offset)`: the value `offset` rows after, NULL after the last.
pub fn lead<T: SqlType>(x: impl ExprMethods<T>, offset: i32) -> FunctionExpr<Option<T::Base>> {
    FunctionExpr::new(Func::Lead, [arg(x.into_typed()), int_arg(offset)])
}

/// `first_value(x)`
pub fn first_value<T: SqlType>(x: impl ExprMethods<T>) -> FunctionExpr<T> {
    FunctionExpr::new(Func::FirstValue, [arg(x.into_typed())])
}

/// `last_value(x)`
pub fn last_value<T: SqlType>(x: impl ExprMethods<T>) -> FunctionExpr<T> {
    FunctionExpr::new(Func::LastValue, [arg(x.into_typed())])
}

/// `nth_value(x, n)`
pub fn nth_value<T: SqlType>(x: impl ExprMethods<T>, n: i32) -> FunctionExpr<Option<T::Base>> {
    FunctionExpr::new(Func::NthValue, [arg(x.into_typed()), int_arg(n)])
}

/// A call of any function by name, untyped. The name must be a plain SQL
/// name (letters, digits, `_`, dots); it is checked when compiled.
pub fn func(name: impl Into<Ident>, args: impl IntoIterator<Item = Expr<Any>>) -> FunctionExpr<Any> {
    FunctionExpr::new(Func::Named(name.into()), args.into_iter().map(arg))
}

/// A window: `OVER (PARTITION BY ... ORDER BY ... frame)`.
///
/// ```
/// use quarry_core::prelude::*;
/// use quarry_core::ast::FrameBound;
/// let running = sum(col("amount").assume::<i64>())
///     .over(Window::new().partition_by(col("account")).order_by(col("at")).rows_between(FrameBound::UnboundedPreceding, FrameBound::CurrentRow));
/// let q = select(running.label("balance")).from_raw(raw("ledger"));
/// assert_eq!(
///     q.compile(&Postgres)?.sql,
///     r#"SELECT CAST(sum("amount") OVER (PARTITION BY "account" ORDER BY "at" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS "balance" FROM ledger"#
/// );
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Window {
    spec: WindowSpec,
    depth: u32,
}

impl Window {
    /// An empty window: `OVER ()`.
    pub fn new() -> Self {
        Window::default()
    }

    /// Add a `PARTITION BY` expression.
    pub fn partition_by<T: SqlType>(mut self, e: impl ExprMethods<T>) -> Self {
        let e = e.into_typed();
        self.depth = self.depth.max(e.depth());
        self.spec.partition_by.push(e.into_node());
        self
    }

    /// Add an `ORDER BY` item.
    pub fn order_by(mut self, item: impl super::methods::IntoOrderBy) -> Self {
        let OrderBy { item, depth } = item.into_order_by();
        self.depth = self.depth.max(depth);
        self.spec.order_by.push(item);
        self
    }

    /// `ROWS BETWEEN start AND end`
    pub fn rows_between(self, start: FrameBound, end: FrameBound) -> Self {
        self.frame(FrameUnits::Rows, start, end)
    }

    /// `RANGE BETWEEN start AND end`
    pub fn range_between(self, start: FrameBound, end: FrameBound) -> Self {
        self.frame(FrameUnits::Range, start, end)
    }

    /// `GROUPS BETWEEN start AND end`
    pub fn groups_between(self, start: FrameBound, end: FrameBound) -> Self {
        self.frame(FrameUnits::Groups, start, end)
    }

    fn frame(mut self, units: FrameUnits, start: FrameBound, end: FrameBound) -> Self {
        self.spec.frame = Some(WindowFrame { units, start, end: Some(end) });
        self
    }
}

impl FrameBound {
    /// `n PRECEDING`
    pub fn preceding(n: i64) -> Self {
        FrameBound::Preceding(Box::new(ast::Expr::Value(Value::I64(n))))
    }

    /// `n FOLLOWING`
    pub fn following(n: i64) -> Self {
        FrameBound::Following(Box::new(ast::Expr::Value(Value::I64(n))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_checks() {
        assert!(valid_date("2024-02-29"));
        assert!(!valid_date("2023-02-29"));
        assert!(!valid_date("2024-1-1x"));
        assert!(valid_time("23:59:59.999999"));
        assert!(!valid_time("24:00:00"));
        assert!(timestamp("2024-01-01T10:00:00").is_ok());
        assert!(timestamptz("2024-01-01 10:00:00+02:00").is_err());
        assert!(date("'; DROP TABLE x; --").is_err());
    }
}
