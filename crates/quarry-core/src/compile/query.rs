//! Writing queries: `WITH`, `SELECT`, set operations, `FROM` and joins.

use crate::ast::{
    Cte, Distinct, Expr, Join, JoinKind, LockClause, LockStrength, LockWait, OrderByExpr, Query, RawSql, Select,
    SetExpr, SetOperator, TableName, TableRef, TableWithJoins, With,
};
use crate::dialect::Feature;
use crate::ident::Ident;

use super::{CompileError, SqlWriter};

/// The body of a query being written: a `SELECT` held directly (the typed
/// builder's form) or any [`SetExpr`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum Body<'a> {
    Core(&'a Select),
    Set(&'a SetExpr),
}

/// The clauses of a query around its body.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueryParts<'a> {
    pub(crate) with: Option<&'a With>,
    pub(crate) body: Body<'a>,
    pub(crate) order_by: &'a [OrderByExpr],
    pub(crate) limit: Option<&'a Expr>,
    pub(crate) offset: Option<&'a Expr>,
    pub(crate) locking: &'a [LockClause],
}

impl<'a> QueryParts<'a> {
    pub(crate) fn of(q: &'a Query) -> Self {
        QueryParts {
            with: q.with.as_ref(),
            body: Body::Set(&q.body),
            order_by: &q.order_by,
            limit: q.limit.as_ref(),
            offset: q.offset.as_ref(),
            locking: &q.locking,
        }
    }
}

impl SqlWriter<'_> {
    /// Write a whole query.
    pub fn write_query(&mut self, q: &Query) -> Result<(), CompileError> {
        self.query(q)
    }

    pub(crate) fn query(&mut self, q: &Query) -> Result<(), CompileError> {
        self.query_parts(QueryParts::of(q), None)
    }

    /// Write a query; `labels` renames the columns of its first `SELECT`
    /// (the emulation of derived-table column lists).
    #[allow(
        clippy::question_mark,
        reason = "`?` costs stack in unoptimised builds, on a frame that is there once per nested query"
    )]
    pub(crate) fn query_parts(&mut self, q: QueryParts<'_>, labels: Option<&[Ident]>) -> Result<(), CompileError> {
        if self.depth == 0 && !self.statement_query {
            // The statement's own query is not a level of nesting: its
            // expressions get the whole depth budget, as an INSERT's do.
            self.statement_query = true;
            return self.query_parts_inner(q, labels);
        }
        if let Err(e) = self.enter() {
            return Err(e);
        }
        let result = self.query_parts_inner(q, labels);
        self.depth -= 1;
        result
    }

    #[allow(
        clippy::question_mark,
        reason = "`?` costs stack in unoptimised builds, on a frame that is there once per nested query"
    )]
    fn query_parts_inner(&mut self, q: QueryParts<'_>, labels: Option<&[Ident]>) -> Result<(), CompileError> {
        if let Some(with) = q.with
            && let Err(e) = self.with_clause(with)
        {
            return Err(e);
        }
        let body = match q.body {
            Body::Core(select) => self.select_core(select, labels),
            Body::Set(set) => self.set_expr(set, labels),
        };
        if body.is_err() {
            return body;
        }
        self.query_tail(q)
    }

    /// `ORDER BY`, `LIMIT`/`OFFSET` and locking clauses.
    fn query_tail(&mut self, q: QueryParts<'_>) -> Result<(), CompileError> {
        if !q.order_by.is_empty() {
            self.push_sql(" ORDER BY ");
            self.order_by_list(q.order_by)?;
        }
        let dialect = self.dialect;
        dialect.write_limit_offset(self, q.limit, q.offset)?;
        for lock in q.locking {
            self.lock_clause(lock)?;
        }
        Ok(())
    }

    pub(super) fn with_clause(&mut self, with: &With) -> Result<(), CompileError> {
        if with.ctes.is_empty() {
            return Err(CompileError::invalid("WITH needs at least one common table expression"));
        }
        self.push_sql(if with.recursive { "WITH RECURSIVE " } else { "WITH " });
        self.comma_separated(&with.ctes, |w, cte| w.cte(cte))?;
        self.push_sql(" ");
        Ok(())
    }

    fn cte(&mut self, cte: &Cte) -> Result<(), CompileError> {
        self.push_ident(&cte.name)?;
        if !cte.columns.is_empty() {
            self.push_sql(" (");
            self.ident_list(&cte.columns)?;
            self.push_sql(")");
        }
        self.push_sql(match cte.materialized {
            None => " AS (",
            Some(true) => " AS MATERIALIZED (",
            Some(false) => " AS NOT MATERIALIZED (",
        });
        self.query(&cte.query)?;
        self.push_sql(")");
        Ok(())
    }

    fn set_expr(&mut self, set: &SetExpr, labels: Option<&[Ident]>) -> Result<(), CompileError> {
        match set {
            SetExpr::Select(select) => self.select_core(select, labels),
            SetExpr::Values(rows) => self.values(rows, labels),
            SetExpr::Query(q) => self.query_parts(QueryParts::of(q), labels),
            SetExpr::SetOperation { op, all, operands } => {
                self.set_operation(*op, *all, &operands[0], &operands[1], labels)
            }
        }
    }

    /// `left op [ALL] right`. A left operand with the same operator is
    /// written bare (the operators are left-associative); other compound
    /// operands, and operands with their own `ORDER BY`/`LIMIT`, are nested.
    fn set_operation(
        &mut self,
        op: SetOperator,
        all: bool,
        left: &SetExpr,
        right: &SetExpr,
        labels: Option<&[Ident]>,
    ) -> Result<(), CompileError> {
        match (op, all) {
            (SetOperator::Intersect, true) => self.require(Feature::IntersectAll)?,
            (SetOperator::Except, true) => self.require(Feature::ExceptAll)?,
            _ => {}
        }
        match left {
            SetExpr::Select(_) | SetExpr::Values(_) => self.set_expr(left, labels)?,
            SetExpr::SetOperation { op: lop, all: lall, .. } if *lop == op && *lall == all => {
                self.enter()?;
                let r = self.set_expr(left, labels);
                self.depth -= 1;
                r?;
            }
            _ => self.nested_set_operand(left, labels)?,
        }
        self.push_sql(" ");
        self.push_sql(op.as_sql());
        self.push_sql(if all { " ALL " } else { " " });
        match right {
            SetExpr::Select(_) | SetExpr::Values(_) => self.set_expr(right, None),
            _ => self.nested_set_operand(right, None),
        }
    }

    /// A set operand that is itself a set operation or has its own
    /// `ORDER BY`/`LIMIT`: parenthesised, or a `SELECT * FROM (...)` subquery
    /// where the dialect does not allow parenthesised operands.
    fn nested_set_operand(&mut self, set: &SetExpr, labels: Option<&[Ident]>) -> Result<(), CompileError> {
        let parenthesized = self.dialect.supports(Feature::ParenthesizedSetOperands);
        self.push_sql(if parenthesized { "(" } else { "SELECT * FROM (" });
        self.enter()?;
        let r = self.set_expr(set, labels);
        self.depth -= 1;
        r?;
        self.push_sql(")");
        Ok(())
    }

    fn values(&mut self, rows: &[Vec<Expr>], labels: Option<&[Ident]>) -> Result<(), CompileError> {
        let width = rows.first().map_or(0, Vec::len);
        if width == 0 || rows.iter().any(|r| r.len() != width) {
            return Err(CompileError::invalid("VALUES needs rows of the same, non-zero length"));
        }
        if let Some(labels) = labels {
            // SQLite names VALUES columns column1, column2, ...
            if labels.len() != width {
                return Err(CompileError::invalid(format!("{} column names given for {width} columns", labels.len())));
            }
            self.push_sql("SELECT ");
            for (i, label) in labels.iter().enumerate() {
                if i > 0 {
                    self.push_sql(", ");
                }
                self.push_sql("column");
                self.push_sql(&(i + 1).to_string());
                self.push_sql(" AS ");
                self.push_ident(label)?;
            }
            self.push_sql(" FROM (");
            self.values(rows, None)?;
            self.push_sql(")");
            return Ok(());
        }
        self.push_sql("VALUES ");
        self.comma_separated(rows, |w, row| {
            w.push_sql("(");
            w.write_expr_list(row)?;
            w.push_sql(")");
            Ok(())
        })
    }

    #[allow(
        clippy::question_mark,
        reason = "`?` costs stack in unoptimised builds, on a frame that is there once per nested query"
    )]
    pub(crate) fn select_core(&mut self, s: &Select, labels: Option<&[Ident]>) -> Result<(), CompileError> {
        // One call per clause: this frame is on the stack once per level of
        // nested queries, the clauses' frames one at a time.
        let result = self.select_list(s, labels);
        if result.is_err() {
            return result;
        }
        if !s.from.is_empty() {
            self.push_sql(" FROM ");
            let result = self.write_from_list(&s.from);
            if result.is_err() {
                return result;
            }
        }
        self.select_filters(s)
    }

    /// `SELECT [DISTINCT [ON (...)]] items`, renamed to `labels` when given.
    fn select_list(&mut self, s: &Select, labels: Option<&[Ident]>) -> Result<(), CompileError> {
        if s.projection.is_empty() {
            return Err(CompileError::invalid("SELECT needs at least one column"));
        }
        self.push_sql("SELECT ");
        match &s.distinct {
            None => {}
            Some(Distinct::All) => self.push_sql("DISTINCT "),
            Some(Distinct::On(exprs)) => {
                self.require(Feature::DistinctOn)?;
                self.push_sql("DISTINCT ON (");
                self.write_expr_list(exprs)?;
                self.push_sql(") ");
            }
        }
        if let Some(labels) = labels
            && (labels.len() != s.projection.len() || s.projection.iter().any(|i| matches!(i.expr, Expr::Wildcard(_))))
        {
            return Err(CompileError::invalid(format!(
                "{} column names given for a select list of {} items (wildcards cannot be renamed)",
                labels.len(),
                s.projection.len()
            )));
        }
        for (i, item) in s.projection.iter().enumerate() {
            if i > 0 {
                self.push_sql(", ");
            }
            self.write_expr(&item.expr)?;
            let alias = labels.map(|l| &l[i]).or(item.alias.as_ref());
            if let Some(alias) = alias {
                self.push_sql(" AS ");
                self.push_ident(alias)?;
            }
        }
        Ok(())
    }

    /// `WHERE`, `GROUP BY` and `HAVING`.
    fn select_filters(&mut self, s: &Select) -> Result<(), CompileError> {
        if let Some(selection) = &s.selection {
            self.push_sql(" WHERE ");
            self.write_expr(selection)?;
        }
        if !s.group_by.is_empty() {
            self.push_sql(" GROUP BY ");
            self.write_expr_list(&s.group_by)?;
        }
        if let Some(having) = &s.having {
            self.push_sql(" HAVING ");
            self.write_expr(having)?;
        }
        Ok(())
    }

    pub(crate) fn write_from_list(&mut self, from: &[TableWithJoins]) -> Result<(), CompileError> {
        self.comma_separated(from, |w, t| {
            w.table_ref(&t.relation)?;
            for join in &t.joins {
                w.join(join)?;
            }
            Ok(())
        })
    }

    fn join(&mut self, join: &Join) -> Result<(), CompileError> {
        self.push_sql(" ");
        self.push_sql(join.kind.as_sql());
        self.push_sql(" ");
        self.table_ref(&join.relation)?;
        match (join.kind, &join.on) {
            (JoinKind::Cross, None) => Ok(()),
            (JoinKind::Cross, Some(_)) => Err(CompileError::invalid("CROSS JOIN takes no ON condition")),
            (_, Some(on)) => {
                self.push_sql(" ON ");
                self.write_expr(on)
            }
            (kind, None) => Err(CompileError::invalid(format!("{} needs an ON condition", kind.as_sql()))),
        }
    }

    pub(crate) fn table_ref(&mut self, t: &TableRef) -> Result<(), CompileError> {
        match t {
            TableRef::Table { name, alias } => self.plain_table_ref(name, alias.as_ref()),
            TableRef::Derived { query, alias, columns, lateral } => self.derived_table(query, alias, columns, *lateral),
            TableRef::Raw { sql, alias } => self.raw_table_ref(sql, alias.as_ref()),
        }
    }

    fn plain_table_ref(&mut self, name: &TableName, alias: Option<&Ident>) -> Result<(), CompileError> {
        self.push_table_name(name)?;
        if let Some(alias) = alias {
            self.push_sql(" AS ");
            self.push_ident(alias)?;
        }
        Ok(())
    }

    fn raw_table_ref(&mut self, sql: &RawSql, alias: Option<&Ident>) -> Result<(), CompileError> {
        self.raw(sql)?;
        if let Some(alias) = alias {
            self.push_sql(" AS ");
            self.push_ident(alias)?;
        }
        Ok(())
    }

    /// `[LATERAL] (query) AS "alias" [("c1", ...)]`; the column list is
    /// emulated by relabelling the query's select list where the dialect has
    /// no derived column lists.
    fn derived_table(
        &mut self,
        query: &Query,
        alias: &Ident,
        columns: &[Ident],
        lateral: bool,
    ) -> Result<(), CompileError> {
        if lateral {
            self.require(Feature::Lateral)?;
            self.push_sql("LATERAL ");
        }
        let emulate = !columns.is_empty() && !self.dialect.supports(Feature::DerivedColumnList);
        self.push_sql("(");
        if emulate {
            self.query_parts(QueryParts::of(query), Some(columns))?;
        } else {
            self.query(query)?;
        }
        self.push_sql(") AS ");
        self.push_ident(alias)?;
        if !columns.is_empty() && !emulate {
            self.push_sql(" (");
            self.ident_list(columns)?;
            self.push_sql(")");
        }
        Ok(())
    }

    fn lock_clause(&mut self, lock: &LockClause) -> Result<(), CompileError> {
        self.require(Feature::RowLocking)?;
        self.push_sql(match lock.strength {
            LockStrength::Update => " FOR UPDATE",
            LockStrength::NoKeyUpdate => " FOR NO KEY UPDATE",
            LockStrength::Share => " FOR SHARE",
            LockStrength::KeyShare => " FOR KEY SHARE",
        });
        if !lock.of.is_empty() {
            self.push_sql(" OF ");
            self.ident_list(&lock.of)?;
        }
        match lock.wait {
            LockWait::Wait => {}
            LockWait::NoWait => self.push_sql(" NOWAIT"),
            LockWait::SkipLocked => self.push_sql(" SKIP LOCKED"),
        }
        Ok(())
    }
}
