//! Raw SQL fragments with named parameters.

use std::borrow::Cow;

use crate::value::Value;

/// A fragment of SQL text written by the programmer, whose `:name`
/// parameters are bound, never spliced.
///
/// The text is scanned when the statement is compiled: `:name` outside
/// string literals, quoted identifiers, comments, dollar-quoted strings and
/// `::` casts becomes a placeholder; `\:` writes a literal colon. Positional
/// placeholders (`$1`, `?`) in the text are an error, since Quarry numbers
/// parameters itself.
#[derive(Clone, Debug, PartialEq)]
pub struct RawSql {
    /// The SQL text.
    pub sql: Cow<'static, str>,
    /// The values of the `:name` parameters.
    pub binds: Vec<(Cow<'static, str>, Value)>,
}

impl RawSql {
    /// A fragment with no parameters bound yet.
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        RawSql { sql: sql.into(), binds: Vec::new() }
    }

    /// Bind `:name` to `value` (a later bind of the same name replaces it).
    pub fn bind(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> Self {
        let name = name.into();
        let value = value.into();
        match self.binds.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.binds.push((name, value)),
        }
        self
    }
}
