//! Whole statements written as SQL text, with named parameters.

use std::borrow::Cow;

use crate::ast::RawSql;
use crate::compile::{Compile, CompileError, SqlWriter, StatementKind};
use crate::value::Value;

/// A statement written as SQL text, whose `:name` parameters are bound, as
/// SQLAlchemy's `text()`. Only `&'static str` is accepted; see
/// [`text_dynamic_unchecked`] for the rare run-time text.
///
/// ```
/// use quarry_core::prelude::*;
/// let q = text("SELECT id FROM users WHERE name = :name AND created > :t::date OR name = :name")
///     .bind("name", "ada")
///     .bind("t", "2024-01-01");
/// let c = q.compile(&Postgres)?;
/// assert_eq!(c.sql, "SELECT id FROM users WHERE name = $1 AND created > $2::date OR name = $1");
/// assert_eq!(c.params.len(), 2);
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
pub fn text(sql: &'static str) -> Text {
    Text { raw: RawSql::new(sql), kind: StatementKind::Unknown }
}

/// A statement from run-time SQL text. The text is sent as written: never
/// build it from user input. Its `:name` parameters are still bound.
pub fn text_dynamic_unchecked(sql: String) -> Text {
    Text { raw: RawSql::new(sql), kind: StatementKind::Unknown }
}

/// A raw SQL statement; see [`text`].
#[derive(Debug, Clone)]
#[must_use]
pub struct Text {
    raw: RawSql,
    kind: StatementKind,
}

impl Text {
    /// Bind `:name` to `value`.
    pub fn bind(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> Self {
        self.raw = self.raw.bind(name, value);
        self
    }

    /// Declare that the statement only reads, so that drivers may run it on
    /// a read-only connection (SQLite's readers).
    pub fn read_only(mut self) -> Self {
        self.kind = StatementKind::Read;
        self
    }
}

impl Compile for Text {
    fn write(&self, w: &mut SqlWriter<'_>) -> Result<StatementKind, CompileError> {
        w.raw(&self.raw)?;
        Ok(self.kind)
    }
}
