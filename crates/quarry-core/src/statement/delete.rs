//! `DELETE`, with `USING` and `RETURNING`.

use crate::ast;
use crate::compile::{Compile, CompileError, SqlWriter, StatementKind};
use crate::expr::IntoExpr;
use crate::schema::TableSource;

use super::select::and_optional;
use super::{IntoSelectItems, IntoTableRef};

/// `DELETE FROM table`: start a delete. Without [`filter`](Delete::filter)
/// it deletes every row.
///
/// ```
/// use quarry_core::prelude::*;
/// quarry_core::table! {
///     pub struct Sessions("sessions") { id: i64 [primary_key], user_id: i64 }
/// }
/// quarry_core::table! {
///     pub struct Users("users") { id: i64 [primary_key], banned: bool }
/// }
/// let (s, u) = (Sessions::table(), Users::table());
/// let q = delete_from(s).using(u).filter(s.user_id.eq(u.id).and(u.banned.eq(true)));
/// assert_eq!(
///     q.compile(&Sqlite)?.sql,
///     r#"DELETE FROM "sessions" WHERE EXISTS (SELECT 1 FROM "users" WHERE "sessions"."user_id" = "users"."id" AND "users"."banned" = ?1)"#
/// );
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
pub fn delete_from(table: impl TableSource) -> Delete {
    Delete {
        stmt: ast::Delete {
            with: None,
            table: table.def().table_name(),
            alias: table.alias_name(),
            using: Vec::new(),
            selection: None,
            returning: Vec::new(),
        },
        depth: 0,
    }
}

/// A `DELETE` being built; see [`delete_from`].
#[derive(Debug, Clone)]
#[must_use]
pub struct Delete {
    stmt: ast::Delete,
    depth: u32,
}

impl Delete {
    /// `USING table` (written as `WHERE EXISTS (...)` on SQLite).
    pub fn using(mut self, table: impl IntoTableRef) -> Self {
        let (relation, depth) = table.into_table_ref();
        self.depth = self.depth.max(depth);
        self.stmt.using.push(ast::TableWithJoins { relation, joins: Vec::new() });
        self
    }

    /// `WHERE condition`; several calls are combined with `AND`.
    pub fn filter(mut self, condition: impl IntoExpr<bool>) -> Self {
        self.stmt.selection = Some(and_optional(self.stmt.selection.take(), condition.into_expr(), &mut self.depth));
        self
    }

    /// `WITH cte ...`: a common table expression the statement can use.
    pub fn with(mut self, cte: super::Cte) -> Self {
        let depth = super::select::attach_cte(&mut self.stmt.with, cte);
        self.depth = self.depth.max(depth);
        self
    }

    /// `RETURNING items`
    pub fn returning(mut self, items: impl IntoSelectItems) -> Self {
        items.push_items(&mut self.stmt.returning, &mut self.depth);
        self
    }

    /// The plain statement.
    pub fn into_ast(self) -> ast::Delete {
        self.stmt
    }
}

impl Compile for Delete {
    fn write(&self, w: &mut SqlWriter<'_>) -> Result<StatementKind, CompileError> {
        w.delete(&self.stmt)?;
        Ok(StatementKind::Write)
    }
}
