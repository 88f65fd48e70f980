//! Typed statement builders: [`select`], [`insert_into`], [`update`],
//! [`delete_from`], [`text`] and the DDL builders. Each builds the plain
//! [`ast`] tree and compiles through [`Compile`](crate::Compile).

use crate::ast::{self, SelectItem, TableRef};
use crate::expr::{Column, Expr, FunctionExpr, Labeled, Raw, SqlType};
use crate::ident::Ident;
use crate::schema::TableSource;

mod ddl;
mod delete;
mod insert;
mod prepared;
mod select;
mod text;
mod update;

pub use ddl::{
    CreateIndex, CreateTable, DropIndex, DropTable, create_all, create_index, create_table, drop_all, drop_index,
    drop_table, sort_by_foreign_keys,
};
pub use delete::{Delete, delete_from};
pub use insert::{ColumnTuple, Insert, IntoAssignments, OnConflictBuilder, RowOf, insert_into};
pub use prepared::{Bound, Prepared};
pub use select::{Compound, Cte, NamedTable, Select, Subquery, select, table_named};
pub use text::{Text, text, text_dynamic_unchecked};
pub use update::{Update, update};

/// A complete query usable as a subquery, CTE body or set operand:
/// [`Select`] and [`Compound`].
pub trait IntoQuery {
    /// The plain query and how deep it nests.
    fn into_query_with_depth(self) -> (ast::Query, u32);

    /// The plain query.
    fn into_query(self) -> ast::Query
    where
        Self: Sized,
    {
        self.into_query_with_depth().0
    }

    /// As an operand of a set operation: the bare body when the query has
    /// no clauses of its own, else the whole query.
    fn into_set_operand(self) -> (ast::SetExpr, u32)
    where
        Self: Sized,
    {
        let (q, depth) = self.into_query_with_depth();
        if q.has_tail() { (ast::SetExpr::Query(Box::new(q)), depth) } else { (q.body, depth) }
    }
}

/// Things that can go in a select list or `RETURNING` clause: columns,
/// expressions, labelled expressions, whole tables (every column), and
/// tuples, arrays and `Vec`s of these.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be selected",
    note = "select columns, expressions, `expr.label(\"name\")`, a table, or a tuple of these"
)]
pub trait IntoSelectItems {
    /// Append the items to `out`, raising `depth` to the deepest.
    fn push_items(self, out: &mut Vec<SelectItem>, depth: &mut u32);
}

/// A bare bound value in a select list gets its type (`CAST($1 AS BIGINT)`
/// on PostgreSQL), which the server could not infer there.
impl<T: SqlType> IntoSelectItems for Expr<T> {
    fn push_items(self, out: &mut Vec<SelectItem>, depth: &mut u32) {
        *depth = (*depth).max(self.depth());
        out.push(SelectItem::new(self.typed_if_value().into_node()));
    }
}

/// A column is never a bare value: it goes in as it is.
impl<T: SqlType> IntoSelectItems for Column<T> {
    fn push_items(self, out: &mut Vec<SelectItem>, depth: &mut u32) {
        *depth = (*depth).max(1);
        out.push(SelectItem::new(self.node()));
    }
}

impl<T: SqlType> IntoSelectItems for FunctionExpr<T> {
    fn push_items(self, out: &mut Vec<SelectItem>, depth: &mut u32) {
        self.expr().push_items(out, depth);
    }
}

impl<T: SqlType> IntoSelectItems for Raw<T> {
    fn push_items(self, out: &mut Vec<SelectItem>, depth: &mut u32) {
        self.expr().push_items(out, depth);
    }
}

impl<T: SqlType> IntoSelectItems for Labeled<T> {
    fn push_items(self, out: &mut Vec<SelectItem>, depth: &mut u32) {
        *depth = (*depth).max(self.expr.depth());
        out.push(SelectItem { expr: self.expr.typed_if_value().into_node(), alias: Some(self.alias) });
    }
}

impl IntoSelectItems for SelectItem {
    fn push_items(self, out: &mut Vec<SelectItem>, _depth: &mut u32) {
        out.push(self);
    }
}

/// A table selects all its columns, in declaration order.
impl<S: TableSource> IntoSelectItems for S {
    fn push_items(self, out: &mut Vec<SelectItem>, depth: &mut u32) {
        let qualifier = self.qualifier();
        *depth = (*depth).max(1);
        out.extend(self.def().columns.iter().map(|c| {
            SelectItem::new(ast::Expr::Column(ast::ColumnRef { table: Some(qualifier.clone()), name: c.name.clone() }))
        }));
    }
}

impl<I: IntoSelectItems> IntoSelectItems for Vec<I> {
    fn push_items(self, out: &mut Vec<SelectItem>, depth: &mut u32) {
        for item in self {
            item.push_items(out, depth);
        }
    }
}

impl<I: IntoSelectItems, const N: usize> IntoSelectItems for [I; N] {
    fn push_items(self, out: &mut Vec<SelectItem>, depth: &mut u32) {
        for item in self {
            item.push_items(out, depth);
        }
    }
}

/// Things usable as a list of expressions (`GROUP BY`, `DISTINCT ON`,
/// `PARTITION BY`): expressions, columns, and tuples, arrays and `Vec`s of them.
pub trait IntoExprs {
    /// Append the expressions to `out`, raising `depth` to the deepest.
    fn push_exprs(self, out: &mut Vec<ast::Expr>, depth: &mut u32);
}

impl<T: SqlType> IntoExprs for Expr<T> {
    fn push_exprs(self, out: &mut Vec<ast::Expr>, depth: &mut u32) {
        *depth = (*depth).max(self.depth());
        out.push(self.into_node());
    }
}

impl<T: SqlType> IntoExprs for Column<T> {
    fn push_exprs(self, out: &mut Vec<ast::Expr>, depth: &mut u32) {
        self.expr().push_exprs(out, depth);
    }
}

impl<T: SqlType> IntoExprs for FunctionExpr<T> {
    fn push_exprs(self, out: &mut Vec<ast::Expr>, depth: &mut u32) {
        self.expr().push_exprs(out, depth);
    }
}

impl<T: SqlType> IntoExprs for Raw<T> {
    fn push_exprs(self, out: &mut Vec<ast::Expr>, depth: &mut u32) {
        self.expr().push_exprs(out, depth);
    }
}

impl<I: IntoExprs> IntoExprs for Vec<I> {
    fn push_exprs(self, out: &mut Vec<ast::Expr>, depth: &mut u32) {
        for item in self {
            item.push_exprs(out, depth);
        }
    }
}

impl<I: IntoExprs, const N: usize> IntoExprs for [I; N] {
    fn push_exprs(self, out: &mut Vec<ast::Expr>, depth: &mut u32) {
        for item in self {
            item.push_exprs(out, depth);
        }
    }
}

/// Column names for `INSERT` column lists, `ON CONFLICT` targets and CTE
/// column lists: typed columns, strings, and tuples, arrays and `Vec`s.
pub trait IntoColumnNames {
    /// Append the names to `out`.
    fn push_names(self, out: &mut Vec<Ident>);
}

impl<T> IntoColumnNames for Column<T> {
    fn push_names(self, out: &mut Vec<Ident>) {
        out.push(self.ident());
    }
}

impl IntoColumnNames for &'static str {
    fn push_names(self, out: &mut Vec<Ident>) {
        out.push(Ident::new_static(self));
    }
}

impl IntoColumnNames for String {
    fn push_names(self, out: &mut Vec<Ident>) {
        out.push(Ident::from(self));
    }
}

impl IntoColumnNames for Ident {
    fn push_names(self, out: &mut Vec<Ident>) {
        out.push(self);
    }
}

impl<I: IntoColumnNames> IntoColumnNames for Vec<I> {
    fn push_names(self, out: &mut Vec<Ident>) {
        for item in self {
            item.push_names(out);
        }
    }
}

impl<I: IntoColumnNames, const N: usize> IntoColumnNames for [I; N] {
    fn push_names(self, out: &mut Vec<Ident>) {
        out.reserve_exact(N);
        for item in self {
            item.push_names(out);
        }
    }
}

pub(crate) fn column_names(names: impl IntoColumnNames) -> Vec<Ident> {
    let mut out = Vec::new();
    names.push_names(&mut out);
    out
}

macro_rules! tuple_lists {
    ($($name:ident)+) => {
        impl<$($name: IntoSelectItems),+> IntoSelectItems for ($($name,)+) {
            #[allow(non_snake_case)]
            fn push_items(self, out: &mut Vec<SelectItem>, depth: &mut u32) {
                let ($($name,)+) = self;
                $($name.push_items(out, depth);)+
            }
        }
        impl<$($name: IntoExprs),+> IntoExprs for ($($name,)+) {
            #[allow(non_snake_case)]
            fn push_exprs(self, out: &mut Vec<ast::Expr>, depth: &mut u32) {
                let ($($name,)+) = self;
                $($name.push_exprs(out, depth);)+
            }
        }
        impl<$($name: IntoColumnNames),+> IntoColumnNames for ($($name,)+) {
            #[allow(non_snake_case)]
            fn push_names(self, out: &mut Vec<Ident>) {
                let ($($name,)+) = self;
                $($name.push_names(out);)+
            }
        }
    };
}

tuple_lists!(A);
tuple_lists!(A B);
tuple_lists!(A B C);
tuple_lists!(A B C D);
tuple_lists!(A B C D E);
tuple_lists!(A B C D E F);
tuple_lists!(A B C D E F G);
tuple_lists!(A B C D E F G H);
tuple_lists!(A B C D E F G H I);
tuple_lists!(A B C D E F G H I J);
tuple_lists!(A B C D E F G H I J K);
tuple_lists!(A B C D E F G H I J K L);
tuple_lists!(A B C D E F G H I J K L M);
tuple_lists!(A B C D E F G H I J K L M N);
tuple_lists!(A B C D E F G H I J K L M N O);
tuple_lists!(A B C D E F G H I J K L M N O P);

/// Things that can stand in `FROM` or `JOIN`: tables, subqueries, CTEs and
/// raw fragments.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a table in FROM or JOIN",
    note = "use a table, a `.subquery(\"alias\")`, a CTE, or `table_named(\"name\")`"
)]
pub trait IntoTableRef {
    /// The `FROM` item and how deep it nests.
    fn into_table_ref(self) -> (TableRef, u32);
}

impl<S: TableSource> IntoTableRef for S {
    #[inline]
    fn into_table_ref(self) -> (TableRef, u32) {
        (self.table_ref(), 1)
    }
}

impl<T> IntoTableRef for Raw<T> {
    fn into_table_ref(self) -> (TableRef, u32) {
        (TableRef::Raw { sql: self.into_raw_sql(), alias: None }, 1)
    }
}
