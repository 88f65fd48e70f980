//! The compiler: one walk over a statement that writes the SQL text into one
//! `String` and the parameters into one `Vec<Value>`.
//!
//! The same walk renders [`to_debug_sql`](DebugSql), with literals inline
//! instead of placeholders; that text is for logs only, and no execute API
//! accepts it.

use std::fmt;
use std::sync::Arc;

use crate::ast::{self, Statement, TableName};
use crate::dialect::{Dialect, Feature};
use crate::expr::MAX_DEPTH;
use crate::ident::Ident;
use crate::row::SharedNameChecks;
use crate::value::Value;
use crate::vec_alloc::allocate_first;

mod ddl;
mod dml;
mod expr;
mod placeholder_rows;
mod query;
mod raw;

pub(crate) use query::{Body, QueryParts};

/// A statement compiled for one dialect: SQL text with numbered
/// placeholders, and the values to bind to them, in order.
///
/// Two compiled statements are equal when their SQL, parameters and kind
/// are: the [`result_columns`](Self::result_columns) are a decoding aid,
/// not part of the statement.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Compiled {
    /// The SQL text (`$1`.. on PostgreSQL, `?1`.. on SQLite).
    pub sql: String,
    /// The parameter values; `params[i]` binds to placeholder `i + 1`.
    pub params: Vec<Value>,
    /// What kind of statement this is.
    pub kind: StatementKind,
    /// The names the statement's select list gives its result columns
    /// (see [`Compile::result_columns`]), for drivers to match
    /// `#[derive(FromRow)]` fields against without asking the database.
    /// Set for [prepared](crate::statement::Prepared) statements, which
    /// find them once; `None` for others. They describe `sql`: code that
    /// changes `sql` must set them to `None`, or a driver may match fields
    /// to columns by names that no longer fit.
    pub result_columns: Option<Arc<[Ident]>>,
    /// The field-to-column name checks kept across the runs of a
    /// [prepared](crate::statement::Prepared) statement (drivers pass them
    /// to their rows); `None` for others. Like `result_columns`, they
    /// describe `sql`: code that changes `sql` must set them to `None`.
    pub name_checks: Option<Arc<SharedNameChecks>>,
}

impl PartialEq for Compiled {
    fn eq(&self, other: &Self) -> bool {
        (&self.sql, &self.params, self.kind) == (&other.sql, &other.params, other.kind)
    }
}

impl Compiled {
    /// A compiled statement from raw parts (for drivers and tests).
    pub fn new(sql: impl Into<String>, params: Vec<Value>, kind: StatementKind) -> Self {
        Compiled { sql: sql.into(), params, kind, result_columns: None, name_checks: None }
    }

    /// The name checks this statement keeps across its runs for rows
    /// decoded into `T` (see [`SharedNameChecks`]), if it keeps any: a
    /// driver hands them to its rows instead of a fresh
    /// [`NameChecks`](crate::row::NameChecks).
    pub fn kept_name_checks<T: 'static>(&self) -> Option<&crate::row::NameChecks> {
        self.name_checks.as_deref().and_then(SharedNameChecks::for_type::<T>)
    }

    /// Whether the statement only reads (a `SELECT` without locking), so that
    /// a driver may run it on a read-only connection.
    pub fn is_read_only(&self) -> bool {
        self.kind == StatementKind::Read
    }
}

/// A statement compiled for a connection, as [`Execute`](crate::Execute)
/// runs it: one statement, or a bulk insert split into several under the
/// connection's parameter limit, which run in one transaction. See
/// [`Compile::compile_for_run`].
#[derive(Clone, Debug, PartialEq)]
pub enum CompiledRun {
    /// One statement.
    One(Compiled),
    /// A bulk insert's statements, each under the parameter limit.
    Split(Vec<Compiled>),
}

impl CompiledRun {
    /// One statement for one chunk, else the split.
    pub(crate) fn from_chunks(mut chunks: Vec<Compiled>) -> Self {
        if chunks.len() == 1
            && let Some(only) = chunks.pop()
        {
            return CompiledRun::One(only);
        }
        CompiledRun::Split(chunks)
    }
}

/// What a compiled statement does, for drivers that route reads and writes
/// differently (SQLite's one writer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatementKind {
    /// A `SELECT` without `FOR UPDATE`: reads only.
    Read,
    /// `INSERT`, `UPDATE`, `DELETE`, or a locking `SELECT`.
    Write,
    /// `CREATE`/`DROP`.
    Ddl,
    /// Raw SQL: anything.
    Unknown,
}

/// SQL with its values written inline, for logs and debugging only.
///
/// Literals are escaped for the dialect, but this text is never executed by
/// Quarry and no execute API accepts it: run the [`Compiled`] statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugSql(String);

impl DebugSql {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DebugSql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a statement could not be compiled for a dialect.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompileError {
    /// The dialect has no way to express the construct.
    Unsupported {
        /// The construct, in SQL words (`DISTINCT ON`).
        construct: &'static str,
        /// The dialect (`SQLite`).
        dialect: &'static str,
    },
    /// An identifier the database cannot hold exactly.
    InvalidIdentifier {
        /// The identifier, escaped for display.
        ident: String,
        /// Why (`is empty`, `contains NUL`, `is longer than 63 bytes`).
        reason: String,
        /// The dialect.
        dialect: &'static str,
    },
    /// The tree nests deeper than [`MAX_DEPTH`].
    TooDeep {
        /// The limit.
        limit: u32,
    },
    /// A raw fragment uses `:name` but no value was bound to it.
    MissingBind {
        /// The parameter's name.
        name: String,
    },
    /// A value was bound to a `:name` the fragment does not use.
    UnusedBind {
        /// The parameter's name.
        name: String,
    },
    /// A raw fragment contains a positional placeholder (`$1`, `?`).
    PositionalPlaceholder {
        /// The placeholder found.
        placeholder: String,
    },
    /// A value cannot be written as an inline literal (DDL, debug SQL).
    InvalidLiteral {
        /// What is wrong with it.
        reason: String,
    },
    /// The statement is malformed (no select list, rows of different
    /// columns, a `CASE` without `WHEN`, ...).
    Invalid {
        /// What is wrong.
        reason: String,
    },
}

impl CompileError {
    /// A malformed statement.
    pub fn invalid(reason: impl Into<String>) -> Self {
        CompileError::Invalid { reason: reason.into() }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::Unsupported { construct, dialect } => write!(f, "{construct} is not supported by {dialect}"),
            CompileError::InvalidIdentifier { ident, reason, dialect } => {
                write!(f, "identifier {ident} {reason}, which {dialect} cannot hold exactly")
            }
            CompileError::TooDeep { limit } => {
                write!(f, "expression nests deeper than the limit of {limit} levels")
            }
            CompileError::MissingBind { name } => write!(f, "no value bound for parameter :{name}"),
            CompileError::UnusedBind { name } => {
                write!(f, "a value is bound to :{name}, which the SQL text does not use")
            }
            CompileError::PositionalPlaceholder { placeholder } => write!(
                f,
                "raw SQL contains the positional placeholder {placeholder}; use a named parameter (:name) instead"
            ),
            CompileError::InvalidLiteral { reason } => write!(f, "cannot write literal: {reason}"),
            CompileError::Invalid { reason } => write!(f, "invalid statement: {reason}"),
        }
    }
}

impl std::error::Error for CompileError {}

/// Where the walk puts SQL text and values. Dialects write through it.
#[derive(Debug)]
pub struct SqlWriter<'d> {
    sql: String,
    params: Vec<Value>,
    dialect: &'d dyn Dialect,
    inline_values: bool,
    depth: u32,
    /// Whether the statement's own query (the one written at depth 0, which
    /// is not a level of nesting) has been started.
    statement_query: bool,
    /// The dialect's identifier quote and length limit, asked once.
    quote: char,
    max_identifier_bytes: usize,
    /// Values for named parameters (`param()`), when a prepared
    /// statement is written with its values.
    bindings: Vec<(crate::Ident, Value)>,
    /// When preparing: each unbound named parameter and its placeholder's
    /// number.
    slots: Option<Vec<(crate::Ident, usize)>>,
    /// Whether an insert's rows of bound values are left out of the
    /// parameter list, for the caller to move them in
    /// ([`compile_leaving_out_rows`]), and where in the list they belong
    /// (the placeholders after them are numbered as if they were there).
    leave_out_rows: bool,
    rows_left_out: Option<std::ops::Range<usize>>,
}

impl<'d> SqlWriter<'d> {
    fn new(dialect: &'d dyn Dialect, inline_values: bool) -> Self {
        SqlWriter {
            sql: String::with_capacity(512),
            // Allocated by the first parameter: many statements have none.
            params: Vec::new(),
            dialect,
            inline_values,
            depth: 0,
            statement_query: false,
            quote: dialect.identifier_quote(),
            max_identifier_bytes: dialect.max_identifier_bytes().unwrap_or(usize::MAX),
            bindings: Vec::new(),
            slots: None,
            leave_out_rows: false,
            rows_left_out: None,
        }
    }

    /// The dialect being written.
    pub fn dialect(&self) -> &'d dyn Dialect {
        self.dialect
    }

    /// How many parameters the statement binds so far, counting rows left
    /// out of the list: the number of the last placeholder written.
    fn params_written(&self) -> usize {
        self.params.len() + self.rows_left_out.as_ref().map_or(0, std::ops::Range::len)
    }

    /// Append SQL text written by Quarry or a dialect (never user data).
    pub fn push_sql(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Append a quoted, escaped identifier.
    pub fn push_identifier(&mut self, ident: &str) -> Result<(), CompileError> {
        self.dialect.write_identifier(ident, &mut self.sql)
    }

    /// Append a quoted identifier: a plain one (no quotes or NUL, checked
    /// when it was made) within the length limit is copied between quotes;
    /// any other goes through the dialect's checks and escaping.
    ///
    /// The usual case, a plain name under the standard double quote, is
    /// inlined into the caller: three appends, with nothing to save and
    /// restore around a call.
    #[inline(always)]
    pub fn push_ident(&mut self, ident: &crate::Ident) -> Result<(), CompileError> {
        let name = ident.as_str();
        if self.quote == '"' && ident.is_plain() && name.len() <= self.max_identifier_bytes {
            self.sql.reserve(name.len() + 2);
            self.sql.push('"');
            self.sql.push_str(name);
            self.sql.push('"');
            Ok(())
        } else {
            self.push_ident_other(ident)
        }
    }

    /// [`push_ident`](Self::push_ident) for another quote character, or a
    /// name the dialect must check and escape.
    #[inline(never)]
    fn push_ident_other(&mut self, ident: &crate::Ident) -> Result<(), CompileError> {
        let name = ident.as_str();
        if ident.is_plain() && name.len() <= self.max_identifier_bytes {
            self.sql.reserve(name.len() + 2);
            self.sql.push(self.quote);
            self.sql.push_str(name);
            self.sql.push(self.quote);
            Ok(())
        } else {
            self.dialect.write_identifier(ident, &mut self.sql)
        }
    }

    /// Append a (schema-qualified) table name.
    pub fn push_table_name(&mut self, name: &TableName) -> Result<(), CompileError> {
        if let Some(schema) = &name.schema {
            self.push_ident(schema)?;
            self.sql.push('.');
        }
        self.push_ident(&name.name)
    }

    /// Append a placeholder bound to `value` (or, in debug mode and in DDL,
    /// the value as an escaped literal).
    pub fn push_value(&mut self, value: &Value) -> Result<(), CompileError> {
        // A value the database cannot hold is refused whether bound or inline.
        if let Some(feature) = required_feature(value) {
            self.require(feature)?;
        }
        if self.inline_values {
            return self.dialect.write_literal(value, &mut self.sql);
        }
        // Eight costs malloc no more than four, and spares a statement of
        // five to eight values growing the list.
        allocate_first(&mut self.params, 8);
        self.params.push(value.clone());
        self.dialect.write_placeholder(self.params_written(), &mut self.sql);
        Ok(())
    }

    /// Fail unless the dialect supports `feature`.
    pub fn require(&self, feature: Feature) -> Result<(), CompileError> {
        if self.dialect.supports(feature) {
            Ok(())
        } else {
            Err(CompileError::Unsupported { construct: feature.construct(), dialect: self.dialect.name() })
        }
    }

    /// Whether values are being written inline (debug SQL or DDL).
    pub fn inline_values(&self) -> bool {
        self.inline_values
    }

    /// Write `expr`, counting its depth.
    pub fn write_expr(&mut self, expr: &ast::Expr) -> Result<(), CompileError> {
        // The commonest leaf, a bound value, first: writing it recurses no
        // further, so it needs no level of its own.
        if let ast::Expr::Value(value) = expr {
            return self.push_value(value);
        }
        // No `?` here: this frame is on the stack once per level.
        if self.depth >= MAX_DEPTH {
            return Err(CompileError::TooDeep { limit: MAX_DEPTH });
        }
        self.depth += 1;
        let result = self.expr_inner(expr);
        self.depth -= 1;
        result
    }

    /// Write a comma-separated list of expressions.
    pub fn write_expr_list(&mut self, exprs: &[ast::Expr]) -> Result<(), CompileError> {
        for (i, e) in exprs.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.write_expr(e)?;
        }
        Ok(())
    }

    /// Count one more level of nesting, failing past [`MAX_DEPTH`]. The
    /// statement itself is level 0, so that a statement whose expressions
    /// are each within the limit compiles.
    fn enter(&mut self) -> Result<(), CompileError> {
        if self.depth >= MAX_DEPTH {
            return Err(CompileError::TooDeep { limit: MAX_DEPTH });
        }
        self.depth += 1;
        Ok(())
    }

    fn comma_separated<T>(
        &mut self,
        items: &[T],
        mut each: impl FnMut(&mut Self, &T) -> Result<(), CompileError>,
    ) -> Result<(), CompileError> {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            each(self, item)?;
        }
        Ok(())
    }

    /// [`comma_separated`](Self::comma_separated), continuing a list that
    /// already has items when `continued`.
    fn comma_separated_after<T>(
        &mut self,
        continued: bool,
        items: &[T],
        each: impl FnMut(&mut Self, &T) -> Result<(), CompileError>,
    ) -> Result<(), CompileError> {
        if continued && !items.is_empty() {
            self.sql.push_str(", ");
        }
        self.comma_separated(items, each)
    }

    fn ident_list(&mut self, idents: &[crate::Ident]) -> Result<(), CompileError> {
        self.comma_separated(idents, |w, i| w.push_ident(i))
    }

    fn statement(&mut self, stmt: &Statement) -> Result<StatementKind, CompileError> {
        match stmt {
            Statement::Query(q) => self.top_query(q),
            Statement::Insert(i) => self.insert(i).map(|()| StatementKind::Write),
            Statement::Update(u) => self.update(u).map(|()| StatementKind::Write),
            Statement::Delete(d) => self.delete(d).map(|()| StatementKind::Write),
            Statement::CreateTable(c) => self.inline_ddl(|w| w.create_table(c)),
            Statement::DropTable(d) => self.inline_ddl(|w| w.drop_table(d)),
            Statement::CreateIndex(c) => self.inline_ddl(|w| w.create_index(c)),
            Statement::DropIndex(d) => self.inline_ddl(|w| w.drop_index(d)),
            Statement::Raw(r) => self.raw(r).map(|()| StatementKind::Unknown),
        }
    }

    fn top_query(&mut self, q: &ast::Query) -> Result<StatementKind, CompileError> {
        self.query(q)?;
        Ok(if q.locking.is_empty() { StatementKind::Read } else { StatementKind::Write })
    }

    /// DDL cannot take parameters: its defaults and checks are written inline.
    fn inline_ddl(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<(), CompileError>,
    ) -> Result<StatementKind, CompileError> {
        let saved = std::mem::replace(&mut self.inline_values, true);
        let result = f(self);
        self.inline_values = saved;
        result.map(|()| StatementKind::Ddl)
    }

    /// Write with `values` for the named parameters (`param()`).
    pub(crate) fn with_bindings<R>(
        &mut self,
        values: &[(crate::Ident, Value)],
        f: impl FnOnce(&mut Self) -> Result<R, CompileError>,
    ) -> Result<R, CompileError> {
        let saved = std::mem::replace(&mut self.bindings, values.to_vec());
        let result = f(self);
        self.bindings = saved;
        result
    }

    fn finish(self, kind: StatementKind) -> Compiled {
        Compiled { sql: self.sql, params: self.params, kind, result_columns: None, name_checks: None }
    }
}

/// Compile `stmt` for `dialect`.
pub fn compile(stmt: &Statement, dialect: &dyn Dialect) -> Result<Compiled, CompileError> {
    let mut w = SqlWriter::new(dialect, false);
    let kind = w.statement(stmt)?;
    Ok(w.finish(kind))
}

/// Render `stmt` with its values inline, for logs only.
pub fn to_debug_sql(stmt: &Statement, dialect: &dyn Dialect) -> Result<DebugSql, CompileError> {
    let mut w = SqlWriter::new(dialect, true);
    w.statement(stmt)?;
    Ok(DebugSql(w.sql))
}

/// Compile `stmt` leaving its named parameters unbound: the SQL with NULL
/// parameters in their places, and each name with its placeholder number.
pub(crate) fn compile_prepared(
    stmt: &(impl Compile + ?Sized),
    dialect: &dyn Dialect,
) -> Result<(Compiled, Vec<(crate::Ident, usize)>), CompileError> {
    let mut w = SqlWriter::new(dialect, false);
    w.slots = Some(Vec::new());
    let kind = stmt.write(&mut w)?;
    let slots = w.slots.take().unwrap_or_default();
    Ok((w.finish(kind), slots))
}

/// Compile with a custom walk (the typed builders' entry point).
pub(crate) fn compile_with(
    dialect: &dyn Dialect,
    inline: bool,
    walk: impl FnOnce(&mut SqlWriter<'_>) -> Result<StatementKind, CompileError>,
) -> Result<Compiled, CompileError> {
    let mut w = SqlWriter::new(dialect, inline);
    let kind = walk(&mut w)?;
    Ok(w.finish(kind))
}

/// Something that compiles to one SQL statement: the typed builders and
/// [`ast::Statement`].
pub trait Compile {
    /// Walk `self` into `w`, returning what kind of statement it is.
    fn write(&self, w: &mut SqlWriter<'_>) -> Result<StatementKind, CompileError>;

    /// Compile for `dialect`: SQL text with placeholders, and the parameters.
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled, CompileError> {
        compile_with(dialect, false, |w| self.write(w))
    }

    /// The names of the result columns as the select list gives them (a
    /// column's name, or its label), when every column has one: a `SELECT`
    /// of columns and labelled expressions. `None` for anything else (an
    /// unlabelled expression or wildcard, a set operation, a statement
    /// that returns no rows). [`prepare`](Self::prepare) keeps them with
    /// the statement.
    ///
    /// ```
    /// use quarry_core::prelude::*;
    ///
    /// quarry_core::table! {
    ///     struct Users("users") { id: i64 [primary_key], name: String }
    /// }
    ///
    /// let u = Users::table();
    /// let names = select((u.id, count_star().label("n"))).from(u).group_by(u.id).result_columns();
    /// assert_eq!(names.unwrap(), ["id", "n"]);
    /// assert_eq!(select(count_star()).from(u).result_columns(), None);
    /// ```
    fn result_columns(&self) -> Option<Vec<Ident>> {
        None
    }

    /// Render with values inline, for logs only (never executed).
    fn to_debug_sql(&self, dialect: &dyn Dialect) -> Result<DebugSql, CompileError> {
        compile_with(dialect, true, |w| self.write(w)).map(|c| DebugSql(c.sql))
    }

    /// Compile once for `dialect`, leaving the named parameters
    /// ([`param`](crate::expr::param)) to be bound each time the statement
    /// runs: see [`Prepared`](crate::statement::Prepared).
    fn prepare(self, dialect: &'static dyn Dialect) -> Result<crate::statement::Prepared, CompileError>
    where
        Self: Sized + Send + Sync + 'static,
    {
        crate::statement::Prepared::new(self, dialect)
    }

    /// Compile into statements that each bind at most `max_params`
    /// parameters. Only multi-row inserts split; anything else over the
    /// limit is an error here rather than a protocol error later.
    ///
    /// [`Execute`](crate::Execute) runs
    /// [`compile_for_run`](Self::compile_for_run), whose default does not
    /// split: a type of your own that splits here must override that too.
    fn compile_chunks(&self, dialect: &dyn Dialect, max_params: usize) -> Result<Vec<Compiled>, CompileError> {
        let compiled = self.compile(dialect)?;
        check_param_count(&compiled, max_params)?;
        Ok(vec![compiled])
    }

    /// What [`Execute`](crate::Execute) runs: the statement used up (as
    /// [`into_compiled`](Self::into_compiled)) and checked against
    /// `max_params`, or, for a bulk insert over the limit, split as
    /// [`compile_chunks_owned`](Self::compile_chunks_owned) splits it. One
    /// statement is returned as itself, with no list around it.
    ///
    /// The default compiles with `into_compiled` and never splits; a type
    /// that splits (as an insert does) overrides it.
    ///
    /// ```
    /// use quarry_core::prelude::*;
    /// use quarry_core::{CompiledRun, Sqlite};
    ///
    /// quarry_core::table! {
    ///     struct Notes("notes") { id: i64 [primary_key], body: String }
    /// }
    ///
    /// let n = Notes::table();
    /// let one = select(n.body).from(n).filter(n.id.eq(7)).compile_for_run(&Sqlite, 999)?;
    /// assert!(matches!(one, CompiledRun::One(_)));
    /// let split = insert_into(n).rows(n.body, ["a", "b", "c"]).compile_for_run(&Sqlite, 2)?;
    /// let CompiledRun::Split(chunks) = split else { panic!("three rows of one value under 2 parameters") };
    /// assert_eq!(chunks.len(), 2);
    /// # Ok::<(), quarry_core::CompileError>(())
    /// ```
    fn compile_for_run(self, dialect: &dyn Dialect, max_params: usize) -> Result<CompiledRun, CompileError>
    where
        Self: Sized,
    {
        let compiled = self.into_compiled(dialect)?;
        check_param_count(&compiled, max_params)?;
        Ok(CompiledRun::One(compiled))
    }

    /// [`compile`](Self::compile), using the statement up: an insert whose
    /// rows are all bound values, without client defaults or `WITH`, moves
    /// its values into the parameter list instead of copying them (other
    /// statements compile as `compile` does). Use it to hand a statement to
    /// a driver of your own; `execute` and the `fetch_*` methods compile
    /// this way (through [`compile_for_run`](Self::compile_for_run)) when
    /// the statement runs as one.
    ///
    /// ```
    /// use quarry_core::prelude::*;
    /// use quarry_core::{Postgres, Value};
    ///
    /// quarry_core::table! {
    ///     struct Notes("notes") { id: i64 [primary_key], body: String }
    /// }
    ///
    /// let n = Notes::table();
    /// let insert = insert_into(n).rows(n.body, ["a", "b"]);
    /// let compiled = insert.into_compiled(&Postgres)?;
    /// assert_eq!(compiled.sql, r#"INSERT INTO "notes" ("body") VALUES ($1), ($2)"#);
    /// assert_eq!(compiled.params, [Value::from("a"), Value::from("b")]);
    /// # Ok::<(), quarry_core::CompileError>(())
    /// ```
    fn into_compiled(self, dialect: &dyn Dialect) -> Result<Compiled, CompileError>
    where
        Self: Sized,
    {
        self.compile(dialect)
    }

    /// [`compile_chunks`](Self::compile_chunks), using the statement up
    /// (what [`compile_for_run`](Self::compile_for_run) splits an insert
    /// with). An insert whose rows are all bound values, without client
    /// defaults or `WITH`, and that fits in one statement moves its values
    /// into the parameter list instead of copying them.
    fn compile_chunks_owned(self, dialect: &dyn Dialect, max_params: usize) -> Result<Vec<Compiled>, CompileError>
    where
        Self: Sized,
    {
        self.compile_chunks(dialect, max_params)
    }
}

/// Compile with the parameters of an insert's rows of bound values left
/// out of the parameter list, for the caller to insert the values it owns
/// at the returned range (the other placeholders are numbered around it).
/// `None` when no rows were left out (they were written as usual).
pub(crate) fn compile_leaving_out_rows(
    dialect: &dyn Dialect,
    walk: impl FnOnce(&mut SqlWriter<'_>) -> Result<StatementKind, CompileError>,
) -> Result<(Compiled, Option<std::ops::Range<usize>>), CompileError> {
    let mut w = SqlWriter::new(dialect, false);
    w.leave_out_rows = true;
    let kind = walk(&mut w)?;
    let left_out = w.rows_left_out.take();
    Ok((w.finish(kind), left_out))
}

/// What the dialect must support for `value` to be bound or written.
#[inline]
pub(crate) fn required_feature(value: &Value) -> Option<Feature> {
    match value {
        Value::Array(_) => Some(Feature::Arrays),
        Value::Interval(_) => Some(Feature::Intervals),
        _ => None,
    }
}

/// Refuse a statement with more parameters than the driver can bind.
pub(crate) fn check_param_count(compiled: &Compiled, max_params: usize) -> Result<(), CompileError> {
    if compiled.params.len() > max_params {
        return Err(CompileError::invalid(format!(
            "the statement binds {} parameters, over the database's limit of {max_params}",
            compiled.params.len()
        )));
    }
    Ok(())
}

impl Compile for Statement {
    fn write(&self, w: &mut SqlWriter<'_>) -> Result<StatementKind, CompileError> {
        w.statement(self)
    }
}
