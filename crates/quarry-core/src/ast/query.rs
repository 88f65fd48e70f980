//! `SELECT` queries, set operations, joins and common table expressions.

use crate::ident::Ident;

use super::{Expr, OrderByExpr, RawSql, TableName};

/// A whole query: `[WITH ...] body [ORDER BY ...] [LIMIT ...] [OFFSET ...] [FOR UPDATE ...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// `WITH [RECURSIVE] ...`
    pub with: Option<With>,
    /// The `SELECT`, set operation or `VALUES`.
    pub body: SetExpr,
    /// `ORDER BY`
    pub order_by: Vec<OrderByExpr>,
    /// `LIMIT` (bound).
    pub limit: Option<Expr>,
    /// `OFFSET` (bound).
    pub offset: Option<Expr>,
    /// `FOR UPDATE` / `FOR SHARE` clauses (PostgreSQL only).
    pub locking: Vec<LockClause>,
}

impl Query {
    /// A query whose body is `body` and nothing else.
    pub fn new(body: SetExpr) -> Self {
        Query { with: None, body, order_by: Vec::new(), limit: None, offset: None, locking: Vec::new() }
    }

    /// Whether this query has a clause that applies after its body
    /// (`ORDER BY`, `LIMIT`, `OFFSET`, locking) or a `WITH`.
    pub fn has_tail(&self) -> bool {
        self.with.is_some()
            || !self.order_by.is_empty()
            || self.limit.is_some()
            || self.offset.is_some()
            || !self.locking.is_empty()
    }
}

/// The body of a query.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SetExpr {
    /// `SELECT ...`
    Select(Box<Select>),
    /// `left UNION|INTERSECT|EXCEPT [ALL] right`
    SetOperation {
        /// The operator.
        op: SetOperator,
        /// `ALL` when true.
        all: bool,
        /// The left and the right operand, in one allocation.
        operands: Box<[SetExpr; 2]>,
    },
    /// A nested query with its own `ORDER BY`/`LIMIT`, as an operand of a set operation.
    Query(Box<Query>),
    /// `VALUES (...), (...)`
    Values(Vec<Vec<Expr>>),
}

/// A set operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetOperator {
    /// `UNION`
    Union,
    /// `INTERSECT`
    Intersect,
    /// `EXCEPT`
    Except,
}

impl SetOperator {
    /// The operator's SQL keyword.
    pub fn as_sql(self) -> &'static str {
        match self {
            SetOperator::Union => "UNION",
            SetOperator::Intersect => "INTERSECT",
            SetOperator::Except => "EXCEPT",
        }
    }
}

/// `SELECT [DISTINCT [ON (...)]] items FROM ... WHERE ... GROUP BY ... HAVING ...`
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Select {
    /// `DISTINCT` or `DISTINCT ON (...)`.
    pub distinct: Option<Distinct>,
    /// The select list (never empty when compiled).
    pub projection: Vec<SelectItem>,
    /// `FROM a JOIN b ..., c`
    pub from: Vec<TableWithJoins>,
    /// `WHERE`
    pub selection: Option<Expr>,
    /// `GROUP BY`
    pub group_by: Vec<Expr>,
    /// `HAVING`
    pub having: Option<Expr>,
}

impl Select {
    /// The names of the result columns, when each item has one: its label,
    /// or the name of the column it is. `None` when an item is any other
    /// expression (the database would name it) or a wildcard.
    pub fn output_names(&self) -> Option<Vec<Ident>> {
        self.projection
            .iter()
            .map(|item| match (&item.alias, &item.expr) {
                (Some(alias), _) => Some(alias.clone()),
                (None, Expr::Column(c)) => Some(c.name.clone()),
                (None, Expr::StaticColumn(c)) => Some(c.name()),
                (None, _) => None,
            })
            .collect()
    }
}

/// `DISTINCT` or `DISTINCT ON (...)` (PostgreSQL only).
#[derive(Clone, Debug, PartialEq)]
pub enum Distinct {
    /// `DISTINCT`
    All,
    /// `DISTINCT ON (a, b)`
    On(Vec<Expr>),
}

/// `expr [AS alias]` in a select list or `RETURNING` clause.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectItem {
    /// The expression.
    pub expr: Expr,
    /// `AS "alias"`
    pub alias: Option<Ident>,
}

impl SelectItem {
    /// An unaliased item.
    pub fn new(expr: Expr) -> Self {
        SelectItem { expr, alias: None }
    }

    /// An aliased item.
    pub fn aliased(expr: Expr, alias: impl Into<Ident>) -> Self {
        SelectItem { expr, alias: Some(alias.into()) }
    }
}

/// A `FROM` item and the joins that follow it.
#[derive(Clone, Debug, PartialEq)]
pub struct TableWithJoins {
    /// The first table.
    pub relation: TableRef,
    /// `JOIN ... ON ...` clauses.
    pub joins: Vec<Join>,
}

/// A table-like thing in `FROM`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TableRef {
    /// `"schema"."table" [AS "alias"]`
    Table {
        /// The table.
        name: TableName,
        /// Its alias.
        alias: Option<Ident>,
    },
    /// `[LATERAL] (SELECT ...) AS "alias" [("c1", "c2")]`
    Derived {
        /// The subquery.
        query: Box<Query>,
        /// The alias (required).
        alias: Ident,
        /// Column names for the derived table (emulated on SQLite by
        /// relabelling the subquery's select list).
        columns: Vec<Ident>,
        /// `LATERAL` (PostgreSQL only).
        lateral: bool,
    },
    /// A raw fragment such as `generate_series(1, :n)`, with an alias.
    Raw {
        /// The fragment.
        sql: RawSql,
        /// Its alias.
        alias: Option<Ident>,
    },
}

/// `[kind] JOIN relation [ON condition]`
#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    /// The kind of join.
    pub kind: JoinKind,
    /// The joined table.
    pub relation: TableRef,
    /// The `ON` condition; required except for `CROSS JOIN`.
    pub on: Option<Expr>,
}

/// The kinds of join.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinKind {
    /// `JOIN`
    Inner,
    /// `LEFT JOIN`
    Left,
    /// `RIGHT JOIN`
    Right,
    /// `FULL JOIN`
    Full,
    /// `CROSS JOIN`
    Cross,
}

impl JoinKind {
    /// The join's SQL keywords.
    pub fn as_sql(self) -> &'static str {
        match self {
            JoinKind::Inner => "JOIN",
            JoinKind::Left => "LEFT JOIN",
            JoinKind::Right => "RIGHT JOIN",
            JoinKind::Full => "FULL JOIN",
            JoinKind::Cross => "CROSS JOIN",
        }
    }
}

/// `WITH [RECURSIVE] cte, ...`
#[derive(Clone, Debug, PartialEq)]
pub struct With {
    /// `RECURSIVE`
    pub recursive: bool,
    /// The common table expressions, in order.
    pub ctes: Vec<Cte>,
}

/// `"name" ("c1", ...) AS [NOT] [MATERIALIZED] (query)`
#[derive(Clone, Debug, PartialEq)]
pub struct Cte {
    /// The CTE's name.
    pub name: Ident,
    /// Its column names (optional).
    pub columns: Vec<Ident>,
    /// `MATERIALIZED` (true) or `NOT MATERIALIZED` (false).
    pub materialized: Option<bool>,
    /// The query.
    pub query: Box<Query>,
}

/// `FOR UPDATE|NO KEY UPDATE|SHARE|KEY SHARE [OF ...] [NOWAIT|SKIP LOCKED]`
#[derive(Clone, Debug, PartialEq)]
pub struct LockClause {
    /// The lock strength.
    pub strength: LockStrength,
    /// `OF "t1", "t2"`
    pub of: Vec<Ident>,
    /// `NOWAIT` or `SKIP LOCKED`.
    pub wait: LockWait,
}

/// Row lock strength.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockStrength {
    /// `FOR UPDATE`
    Update,
    /// `FOR NO KEY UPDATE`
    NoKeyUpdate,
    /// `FOR SHARE`
    Share,
    /// `FOR KEY SHARE`
    KeyShare,
}

/// What to do with rows locked by others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockWait {
    /// Wait for them.
    Wait,
    /// `NOWAIT`: fail at once.
    NoWait,
    /// `SKIP LOCKED`: leave them out.
    SkipLocked,
}
