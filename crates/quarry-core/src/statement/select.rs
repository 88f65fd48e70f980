//! `SELECT`, set operations, subqueries and common table expressions.

use crate::ast::{
    self, Distinct, Join, JoinKind, LockClause, LockStrength, LockWait, OrderByExpr, SetOperator, TableName, TableRef,
    TableWithJoins, With,
};
use crate::compile::{Body, Compile, CompileError, QueryParts, SqlWriter, StatementKind};
use crate::expr::{Expr, IntoExpr, IntoOrderBy, OrderBy, SqlType};
use crate::ident::Ident;
use crate::value::Value;
use crate::vec_alloc::allocate_first;

use super::{IntoColumnNames, IntoExprs, IntoQuery, IntoSelectItems, IntoTableRef, column_names};

/// `SELECT items`: start a query.
///
/// ```
/// use quarry_core::prelude::*;
/// quarry_core::table! {
///     pub struct Users("users") { id: i64, name: String, age: Option<i32> }
/// }
/// let users = Users::table();
/// let q = select((users.id, users.name))
///     .from(users)
///     .filter(users.age.ge(18))
///     .order_by(users.name.asc())
///     .limit(10);
/// let c = q.compile(&Postgres)?;
/// assert_eq!(
///     c.sql,
///     r#"SELECT "users"."id", "users"."name" FROM "users" WHERE "users"."age" >= $1 ORDER BY "users"."name" ASC LIMIT $2"#
/// );
/// assert_eq!(c.params, vec![Value::I32(18), Value::I64(10)]);
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
pub fn select(items: impl IntoSelectItems) -> Select {
    // Allocated directly at the size the first push would grow it to.
    let mut projection = Vec::with_capacity(4);
    let mut depth = 0;
    items.push_items(&mut projection, &mut depth);
    // Made empty in place and then filled: a whole `SelectState` built and
    // moved into the box was a 528-byte copy per statement.
    let mut state = Box::<SelectState>::default();
    state.core.projection = projection;
    state.depth = depth;
    Select(state)
}

/// A `SELECT` being built; see [`select`]. Boxed, so that each builder
/// call moves a pointer rather than the whole statement.
#[derive(Debug, Clone)]
#[must_use]
pub struct Select(Box<SelectState>);

#[derive(Debug, Clone, Default)]
struct SelectState {
    with: Option<With>,
    core: ast::Select,
    order_by: Vec<OrderByExpr>,
    limit: Option<ast::Expr>,
    offset: Option<ast::Expr>,
    locking: Vec<LockClause>,
    depth: u32,
    error: Option<String>,
}

impl Select {
    fn deepen(&mut self, depth: u32) {
        self.0.depth = self.0.depth.max(depth);
    }

    /// Add columns to the select list.
    pub fn columns(mut self, items: impl IntoSelectItems) -> Self {
        let mut depth = self.0.depth;
        items.push_items(&mut self.0.core.projection, &mut depth);
        self.0.depth = depth;
        self
    }

    /// Add a `FROM` item (several are comma-separated).
    pub fn from(mut self, table: impl IntoTableRef) -> Self {
        let (relation, depth) = table.into_table_ref();
        self.deepen(depth);
        // Most queries have one `FROM` item.
        allocate_first(&mut self.0.core.from, 1);
        self.0.core.from.push(TableWithJoins { relation, joins: Vec::new() });
        self
    }

    /// Add a raw `FROM` item (`generate_series(1, :n)`).
    pub fn from_raw(self, raw: crate::expr::Raw) -> Self {
        self.from(raw)
    }

    fn add_join(mut self, kind: JoinKind, table: impl IntoTableRef, on: Option<Expr<bool>>) -> Self {
        let (relation, depth) = table.into_table_ref();
        self.deepen(depth);
        let on = on.map(|on| {
            self.deepen(on.depth());
            on.into_node()
        });
        match self.0.core.from.last_mut() {
            Some(last) => {
                allocate_first(&mut last.joins, 4);
                last.joins.push(Join { kind, relation, on });
            }
            None => self.0.error = Some(format!("{} before any FROM", kind.as_sql())),
        }
        self
    }

    /// `JOIN table ON condition` after the last `FROM` item.
    pub fn join(self, table: impl IntoTableRef, on: impl IntoExpr<bool>) -> Self {
        self.add_join(JoinKind::Inner, table, Some(on.into_expr()))
    }

    /// `LEFT JOIN table ON condition`
    pub fn left_join(self, table: impl IntoTableRef, on: impl IntoExpr<bool>) -> Self {
        self.add_join(JoinKind::Left, table, Some(on.into_expr()))
    }

    /// `RIGHT JOIN table ON condition`
    pub fn right_join(self, table: impl IntoTableRef, on: impl IntoExpr<bool>) -> Self {
        self.add_join(JoinKind::Right, table, Some(on.into_expr()))
    }

    /// `FULL JOIN table ON condition`
    pub fn full_join(self, table: impl IntoTableRef, on: impl IntoExpr<bool>) -> Self {
        self.add_join(JoinKind::Full, table, Some(on.into_expr()))
    }

    /// `CROSS JOIN table`
    pub fn cross_join(self, table: impl IntoTableRef) -> Self {
        self.add_join(JoinKind::Cross, table, None)
    }

    /// `WHERE condition`; several calls are combined with `AND`.
    pub fn filter(mut self, condition: impl IntoExpr<bool>) -> Self {
        let condition = condition.into_expr();
        self.0.core.selection = Some(and_optional(self.0.core.selection.take(), condition, &mut self.0.depth));
        self
    }

    /// `GROUP BY ...`; several calls add expressions.
    pub fn group_by(mut self, exprs: impl IntoExprs) -> Self {
        exprs.push_exprs(&mut self.0.core.group_by, &mut self.0.depth);
        self
    }

    /// `HAVING condition`; several calls are combined with `AND`.
    pub fn having(mut self, condition: impl IntoExpr<bool>) -> Self {
        let condition = condition.into_expr();
        self.0.core.having = Some(and_optional(self.0.core.having.take(), condition, &mut self.0.depth));
        self
    }

    /// `ORDER BY item`; several calls add items.
    pub fn order_by(mut self, item: impl IntoOrderBy) -> Self {
        let OrderBy { item, depth } = item.into_order_by();
        self.deepen(depth);
        self.0.order_by.push(item);
        self
    }

    /// `LIMIT n` (bound).
    pub fn limit(mut self, n: i64) -> Self {
        self.0.limit = Some(ast::Expr::Value(Value::I64(n)));
        self
    }

    /// `OFFSET n` (bound).
    pub fn offset(mut self, n: i64) -> Self {
        self.0.offset = Some(ast::Expr::Value(Value::I64(n)));
        self
    }

    /// `SELECT DISTINCT`
    pub fn distinct(mut self) -> Self {
        self.0.core.distinct = Some(Distinct::All);
        self
    }

    /// `SELECT DISTINCT ON (exprs)` (PostgreSQL only).
    pub fn distinct_on(mut self, exprs: impl IntoExprs) -> Self {
        let mut list = Vec::new();
        exprs.push_exprs(&mut list, &mut self.0.depth);
        self.0.core.distinct = Some(Distinct::On(list));
        self
    }

    fn lock(mut self, strength: LockStrength) -> Self {
        self.0.locking.push(LockClause { strength, of: Vec::new(), wait: LockWait::Wait });
        self
    }

    /// `FOR UPDATE` (PostgreSQL only).
    pub fn for_update(self) -> Self {
        self.lock(LockStrength::Update)
    }

    /// `FOR NO KEY UPDATE` (PostgreSQL only).
    pub fn for_no_key_update(self) -> Self {
        self.lock(LockStrength::NoKeyUpdate)
    }

    /// `FOR SHARE` (PostgreSQL only).
    pub fn for_share(self) -> Self {
        self.lock(LockStrength::Share)
    }

    /// `FOR KEY SHARE` (PostgreSQL only).
    pub fn for_key_share(self) -> Self {
        self.lock(LockStrength::KeyShare)
    }

    fn last_lock(mut self, f: impl FnOnce(&mut LockClause)) -> Self {
        match self.0.locking.last_mut() {
            Some(lock) => f(lock),
            None => self.0.error = Some("NOWAIT, SKIP LOCKED and OF need a FOR UPDATE/SHARE before them".into()),
        }
        self
    }

    /// `... SKIP LOCKED` on the last lock clause.
    pub fn skip_locked(self) -> Self {
        self.last_lock(|l| l.wait = LockWait::SkipLocked)
    }

    /// `... NOWAIT` on the last lock clause.
    pub fn nowait(self) -> Self {
        self.last_lock(|l| l.wait = LockWait::NoWait)
    }

    /// `... OF table` on the last lock clause: lock only that table's rows.
    pub fn of(self, table: impl crate::schema::TableSource) -> Self {
        let name = table.qualifier().name;
        self.last_lock(|l| l.of.push(name))
    }

    /// `WITH cte ...`: define a common table expression for this query.
    pub fn with(mut self, cte: Cte) -> Self {
        let depth = attach_cte(&mut self.0.with, cte);
        self.deepen(depth);
        self
    }

    fn set_operation(self, op: SetOperator, all: bool, other: impl IntoQuery) -> Compound {
        let (left, ld) = self.into_set_operand();
        let (right, rd) = other.into_set_operand();
        Compound::new(ast::SetExpr::SetOperation { op, all, operands: Box::new([left, right]) }, ld.max(rd))
    }

    /// `self UNION other`
    pub fn union(self, other: impl IntoQuery) -> Compound {
        self.set_operation(SetOperator::Union, false, other)
    }

    /// `self UNION ALL other`
    pub fn union_all(self, other: impl IntoQuery) -> Compound {
        self.set_operation(SetOperator::Union, true, other)
    }

    /// `self INTERSECT other`
    pub fn intersect(self, other: impl IntoQuery) -> Compound {
        self.set_operation(SetOperator::Intersect, false, other)
    }

    /// `self INTERSECT ALL other` (PostgreSQL only).
    pub fn intersect_all(self, other: impl IntoQuery) -> Compound {
        self.set_operation(SetOperator::Intersect, true, other)
    }

    /// `self EXCEPT other`
    pub fn except(self, other: impl IntoQuery) -> Compound {
        self.set_operation(SetOperator::Except, false, other)
    }

    /// `self EXCEPT ALL other` (PostgreSQL only).
    pub fn except_all(self, other: impl IntoQuery) -> Compound {
        self.set_operation(SetOperator::Except, true, other)
    }

    /// Use this query as a derived table `(SELECT ...) AS alias`.
    pub fn subquery(self, alias: impl Into<Ident>) -> Subquery {
        Subquery::new(self, alias)
    }

    /// Use this query as a common table expression named `name`.
    pub fn cte(self, name: impl Into<Ident>) -> Cte {
        Cte::new(self, name)
    }

    /// Use this query as a scalar subquery `(SELECT ...)` of type `T`.
    pub fn scalar<T>(self) -> Expr<T> {
        let (q, depth) = self.into_query_with_depth();
        Expr::compose(ast::Expr::Subquery(Box::new(q)), depth)
    }

    pub(crate) fn parts(&self) -> QueryParts<'_> {
        QueryParts {
            with: self.0.with.as_ref(),
            body: Body::Core(&self.0.core),
            order_by: &self.0.order_by,
            limit: self.0.limit.as_ref(),
            offset: self.0.offset.as_ref(),
            locking: &self.0.locking,
        }
    }
}

/// Add `cte` to a statement's `WITH` clause; its depth.
pub(crate) fn attach_cte(with: &mut Option<With>, cte: Cte) -> u32 {
    // Most statements have one common table expression: room for it, allocated directly.
    let with = with.get_or_insert_with(|| With { recursive: false, ctes: Vec::with_capacity(1) });
    with.recursive |= cte.recursive;
    with.ctes.push(cte.cte);
    cte.depth
}

pub(crate) fn and_optional(existing: Option<ast::Expr>, next: Expr<bool>, depth: &mut u32) -> ast::Expr {
    *depth = (*depth).max(next.depth());
    match existing {
        None => next.into_node(),
        Some(ast::Expr::Logical { op: ast::LogicalOp::And, mut terms }) => {
            terms.push(next.into_node());
            ast::Expr::Logical { op: ast::LogicalOp::And, terms }
        }
        Some(prev) => {
            // Room for two more filters before the list grows.
            let mut terms = Vec::with_capacity(4);
            terms.push(prev);
            terms.push(next.into_node());
            ast::Expr::Logical { op: ast::LogicalOp::And, terms }
        }
    }
}

impl IntoQuery for Select {
    fn into_query_with_depth(self) -> (ast::Query, u32) {
        let depth = self.0.depth.saturating_add(1);
        let q = ast::Query {
            with: self.0.with,
            body: ast::SetExpr::Select(Box::new(self.0.core)),
            order_by: self.0.order_by,
            limit: self.0.limit,
            offset: self.0.offset,
            locking: self.0.locking,
        };
        (q, depth)
    }
}

impl Compile for Select {
    fn write(&self, w: &mut SqlWriter<'_>) -> Result<StatementKind, CompileError> {
        if let Some(error) = &self.0.error {
            return Err(CompileError::invalid(error.clone()));
        }
        w.query_parts(self.parts(), None)?;
        Ok(if self.0.locking.is_empty() { StatementKind::Read } else { StatementKind::Write })
    }

    fn result_columns(&self) -> Option<Vec<Ident>> {
        self.0.core.output_names()
    }
}

/// A set operation (`UNION`, `INTERSECT`, `EXCEPT`) being built, with its
/// own `ORDER BY`, `LIMIT` and `OFFSET`.
#[derive(Debug, Clone)]
#[must_use]
pub struct Compound {
    query: ast::Query,
    depth: u32,
}

impl Compound {
    fn new(body: ast::SetExpr, depth: u32) -> Self {
        Compound { query: ast::Query::new(body), depth }
    }

    fn set_operation(self, op: SetOperator, all: bool, other: impl IntoQuery) -> Compound {
        let (left, ld) = self.into_set_operand();
        let (right, rd) = other.into_set_operand();
        Compound::new(ast::SetExpr::SetOperation { op, all, operands: Box::new([left, right]) }, ld.max(rd))
    }

    /// `... UNION other`
    pub fn union(self, other: impl IntoQuery) -> Compound {
        self.set_operation(SetOperator::Union, false, other)
    }

    /// `... UNION ALL other`
    pub fn union_all(self, other: impl IntoQuery) -> Compound {
        self.set_operation(SetOperator::Union, true, other)
    }

    /// `... INTERSECT other`
    pub fn intersect(self, other: impl IntoQuery) -> Compound {
        self.set_operation(SetOperator::Intersect, false, other)
    }

    /// `... EXCEPT other`
    pub fn except(self, other: impl IntoQuery) -> Compound {
        self.set_operation(SetOperator::Except, false, other)
    }

    /// `ORDER BY item` over the whole result.
    pub fn order_by(mut self, item: impl IntoOrderBy) -> Self {
        let OrderBy { item, depth } = item.into_order_by();
        self.depth = self.depth.max(depth);
        self.query.order_by.push(item);
        self
    }

    /// `LIMIT n`
    pub fn limit(mut self, n: i64) -> Self {
        self.query.limit = Some(ast::Expr::Value(Value::I64(n)));
        self
    }

    /// `OFFSET n`
    pub fn offset(mut self, n: i64) -> Self {
        self.query.offset = Some(ast::Expr::Value(Value::I64(n)));
        self
    }

    /// `WITH cte ...`
    pub fn with(mut self, cte: Cte) -> Self {
        let depth = attach_cte(&mut self.query.with, cte);
        self.depth = self.depth.max(depth);
        self
    }

    /// Use as a derived table.
    pub fn subquery(self, alias: impl Into<Ident>) -> Subquery {
        Subquery::new(self, alias)
    }

    /// Use as a common table expression.
    pub fn cte(self, name: impl Into<Ident>) -> Cte {
        Cte::new(self, name)
    }
}

impl IntoQuery for Compound {
    fn into_query_with_depth(self) -> (ast::Query, u32) {
        (self.query, self.depth.saturating_add(1))
    }
}

impl Compile for Compound {
    fn write(&self, w: &mut SqlWriter<'_>) -> Result<StatementKind, CompileError> {
        w.write_query(&self.query)?;
        Ok(StatementKind::Read)
    }
}

/// A derived table: `(SELECT ...) AS alias [(columns)]`, optionally `LATERAL`.
#[derive(Debug, Clone)]
#[must_use]
pub struct Subquery {
    query: ast::Query,
    alias: Ident,
    columns: Vec<Ident>,
    lateral: bool,
    depth: u32,
}

impl Subquery {
    fn new(query: impl IntoQuery, alias: impl Into<Ident>) -> Self {
        let (query, depth) = query.into_query_with_depth();
        Subquery { query, alias: alias.into(), columns: Vec::new(), lateral: false, depth }
    }

    /// Name the derived table's columns: `AS alias (c1, c2)` (emulated on
    /// SQLite by relabelling the subquery's select list).
    pub fn with_columns(mut self, names: impl IntoColumnNames) -> Self {
        self.columns = column_names(names);
        self
    }

    /// Make it `LATERAL` (PostgreSQL only): it may refer to earlier `FROM` items.
    pub fn lateral(mut self) -> Self {
        self.lateral = true;
        self
    }

    /// A column of the derived table, by name, typed `T`.
    pub fn col<T: SqlType>(&self, name: impl Into<Ident>) -> Expr<T> {
        qualified_column(TableName::new(self.alias.clone()), name)
    }
}

impl IntoTableRef for Subquery {
    fn into_table_ref(self) -> (TableRef, u32) {
        let depth = self.depth;
        let table = TableRef::Derived {
            query: Box::new(self.query),
            alias: self.alias,
            columns: self.columns,
            lateral: self.lateral,
        };
        (table, depth)
    }
}

impl IntoTableRef for &Subquery {
    fn into_table_ref(self) -> (TableRef, u32) {
        self.clone().into_table_ref()
    }
}

fn qualified_column<T>(table: TableName, name: impl Into<Ident>) -> Expr<T> {
    Expr::from_node(ast::Expr::Column(ast::ColumnRef { table: Some(table), name: name.into() }))
}

/// A common table expression: `WITH name (columns) AS (query)`. Attach it
/// with [`Select::with`] and refer to it by reference in `FROM`.
///
/// ```
/// use quarry_core::prelude::*;
/// // WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT n FROM t
/// let t = table_named("t");
/// let n = t.col::<i64>("n");
/// let body = select(lit(1_i64)).union_all(select(n.clone() + 1).from(&t).filter(n.clone().lt(5)));
/// let cte = body.cte("t").columns(["n"]).recursive();
/// let q = select(n).from(&t).with(cte);
/// assert_eq!(
///     q.compile(&Sqlite)?.sql,
///     r#"WITH RECURSIVE "t" ("n") AS (SELECT ?1 UNION ALL SELECT "t"."n" + ?2 FROM "t" WHERE "t"."n" < ?3) SELECT "t"."n" FROM "t""#
/// );
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Cte {
    cte: ast::Cte,
    recursive: bool,
    depth: u32,
}

impl Cte {
    fn new(query: impl IntoQuery, name: impl Into<Ident>) -> Self {
        let (query, depth) = query.into_query_with_depth();
        Cte {
            cte: ast::Cte { name: name.into(), columns: Vec::new(), materialized: None, query: Box::new(query) },
            recursive: false,
            depth,
        }
    }

    /// Name the CTE's columns.
    pub fn columns(mut self, names: impl IntoColumnNames) -> Self {
        self.cte.columns = column_names(names);
        self
    }

    /// Mark it recursive: `WITH RECURSIVE`.
    pub fn recursive(mut self) -> Self {
        self.recursive = true;
        self
    }

    /// `MATERIALIZED` (true) or `NOT MATERIALIZED` (false).
    pub fn materialized(mut self, on: bool) -> Self {
        self.cte.materialized = Some(on);
        self
    }

    /// The CTE's name.
    pub fn name(&self) -> &Ident {
        &self.cte.name
    }

    /// A column of the CTE, by name, typed `T`.
    pub fn col<T: SqlType>(&self, name: impl Into<Ident>) -> Expr<T> {
        qualified_column(TableName::new(self.cte.name.clone()), name)
    }
}

impl IntoTableRef for &Cte {
    fn into_table_ref(self) -> (TableRef, u32) {
        (TableRef::Table { name: TableName::new(self.cte.name.clone()), alias: None }, 1)
    }
}

/// A table known only by name (a CTE referring to itself, a table no
/// schema describes), with columns looked up by name.
#[derive(Debug, Clone)]
pub struct NamedTable {
    name: TableName,
    alias: Option<Ident>,
}

/// A table by name: `FROM "name"`, with untyped or caller-typed columns.
pub fn table_named(name: impl Into<Ident>) -> NamedTable {
    NamedTable { name: TableName::new(name), alias: None }
}

impl NamedTable {
    /// The same table in a schema.
    pub fn in_schema(mut self, schema: impl Into<Ident>) -> Self {
        self.name.schema = Some(schema.into());
        self
    }

    /// The same table under an alias.
    pub fn alias(mut self, alias: impl Into<Ident>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// A column, by name, typed `T`.
    pub fn col<T: SqlType>(&self, name: impl Into<Ident>) -> Expr<T> {
        let qualifier = match &self.alias {
            Some(alias) => TableName::new(alias.clone()),
            None => self.name.clone(),
        };
        qualified_column(qualifier, name)
    }
}

impl IntoTableRef for &NamedTable {
    fn into_table_ref(self) -> (TableRef, u32) {
        (TableRef::Table { name: self.name.clone(), alias: self.alias.clone() }, 1)
    }
}

impl IntoTableRef for NamedTable {
    fn into_table_ref(self) -> (TableRef, u32) {
        (TableRef::Table { name: self.name, alias: self.alias }, 1)
    }
}
