//! Scalar expressions.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::ident::Ident;
use crate::schema::ColumnType;
use crate::value::Value;

use super::{Query, RawSql};

/// A possibly schema-qualified table name, or an alias standing for one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableName {
    /// `"schema".` before the name, if any.
    pub schema: Option<Ident>,
    /// The table's (or alias's) name.
    pub name: Ident,
}

impl TableName {
    /// An unqualified name.
    pub fn new(name: impl Into<Ident>) -> Self {
        TableName { schema: None, name: name.into() }
    }

    /// A schema-qualified name.
    pub fn qualified(schema: impl Into<Ident>, name: impl Into<Ident>) -> Self {
        TableName { schema: Some(schema.into()), name: name.into() }
    }
}

/// `"table"."column"`, or a bare `"column"`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ColumnRef {
    /// The table or alias the column belongs to.
    pub table: Option<TableName>,
    /// The column's name.
    pub name: Ident,
}

/// `"table"."column"` for a column of a table declared with
/// [`table!`](crate::table): names that live as long as the program, and
/// usually the reference already quoted under the standard double quote, so
/// that compiling it is one copy rather than quoting each part. The quoted
/// text is left out (and the parts quoted one by one when compiled) when a
/// part needs escaping, and for columns made without it (an alias's).
///
/// Made by [`Column`](crate::Column). Two of these are equal when their
/// schema, table and column names are; a `StaticColumn` node is never equal
/// to a [`Column`](Expr::Column) node naming the same column.
/// [`to_column_ref`](Self::to_column_ref) gives the general form, with the
/// names.
// Four `&str`s make `Expr` 80 bytes rather than 72. A 72-byte form that
// kept only the quoted text and sliced the names back out of it was slower
// in the compile benchmark (the primary-key lookup 3.36 k -> 3.62 k
// instructions, the join 12.5 k -> 13.6 k), so the names stay as they are.
#[derive(Clone, Copy)]
pub struct StaticColumnRef {
    schema: Option<&'static str>,
    table: &'static str,
    name: &'static str,
    /// `"schema"."table"."name"`, or empty when some part needs escaping
    /// (it is then quoted part by part, through the dialect).
    quoted: &'static str,
    /// Whether schema, table and name are plain (see [`Ident::is_plain`]).
    plain: [bool; 3],
}

impl StaticColumnRef {
    /// A reference to column `name` of `table` (in `schema`). `plain` says
    /// whether each part is plain, and `quoted` is the reference quoted
    /// (checked by the caller, [`Column`](crate::Column)), or empty.
    pub(crate) const fn new(
        schema: Option<&'static str>,
        table: &'static str,
        name: &'static str,
        quoted: &'static str,
        plain: [bool; 3],
    ) -> Self {
        StaticColumnRef { schema, table, name, quoted, plain }
    }

    /// The column's name.
    pub fn name(&self) -> Ident {
        Ident::new_static_known(self.name, self.plain[2])
    }

    /// The reference as it was quoted when its table was declared
    /// (`"users"."id"`), if that text was kept: every part is plain and
    /// the text is exactly the parts quoted with `"`.
    pub fn quoted_text(&self) -> Option<&'static str> {
        (!self.quoted.is_empty()).then_some(self.quoted)
    }

    /// The reference quoted with `"`, if it was kept and every part is at
    /// most `max_part_bytes` long (a dialect may refuse a long name).
    pub(crate) fn quoted(&self, max_part_bytes: usize) -> Option<&'static str> {
        let fits = |part: &str| part.len() <= max_part_bytes;
        let all_fit = self.schema.is_none_or(fits) && fits(self.table) && fits(self.name);
        (!self.quoted.is_empty() && all_fit).then_some(self.quoted)
    }

    fn parts(&self) -> (Option<&'static str>, &'static str, &'static str) {
        (self.schema, self.table, self.name)
    }

    /// The same reference as a general [`ColumnRef`].
    pub fn to_column_ref(&self) -> ColumnRef {
        ColumnRef {
            table: Some(TableName {
                schema: self.schema.map(|s| Ident::new_static_known(s, self.plain[0])),
                name: Ident::new_static_known(self.table, self.plain[1]),
            }),
            name: self.name(),
        }
    }
}

impl PartialEq for StaticColumnRef {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for StaticColumnRef {}

impl Hash for StaticColumnRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl fmt::Debug for StaticColumnRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticColumnRef")
            .field("schema", &self.schema)
            .field("table", &self.table)
            .field("name", &self.name)
            .finish()
    }
}

/// A scalar SQL expression.
///
/// The first line of each variant's documentation is the SQL it stands for.
/// Build these through the typed API ([`crate::Expr`], [`crate::Column`]),
/// which also bounds their depth; the compiler bounds the depth of trees
/// built by hand.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Expr {
    /// `"table"."column"`
    Column(ColumnRef),
    /// `"table"."column"`, for a column of a declared table (quoted once,
    /// when the table was declared).
    StaticColumn(StaticColumnRef),
    /// `*` or `"table".*`
    Wildcard(Option<TableName>),
    /// `$n` / `?n`: a bound parameter.
    Value(Value),
    /// `CAST($n AS type)` on PostgreSQL, `?n` on SQLite: a parameter whose SQL
    /// type is fixed, for places where the server cannot infer it (a select
    /// list, both sides of a comparison unknown, a recursive CTE's anchor).
    TypedValue {
        /// The bound value.
        value: Value,
        /// Its SQL type.
        ty: ColumnType,
    },
    /// A named parameter whose value is bound when a prepared statement
    /// runs ([`Prepared`](crate::statement::Prepared)); `ty` as in
    /// `TypedValue`, where the server cannot infer it.
    Param {
        /// The parameter's name.
        name: Ident,
        /// Its SQL type, where it must be written.
        ty: Option<ColumnType>,
    },
    /// A raw SQL fragment whose `:name` parameters are bound.
    Raw(RawSql),
    /// `DEFAULT`, in `INSERT ... VALUES` and `UPDATE ... SET`.
    Default,
    /// `excluded."column"` in `ON CONFLICT ... DO UPDATE`.
    Excluded(Ident),
    /// `NOT expr`, `-expr`
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<Expr>,
    },
    /// `left op right`
    Binary {
        /// The operator.
        op: BinaryOp,
        /// The left and the right operand, in one allocation.
        operands: Box<[Expr; 2]>,
    },
    /// `a AND b AND ...` / `a OR b OR ...`; long lists are written as a
    /// balanced tree so that SQLite's expression depth limit is not reached.
    Logical {
        /// `AND` or `OR`.
        op: LogicalOp,
        /// The terms, at least one.
        terms: Vec<Expr>,
    },
    /// `expr IS [NOT] NULL`
    IsNull {
        /// The operand.
        expr: Box<Expr>,
        /// `IS NOT NULL` when true.
        negated: bool,
    },
    /// `left IS [NOT] DISTINCT FROM right`: null-safe comparison.
    IsDistinctFrom {
        /// The left operand.
        left: Box<Expr>,
        /// The right operand.
        right: Box<Expr>,
        /// `IS NOT DISTINCT FROM` when true.
        negated: bool,
    },
    /// `expr [NOT] IN (a, b, ...)`
    InList {
        /// The operand.
        expr: Box<Expr>,
        /// The list (may be empty: `IN ()` is false, `NOT IN ()` true).
        list: Vec<Expr>,
        /// `NOT IN` when true.
        negated: bool,
    },
    /// `expr = ANY($n)` with one array parameter on PostgreSQL (so a list's
    /// length does not change the SQL), `expr IN (?1, ?2, ...)` on SQLite.
    InValues {
        /// The operand.
        expr: Box<Expr>,
        /// The values.
        values: Arc<[Value]>,
        /// `NOT IN` / `<> ALL` when true.
        negated: bool,
    },
    /// `expr [NOT] IN (SELECT ...)`
    InSubquery {
        /// The operand.
        expr: Box<Expr>,
        /// The subquery.
        query: Box<Query>,
        /// `NOT IN` when true.
        negated: bool,
    },
    /// `expr [NOT] BETWEEN low AND high`
    Between {
        /// The operand.
        expr: Box<Expr>,
        /// The lower bound.
        low: Box<Expr>,
        /// The upper bound.
        high: Box<Expr>,
        /// `NOT BETWEEN` when true.
        negated: bool,
    },
    /// `expr [NOT] LIKE pattern [ESCAPE 'c']`, `ILIKE` when case-insensitive
    /// (emulated with `lower()` on SQLite).
    Like {
        /// The operand and the pattern, in one allocation.
        operands: Box<[Expr; 2]>,
        /// The escape character.
        escape: Option<char>,
        /// `ILIKE` when true.
        case_insensitive: bool,
        /// `NOT LIKE` when true.
        negated: bool,
    },
    /// `CASE [operand] WHEN ... THEN ... [ELSE ...] END`
    Case {
        /// `CASE operand WHEN value ...` when set, `CASE WHEN condition ...` otherwise.
        operand: Option<Box<Expr>>,
        /// The `WHEN ... THEN ...` pairs, at least one.
        whens: Vec<(Expr, Expr)>,
        /// The `ELSE` result.
        else_result: Option<Box<Expr>>,
    },
    /// `CAST(expr AS type)`
    Cast {
        /// The operand.
        expr: Box<Expr>,
        /// The target type.
        ty: ColumnType,
    },
    /// `name(args)` with optional `DISTINCT`, `FILTER (WHERE ...)` and `OVER (...)`.
    Function(Box<FunctionCall>),
    /// `[NOT] EXISTS (SELECT ...)`
    Exists {
        /// The subquery.
        query: Box<Query>,
        /// `NOT EXISTS` when true.
        negated: bool,
    },
    /// `(SELECT ...)`: a scalar subquery.
    Subquery(Box<Query>),
    /// `(a, b, ...)`: a row value.
    Tuple(Vec<Expr>),
    /// A subtree that was deeper than [`MAX_DEPTH`](crate::MAX_DEPTH) when it
    /// was built; compiling it is a [`CompileError`](crate::CompileError).
    TooDeep,
}

/// A unary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnaryOp {
    /// `NOT`
    Not,
    /// `-`
    Neg,
}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BinaryOp {
    /// `=`
    Eq,
    /// `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `||` (string concatenation)
    Concat,
    /// `AND`
    And,
    /// `OR`
    Or,
}

impl BinaryOp {
    /// The operator's SQL token.
    pub fn as_sql(self) -> &'static str {
        match self {
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Concat => "||",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
        }
    }
}

/// `AND` or `OR` over a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogicalOp {
    /// `AND`
    And,
    /// `OR`
    Or,
}

impl LogicalOp {
    /// The operator's SQL keyword.
    pub fn as_sql(self) -> &'static str {
        match self {
            LogicalOp::And => "AND",
            LogicalOp::Or => "OR",
        }
    }
}

/// A function call, aggregate or window function.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionCall {
    /// Which function.
    pub func: Func,
    /// The arguments.
    pub args: Vec<Expr>,
    /// `count(DISTINCT x)`
    pub distinct: bool,
    /// `FILTER (WHERE ...)` on an aggregate.
    pub filter: Option<Expr>,
    /// `OVER (...)` for a window function or windowed aggregate.
    pub over: Option<WindowSpec>,
}

impl FunctionCall {
    /// A plain call of `func` on `args`.
    pub fn new(func: Func, args: Vec<Expr>) -> Self {
        FunctionCall { func, args, distinct: false, filter: None, over: None }
    }
}

/// The function called. Portable functions are rendered by each dialect so
/// that one query has the same meaning on every database; a dialect that
/// cannot express one returns a [`CompileError`](crate::CompileError).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Func {
    /// `count(x)`; `count(*)` with a [`Expr::Wildcard`] argument.
    Count,
    /// `sum(x)`
    Sum,
    /// `avg(x)`
    Avg,
    /// `min(x)`
    Min,
    /// `max(x)`
    Max,
    /// `row_number()`
    RowNumber,
    /// `rank()`
    Rank,
    /// `dense_rank()`
    DenseRank,
    /// `percent_rank()`
    PercentRank,
    /// `cume_dist()`
    CumeDist,
    /// `ntile(n)`
    Ntile,
    /// `lag(x [, offset [, default]])`
    Lag,
    /// `lead(x [, offset [, default]])`
    Lead,
    /// `first_value(x)`
    FirstValue,
    /// `last_value(x)`
    LastValue,
    /// `nth_value(x, n)`
    NthValue,
    /// `COALESCE(a, b, ...)`
    Coalesce,
    /// `NULLIF(a, b)`
    NullIf,
    /// `GREATEST(a, b, ...)`, ignoring NULLs as PostgreSQL does.
    Greatest,
    /// `LEAST(a, b, ...)`, ignoring NULLs as PostgreSQL does.
    Least,
    /// `lower(s)`
    Lower,
    /// `upper(s)`
    Upper,
    /// The length of a string in characters.
    Length,
    /// `round(x, digits)` of a double, half away from zero, as a double.
    Round,
    /// `abs(x)`
    Abs,
    /// `SUBSTRING(s FROM start [FOR length])`, 1-based.
    Substring,
    /// `trim(s)`
    Trim,
    /// `replace(s, from, to)`
    Replace,
    /// The current timestamp with time zone (`now()` / `CURRENT_TIMESTAMP`).
    Now,
    /// The current date (`CURRENT_DATE`).
    CurrentDate,
    /// `EXTRACT(field FROM x)` as an integer; `on` is the operand's kind when
    /// known (a date's time-of-day fields are 0; a timestamptz's fields are
    /// read in UTC whatever the session's time zone).
    Extract {
        /// The field.
        field: DateField,
        /// What the operand is, when the typed API knows.
        on: Option<TemporalKind>,
    },
    /// A date or timestamp plus a whole number of a unit (negative to subtract).
    DateAdd {
        /// The unit the amount counts.
        unit: IntervalUnit,
        /// Whether the first argument is a date (the result is a date) or a
        /// timestamp.
        on: TemporalKind,
    },
    /// Any other function, by name. The name must be a plain SQL name
    /// (letters, digits, `_`, optionally dotted); it is written unquoted.
    Named(Ident),
}

/// A field of a date or timestamp, for [`Func::Extract`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DateField {
    /// The year.
    Year,
    /// The month, 1 to 12.
    Month,
    /// The day of the month, 1 to 31.
    Day,
    /// The hour, 0 to 23.
    Hour,
    /// The minute, 0 to 59.
    Minute,
    /// The whole seconds, 0 to 59.
    Second,
    /// The day of the week, 0 (Sunday) to 6.
    DayOfWeek,
    /// The day of the year, 1 to 366.
    DayOfYear,
    /// Whole seconds since 1970-01-01 00:00:00 UTC.
    Epoch,
}

/// The unit of a [`Func::DateAdd`] amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IntervalUnit {
    /// Seconds.
    Seconds,
    /// Minutes.
    Minutes,
    /// Hours.
    Hours,
    /// Days.
    Days,
    /// Months (end-of-month rules differ: see the dialect notes).
    Months,
    /// Years.
    Years,
}

impl IntervalUnit {
    /// The unit's lower-case plural name (`days`).
    pub fn as_str(self) -> &'static str {
        match self {
            IntervalUnit::Seconds => "secs",
            IntervalUnit::Minutes => "mins",
            IntervalUnit::Hours => "hours",
            IntervalUnit::Days => "days",
            IntervalUnit::Months => "months",
            IntervalUnit::Years => "years",
        }
    }
}

/// Whether a temporal value is a date or a timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TemporalKind {
    /// A calendar date.
    Date,
    /// A timestamp without time zone.
    Timestamp,
    /// A timestamp with time zone (SQLite keeps its `+00:00`).
    TimestampTz,
    /// A time of day (only for `EXTRACT`).
    Time,
}

/// `OVER (PARTITION BY ... ORDER BY ... frame)`
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowSpec {
    /// `PARTITION BY`
    pub partition_by: Vec<Expr>,
    /// `ORDER BY`
    pub order_by: Vec<OrderByExpr>,
    /// `ROWS|RANGE|GROUPS BETWEEN ... AND ...`
    pub frame: Option<WindowFrame>,
}

/// A window frame.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowFrame {
    /// `ROWS`, `RANGE` or `GROUPS`.
    pub units: FrameUnits,
    /// The frame's start.
    pub start: FrameBound,
    /// The frame's end (`CURRENT ROW` when absent).
    pub end: Option<FrameBound>,
}

/// The units of a window frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameUnits {
    /// `ROWS`
    Rows,
    /// `RANGE`
    Range,
    /// `GROUPS`
    Groups,
}

/// One end of a window frame.
#[derive(Clone, Debug, PartialEq)]
pub enum FrameBound {
    /// `UNBOUNDED PRECEDING`
    UnboundedPreceding,
    /// `n PRECEDING` (n is bound)
    Preceding(Box<Expr>),
    /// `CURRENT ROW`
    CurrentRow,
    /// `n FOLLOWING` (n is bound)
    Following(Box<Expr>),
    /// `UNBOUNDED FOLLOWING`
    UnboundedFollowing,
}

/// `expr [ASC|DESC] [NULLS FIRST|LAST]`
#[derive(Clone, Debug, PartialEq)]
pub struct OrderByExpr {
    /// What to sort by.
    pub expr: Expr,
    /// `ASC` or `DESC` (the database's default, ascending, when absent).
    pub direction: Option<SortDirection>,
    /// `NULLS FIRST` or `NULLS LAST` (the database's default when absent).
    pub nulls: Option<NullsOrder>,
}

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortDirection {
    /// `ASC`
    Asc,
    /// `DESC`
    Desc,
}

/// Where NULLs sort.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NullsOrder {
    /// `NULLS FIRST`
    First,
    /// `NULLS LAST`
    Last,
}
