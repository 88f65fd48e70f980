//! Typed expressions: [`Expr<T>`] and [`Column<T>`] carry the Rust type of
//! their value, so that comparing an integer column with a string does not
//! compile. They are thin wrappers over the plain [`ast::Expr`] tree, which
//! the compiler walks without ever seeing the types.
//!
//! ```compile_fail
//! use quarry_core::prelude::*;
//! quarry_core::table! {
//!     pub struct Users("users") { id: i64, name: String }
//! }
//! let users = Users::table();
//! // error: `&str` cannot be compared with an expression of type `i64`
//! let _ = users.id.eq("x");
//! ```
//!
//! ```
//! use quarry_core::prelude::*;
//! quarry_core::table! {
//!     pub struct Users("users") { id: i64, name: String }
//! }
//! let users = Users::table();
//! let _ = users.id.eq(5);
//! let _ = users.name.eq("x");
//! ```

use std::fmt;
use std::marker::PhantomData;

use crate::ast;
use crate::value::Value;

mod column;
mod functions;
mod methods;
mod ops;
mod types;

pub use column::{Column, ColumnValue};
pub use functions::{
    Case, FunctionExpr, Raw, Window, abs, and_, avg, case, cast, coalesce, col, count, count_distinct, count_star,
    cume_dist, current_date, date, date_add, dense_rank, exists, extract, first_value, func, greatest, lag, last_value,
    lead, least, length, lit, lower, max, min, not_, not_exists, now, nth_value, ntile, null, nullif, or_, param,
    percent_rank, rank, raw, raw_dynamic_unchecked, round, row_number, substring, sum, time, timestamp, timestamptz,
    trim, upper, value,
};
pub use methods::{
    BoolExprMethods, BoolLike, ExprMethods, IntoOrderBy, Labeled, OrderBy, TextExprMethods, TextLike, like_escape,
};
pub use types::{Any, Compatible, Extractable, HasColumnType, IntoExpr, IntoLiteral, Numeric, SqlType, Temporal, sql};

/// How deep an expression tree may nest. Building a deeper expression
/// through the typed API yields a node that fails to compile with
/// [`CompileError::TooDeep`](crate::CompileError) instead of growing the tree,
/// so cloning, comparing, formatting and dropping stay within a small stack.
/// SQLite's own limit is 1000.
pub const MAX_DEPTH: u32 = 512;

/// A typed SQL expression whose value is of Rust type `T`.
///
/// Build them from columns, values and functions; combine them with the
/// methods of [`ExprMethods`] (`eq`, `lt`, `is_null`, `in_`, ...), the
/// operators `+ - * / %` (numbers), `& | !` (booleans), and the functions of
/// this module.
pub struct Expr<T> {
    node: ast::Expr,
    depth: u32,
    _type: PhantomData<fn() -> T>,
}

impl<T> Expr<T> {
    /// Wrap a leaf node (a column, value or raw fragment).
    pub fn from_node(node: ast::Expr) -> Self {
        Expr { node, depth: 1, _type: PhantomData }
    }

    /// Wrap a node whose children are at most `child_depth` deep; a node that
    /// would exceed [`MAX_DEPTH`] is replaced by [`ast::Expr::TooDeep`].
    pub(crate) fn compose(node: ast::Expr, child_depth: u32) -> Self {
        let depth = child_depth.saturating_add(1);
        if depth > MAX_DEPTH {
            // The children are dropped here, while they are still within the
            // limit, so the drop's recursion is bounded too.
            drop(node);
            Expr { node: ast::Expr::TooDeep, depth: 1, _type: PhantomData }
        } else {
            Expr { node, depth, _type: PhantomData }
        }
    }

    /// The plain tree.
    pub fn node(&self) -> &ast::Expr {
        &self.node
    }

    /// Unwrap into the plain tree.
    pub fn into_node(self) -> ast::Expr {
        self.node
    }

    /// How deep this expression nests (a column or value is 1).
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Forget the type: an [`Expr<Any>`] compares with anything.
    pub fn untyped(self) -> Expr<Any> {
        Expr { node: self.node, depth: self.depth, _type: PhantomData }
    }

    /// Assert a type for this expression (for raw fragments and untyped
    /// columns whose type the programmer knows).
    pub fn assume<U>(self) -> Expr<U> {
        Expr { node: self.node, depth: self.depth, _type: PhantomData }
    }

    /// A bound value of this expression's type.
    pub fn value(value: impl Into<Value>) -> Self {
        Expr::from_node(ast::Expr::Value(value.into()))
    }
}

impl<T: SqlType> Expr<T> {
    /// A bare bound value gets `T`'s SQL type (`CAST($1 AS BIGINT)` on
    /// PostgreSQL), for places where the server has nothing to infer a
    /// parameter's type from: `CASE` results, `COALESCE` arguments.
    pub(crate) fn typed_if_value(self) -> Self {
        match (self.node, T::column_type_hint()) {
            (ast::Expr::Value(value), Some(ty)) => Expr::from_node(ast::Expr::TypedValue { value, ty }),
            (ast::Expr::Param { name, ty: None }, Some(ty)) => Expr::from_node(ast::Expr::Param { name, ty: Some(ty) }),
            (node, _) => Expr { node, depth: self.depth, _type: PhantomData },
        }
    }
}

impl<T> Clone for Expr<T> {
    fn clone(&self) -> Self {
        Expr { node: self.node.clone(), depth: self.depth, _type: PhantomData }
    }
}

impl<T> fmt::Debug for Expr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Expr").field(&self.node).finish()
    }
}

impl<T> From<Expr<T>> for ast::Expr {
    fn from(e: Expr<T>) -> Self {
        e.node
    }
}
