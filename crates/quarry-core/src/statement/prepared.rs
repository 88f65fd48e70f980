//! Statements compiled once and run many times with new values, as
//! SQLAlchemy's `bindparam()`: build the statement with named parameters
//! ([`param`](crate::expr::param)), [`prepare`](crate::Compile::prepare) it
//! for a dialect, then [`bind`](Prepared::bind) values and run it. Each run
//! skips building and compiling: binding copies the parameter list and puts
//! each value in its places, and running copies the SQL text and moves the
//! parameters.

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
    /// The distinct parameter names, in the order they first appear.
    names: Vec<Ident>,
    /// Each placeholder of a named parameter, in order (a name used twice
    /// has two).
    slots: Vec<Slot>,
}

/// A placeholder of a named parameter.
struct Slot {
    /// The parameter's index in [`Template::names`].
    name: usize,
    /// The placeholder's number (`$n`, `?n`), from 1.
    number: usize,
}

impl Template {
    /// The placeholder numbers of the name at `index` in `names`.
    fn numbers_of(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        self.slots.iter().filter(move |slot| slot.name == index).map(|slot| slot.number)
    }

    /// The compiled statement: the SQL copied, with `params`.
    fn filled(&self, params: Vec<Value>) -> Compiled {
        Compiled {
            sql: self.compiled.sql.clone(),
            params,
            kind: self.compiled.kind,
            result_columns: self.compiled.result_columns.clone(),
            name_checks: self.compiled.name_checks.clone(),
        }
    }
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
        // Only where the select list names every column: a `*` or a raw
        // statement could return other columns after an `ALTER TABLE`.
        compiled.name_checks = compiled.result_columns.is_some().then(Arc::default);
        let mut names: Vec<Ident> = Vec::new();
        let slots = slots
            .into_iter()
            .map(|(name, number)| {
                let name = match names.iter().position(|n| *n == name) {
                    Some(index) => index,
                    None => {
                        names.push(name);
                        names.len() - 1
                    }
                };
                Slot { name, number }
            })
            .collect();
        let template = Template { statement: Box::new(statement), dialect, compiled, names, slots };
        Ok(Prepared { template: Arc::new(template) })
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
        let names = &self.template.names;
        self.template.slots.iter().filter_map(|slot| names.get(slot.name).map(Ident::as_str))
    }

    /// The statement with `name` bound to `value`; bind the others with
    /// [`Bound::bind`], then run it like any statement.
    pub fn bind(&self, name: impl Into<Ident>, value: impl Into<Value>) -> Bound {
        self.bound().bind(name, value)
    }

    /// The statement with no value bound yet (for statements without
    /// named parameters, or to bind them one by one).
    pub fn bound(&self) -> Bound {
        let template = &self.template;
        Bound {
            template: Arc::clone(template),
            params: template.compiled.params.clone(),
            bound: BoundNames::none(template.names.len()),
            unused: None,
        }
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
    /// The template's parameters, with each value bound so far in its
    /// places: running the statement on its dialect copies nothing else.
    params: Vec<Value>,
    /// Which of the template's names have a value.
    bound: BoundNames,
    /// The first name bound that the statement does not have.
    unused: Option<Ident>,
}

/// A bit for each of a template's names: set once it has a value.
#[derive(Clone, Debug)]
enum BoundNames {
    /// Up to 64 names, the usual case: no allocation.
    Few(u64),
    /// More.
    Many(Vec<bool>),
}

impl BoundNames {
    fn none(count: usize) -> Self {
        if count <= 64 { BoundNames::Few(0) } else { BoundNames::Many(vec![false; count]) }
    }

    fn set(&mut self, index: usize) {
        match self {
            BoundNames::Few(bits) if index < 64 => *bits |= 1 << index,
            BoundNames::Few(_) => {}
            BoundNames::Many(flags) => {
                if let Some(flag) = flags.get_mut(index) {
                    *flag = true;
                }
            }
        }
    }

    fn contains(&self, index: usize) -> bool {
        match self {
            BoundNames::Few(bits) => index < 64 && bits & (1 << index) != 0,
            BoundNames::Many(flags) => flags.get(index).copied().unwrap_or(false),
        }
    }
}

impl Bound {
    /// Bind `name` to `value` (replacing an earlier value for `name`).
    pub fn bind(mut self, name: impl Into<Ident>, value: impl Into<Value>) -> Self {
        let (name, value) = (name.into(), value.into());
        let Bound { template, params, bound, unused } = &mut self;
        match template.names.iter().position(|n| *n == name) {
            Some(index) => {
                bound.set(index);
                // A copy in each place but the last, which takes the value.
                let mut numbers = template.numbers_of(index).peekable();
                while let Some(number) = numbers.next() {
                    let Some(param) = params.get_mut(number - 1) else { continue };
                    if numbers.peek().is_some() {
                        *param = value.clone();
                    } else {
                        *param = value;
                        break;
                    }
                }
            }
            None => {
                unused.get_or_insert(name);
            }
        }
        self
    }

    /// Every value is for a parameter of the statement.
    fn check_unused(&self) -> Result<(), CompileError> {
        match &self.unused {
            Some(name) => Err(CompileError::UnusedBind { name: name.to_string() }),
            None => Ok(()),
        }
    }

    /// Every value is for a parameter of the statement, and every
    /// parameter has a value (the first missing one, in the order they
    /// appear, is named).
    fn check(&self) -> Result<(), CompileError> {
        self.check_unused()?;
        let template = &self.template;
        match template.slots.iter().find(|slot| !self.bound.contains(slot.name)) {
            Some(slot) => {
                let name = template.names.get(slot.name).map_or("", Ident::as_str);
                Err(CompileError::MissingBind { name: name.to_owned() })
            }
            None => Ok(()),
        }
    }

    /// The values bound, by name, for compiling the statement afresh.
    fn bindings(&self) -> Vec<(Ident, Value)> {
        let template = &self.template;
        (0..template.names.len())
            .filter(|index| self.bound.contains(*index))
            .filter_map(|index| {
                let number = template.numbers_of(index).next()?;
                Some((template.names.get(index)?.clone(), self.params.get(number - 1)?.clone()))
            })
            .collect()
    }

    /// Whether `dialect` is the one the template was compiled for.
    fn on_template_dialect(&self, dialect: &dyn Dialect) -> bool {
        dialect.name() == self.template.dialect.name()
    }
}

impl fmt::Debug for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bound")
            .field("sql", &self.template.compiled.sql)
            .field("values", &self.bindings())
            .finish_non_exhaustive()
    }
}

impl Compile for Bound {
    /// Write the statement with the values in place of the named
    /// parameters (any dialect; debug SQL too).
    fn write(&self, w: &mut SqlWriter<'_>) -> Result<StatementKind, CompileError> {
        self.check_unused()?;
        w.with_bindings(&self.bindings(), |w| self.template.statement.write(w))
    }

    /// On the prepared dialect, the template filled in; elsewhere a fresh
    /// compile.
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled, CompileError> {
        if self.on_template_dialect(dialect) {
            self.check()?;
            Ok(self.template.filled(self.params.clone()))
        } else {
            compile_with(dialect, false, |w| self.write(w))
        }
    }

    /// As [`compile`](Self::compile), with the parameters moved rather than
    /// copied on the prepared dialect: what a run does.
    fn into_compiled(self, dialect: &dyn Dialect) -> Result<Compiled, CompileError> {
        if !self.on_template_dialect(dialect) {
            return self.compile(dialect);
        }
        self.check()?;
        let Bound { template, params, .. } = self;
        Ok(template.filled(params))
    }
}
