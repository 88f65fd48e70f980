//! Typed columns of statically declared tables.

use std::fmt;
use std::marker::PhantomData;

use super::{Expr, IntoExpr, SqlType};
use crate::ast::{self, ColumnRef, TableName};
use crate::ident::Ident;

/// A column of a table declared with [`table!`](crate::table), holding
/// values of Rust type `T` (`Option<T>` for a nullable column).
///
/// Columns are `Copy` and made of `&'static str` names, so using one in a
/// query allocates nothing. Their expression methods come from
/// [`ExprMethods`](super::ExprMethods) and friends.
pub struct Column<T> {
    schema: Option<&'static str>,
    table: &'static str,
    name: &'static str,
    /// Whether schema, table and name are plain identifiers (see
    /// [`Ident::is_plain`]), computed once, at compile time for `table!` tables.
    plain: [bool; 3],
    /// The reference quoted (`"table"."name"` or `"schema"."table"."name"`),
    /// or empty: see [`prequoted`](Self::prequoted).
    quoted: &'static str,
    _type: PhantomData<fn() -> T>,
}

/// Whether `text` starts with `piece` at byte `at`; the byte after it, or
/// `None`.
const fn expect(text: &[u8], at: usize, piece: &[u8]) -> Option<usize> {
    if text.len() < at + piece.len() {
        return None;
    }
    let mut i = 0;
    while i < piece.len() {
        if text[at + i] != piece[i] {
            return None;
        }
        i += 1;
    }
    Some(at + piece.len())
}

/// Whether `text` is `"part"` followed by `after`, from byte `at`; the
/// byte after it, or `None`.
const fn expect_quoted(text: &[u8], at: usize, part: &str, after: &[u8]) -> Option<usize> {
    let Some(at) = expect(text, at, b"\"") else { return None };
    let Some(at) = expect(text, at, part.as_bytes()) else { return None };
    let Some(at) = expect(text, at, b"\"") else { return None };
    expect(text, at, after)
}

impl<T> Column<T> {
    /// A column `name` of `table` (an alias, or the table's name), in `schema`.
    pub const fn new(schema: Option<&'static str>, table: &'static str, name: &'static str) -> Self {
        let schema_plain = match schema {
            Some(s) => crate::ident::is_plain(s),
            None => true,
        };
        Column {
            schema,
            table,
            name,
            plain: [schema_plain, crate::ident::is_plain(table), crate::ident::is_plain(name)],
            quoted: "",
            _type: PhantomData,
        }
    }

    /// The column with its reference given already quoted, as
    /// `"schema"."table"."name"` or `"table"."name"`, so that compiling it
    /// is one copy. [`table!`](crate::table) calls this with text built by
    /// `concat!`. The text is kept only if every part is plain (needs no
    /// escaping) and it is exactly the parts quoted, checked here (at
    /// compile time for a `table!` table); otherwise the column is quoted
    /// part by part when compiled, as one made by [`new`](Self::new) is.
    /// Because it checks the text rather than trusting it, no text can
    /// make a column compile to anything but its parts quoted. Plumbing
    /// for `table!`, not a stable API.
    #[doc(hidden)]
    pub const fn prequoted(mut self, quoted: &'static str) -> Self {
        if !(self.plain[0] && self.plain[1] && self.plain[2]) {
            return self;
        }
        let text = quoted.as_bytes();
        let at = match self.schema {
            Some(schema) => match expect_quoted(text, 0, schema, b".") {
                Some(at) => at,
                None => return self,
            },
            None => 0,
        };
        let Some(at) = expect_quoted(text, at, self.table, b".") else { return self };
        let Some(at) = expect_quoted(text, at, self.name, b"") else { return self };
        if at == text.len() {
            self.quoted = quoted;
        }
        self
    }

    /// The column's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The table (or alias) name qualifying the column.
    pub const fn table_name(&self) -> &'static str {
        self.table
    }

    /// The column's name as an [`Ident`].
    pub const fn ident(&self) -> Ident {
        Ident::new_static_known(self.name, self.plain[2])
    }

    /// The qualified column reference.
    pub fn column_ref(&self) -> ColumnRef {
        let schema = self.schema.map(|s| Ident::new_static_known(s, self.plain[0]));
        ColumnRef {
            table: Some(TableName { schema, name: Ident::new_static_known(self.table, self.plain[1]) }),
            name: self.ident(),
        }
    }

    /// The column as an expression.
    pub fn expr(self) -> Expr<T> {
        Expr::from_node(self.node())
    }

    /// The column as a plain expression node.
    pub(crate) const fn node(self) -> ast::Expr {
        ast::Expr::StaticColumn(ast::StaticColumnRef::new(self.schema, self.table, self.name, self.quoted, self.plain))
    }
}

impl<T: SqlType> Column<T> {
    /// `"column" = value`, for `INSERT` values and `UPDATE ... SET`.
    pub fn set(self, value: impl IntoExpr<T::Base>) -> ColumnValue {
        let value = value.into_expr();
        ColumnValue {
            depth: value.depth(),
            assignment: ast::Assignment { column: self.ident(), value: value.into_node() },
        }
    }

    /// `excluded."column"`: the value an `INSERT ... ON CONFLICT DO UPDATE`
    /// tried to insert.
    pub fn excluded(self) -> Expr<T> {
        Expr::from_node(ast::Expr::Excluded(self.ident()))
    }
}

impl<T> Clone for Column<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Column<T> {}

impl<T> fmt::Debug for Column<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Column({}.{})", self.table, self.name)
    }
}

/// A column and the value it is set to: one row value of an `INSERT`, or
/// one assignment of `UPDATE ... SET`. Made by [`Column::set`].
#[derive(Debug, Clone)]
pub struct ColumnValue {
    pub(crate) assignment: ast::Assignment,
    pub(crate) depth: u32,
}

impl ColumnValue {
    /// An assignment to a column named at run time, untyped.
    pub fn untyped(column: impl Into<Ident>, value: impl IntoExpr<super::Any>) -> Self {
        let value = value.into_expr();
        ColumnValue {
            depth: value.depth(),
            assignment: ast::Assignment { column: column.into(), value: value.into_node() },
        }
    }

    /// The plain assignment.
    pub fn into_assignment(self) -> ast::Assignment {
        self.assignment
    }
}
