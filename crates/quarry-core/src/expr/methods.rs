//! The methods every typed expression has (`eq`, `in_`, `is_null`, ...),
//! and those of text and boolean expressions.

use std::sync::Arc;

use super::types::{Any, SqlType};
use super::{Column, Expr, IntoExpr};
use crate::ast::{self, BinaryOp, Func, FunctionCall, NullsOrder, OrderByExpr, SortDirection};
use crate::ident::Ident;
use crate::schema::ColumnType;
use crate::statement::IntoQuery;
use crate::value::Value;

use super::HasColumnType;

pub(crate) fn binary<T, U, V>(left: Expr<T>, op: BinaryOp, right: Expr<U>) -> Expr<V> {
    let depth = left.depth().max(right.depth());
    Expr::compose(ast::Expr::Binary { op, operands: Box::new([left.into_node(), right.into_node()]) }, depth)
}

pub(crate) fn call<T>(func: Func, args: impl IntoIterator<Item = (ast::Expr, u32)>) -> Expr<T> {
    let (args, depth) = split_args(args);
    Expr::compose(ast::Expr::Function(Box::new(FunctionCall::new(func, args))), depth)
}

/// A call's arguments and the deepest of their depths, in one allocation
/// of the arguments' exact number (collecting the pairs' `Vec` in place
/// would shrink it with a `realloc`).
pub(crate) fn split_args(args: impl IntoIterator<Item = (ast::Expr, u32)>) -> (Vec<ast::Expr>, u32) {
    let args = args.into_iter();
    let (low, high) = args.size_hint();
    let mut out = Vec::with_capacity(high.unwrap_or(low));
    let mut depth = 0;
    for (e, d) in args {
        depth = depth.max(d);
        out.push(e);
    }
    (out, depth)
}

pub(crate) fn arg<T>(e: Expr<T>) -> (ast::Expr, u32) {
    let d = e.depth();
    (e.into_node(), d)
}

/// Append `next` to a variadic call of `func` (`COALESCE(a, b)` then `c`
/// gives `COALESCE(a, b, c)`), or start one.
fn variadic<T: SqlType>(func: Func, first: Expr<T>, next: Expr<T>) -> Expr<T> {
    // Bare values get the type: `COALESCE($1, $2)` alone tells PostgreSQL nothing.
    let (first, next) = (first.typed_if_value(), next.typed_if_value());
    let (fd, nd) = (first.depth(), next.depth());
    match first.into_node() {
        ast::Expr::Function(mut call)
            if call.func == func && !call.distinct && call.filter.is_none() && call.over.is_none() =>
        {
            // The call's arguments are one level below it.
            call.args.push(next.into_node());
            Expr::compose(ast::Expr::Function(call), fd.saturating_sub(1).max(nd))
        }
        node => Expr::compose(
            ast::Expr::Function(Box::new(FunctionCall::new(func, vec![node, next.into_node()]))),
            fd.max(nd),
        ),
    }
}

/// The methods of every typed expression: comparisons, null tests,
/// membership, ordering and labels.
///
/// Implemented by [`Expr<T>`], [`Column<T>`] and the aggregate builder
/// [`FunctionExpr<T>`](super::FunctionExpr). Every method takes `self`;
/// columns are `Copy`, expressions can be cloned.
#[allow(clippy::wrong_self_convention)] // `is_null` builds SQL, as in SQLAlchemy and diesel
pub trait ExprMethods<T: SqlType>: Sized {
    /// Convert into a typed expression.
    fn into_typed(self) -> Expr<T>;

    /// `self = rhs`
    fn eq(self, rhs: impl IntoExpr<T::Base>) -> Expr<bool> {
        binary(self.into_typed(), BinaryOp::Eq, rhs.into_expr())
    }

    /// `self <> rhs`
    fn ne(self, rhs: impl IntoExpr<T::Base>) -> Expr<bool> {
        binary(self.into_typed(), BinaryOp::NotEq, rhs.into_expr())
    }

    /// `self < rhs`
    fn lt(self, rhs: impl IntoExpr<T::Base>) -> Expr<bool> {
        binary(self.into_typed(), BinaryOp::Lt, rhs.into_expr())
    }

    /// `self <= rhs`
    fn le(self, rhs: impl IntoExpr<T::Base>) -> Expr<bool> {
        binary(self.into_typed(), BinaryOp::LtEq, rhs.into_expr())
    }

    /// `self > rhs`
    fn gt(self, rhs: impl IntoExpr<T::Base>) -> Expr<bool> {
        binary(self.into_typed(), BinaryOp::Gt, rhs.into_expr())
    }

    /// `self >= rhs`
    fn ge(self, rhs: impl IntoExpr<T::Base>) -> Expr<bool> {
        binary(self.into_typed(), BinaryOp::GtEq, rhs.into_expr())
    }

    /// `self IS NULL`
    fn is_null(self) -> Expr<bool> {
        let e = self.into_typed();
        let d = e.depth();
        Expr::compose(ast::Expr::IsNull { expr: Box::new(e.into_node()), negated: false }, d)
    }

    /// `self IS NOT NULL`
    fn is_not_null(self) -> Expr<bool> {
        let e = self.into_typed();
        let d = e.depth();
        Expr::compose(ast::Expr::IsNull { expr: Box::new(e.into_node()), negated: true }, d)
    }

    /// `self IS DISTINCT FROM rhs`: `<>` where NULL equals NULL.
    fn is_distinct_from(self, rhs: impl IntoExpr<T::Base>) -> Expr<bool> {
        distinct_from(self.into_typed(), rhs.into_expr(), false)
    }

    /// `self IS NOT DISTINCT FROM rhs`: `=` where NULL equals NULL.
    fn is_not_distinct_from(self, rhs: impl IntoExpr<T::Base>) -> Expr<bool> {
        distinct_from(self.into_typed(), rhs.into_expr(), true)
    }

    /// `self IN (values)`: on PostgreSQL one array parameter (`= ANY($1)`),
    /// so lists of any length share a prepared statement; on SQLite one
    /// parameter per value. An empty list matches nothing.
    fn in_<V>(self, values: impl IntoIterator<Item = V>) -> Expr<bool>
    where
        V: IntoExpr<T::Base> + Into<Value>,
    {
        in_values(self.into_typed(), values, false)
    }

    /// `self NOT IN (values)`; an empty list matches everything.
    fn not_in<V>(self, values: impl IntoIterator<Item = V>) -> Expr<bool>
    where
        V: IntoExpr<T::Base> + Into<Value>,
    {
        in_values(self.into_typed(), values, true)
    }

    /// `self IN (a, b, ...)` over expressions.
    fn in_exprs<E: IntoExpr<T::Base>>(self, list: impl IntoIterator<Item = E>) -> Expr<bool> {
        let e = self.into_typed();
        let mut depth = e.depth();
        let list = list
            .into_iter()
            .map(|item| {
                let item = item.into_expr();
                depth = depth.max(item.depth());
                item.into_node()
            })
            .collect();
        Expr::compose(ast::Expr::InList { expr: Box::new(e.into_node()), list, negated: false }, depth)
    }

    /// `self IN (SELECT ...)`
    fn in_subquery(self, query: impl IntoQuery) -> Expr<bool> {
        in_subquery(self.into_typed(), query, false)
    }

    /// `self NOT IN (SELECT ...)`
    fn not_in_subquery(self, query: impl IntoQuery) -> Expr<bool> {
        in_subquery(self.into_typed(), query, true)
    }

    /// `self BETWEEN low AND high`
    fn between(self, low: impl IntoExpr<T::Base>, high: impl IntoExpr<T::Base>) -> Expr<bool> {
        between(self.into_typed(), low.into_expr(), high.into_expr(), false)
    }

    /// `self NOT BETWEEN low AND high`
    fn not_between(self, low: impl IntoExpr<T::Base>, high: impl IntoExpr<T::Base>) -> Expr<bool> {
        between(self.into_typed(), low.into_expr(), high.into_expr(), true)
    }

    /// `CAST(self AS type)`, typed as `U`.
    fn cast<U: HasColumnType>(self) -> Expr<U> {
        cast_to(self.into_typed(), U::column_type())
    }

    /// `COALESCE(self, other)`; chained calls add arguments.
    fn coalesce(self, other: impl IntoExpr<T::Base>) -> Expr<T> {
        variadic(Func::Coalesce, self.into_typed(), other.into_expr().assume())
    }

    /// `NULLIF(self, other)`
    fn nullif(self, other: impl IntoExpr<T::Base>) -> Expr<T> {
        let other: Expr<T> = other.into_expr().assume();
        let (a, b) = (arg(self.into_typed().typed_if_value()), arg(other.typed_if_value()));
        call(Func::NullIf, [a, b])
    }

    /// `GREATEST(self, other)`, ignoring NULLs; chained calls add arguments.
    fn greatest(self, other: impl IntoExpr<T::Base>) -> Expr<T> {
        variadic(Func::Greatest, self.into_typed(), other.into_expr().assume())
    }

    /// `LEAST(self, other)`, ignoring NULLs; chained calls add arguments.
    fn least(self, other: impl IntoExpr<T::Base>) -> Expr<T> {
        variadic(Func::Least, self.into_typed(), other.into_expr().assume())
    }

    /// `self ASC`
    fn asc(self) -> OrderBy {
        OrderBy::new(self.into_typed(), Some(SortDirection::Asc))
    }

    /// `self DESC`
    fn desc(self) -> OrderBy {
        OrderBy::new(self.into_typed(), Some(SortDirection::Desc))
    }

    /// `self AS "name"` in a select list.
    fn label(self, name: impl Into<Ident>) -> Labeled<T> {
        Labeled { expr: self.into_typed(), alias: name.into() }
    }
}

impl<T: SqlType> ExprMethods<T> for Expr<T> {
    fn into_typed(self) -> Expr<T> {
        self
    }
}

impl<T: SqlType> ExprMethods<T> for Column<T> {
    fn into_typed(self) -> Expr<T> {
        self.expr()
    }
}

fn distinct_from<T, U>(left: Expr<T>, right: Expr<U>, negated: bool) -> Expr<bool> {
    let depth = left.depth().max(right.depth());
    Expr::compose(
        ast::Expr::IsDistinctFrom { left: Box::new(left.into_node()), right: Box::new(right.into_node()), negated },
        depth,
    )
}

fn in_values<T, V: Into<Value>>(e: Expr<T>, values: impl IntoIterator<Item = V>, negated: bool) -> Expr<bool> {
    let d = e.depth();
    let values: Arc<[Value]> = values.into_iter().map(Into::into).collect();
    Expr::compose(ast::Expr::InValues { expr: Box::new(e.into_node()), values, negated }, d)
}

fn in_subquery<T>(e: Expr<T>, query: impl IntoQuery, negated: bool) -> Expr<bool> {
    let (query, qd) = query.into_query_with_depth();
    let depth = e.depth().max(qd);
    Expr::compose(ast::Expr::InSubquery { expr: Box::new(e.into_node()), query: Box::new(query), negated }, depth)
}

fn between<T, U, V>(e: Expr<T>, low: Expr<U>, high: Expr<V>, negated: bool) -> Expr<bool> {
    let depth = e.depth().max(low.depth()).max(high.depth());
    Expr::compose(
        ast::Expr::Between {
            expr: Box::new(e.into_node()),
            low: Box::new(low.into_node()),
            high: Box::new(high.into_node()),
            negated,
        },
        depth,
    )
}

pub(crate) fn cast_to<T, U>(e: Expr<T>, ty: ColumnType) -> Expr<U> {
    let d = e.depth();
    Expr::compose(ast::Expr::Cast { expr: Box::new(e.into_node()), ty }, d)
}

/// An expression with a name in a select list: `expr AS "name"`.
#[derive(Debug, Clone)]
pub struct Labeled<T> {
    pub(crate) expr: Expr<T>,
    pub(crate) alias: Ident,
}

impl<T> Labeled<T> {
    /// The label.
    pub fn name(&self) -> &Ident {
        &self.alias
    }
}

/// An `ORDER BY` item: `expr [ASC|DESC] [NULLS FIRST|LAST]`.
#[derive(Debug, Clone)]
#[must_use]
pub struct OrderBy {
    pub(crate) item: OrderByExpr,
    pub(crate) depth: u32,
}

impl OrderBy {
    fn new<T>(e: Expr<T>, direction: Option<SortDirection>) -> Self {
        let depth = e.depth();
        OrderBy { item: OrderByExpr { expr: e.into_node(), direction, nulls: None }, depth }
    }

    /// `NULLS FIRST`
    pub fn nulls_first(mut self) -> Self {
        self.item.nulls = Some(NullsOrder::First);
        self
    }

    /// `NULLS LAST`
    pub fn nulls_last(mut self) -> Self {
        self.item.nulls = Some(NullsOrder::Last);
        self
    }

    /// The plain `ORDER BY` item.
    pub fn into_node(self) -> OrderByExpr {
        self.item
    }
}

/// Things usable as `ORDER BY` items: an [`OrderBy`], or any expression
/// (ascending by the database's default).
pub trait IntoOrderBy {
    /// Convert into an `ORDER BY` item.
    fn into_order_by(self) -> OrderBy;
}

impl IntoOrderBy for OrderBy {
    fn into_order_by(self) -> OrderBy {
        self
    }
}

impl<T: SqlType> IntoOrderBy for Expr<T> {
    fn into_order_by(self) -> OrderBy {
        OrderBy::new(self, None)
    }
}

impl<T: SqlType> IntoOrderBy for Column<T> {
    fn into_order_by(self) -> OrderBy {
        OrderBy::new(self.expr(), None)
    }
}

/// Escape `%`, `_` and `\` in `text` so that it matches literally inside a
/// `LIKE` pattern written with `ESCAPE '\'`.
///
/// ```
/// assert_eq!(quarry_core::expr::like_escape("100%_\\"), "100\\%\\_\\\\");
/// ```
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Base types that text methods apply to.
pub trait TextLike {}
impl TextLike for String {}
impl TextLike for Any {}

fn like<T, U>(e: Expr<T>, pattern: Expr<U>, escape: Option<char>, case_insensitive: bool, negated: bool) -> Expr<bool> {
    let depth = e.depth().max(pattern.depth());
    Expr::compose(
        ast::Expr::Like { operands: Box::new([e.into_node(), pattern.into_node()]), escape, case_insensitive, negated },
        depth,
    )
}

fn literal_pattern(prefix: &str, text: &str, suffix: &str) -> Expr<String> {
    Expr::from_node(ast::Expr::Value(Value::from(format!("{prefix}{}{suffix}", like_escape(text)))))
}

/// Methods of text expressions: pattern matching and string functions.
pub trait TextExprMethods<T: SqlType>: ExprMethods<T>
where
    T::Base: TextLike,
{
    /// `self LIKE pattern` (case-sensitive on both databases: Quarry's
    /// SQLite connections turn `case_sensitive_like` on).
    fn like(self, pattern: impl IntoExpr<String>) -> Expr<bool> {
        like(self.into_typed(), pattern.into_expr(), None, false, false)
    }

    /// `self NOT LIKE pattern`
    fn not_like(self, pattern: impl IntoExpr<String>) -> Expr<bool> {
        like(self.into_typed(), pattern.into_expr(), None, false, true)
    }

    /// `self ILIKE pattern`; on SQLite `lower(self) LIKE lower(pattern)`,
    /// which folds ASCII letters only.
    fn ilike(self, pattern: impl IntoExpr<String>) -> Expr<bool> {
        like(self.into_typed(), pattern.into_expr(), None, true, false)
    }

    /// `self NOT ILIKE pattern`
    fn not_ilike(self, pattern: impl IntoExpr<String>) -> Expr<bool> {
        like(self.into_typed(), pattern.into_expr(), None, true, true)
    }

    /// `self LIKE '%text%' ESCAPE '\'`, with `%`, `_` and `\` in `text` matching literally.
    fn contains(self, text: &str) -> Expr<bool> {
        like(self.into_typed(), literal_pattern("%", text, "%"), Some('\\'), false, false)
    }

    /// `self LIKE 'text%' ESCAPE '\'`, with `text` matching literally.
    fn starts_with(self, text: &str) -> Expr<bool> {
        like(self.into_typed(), literal_pattern("", text, "%"), Some('\\'), false, false)
    }

    /// `self LIKE '%text' ESCAPE '\'`, with `text` matching literally.
    fn ends_with(self, text: &str) -> Expr<bool> {
        like(self.into_typed(), literal_pattern("%", text, ""), Some('\\'), false, false)
    }

    /// Case-insensitive [`contains`](Self::contains).
    fn icontains(self, text: &str) -> Expr<bool> {
        like(self.into_typed(), literal_pattern("%", text, "%"), Some('\\'), true, false)
    }

    /// `self || other`
    fn concat(self, other: impl IntoExpr<String>) -> Expr<T> {
        binary(self.into_typed(), BinaryOp::Concat, other.into_expr())
    }

    /// `lower(self)`
    fn lower(self) -> Expr<T> {
        call(Func::Lower, [arg(self.into_typed())])
    }

    /// `upper(self)`
    fn upper(self) -> Expr<T> {
        call(Func::Upper, [arg(self.into_typed())])
    }

    /// The length in characters.
    fn length(self) -> Expr<i64> {
        call(Func::Length, [arg(self.into_typed())])
    }

    /// `trim(self)`: spaces removed from both ends.
    fn trim(self) -> Expr<T> {
        call(Func::Trim, [arg(self.into_typed())])
    }

    /// The substring from 1-based character position `start`, of at most
    /// `len` characters. A `start` below 1 is a compile error (the two
    /// databases disagree on what it means).
    fn substring(self, start: i64, len: Option<i64>) -> Expr<T> {
        super::functions::substring(self, start, len)
    }

    /// `replace(self, from, to)`
    fn replace(self, from: impl IntoExpr<String>, to: impl IntoExpr<String>) -> Expr<T> {
        call(Func::Replace, [arg(self.into_typed()), arg(from.into_expr()), arg(to.into_expr())])
    }
}

impl<T: SqlType, E: ExprMethods<T>> TextExprMethods<T> for E where T::Base: TextLike {}

/// Base types that boolean methods apply to.
pub trait BoolLike {}
impl BoolLike for bool {}
impl BoolLike for Any {}

/// Methods of boolean expressions (also available as `&`, `|` and `!`).
pub trait BoolExprMethods<T: SqlType>: ExprMethods<T>
where
    T::Base: BoolLike,
{
    /// `self AND other` (flattened into one `AND` list).
    fn and(self, other: impl IntoExpr<bool>) -> Expr<bool> {
        super::functions::logical(ast::LogicalOp::And, self.into_typed().assume(), other.into_expr())
    }

    /// `self OR other` (flattened into one `OR` list).
    fn or(self, other: impl IntoExpr<bool>) -> Expr<bool> {
        super::functions::logical(ast::LogicalOp::Or, self.into_typed().assume(), other.into_expr())
    }

    /// `NOT self`
    fn not(self) -> Expr<bool> {
        super::functions::not_(self.into_typed().assume::<bool>())
    }
}

impl<T: SqlType, E: ExprMethods<T>> BoolExprMethods<T> for E where T::Base: BoolLike {}
