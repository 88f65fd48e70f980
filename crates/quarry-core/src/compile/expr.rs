//! Writing scalar expressions and function calls.

use crate::ast::{
    BinaryOp, ColumnRef, DateField, Expr, FrameBound, FrameUnits, Func, FunctionCall, LogicalOp, NullsOrder,
    OrderByExpr, Query, SortDirection, StaticColumnRef, TableName, UnaryOp, WindowSpec,
};
use crate::dialect::Feature;
use crate::value::Value;

use super::{CompileError, SqlWriter};

/// Lists longer than this are written as a balanced tree of parenthesised
/// halves, so that SQLite's parser (which nests `a AND b AND c` to the left)
/// stays under its expression depth limit of 1000.
const FLAT_LOGICAL_TERMS: usize = 64;

impl SqlWriter<'_> {
    /// The SQL text written so far, for dialects that write directly.
    pub fn sql_mut(&mut self) -> &mut String {
        &mut self.sql
    }

    /// Dispatch on the node. Every arm is one call, so that this frame,
    /// which is on the stack once per level of nesting, stays small even in
    /// unoptimised builds (each arm's temporaries would otherwise all be
    /// allocated here); the helpers' frames are only there one at a time.
    pub(super) fn expr_inner(&mut self, expr: &Expr) -> Result<(), CompileError> {
        match expr {
            Expr::Column(c) => self.column_ref(c),
            Expr::StaticColumn(c) => self.static_column_ref(c),
            Expr::Wildcard(t) => self.wildcard(t.as_ref()),
            Expr::Value(v) => self.push_value(v),
            Expr::TypedValue { value, ty } => self.dialect.write_typed_value(self, value, ty),
            Expr::Param { name, ty } => self.param(name, ty.as_ref()),
            Expr::Raw(raw) => self.raw(raw),
            Expr::Default => self.keyword("DEFAULT"),
            Expr::Excluded(name) => self.excluded(name),
            Expr::Unary { op, expr } => self.unary(*op, expr),
            Expr::Binary { op, operands } => self.binary(&operands[0], *op, &operands[1]),
            Expr::Logical { op, terms } => self.logical(*op, terms),
            Expr::IsNull { expr, negated } => self.is_null(expr, *negated),
            Expr::IsDistinctFrom { left, right, negated } => self.is_distinct_from(left, right, *negated),
            Expr::InList { expr, list, negated } => self.in_list(expr, list, *negated),
            Expr::InValues { expr, values, negated } => self.in_values(expr, values, *negated),
            Expr::InSubquery { expr, query, negated } => self.in_subquery(expr, query, *negated),
            Expr::Between { expr, low, high, negated } => self.between(expr, low, high, *negated),
            Expr::Like { operands, escape, case_insensitive, negated } => {
                self.like(&operands[0], &operands[1], *escape, *case_insensitive, *negated)
            }
            Expr::Case { operand, whens, else_result } => self.case(operand.as_deref(), whens, else_result.as_deref()),
            Expr::Cast { expr, ty } => self.dialect.write_cast(self, expr, ty),
            Expr::Function(call) => self.dialect.write_function(self, call),
            Expr::Exists { query, negated } => self.exists(query, *negated),
            Expr::Subquery(query) => self.subquery(query),
            Expr::Tuple(items) => self.tuple(items),
            Expr::TooDeep => Err(CompileError::TooDeep { limit: crate::MAX_DEPTH }),
        }
    }

    /// A named parameter: its bound value when there is one (a prepared
    /// statement run with its values), else, when preparing, a placeholder
    /// whose position is recorded; anything else is a missing bind.
    fn param(&mut self, name: &crate::Ident, ty: Option<&crate::schema::ColumnType>) -> Result<(), CompileError> {
        let bound = self.bindings.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let was_bound = bound.is_some();
        let value = match bound {
            Some(value) => value,
            None if self.slots.is_some() && !self.inline_values => Value::Null,
            None => return Err(CompileError::MissingBind { name: name.to_string() }),
        };
        match ty {
            Some(ty) => self.dialect.write_typed_value(self, &value, ty)?,
            None => self.push_value(&value)?,
        }
        let number = self.params_written();
        if !was_bound && let Some(slots) = &mut self.slots {
            // The placeholder just written is the last parameter.
            slots.push((name.clone(), number));
        }
        Ok(())
    }

    fn keyword(&mut self, keyword: &str) -> Result<(), CompileError> {
        self.push_sql(keyword);
        Ok(())
    }

    fn wildcard(&mut self, table: Option<&TableName>) -> Result<(), CompileError> {
        if let Some(t) = table {
            self.push_table_name(t)?;
            self.push_sql(".");
        }
        self.push_sql("*");
        Ok(())
    }

    fn excluded(&mut self, name: &crate::Ident) -> Result<(), CompileError> {
        self.push_sql("excluded.");
        self.push_ident(name)
    }

    fn unary(&mut self, op: UnaryOp, expr: &Expr) -> Result<(), CompileError> {
        match op {
            UnaryOp::Not => {
                self.push_sql("NOT ");
                self.write_child(expr, Binding::Predicate)
            }
            UnaryOp::Neg => {
                self.push_sql("-");
                let operand = self.sql.len();
                self.write_operand(expr)?;
                // An operand written inline may begin with a minus of its
                // own (a negative number in debug SQL or DDL): `--` would
                // start a comment.
                if self.sql[operand..].starts_with('-') {
                    self.sql.insert(operand, ' ');
                }
                Ok(())
            }
        }
    }

    fn binary(&mut self, left: &Expr, op: BinaryOp, right: &Expr) -> Result<(), CompileError> {
        let min = operand_binding(op);
        self.write_child(left, min)?;
        self.push_sql(" ");
        self.push_sql(op.as_sql());
        self.push_sql(" ");
        self.write_child(right, min)
    }

    fn is_null(&mut self, expr: &Expr, negated: bool) -> Result<(), CompileError> {
        self.write_child(expr, Binding::Arithmetic)?;
        self.push_sql(if negated { " IS NOT NULL" } else { " IS NULL" });
        Ok(())
    }

    fn is_distinct_from(&mut self, left: &Expr, right: &Expr, negated: bool) -> Result<(), CompileError> {
        self.write_child(left, Binding::Arithmetic)?;
        self.push_sql(if negated { " IS NOT DISTINCT FROM " } else { " IS DISTINCT FROM " });
        self.write_child(right, Binding::Arithmetic)
    }

    fn in_list(&mut self, expr: &Expr, list: &[Expr], negated: bool) -> Result<(), CompileError> {
        if list.is_empty() {
            // `IN ()` is not PostgreSQL syntax: write the constant it means
            // (false even for a NULL operand, as SQLite evaluates it).
            self.dialect.write_constant_predicate(negated, &mut self.sql);
            return Ok(());
        }
        self.write_child(expr, Binding::Arithmetic)?;
        self.push_sql(if negated { " NOT IN (" } else { " IN (" });
        self.write_expr_list(list)?;
        self.push_sql(")");
        Ok(())
    }

    fn in_subquery(&mut self, expr: &Expr, query: &Query, negated: bool) -> Result<(), CompileError> {
        self.write_child(expr, Binding::Arithmetic)?;
        self.push_sql(if negated { " NOT IN (" } else { " IN (" });
        self.query(query)?;
        self.push_sql(")");
        Ok(())
    }

    fn between(&mut self, expr: &Expr, low: &Expr, high: &Expr, negated: bool) -> Result<(), CompileError> {
        self.write_child(expr, Binding::Arithmetic)?;
        self.push_sql(if negated { " NOT BETWEEN " } else { " BETWEEN " });
        self.write_child(low, Binding::Arithmetic)?;
        self.push_sql(" AND ");
        self.write_child(high, Binding::Arithmetic)
    }

    fn case(
        &mut self,
        operand: Option<&Expr>,
        whens: &[(Expr, Expr)],
        else_result: Option<&Expr>,
    ) -> Result<(), CompileError> {
        if whens.is_empty() {
            return Err(CompileError::invalid("CASE needs at least one WHEN"));
        }
        self.push_sql("CASE");
        if let Some(operand) = operand {
            self.push_sql(" ");
            self.write_operand(operand)?;
        }
        for (when, then) in whens {
            self.push_sql(" WHEN ");
            self.write_expr(when)?;
            self.push_sql(" THEN ");
            self.write_expr(then)?;
        }
        if let Some(e) = else_result {
            self.push_sql(" ELSE ");
            self.write_expr(e)?;
        }
        self.push_sql(" END");
        Ok(())
    }

    fn exists(&mut self, query: &Query, negated: bool) -> Result<(), CompileError> {
        self.push_sql(if negated { "NOT EXISTS (" } else { "EXISTS (" });
        self.query(query)?;
        self.push_sql(")");
        Ok(())
    }

    fn subquery(&mut self, query: &Query) -> Result<(), CompileError> {
        self.push_sql("(");
        self.query(query)?;
        self.push_sql(")");
        Ok(())
    }

    fn tuple(&mut self, items: &[Expr]) -> Result<(), CompileError> {
        if items.is_empty() {
            return Err(CompileError::invalid("a row value needs at least one element"));
        }
        self.push_sql("(");
        self.write_expr_list(items)?;
        self.push_sql(")");
        Ok(())
    }

    /// Write `expr` as the operand of an operator that binds tighter than
    /// any compound expression (arithmetic, unary minus, dialect functions):
    /// parenthesised unless atomic (a column, value, call, `CASE`, subquery...).
    pub fn write_operand(&mut self, expr: &Expr) -> Result<(), CompileError> {
        self.write_child(expr, Binding::Atom)
    }

    /// Write `expr` where only expressions binding at least as tightly as
    /// `min` may stand bare; others are parenthesised. Only the bindings
    /// that PostgreSQL and SQLite agree on are relied upon (their
    /// precedences of `||` and arithmetic differ, so those always nest in
    /// parentheses).
    fn write_child(&mut self, expr: &Expr, min: Binding) -> Result<(), CompileError> {
        if binding(expr) >= min {
            return self.write_expr(expr);
        }
        self.push_sql("(");
        let result = self.write_expr(expr);
        self.push_sql(")");
        result
    }

    fn column_ref(&mut self, c: &ColumnRef) -> Result<(), CompileError> {
        if let Some(t) = &c.table {
            self.push_table_name(t)?;
            self.push_sql(".");
        }
        self.push_ident(&c.name)
    }

    /// A declared table's column: its reference quoted when the table was
    /// declared, copied in one piece under the standard double quote.
    fn static_column_ref(&mut self, c: &StaticColumnRef) -> Result<(), CompileError> {
        match c.quoted(self.max_identifier_bytes) {
            Some(quoted) if self.quote == '"' => {
                self.sql.push_str(quoted);
                Ok(())
            }
            _ => self.column_ref(&c.to_column_ref()),
        }
    }

    fn logical(&mut self, op: LogicalOp, terms: &[Expr]) -> Result<(), CompileError> {
        match terms {
            [] => Err(no_terms(op)),
            [only] => self.write_expr(only),
            _ if terms.len() <= FLAT_LOGICAL_TERMS => self.flat_logical(op, terms),
            _ => {
                let (left, right) = terms.split_at(terms.len() / 2);
                self.enter()?;
                let result = self.balanced_halves(op, left, right);
                self.depth -= 1;
                result
            }
        }
    }

    fn flat_logical(&mut self, op: LogicalOp, terms: &[Expr]) -> Result<(), CompileError> {
        for (i, t) in terms.iter().enumerate() {
            if i > 0 {
                self.push_sql(" ");
                self.push_sql(op.as_sql());
                self.push_sql(" ");
            }
            self.write_child(t, Binding::Not)?;
        }
        Ok(())
    }

    fn balanced_halves(&mut self, op: LogicalOp, left: &[Expr], right: &[Expr]) -> Result<(), CompileError> {
        self.push_sql("(");
        self.logical(op, left)?;
        self.push_sql(") ");
        self.push_sql(op.as_sql());
        self.push_sql(" (");
        self.logical(op, right)?;
        self.push_sql(")");
        Ok(())
    }

    fn in_values(&mut self, expr: &Expr, values: &std::sync::Arc<[Value]>, negated: bool) -> Result<(), CompileError> {
        if self.dialect.supports(Feature::ArrayParameters) {
            self.write_child(expr, Binding::Arithmetic)?;
            self.push_sql(if negated { " <> ALL(" } else { " = ANY(" });
            self.push_value(&Value::Array(values.clone()))?;
            self.push_sql(")");
            return Ok(());
        }
        if values.is_empty() {
            // SQLite reads `IN ()` as FALSE, which its parser may fold into
            // an integer (see `write_constant_predicate`).
            self.dialect.write_constant_predicate(negated, &mut self.sql);
            return Ok(());
        }
        self.write_child(expr, Binding::Arithmetic)?;
        self.push_sql(if negated { " NOT IN (" } else { " IN (" });
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push_sql(", ");
            }
            self.push_value(v)?;
        }
        self.push_sql(")");
        Ok(())
    }

    fn like(
        &mut self,
        expr: &Expr,
        pattern: &Expr,
        escape: Option<char>,
        case_insensitive: bool,
        negated: bool,
    ) -> Result<(), CompileError> {
        let not = if negated { " NOT" } else { "" };
        if case_insensitive && !self.dialect.supports(Feature::ILike) {
            self.push_sql("lower(");
            self.write_expr(expr)?;
            self.push_sql(")");
            self.push_sql(not);
            self.push_sql(" LIKE lower(");
            self.write_expr(pattern)?;
            self.push_sql(")");
        } else {
            self.write_child(expr, Binding::Arithmetic)?;
            self.push_sql(not);
            self.push_sql(if case_insensitive { " ILIKE " } else { " LIKE " });
            self.write_child(pattern, Binding::Arithmetic)?;
        }
        match escape {
            Some('\0') => return Err(CompileError::invalid("a LIKE escape character cannot be NUL")),
            Some(c) => {
                self.push_sql(" ESCAPE ");
                let dialect = self.dialect;
                dialect.write_literal(&Value::Text(c.to_string().into()), &mut self.sql)?;
            }
            // Standard SQL has no escape character unless one is given; a
            // database that escapes with `\` by default is told not to.
            None if self.dialect.supports(Feature::BackslashLikeEscape) => self.push_sql(" ESCAPE ''"),
            None => {}
        }
        Ok(())
    }

    /// `SUBSTRING` start positions below 1 mean different things on
    /// different databases: refuse them when they are known.
    pub fn check_substring_start(&self, start: &Expr) -> Result<(), CompileError> {
        let value = match start {
            Expr::Value(v) | Expr::TypedValue { value: v, .. } => Some(v),
            _ => None,
        };
        let below_one = match value {
            Some(Value::I64(n)) => *n < 1,
            Some(Value::I32(n)) => *n < 1,
            Some(Value::I16(n)) => *n < 1,
            _ => false,
        };
        if below_one {
            return Err(CompileError::invalid("SUBSTRING start must be 1 or more"));
        }
        Ok(())
    }

    /// Write a function call in standard SQL, with `DISTINCT`, `FILTER` and `OVER`.
    pub fn write_function_standard(&mut self, call: &FunctionCall) -> Result<(), CompileError> {
        // One call per arm: this frame is on the stack once per level of
        // nested calls (see `expr_inner`).
        match (&call.func, call.args.as_slice()) {
            (Func::Substring, [s, start, rest @ ..]) if rest.len() <= 1 => {
                self.substring_standard(s, start, rest.first())
            }
            (Func::Now, []) => self.keyword("CURRENT_TIMESTAMP"),
            (Func::CurrentDate, []) => self.keyword("CURRENT_DATE"),
            (Func::Extract { field, .. }, [x]) => self.extract_standard(*field, x),
            (Func::DateAdd { .. }, _) => {
                Err(CompileError::Unsupported { construct: "date arithmetic", dialect: self.dialect.name() })
            }
            _ => match standard_name(call) {
                Ok(name) => self.write_call(name, call),
                Err(e) => Err(e),
            },
        }
    }

    fn substring_standard(&mut self, s: &Expr, start: &Expr, len: Option<&Expr>) -> Result<(), CompileError> {
        self.check_substring_start(start)?;
        self.push_sql("SUBSTRING(");
        self.write_expr(s)?;
        self.push_sql(" FROM ");
        self.write_expr(start)?;
        if let Some(len) = len {
            self.push_sql(" FOR ");
            self.write_expr(len)?;
        }
        self.push_sql(")");
        Ok(())
    }

    fn extract_standard(&mut self, field: DateField, x: &Expr) -> Result<(), CompileError> {
        self.push_sql("EXTRACT(");
        self.push_sql(match field {
            DateField::Year => "YEAR",
            DateField::Month => "MONTH",
            DateField::Day => "DAY",
            DateField::Hour => "HOUR",
            DateField::Minute => "MINUTE",
            DateField::Second => "SECOND",
            DateField::DayOfWeek => "DOW",
            DateField::DayOfYear => "DOY",
            DateField::Epoch => "EPOCH",
        });
        self.push_sql(" FROM ");
        self.write_expr(x)?;
        self.push_sql(")");
        Ok(())
    }

    /// Write `name(args)` with `DISTINCT`, `FILTER` and `OVER`; `name` is
    /// SQL text written by Quarry or a checked plain name.
    pub(crate) fn write_call(&mut self, name: &str, call: &FunctionCall) -> Result<(), CompileError> {
        let args = call.args.as_slice();
        self.push_sql(name);
        self.push_sql("(");
        if call.distinct {
            self.push_sql("DISTINCT ");
        }
        self.write_expr_list(args)?;
        self.push_sql(")");
        if let Some(filter) = &call.filter {
            self.push_sql(" FILTER (WHERE ");
            self.write_expr(filter)?;
            self.push_sql(")");
        }
        if let Some(over) = &call.over {
            self.push_sql(" OVER (");
            self.window_spec(over)?;
            self.push_sql(")");
        }
        Ok(())
    }

    fn window_spec(&mut self, w: &WindowSpec) -> Result<(), CompileError> {
        let mut sep = "";
        if !w.partition_by.is_empty() {
            self.push_sql("PARTITION BY ");
            self.write_expr_list(&w.partition_by)?;
            sep = " ";
        }
        if !w.order_by.is_empty() {
            self.push_sql(sep);
            self.push_sql("ORDER BY ");
            self.order_by_list(&w.order_by)?;
            sep = " ";
        }
        if let Some(frame) = &w.frame {
            self.push_sql(sep);
            self.push_sql(match frame.units {
                FrameUnits::Rows => "ROWS ",
                FrameUnits::Range => "RANGE ",
                FrameUnits::Groups => "GROUPS ",
            });
            match &frame.end {
                Some(end) => {
                    self.push_sql("BETWEEN ");
                    self.frame_bound(&frame.start)?;
                    self.push_sql(" AND ");
                    self.frame_bound(end)?;
                }
                None => self.frame_bound(&frame.start)?,
            }
        }
        Ok(())
    }

    fn frame_bound(&mut self, b: &FrameBound) -> Result<(), CompileError> {
        match b {
            FrameBound::UnboundedPreceding => self.push_sql("UNBOUNDED PRECEDING"),
            FrameBound::CurrentRow => self.push_sql("CURRENT ROW"),
            FrameBound::UnboundedFollowing => self.push_sql("UNBOUNDED FOLLOWING"),
            FrameBound::Preceding(n) => {
                self.write_operand(n)?;
                self.push_sql(" PRECEDING");
            }
            FrameBound::Following(n) => {
                self.write_operand(n)?;
                self.push_sql(" FOLLOWING");
            }
        }
        Ok(())
    }

    pub(super) fn order_by_list(&mut self, items: &[OrderByExpr]) -> Result<(), CompileError> {
        self.comma_separated(items, |w, item| {
            w.write_expr(&item.expr)?;
            match item.direction {
                Some(SortDirection::Asc) => w.push_sql(" ASC"),
                Some(SortDirection::Desc) => w.push_sql(" DESC"),
                None => {}
            }
            match item.nulls {
                Some(NullsOrder::First) => w.push_sql(" NULLS FIRST"),
                Some(NullsOrder::Last) => w.push_sql(" NULLS LAST"),
                None => {}
            }
            Ok(())
        })
    }
}

/// How tightly an expression binds, loosest first: an expression may stand
/// bare as the operand of one that requires no more than its binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Binding {
    /// `AND`, `OR`, raw fragments (unknown, so always parenthesised).
    Logical,
    /// `NOT x`
    Not,
    /// Comparisons, `IS`, `IN`, `BETWEEN`, `LIKE`.
    Predicate,
    /// `+ - * / % ||` and unary minus.
    Arithmetic,
    /// Columns, values, calls, `CASE`, `CAST`, subqueries, row values.
    Atom,
}

fn binding(expr: &Expr) -> Binding {
    match expr {
        Expr::Raw(_) => Binding::Logical,
        Expr::Logical { terms, .. } if terms.len() == 1 => binding(&terms[0]),
        Expr::Logical { .. } => Binding::Logical,
        Expr::Binary { op: BinaryOp::And | BinaryOp::Or, .. } => Binding::Logical,
        Expr::Unary { op: UnaryOp::Not, .. } => Binding::Not,
        Expr::Binary {
            op: BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq,
            ..
        }
        | Expr::IsNull { .. }
        | Expr::IsDistinctFrom { .. }
        | Expr::InList { .. }
        | Expr::InValues { .. }
        | Expr::InSubquery { .. }
        | Expr::Between { .. }
        | Expr::Like { .. } => Binding::Predicate,
        Expr::Binary { .. } | Expr::Unary { op: UnaryOp::Neg, .. } => Binding::Arithmetic,
        Expr::Column(_)
        | Expr::StaticColumn(_)
        | Expr::Wildcard(_)
        | Expr::Value(_)
        | Expr::TypedValue { .. }
        | Expr::Param { .. }
        | Expr::Default
        | Expr::Excluded(_)
        | Expr::Case { .. }
        | Expr::Cast { .. }
        | Expr::Function(_)
        | Expr::Exists { .. }
        | Expr::Subquery(_)
        | Expr::Tuple(_)
        | Expr::TooDeep => Binding::Atom,
    }
}

/// What the operands of a binary operator must bind at least as tightly as.
fn operand_binding(op: BinaryOp) -> Binding {
    match op {
        BinaryOp::And | BinaryOp::Or => Binding::Not,
        BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => {
            Binding::Arithmetic
        }
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Concat => {
            Binding::Atom
        }
    }
}

#[cold]
fn no_terms(op: LogicalOp) -> CompileError {
    CompileError::invalid(format!("{} of no terms", op.as_sql()))
}

/// The standard SQL name of a function called with ordinary arguments.
fn standard_name(call: &FunctionCall) -> Result<&str, CompileError> {
    Ok(match &call.func {
        Func::Count => "count",
        Func::Sum => "sum",
        Func::Avg => "avg",
        Func::Min => "min",
        Func::Max => "max",
        Func::RowNumber => "row_number",
        Func::Rank => "rank",
        Func::DenseRank => "dense_rank",
        Func::PercentRank => "percent_rank",
        Func::CumeDist => "cume_dist",
        Func::Ntile => "ntile",
        Func::Lag => "lag",
        Func::Lead => "lead",
        Func::FirstValue => "first_value",
        Func::LastValue => "last_value",
        Func::NthValue => "nth_value",
        Func::Coalesce => "COALESCE",
        Func::NullIf => "NULLIF",
        Func::Greatest => "GREATEST",
        Func::Least => "LEAST",
        Func::Lower => "lower",
        Func::Upper => "upper",
        Func::Length => "length",
        Func::Round => "round",
        Func::Abs => "abs",
        Func::Trim => "trim",
        Func::Replace => "replace",
        Func::Named(name) => {
            if !crate::dialect::is_plain_name(name) {
                return Err(CompileError::invalid(format!(
                    "function name {name:?} must be letters, digits and underscores"
                )));
            }
            name
        }
        Func::Substring | Func::Now | Func::CurrentDate | Func::Extract { .. } | Func::DateAdd { .. } => {
            return Err(CompileError::invalid(format!("{:?} called with {} arguments", call.func, call.args.len())));
        }
    })
}
