//! `UPDATE`, with `FROM` and `RETURNING`.

use crate::ast;
use crate::compile::{Compile, CompileError, SqlWriter, StatementKind};
use crate::expr::{Column, IntoExpr, SqlType};
use crate::schema::TableSource;

use super::select::and_optional;
use super::{IntoAssignments, IntoSelectItems, IntoTableRef};

/// `UPDATE table`: start an update.
///
/// ```
/// use quarry_core::prelude::*;
/// quarry_core::table! {
///     pub struct Accounts("accounts") { id: i64 [primary_key], balance: i64 }
/// }
/// let a = Accounts::table();
/// let q = update(a).set(a.balance, a.balance + 10).filter(a.id.eq(7)).returning(a.balance);
/// assert_eq!(
///     q.compile(&Postgres)?.sql,
///     r#"UPDATE "accounts" SET "balance" = "accounts"."balance" + $1 WHERE "accounts"."id" = $2 RETURNING "accounts"."balance""#
/// );
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
pub fn update(table: impl TableSource) -> Update {
    Update {
        stmt: ast::Update {
            with: None,
            table: table.def().table_name(),
            alias: table.alias_name(),
            assignments: Vec::new(),
            from: Vec::new(),
            selection: None,
            returning: Vec::new(),
        },
        depth: 0,
    }
}

/// An `UPDATE` being built; see [`update`].
#[derive(Debug, Clone)]
#[must_use]
pub struct Update {
    stmt: ast::Update,
    depth: u32,
}

impl Update {
    /// `SET column = value`
    pub fn set<T: SqlType>(mut self, column: Column<T>, value: impl IntoExpr<T::Base>) -> Self {
        column.set(value).push_assignments(&mut self.stmt.assignments, &mut self.depth);
        self
    }

    /// `SET` several assignments made with [`Column::set`].
    pub fn values(mut self, assignments: impl IntoAssignments) -> Self {
        assignments.push_assignments(&mut self.stmt.assignments, &mut self.depth);
        self
    }

    /// `FROM table`: other tables the update may refer to.
    pub fn from(mut self, table: impl IntoTableRef) -> Self {
        let (relation, depth) = table.into_table_ref();
        self.depth = self.depth.max(depth);
        self.stmt.from.push(ast::TableWithJoins { relation, joins: Vec::new() });
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
    pub fn into_ast(self) -> ast::Update {
        self.stmt
    }
}

impl Compile for Update {
    fn write(&self, w: &mut SqlWriter<'_>) -> Result<StatementKind, CompileError> {
        w.update(&self.stmt)?;
        Ok(StatementKind::Write)
    }
}
