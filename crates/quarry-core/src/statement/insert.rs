//! `INSERT`, with multi-row values, `INSERT ... SELECT`, upserts and `RETURNING`.

use crate::ast::{self, ConflictAction, ConflictTarget, InsertSource, OnConflict};
use crate::compile::{Compile, CompileError, Compiled, CompiledRun, SqlWriter, StatementKind, check_param_count};
use crate::dialect::Dialect;
use crate::expr::{Column, ColumnValue, IntoExpr, SqlType};
use crate::ident::Ident;
use crate::schema::TableSource;

use super::{IntoColumnNames, IntoQuery, IntoSelectItems, column_names};

/// `INSERT INTO table`: start an insert. Columns with a client-side
/// default in the table's schema get it when a row leaves them out.
///
/// ```
/// use quarry_core::prelude::*;
/// quarry_core::table! {
///     pub struct Users("users") { id: i64 [primary_key], name: String, email: Option<String> }
/// }
/// let users = Users::table();
/// let q = insert_into(users)
///     .values((users.name.set("ada"), users.email.set("ada@example.com")))
///     .values((users.email.set(None::<String>), users.name.set("bob")))
///     .returning(users.id);
/// assert_eq!(
///     q.compile(&Sqlite)?.sql,
///     r#"INSERT INTO "users" ("name", "email") VALUES (?1, ?2), (?3, ?4) RETURNING "users"."id""#
/// );
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
pub fn insert_into(table: impl TableSource) -> Insert {
    let def = table.def();
    let column_defaults = def.columns.iter().filter_map(|c| c.default.clone().map(|v| (c.name.clone(), v))).collect();
    Insert(Box::new(InsertState {
        stmt: ast::Insert {
            with: None,
            table: def.table_name(),
            columns: Vec::new(),
            source: InsertSource::Values(ast::ValuesRows::default()),
            column_defaults,
            on_conflict: None,
            returning: Vec::new(),
        },
        depth: 0,
        error: None,
    }))
}

/// An `INSERT` being built; see [`insert_into`]. Boxed, so that each
/// builder call moves a pointer rather than the whole statement.
#[derive(Debug, Clone)]
#[must_use]
pub struct Insert(Box<InsertState>);

#[derive(Debug, Clone)]
struct InsertState {
    stmt: ast::Insert,
    depth: u32,
    error: Option<String>,
}

/// Assignments `column = value` for one row of an insert, or for `SET`:
/// a [`ColumnValue`] (from [`Column::set`]), or tuples, arrays and `Vec`s of them.
pub trait IntoAssignments {
    /// Append the assignments to `out`, raising `depth` to the deepest.
    fn push_assignments(self, out: &mut Vec<ast::Assignment>, depth: &mut u32);
}

impl IntoAssignments for ColumnValue {
    fn push_assignments(self, out: &mut Vec<ast::Assignment>, depth: &mut u32) {
        *depth = (*depth).max(self.depth);
        out.push(self.assignment);
    }
}

impl<A: IntoAssignments> IntoAssignments for Vec<A> {
    fn push_assignments(self, out: &mut Vec<ast::Assignment>, depth: &mut u32) {
        for a in self {
            a.push_assignments(out, depth);
        }
    }
}

impl<A: IntoAssignments, const N: usize> IntoAssignments for [A; N] {
    fn push_assignments(self, out: &mut Vec<ast::Assignment>, depth: &mut u32) {
        for a in self {
            a.push_assignments(out, depth);
        }
    }
}

/// A tuple of typed columns naming the columns of [`Insert::rows`].
pub trait ColumnTuple {
    /// The columns' names, in order.
    fn names(&self) -> Vec<Ident>;
}

/// One row of values for the columns `C` of [`Insert::rows`]: a tuple of
/// values (or expressions) whose types match the columns'.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a row of values for the columns `{C}`",
    note = "give a tuple with one value per column, each of the column's type"
)]
pub trait RowOf<C> {
    /// Append the row's values to `out`, raising `depth` to the deepest.
    fn push_row(self, out: &mut ast::RowWriter<'_>, depth: &mut u32);
}

impl<T> ColumnTuple for Column<T> {
    fn names(&self) -> Vec<Ident> {
        vec![self.ident()]
    }
}

impl<T: SqlType, V: IntoExpr<T::Base>> RowOf<Column<T>> for V {
    fn push_row(self, out: &mut ast::RowWriter<'_>, depth: &mut u32) {
        *depth = (*depth).max(self.push_cell(out));
    }
}

macro_rules! row_tuples {
    ($($t:ident $v:ident $i:tt),+) => {
        impl<$($t),+> ColumnTuple for ($(Column<$t>,)+) {
            fn names(&self) -> Vec<Ident> {
                vec![$(self.$i.ident()),+]
            }
        }
        impl<$($t: SqlType, $v: IntoExpr<$t::Base>),+> RowOf<($(Column<$t>,)+)> for ($($v,)+) {
            fn push_row(self, out: &mut ast::RowWriter<'_>, depth: &mut u32) {
                $(*depth = (*depth).max(IntoExpr::<$t::Base>::push_cell(self.$i, out));)+
            }
        }
        impl<$($v: IntoAssignments),+> IntoAssignments for ($($v,)+) {
            fn push_assignments(self, out: &mut Vec<ast::Assignment>, depth: &mut u32) {
                $(self.$i.push_assignments(out, depth);)+
            }
        }
    };
}

row_tuples!(T0 V0 0);
row_tuples!(T0 V0 0, T1 V1 1);
row_tuples!(T0 V0 0, T1 V1 1, T2 V2 2);
row_tuples!(T0 V0 0, T1 V1 1, T2 V2 2, T3 V3 3);
row_tuples!(T0 V0 0, T1 V1 1, T2 V2 2, T3 V3 3, T4 V4 4);
row_tuples!(T0 V0 0, T1 V1 1, T2 V2 2, T3 V3 3, T4 V4 4, T5 V5 5);
row_tuples!(T0 V0 0, T1 V1 1, T2 V2 2, T3 V3 3, T4 V4 4, T5 V5 5, T6 V6 6);
row_tuples!(T0 V0 0, T1 V1 1, T2 V2 2, T3 V3 3, T4 V4 4, T5 V5 5, T6 V6 6, T7 V7 7);
row_tuples!(T0 V0 0, T1 V1 1, T2 V2 2, T3 V3 3, T4 V4 4, T5 V5 5, T6 V6 6, T7 V7 7, T8 V8 8);
row_tuples!(T0 V0 0, T1 V1 1, T2 V2 2, T3 V3 3, T4 V4 4, T5 V5 5, T6 V6 6, T7 V7 7, T8 V8 8, T9 V9 9);
row_tuples!(T0 V0 0, T1 V1 1, T2 V2 2, T3 V3 3, T4 V4 4, T5 V5 5, T6 V6 6, T7 V7 7, T8 V8 8, T9 V9 9, T10 V10 10);
row_tuples!(T0 V0 0, T1 V1 1, T2 V2 2, T3 V3 3, T4 V4 4, T5 V5 5, T6 V6 6, T7 V7 7, T8 V8 8, T9 V9 9, T10 V10 10, T11 V11 11);

impl Insert {
    fn rows_mut(&mut self) -> Option<&mut ast::ValuesRows> {
        match &mut self.0.stmt.source {
            InsertSource::Values(rows) => Some(rows),
            _ => None,
        }
    }

    fn fail(mut self, message: impl Into<String>) -> Self {
        self.0.error.get_or_insert_with(|| message.into());
        self
    }

    /// Add one row given as assignments (`users.name.set("ada")`). The first
    /// row fixes the columns; later rows must set the same columns, in any order.
    pub fn values(mut self, row: impl IntoAssignments) -> Self {
        let mut assignments = Vec::new();
        row.push_assignments(&mut assignments, &mut self.0.depth);
        let first = self.rows_mut().is_some_and(|rows| rows.is_empty());
        if first {
            self.0.stmt.columns = assignments.iter().map(|a| a.column.clone()).collect();
            let mut rows = ast::ValuesRows::new(assignments.len());
            if let Err(e) = rows.push_row(assignments.into_iter().map(|a| a.value)) {
                return self.fail(e.to_string());
            }
            self.0.stmt.source = InsertSource::Values(rows);
            return self;
        }
        if self.rows_mut().is_none() {
            return self.fail("values() after from_select() or default_values()");
        }
        if assignments.len() != self.0.stmt.columns.len() {
            return self.fail("every row of an INSERT must set the same columns");
        }
        let mut slots: Vec<Option<ast::Expr>> = vec![None; assignments.len()];
        for a in assignments {
            match self.0.stmt.columns.iter().position(|c| *c == a.column) {
                Some(i) if slots[i].is_none() => slots[i] = Some(a.value),
                _ => return self.fail(format!("column `{}` does not match the first row's columns", a.column)),
            }
        }
        let pushed = self.rows_mut().map(|rows| rows.push_row(slots.into_iter().flatten()));
        match pushed {
            Some(Err(e)) => self.fail(e.to_string()),
            _ => self,
        }
    }

    /// Add many rows of typed values for `columns`: `columns` is a column or
    /// a tuple of columns, and each row a tuple of values of their types.
    ///
    /// ```
    /// use quarry_core::prelude::*;
    /// quarry_core::table! {
    ///     pub struct Users("users") { id: i64 [primary_key], name: String, hair: Option<String> }
    /// }
    /// let users = Users::table();
    /// let people = [("ada", Some("red")), ("bob", None)];
    /// let q = insert_into(users).rows((users.name, users.hair), people);
    /// assert_eq!(q.compile(&Postgres)?.sql, r#"INSERT INTO "users" ("name", "hair") VALUES ($1, $2), ($3, $4)"#);
    /// # Ok::<(), quarry_core::CompileError>(())
    /// ```
    pub fn rows<C: ColumnTuple, R: RowOf<C>>(mut self, columns: C, rows: impl IntoIterator<Item = R>) -> Self {
        let names = columns.names();
        let Some(existing) = self.rows_mut().map(|r| r.is_empty()) else {
            return self.fail("rows() after from_select() or default_values()");
        };
        if existing {
            let rows = rows.into_iter();
            self.0.stmt.source = InsertSource::Values(ast::ValuesRows::with_capacity(names.len(), rows.size_hint().0));
            self.0.stmt.columns = names;
            return self.push_rows(rows);
        }
        if self.0.stmt.columns != names {
            return self.fail("rows() names other columns than the rows before");
        }
        self.push_rows(rows)
    }

    fn push_rows<C, R: RowOf<C>>(mut self, rows: impl IntoIterator<Item = R>) -> Self {
        let mut depth = self.0.depth;
        let mut refused = None;
        if let Some(out) = self.rows_mut() {
            for row in rows {
                if let Err(e) = out.push_row_with(|cells| row.push_row(cells, &mut depth)) {
                    refused = Some(e);
                    break;
                }
            }
        }
        self.0.depth = depth;
        match refused {
            Some(e) => self.fail(e.to_string()),
            None => self,
        }
    }

    /// `INSERT INTO table (columns) SELECT ...`
    pub fn from_select(mut self, columns: impl IntoColumnNames, query: impl IntoQuery) -> Self {
        let (q, depth) = query.into_query_with_depth();
        self.0.depth = self.0.depth.max(depth);
        self.0.stmt.columns = column_names(columns);
        self.0.stmt.source = InsertSource::Query(Box::new(q));
        self
    }

    /// `INSERT INTO table DEFAULT VALUES`
    pub fn default_values(mut self) -> Self {
        self.0.stmt.columns.clear();
        self.0.stmt.source = InsertSource::DefaultValues;
        self
    }

    /// `ON CONFLICT (columns) ...`: then [`do_nothing`](OnConflictBuilder::do_nothing)
    /// or [`do_update`](OnConflictBuilder::do_update).
    pub fn on_conflict(self, columns: impl IntoColumnNames) -> OnConflictBuilder {
        OnConflictBuilder {
            insert: self,
            target: ConflictTarget::Columns { columns: column_names(columns), predicate: None },
        }
    }

    /// `ON CONFLICT ON CONSTRAINT name ...` (PostgreSQL only).
    pub fn on_conflict_on_constraint(self, name: impl Into<Ident>) -> OnConflictBuilder {
        OnConflictBuilder { insert: self, target: ConflictTarget::Constraint(name.into()) }
    }

    /// `ON CONFLICT DO NOTHING`: skip rows that conflict with any constraint.
    pub fn on_conflict_do_nothing(mut self) -> Self {
        self.0.stmt.on_conflict = Some(OnConflict { target: ConflictTarget::Any, action: ConflictAction::DoNothing });
        self
    }

    /// `WITH cte ...`: a common table expression the statement can use.
    pub fn with(mut self, cte: super::Cte) -> Self {
        let depth = super::select::attach_cte(&mut self.0.stmt.with, cte);
        self.0.depth = self.0.depth.max(depth);
        self
    }

    /// `RETURNING items`
    pub fn returning(mut self, items: impl IntoSelectItems) -> Self {
        items.push_items(&mut self.0.stmt.returning, &mut self.0.depth);
        self
    }

    /// The number of `VALUES` rows.
    pub fn row_count(&self) -> usize {
        match &self.0.stmt.source {
            InsertSource::Values(rows) => rows.len(),
            _ => 0,
        }
    }

    /// The number of parameters one row binds.
    pub fn params_per_row(&self) -> usize {
        self.0.stmt.columns.len()
            + self.0.stmt.column_defaults.iter().filter(|(n, _)| !self.0.stmt.columns.contains(n)).count()
    }

    /// Split a multi-row insert into inserts of at most `max_rows` rows each
    /// (the same columns, conflict handling and `RETURNING`).
    pub fn into_chunks(mut self, max_rows: usize) -> Vec<Insert> {
        let rows = match &mut self.0.stmt.source {
            InsertSource::Values(rows) if rows.len() > max_rows.max(1) => std::mem::take(rows),
            _ => return vec![self],
        };
        rows.into_chunks(max_rows)
            .into_iter()
            .map(|rows| {
                let mut chunk = self.clone();
                chunk.0.stmt.source = InsertSource::Values(rows);
                chunk
            })
            .collect()
    }

    /// The plain statement.
    pub fn into_ast(self) -> ast::Insert {
        self.0.stmt
    }
}

impl Compile for Insert {
    fn write(&self, w: &mut SqlWriter<'_>) -> Result<StatementKind, CompileError> {
        if let Some(error) = &self.0.error {
            return Err(CompileError::invalid(error.clone()));
        }
        w.insert(&self.0.stmt)?;
        Ok(StatementKind::Write)
    }

    /// Split the rows into inserts of `max_params / params_per_row` rows.
    fn compile_chunks(&self, dialect: &dyn Dialect, max_params: usize) -> Result<Vec<Compiled>, CompileError> {
        self.split_into_chunks(self.compile(dialect)?, dialect, max_params)
    }

    /// Rows of bound values move into the parameter list.
    fn into_compiled(self, dialect: &dyn Dialect) -> Result<Compiled, CompileError> {
        // Under no limit the insert is one statement.
        let mut chunks = self.compile_chunks_owned(dialect, usize::MAX)?;
        match (chunks.pop(), chunks.is_empty()) {
            (Some(only), true) => Ok(only),
            _ => Err(CompileError::invalid("internal error: an insert under no limit was split")),
        }
    }

    /// Split as [`compile_chunks_owned`](Self::compile_chunks_owned) splits.
    fn compile_for_run(self, dialect: &dyn Dialect, max_params: usize) -> Result<CompiledRun, CompileError> {
        self.compile_chunks_owned(dialect, max_params).map(CompiledRun::from_chunks)
    }

    /// Rows of bound values move into the parameter list when the insert
    /// is one statement; otherwise as [`compile_chunks`](Self::compile_chunks).
    fn compile_chunks_owned(mut self, dialect: &dyn Dialect, max_params: usize) -> Result<Vec<Compiled>, CompileError> {
        let bound_values = match &self.0.stmt.source {
            InsertSource::Values(rows) => rows.as_values().map(<[_]>::len),
            _ => None,
        };
        // Only without `WITH`: the rows left out must be this insert's own,
        // and common table expressions are left to the borrowing path.
        let (Some(count), None) = (bound_values, &self.0.stmt.with) else {
            return self.compile_chunks(dialect, max_params);
        };
        let (mut compiled, left_out) = crate::compile::compile_leaving_out_rows(dialect, |w| self.write(w))?;
        let Some(range) = left_out else {
            return self.split_into_chunks(compiled, dialect, max_params);
        };
        if range.len() != count {
            // Not this insert's rows (cannot happen without `WITH`): the
            // borrowing way is right whatever was left out.
            return self.compile_chunks(dialect, max_params);
        }
        let source = std::mem::replace(&mut self.0.stmt.source, InsertSource::DefaultValues);
        let InsertSource::Values(rows) = source else {
            return Err(CompileError::invalid("internal error: the insert's rows went missing"));
        };
        if compiled.params.len() + count > max_params {
            // Over the limit: the rows are split into statements of their
            // own, compiled from the borrowed rows as `compile_chunks` does.
            let Some(values) = rows.as_values() else {
                return Err(CompileError::invalid("internal error: the insert's rows were not bound values"));
            };
            compiled.params.splice(range.start..range.start, values.iter().cloned());
            self.0.stmt.source = InsertSource::Values(rows);
            return self.split_into_chunks(compiled, dialect, max_params);
        }
        let Ok(values) = rows.into_values() else {
            return Err(CompileError::invalid("internal error: the insert's rows were not bound values"));
        };
        if compiled.params.is_empty() {
            compiled.params = values;
        } else {
            compiled.params.splice(range.start..range.start, values);
        }
        Ok(vec![compiled])
    }
}

impl Insert {
    /// The chunks of an insert compiled to `compiled`: it alone when under
    /// `max_params`, else its rows split into inserts under the limit.
    fn split_into_chunks(
        &self,
        compiled: Compiled,
        dialect: &dyn Dialect,
        max_params: usize,
    ) -> Result<Vec<Compiled>, CompileError> {
        if compiled.params.len() <= max_params {
            return Ok(vec![compiled]);
        }
        let per_row = self.params_per_row().max(1);
        let rows = self.row_count();
        if rows <= 1 || per_row > max_params {
            check_param_count(&compiled, max_params)?;
        }
        // Parameters outside the rows (RETURNING, ON CONFLICT) repeat in every chunk.
        let fixed = compiled.params.len().saturating_sub(rows * per_row);
        let rows_per_chunk = max_params.saturating_sub(fixed) / per_row;
        if rows_per_chunk == 0 {
            check_param_count(&compiled, max_params)?;
        }
        self.clone().into_chunks(rows_per_chunk).iter().map(|chunk| chunk.compile(dialect)).collect()
    }
}

/// The `ON CONFLICT` clause of an insert being built.
#[derive(Debug, Clone)]
#[must_use]
pub struct OnConflictBuilder {
    insert: Insert,
    target: ConflictTarget,
}

impl OnConflictBuilder {
    /// `ON CONFLICT (columns) WHERE predicate`: the conflict target is a
    /// partial unique index.
    pub fn filter(mut self, predicate: impl IntoExpr<bool>) -> Self {
        let p = predicate.into_expr();
        self.insert.0.depth = self.insert.0.depth.max(p.depth());
        if let ConflictTarget::Columns { predicate, .. } = &mut self.target {
            *predicate = Some(p.into_node());
        }
        self
    }

    /// `DO NOTHING`
    pub fn do_nothing(mut self) -> Insert {
        self.insert.0.stmt.on_conflict = Some(OnConflict { target: self.target, action: ConflictAction::DoNothing });
        self.insert
    }

    /// `DO UPDATE SET ...`; refer to the proposed row with [`Column::excluded`].
    pub fn do_update(self, assignments: impl IntoAssignments) -> Insert {
        self.update(assignments, None)
    }

    /// `DO UPDATE SET ... WHERE condition`
    pub fn do_update_where(self, assignments: impl IntoAssignments, condition: impl IntoExpr<bool>) -> Insert {
        self.update(assignments, Some(condition.into_expr()))
    }

    fn update(mut self, assignments: impl IntoAssignments, condition: Option<crate::Expr<bool>>) -> Insert {
        let mut list = Vec::new();
        assignments.push_assignments(&mut list, &mut self.insert.0.depth);
        let selection = condition.map(|c| {
            self.insert.0.depth = self.insert.0.depth.max(c.depth());
            c.into_node()
        });
        self.insert.0.stmt.on_conflict =
            Some(OnConflict { target: self.target, action: ConflictAction::DoUpdate { assignments: list, selection } });
        self.insert
    }
}
