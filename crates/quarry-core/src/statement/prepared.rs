//! Statements compiled once and run many times with new values, as
//! SQLAlchemy's `bindparam()`: build the statement with named parameters
//! ([`param`](crate::expr::param)), [`prepare`](crate::Compile::prepare) it
//! for a dialect, then [`bind`](Prepared::bind) values and run it. Each run
//! skips building and compiling: it copies the SQL text and the parameter
//! list and fills in the values.

use std::fmt;
use std::sync::Arc;

use crate::compile::{Compile, CompileError, Compiled, SqlWriter, StatementKind, compile_prepared, compile_with};
use crate::dialect::Dialect;
use crate::ident::Ident;
use crate::value::Value;

/// A statement compiled for one dialect, whose named parameters are bound
/// each time it runs. Cheap to clone and to share between tasks.
///
/// ```
/// use quarry_core::prelude::*;
/// quarry_core::table! {
///     pub struct Users("users") { id: i64 [primary_key], name: String }
/// }
/// let u = Users::table();
/// let by_id = select((u.id, u.name)).from(u).filter(u.id.eq(param::<i64>("id"))).prepare(&Postgres)?;
/// assert_eq!(by_id.sql(), r#"SELECT "users"."id", "users"."name" FROM "users" WHERE "users"."id" = $1"#);
/// let c = by_id.bind("id", 42_i64).compile(&Postgres)?;
/// assert_eq!(c.params, [Value::I64(42)]);
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
#[derive(Clone)]
pub struct Prepared {
    template: Arc<Template>,
}

struct Template {
    /// The statement, for other dialects and for debug SQL.
    statement: Box<dyn Compile + Send + Sync>,
    dialect: &'static dyn Dialect,
    /// The SQL and parameters, with NULL where the named parameters go.
    compiled: Compiled,
    /// Each named parameter and the number of its placeholder (a name used
    /// twice has two).
    slots: Vec<(Ident, usize)>,
}

impl Prepared {
    /// Compile `statement` for `dialect`, leaving its named parameters to
    /// be bound. See [`Compile::prepare`].
    pub fn new(
        statement: impl Compile + Send + Sync + 'static,
        dialect: &'static dyn Dialect,
    ) -> Result<Self, CompileError> {
        let (mut compiled, slots) = compile_prepared(&statement, dialect)?;
        compiled.result_columns = statement.result_columns().map(Arc::from);
        Ok(Prepared { template: Arc::new(Template { statement: Box::new(statement), dialect, compiled, slots }) })
    }

    /// The SQL text, with a placeholder for every parameter.
    pub fn sql(&self) -> &str {
        &self.template.compiled.sql
    }

    /// The dialect it was compiled for.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.template.dialect
    }

    /// The named parameters, in the order they appear (a name used twice
    /// appears twice).
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.template.slots.iter().map(|(name, _)| name.as_str())
    }

    /// The statement with `name` bound to `value`; bind the others with
    /// [`Bound::bind`], then run it like any statement.
    pub fn bind(&self, name: impl Into<Ident>, value: impl Into<Value>) -> Bound {
        self.bound().bind(name, value)
    }

    /// The statement with no value bound yet (for statements without
    /// named parameters, or to bind them one by one).
    pub fn bound(&self) -> Bound {
        Bound { template: Arc::clone(&self.template), values: Vec::new() }
    }
}

impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prepared")
            .field("dialect", &self.template.dialect.name())
            .field("sql", &self.template.compiled.sql)
            .finish_non_exhaustive()
    }
}

/// A [`Prepared`] statement with values for its named parameters, ready to
/// run (`.execute(&mut conn)`, `.fetch_all(&mut conn)`, ...).
///
/// Every named parameter needs a value (else [`CompileError::MissingBind`])
/// and every value a parameter (else [`CompileError::UnusedBind`]). On a
/// connection of the dialect it was prepared for, running it copies the
/// compiled SQL; on another it is compiled again for that dialect. It is
/// one statement: a bulk insert over the connection's parameter limit is
/// an error rather than split.
#[derive(Clone)]
#[must_use]
pub struct Bound {
    template: Arc<Template>,
    values: Vec<(Ident, Value)>,
}

impl Bound {
    /// Bind `name` to `value` (replacing an earlier value for `name`).
    pub fn bind(mut self, name: impl Into<Ident>, value: impl Into<Value>) -> Self {
        let (name, value) = (name.into(), value.into());
        match self.values.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.values.push((name, value)),
        }
        self
    }

    /// Every value is for a parameter of the statement.
    fn check_unused(&self) -> Result<(), CompileError> {
        match self.values.iter().find(|(name, _)| !self.template.slots.iter().any(|(n, _)| n == name)) {
            Some((name, _)) => Err(CompileError::UnusedBind { name: name.to_string() }),
            None => Ok(()),
        }
    }

    /// The compiled statement, from the template: its SQL copied and the
    /// values put in their places.
    fn fill(&self) -> Result<Compiled, CompileError> {
        let template = &self.template;
        let mut params = template.compiled.params.clone();
        for (name, number) in &template.slots {
            let Some((_, value)) = self.values.iter().find(|(n, _)| n == name) else {
                return Err(CompileError::MissingBind { name: name.to_string() });
            };
            if let Some(param) = params.get_mut(number - 1) {
                *param = value.clone();
            }
        }
        Ok(Compiled {
            sql: template.compiled.sql.clone(),
            params,
            kind: template.compiled.kind,
            result_columns: template.compiled.result_columns.clone(),
        })
    }
}

impl fmt::Debug for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bound")
            .field("sql", &self.template.compiled.sql)
            .field("values", &self.values)
            .finish_non_exhaustive()
    }
}

impl Compile for Bound {
    /// Write the statement with the values in place of the named
    /// parameters (any dialect; debug SQL too).
    fn write(&self, w: &mut SqlWriter<'_>) -> Result<StatementKind, CompileError> {
        self.check_unused()?;
        w.with_bindings(&self.values, |w| self.template.statement.write(w))
    }

    /// On the prepared dialect, the template filled in; elsewhere a fresh
    /// compile.
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled, CompileError> {
        if dialect.name() == self.template.dialect.name() {
            self.check_unused()?;
            self.fill()
        } else {
            compile_with(dialect, false, |w| self.write(w))
        }
    }
}
