//! Rust operators on typed expressions: `+ - * / %` and unary `-` for
//! numbers, `& | !` for booleans.

use std::ops;

use super::methods::binary;
use super::types::{Numeric, SqlType};
use super::{Column, Expr, IntoExpr};
use crate::ast::{self, BinaryOp, UnaryOp};

macro_rules! arithmetic {
    ($($trait:ident $method:ident $op:ident),* $(,)?) => {$(
        impl<T: SqlType, R: IntoExpr<T::Base>> ops::$trait<R> for Expr<T>
        where
            T::Base: Numeric,
        {
            type Output = Expr<T>;
            fn $method(self, rhs: R) -> Expr<T> {
                binary(self, BinaryOp::$op, rhs.into_expr())
            }
        }

        impl<T: SqlType, R: IntoExpr<T::Base>> ops::$trait<R> for Column<T>
        where
            T::Base: Numeric,
        {
            type Output = Expr<T>;
            fn $method(self, rhs: R) -> Expr<T> {
                binary(self.expr(), BinaryOp::$op, rhs.into_expr())
            }
        }
    )*};
}

arithmetic! {
    Add add Add,
    Sub sub Sub,
    Mul mul Mul,
    Div div Div,
    Rem rem Mod,
}

fn negate<T>(e: Expr<T>) -> Expr<T> {
    let d = e.depth();
    Expr::compose(ast::Expr::Unary { op: UnaryOp::Neg, expr: Box::new(e.into_node()) }, d)
}

impl<T: SqlType> ops::Neg for Expr<T>
where
    T::Base: Numeric,
{
    type Output = Expr<T>;
    fn neg(self) -> Expr<T> {
        negate(self)
    }
}

impl<T: SqlType> ops::Neg for Column<T>
where
    T::Base: Numeric,
{
    type Output = Expr<T>;
    fn neg(self) -> Expr<T> {
        negate(self.expr())
    }
}

impl<T: SqlType<Base = bool>> ops::Not for Expr<T> {
    type Output = Expr<bool>;
    fn not(self) -> Expr<bool> {
        super::functions::not_(self.assume::<bool>())
    }
}

impl<T: SqlType<Base = bool>> ops::Not for Column<T> {
    type Output = Expr<bool>;
    fn not(self) -> Expr<bool> {
        super::functions::not_(self.expr().assume::<bool>())
    }
}

impl<T: SqlType<Base = bool>, R: IntoExpr<bool>> ops::BitAnd<R> for Expr<T> {
    type Output = Expr<bool>;
    fn bitand(self, rhs: R) -> Expr<bool> {
        super::functions::logical(ast::LogicalOp::And, self.assume(), rhs.into_expr())
    }
}

impl<T: SqlType<Base = bool>, R: IntoExpr<bool>> ops::BitOr<R> for Expr<T> {
    type Output = Expr<bool>;
    fn bitor(self, rhs: R) -> Expr<bool> {
        super::functions::logical(ast::LogicalOp::Or, self.assume(), rhs.into_expr())
    }
}
