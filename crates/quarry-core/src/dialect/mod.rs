//! SQL dialects: what differs between databases, as small hooks whose
//! defaults are standard SQL.
//!
//! The compiler never asks which dialect it is writing; it asks whether a
//! [`Feature`] is supported (and fails with a
//! [`CompileError::Unsupported`](crate::CompileError) naming the construct
//! and the dialect when not), and lets the dialect write the few things that
//! are spelled differently. A new database is a new file implementing
//! [`Dialect`].

use std::fmt;

use crate::ast::{self, FunctionCall};
use crate::compile::{CompileError, SqlWriter};
use crate::schema::ColumnType;
use crate::value::Value;

mod postgres;
mod sqlite;

pub use postgres::Postgres;
pub use sqlite::Sqlite;

/// A construct that some databases lack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Feature {
    /// `SELECT DISTINCT ON (...)`
    DistinctOn,
    /// `FOR UPDATE` / `FOR SHARE` row locks.
    RowLocking,
    /// `LATERAL` subqueries.
    Lateral,
    /// `INTERSECT ALL`
    IntersectAll,
    /// `EXCEPT ALL`
    ExceptAll,
    /// `AS alias (c1, c2)` column lists on derived tables (emulated when absent).
    DerivedColumnList,
    /// Array-typed parameters, so `IN (...)` binds one array (`= ANY($1)`).
    ArrayParameters,
    /// `ILIKE` (emulated with `lower()` when absent).
    ILike,
    /// Parenthesised operands of `UNION`/`INTERSECT`/`EXCEPT` (emulated with
    /// `SELECT * FROM (...)` when absent).
    ParenthesizedSetOperands,
    /// `DELETE ... USING` (emulated with `WHERE EXISTS` when absent).
    DeleteUsing,
    /// `DROP TABLE ... CASCADE`
    DropCascade,
    /// `ON CONFLICT ON CONSTRAINT name`
    OnConflictOnConstraint,
    /// `DEFAULT` inside a multi-row `VALUES` list.
    DefaultInValues,
    /// Array column types and values.
    Arrays,
    /// The `INTERVAL` type and interval values.
    Intervals,
    /// `NaN` stored as a float (SQLite stores it as NULL).
    NanValues,
    /// `$$...$$` and `$tag$...$tag$` string literals (where `$name` is not a
    /// parameter).
    DollarQuotes,
    /// `LIKE` treats `\` as an escape character unless told otherwise
    /// (PostgreSQL): patterns without an escape get `ESCAPE ''`, so they
    /// mean what standard SQL (and SQLite) says.
    BackslashLikeEscape,
    /// `/* ... */` comments that nest (SQLite ends a comment at the first `*/`).
    NestedComments,
    /// `E'...'` strings, in which a backslash escapes the next character.
    EscapeStrings,
    /// A `--` comment ends at a carriage return as well as at a line feed
    /// (SQLite ends it at a line feed only).
    CarriageReturnEndsComment,
    /// `[name]` is a quoted identifier (SQLite; on PostgreSQL brackets are
    /// array subscripts).
    BracketIdentifiers,
}

impl Feature {
    /// The construct's name in SQL words, for error messages.
    pub fn construct(self) -> &'static str {
        match self {
            Feature::DistinctOn => "DISTINCT ON",
            Feature::RowLocking => "FOR UPDATE/FOR SHARE row locking",
            Feature::Lateral => "LATERAL",
            Feature::IntersectAll => "INTERSECT ALL",
            Feature::ExceptAll => "EXCEPT ALL",
            Feature::DerivedColumnList => "a derived table column list",
            Feature::ArrayParameters => "array parameters",
            Feature::ILike => "ILIKE",
            Feature::ParenthesizedSetOperands => "parenthesised set operands",
            Feature::DeleteUsing => "DELETE ... USING",
            Feature::DropCascade => "DROP ... CASCADE",
            Feature::OnConflictOnConstraint => "ON CONFLICT ON CONSTRAINT",
            Feature::DefaultInValues => "DEFAULT in a multi-row VALUES list",
            Feature::Arrays => "array types",
            Feature::Intervals => "the INTERVAL type",
            Feature::NanValues => "NaN as a floating-point value",
            Feature::DollarQuotes => "dollar-quoted strings",
            Feature::BackslashLikeEscape => "a default LIKE escape character",
            Feature::NestedComments => "nested comments",
            Feature::EscapeStrings => "E'...' escape strings",
            Feature::CarriageReturnEndsComment => "comments ended by a carriage return",
            Feature::BracketIdentifiers => "[bracketed] identifiers",
        }
    }
}

/// The differences between databases, as hooks with standard-SQL defaults.
pub trait Dialect: Send + Sync + fmt::Debug {
    /// The database's name, for error messages (`PostgreSQL`, `SQLite`).
    /// It also tells dialects apart where the compiler reuses text it
    /// wrote (the placeholders of a bulk insert), so two dialects with one
    /// name must write the same placeholders.
    fn name(&self) -> &'static str;

    /// Whether the database has `feature`.
    fn supports(&self, feature: Feature) -> bool;

    /// The longest identifier, in bytes, the database keeps exactly.
    fn max_identifier_bytes(&self) -> Option<usize> {
        None
    }

    /// Write the placeholder for parameter `index` (1-based).
    fn write_placeholder(&self, index: usize, out: &mut String);

    /// The character identifiers are quoted with.
    fn identifier_quote(&self) -> char {
        '"'
    }

    /// Write `ident` quoted, with the quote character doubled. Identifiers
    /// the database cannot hold exactly (empty, NUL, too long) are refused.
    fn write_identifier(&self, ident: &str, out: &mut String) -> Result<(), CompileError> {
        check_identifier(ident, self.max_identifier_bytes(), self.name())?;
        quote_with(ident, self.identifier_quote(), out);
        Ok(())
    }

    /// Write a predicate that is always `value`, such as an `IN` with an
    /// empty list (`TRUE`/`FALSE` by default).
    fn write_constant_predicate(&self, value: bool, out: &mut String) {
        out.push_str(if value { "TRUE" } else { "FALSE" });
    }

    /// Write `value` as an escaped literal (debug SQL and DDL only).
    fn write_literal(&self, value: &Value, out: &mut String) -> Result<(), CompileError>;

    /// Write a column type's name.
    fn write_column_type(&self, ty: &ColumnType, out: &mut String) -> Result<(), CompileError>;

    /// Write a parameter whose SQL type is fixed: `CAST($n AS type)` by default.
    fn write_typed_value(&self, w: &mut SqlWriter<'_>, value: &Value, ty: &ColumnType) -> Result<(), CompileError> {
        w.push_sql("CAST(");
        w.push_value(value)?;
        w.push_sql(" AS ");
        self.write_column_type(ty, w.sql_mut())?;
        w.push_sql(")");
        Ok(())
    }

    /// Write `CAST(expr AS type)`.
    fn write_cast(&self, w: &mut SqlWriter<'_>, expr: &ast::Expr, ty: &ColumnType) -> Result<(), CompileError> {
        w.push_sql("CAST(");
        w.write_expr(expr)?;
        w.push_sql(" AS ");
        self.write_column_type(ty, w.sql_mut())?;
        w.push_sql(")");
        Ok(())
    }

    /// Write a function call; the default writes standard SQL.
    fn write_function(&self, w: &mut SqlWriter<'_>, call: &FunctionCall) -> Result<(), CompileError> {
        w.write_function_standard(call)
    }

    /// Write `LIMIT`/`OFFSET`; either may be absent.
    fn write_limit_offset(
        &self,
        w: &mut SqlWriter<'_>,
        limit: Option<&ast::Expr>,
        offset: Option<&ast::Expr>,
    ) -> Result<(), CompileError> {
        if let Some(limit) = limit {
            w.push_sql(" LIMIT ");
            w.write_expr(limit)?;
        }
        if let Some(offset) = offset {
            w.push_sql(" OFFSET ");
            w.write_expr(offset)?;
        }
        Ok(())
    }

    /// Write a column's type and identity clause in `CREATE TABLE`, for a
    /// column whose values the database generates. `sole_primary_key` says
    /// whether it is the table's whole primary key; return `true` if the
    /// primary key was written inline (so no table constraint is added).
    fn write_autoincrement_column(
        &self,
        ty: &ColumnType,
        sole_primary_key: bool,
        out: &mut String,
    ) -> Result<bool, CompileError>;
}

/// Refuse identifiers a database cannot hold exactly.
pub(crate) fn check_identifier(
    ident: &str,
    max_bytes: Option<usize>,
    dialect: &'static str,
) -> Result<(), CompileError> {
    let reason = if ident.is_empty() {
        "is empty".to_owned()
    } else if ident.contains('\0') {
        "contains a NUL character".to_owned()
    } else if let Some(max) = max_bytes.filter(|max| ident.len() > *max) {
        format!("is {} bytes long, over the limit of {max} (it would be truncated)", ident.len())
    } else {
        return Ok(());
    };
    Err(CompileError::InvalidIdentifier { ident: format!("{ident:?}"), reason, dialect })
}

/// Write `text` between `quote`s, doubling every `quote` inside.
pub(crate) fn quote_with(text: &str, quote: char, out: &mut String) {
    out.reserve(text.len() + 2);
    out.push(quote);
    for (i, part) in text.split(quote).enumerate() {
        if i > 0 {
            out.push(quote);
            out.push(quote);
        }
        out.push_str(part);
    }
    out.push(quote);
}

/// Whether `name` may be written unquoted as a function or type name:
/// ASCII letters, digits and `_`, not starting with a digit, optionally
/// dotted (`pg_catalog.lower`).
pub(crate) fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            let mut bytes = part.bytes();
            matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
                && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

/// The error for a function name that is not a plain SQL name.
#[cold]
pub(crate) fn not_plain_name(name: &str) -> CompileError {
    CompileError::invalid(format!("function name {name:?} must be letters, digits and underscores"))
}

/// Write a finite float so that it reads back exactly (`1e300`, `0.5`, `-0.0`).
pub(crate) fn write_float(v: f64, out: &mut String) -> Result<(), CompileError> {
    if !v.is_finite() {
        return Err(CompileError::InvalidLiteral { reason: format!("{v} has no literal form") });
    }
    let text = format!("{v:?}");
    out.push_str(&text);
    Ok(())
}

/// Write a [`ColumnType::Custom`] name after checking it holds nothing but
/// letters, digits, `_`, spaces, parentheses and commas.
pub(crate) fn write_custom_type(name: &str, dialect: &'static str, out: &mut String) -> Result<(), CompileError> {
    let ok = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b' ' | b'(' | b')' | b','));
    if !ok {
        return Err(CompileError::InvalidIdentifier {
            ident: format!("{name:?}"),
            reason: "is not a plain type name".into(),
            dialect,
        });
    }
    out.push_str(name);
    Ok(())
}

/// Every two-digit decimal, `00` to `99`, one after the other.
const DIGIT_PAIRS: &str = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// Append `n` in decimal, two digits a step: placeholder numbers are
/// written once per parameter, and each step is a fixed-size copy, with
/// neither `fmt` nor a call to `memcpy`.
pub(crate) fn push_decimal(n: usize, out: &mut String) {
    fn push_digit(digit: usize, out: &mut String) {
        out.push(char::from(b'0' + digit as u8));
    }
    fn push_pair(pair: usize, out: &mut String) {
        out.push_str(&DIGIT_PAIRS[pair * 2..pair * 2 + 2]);
    }
    match n {
        0..10 => push_digit(n, out),
        10..100 => push_pair(n, out),
        100..1_000 => {
            push_digit(n / 100, out);
            push_pair(n % 100, out);
        }
        1_000..10_000 => {
            push_pair(n / 100, out);
            push_pair(n % 100, out);
        }
        10_000..100_000 => {
            push_digit(n / 10_000, out);
            push_pair(n / 100 % 100, out);
            push_pair(n % 100, out);
        }
        _ => {
            push_decimal(n / 10_000, out);
            push_pair(n / 100 % 100, out);
            push_pair(n % 100, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_the_quote() {
        let mut out = String::new();
        quote_with(r#"a"b""c"#, '"', &mut out);
        assert_eq!(out, r#""a""b""""c""#);
    }

    #[test]
    fn decimals() {
        for n in (0..=100_500).chain([999_999, 1_000_000, 12_345_678, usize::MAX - 1, usize::MAX]) {
            let mut out = String::new();
            push_decimal(n, &mut out);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn plain_names() {
        assert!(is_plain_name("lower"));
        assert!(is_plain_name("pg_catalog.lower"));
        assert!(!is_plain_name("1abc"));
        assert!(!is_plain_name("a;b"));
        assert!(!is_plain_name("a."));
        assert!(!is_plain_name(""));
    }
}
