//! SQLite.

use crate::ast::{self, DateField, Func, FunctionCall, IntervalUnit, TemporalKind};
use crate::compile::{CompileError, SqlWriter};
use crate::schema::ColumnType;
use crate::value::Value;

use super::{Dialect, Feature, is_plain_name, not_plain_name, quote_with, write_float};

/// The SQLite dialect: `?1` placeholders; no `DISTINCT ON`, row locks,
/// `LATERAL`, `INTERSECT/EXCEPT ALL`, arrays or intervals. `ILIKE`,
/// `DELETE ... USING`, derived-table column lists and `GREATEST`/`LEAST`
/// are emulated with the same meaning.
///
/// Quarry's SQLite driver turns `case_sensitive_like` on, so that `LIKE` is
/// case-sensitive as on PostgreSQL; `lower()`, `upper()` and the `ILIKE`
/// emulation fold ASCII letters only.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sqlite;

fn write_hex_blob(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push_str("X'");
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out.push('\'');
}

/// SQLite string literals have no escapes: only `'` is doubled. Text with
/// NUL is written as a blob cast to text.
fn write_text_literal(text: &str, out: &mut String) {
    if text.contains('\0') {
        out.push_str("CAST(");
        write_hex_blob(text.as_bytes(), out);
        out.push_str(" AS TEXT)");
    } else {
        quote_with(text, '\'', out);
    }
}

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn supports(&self, feature: Feature) -> bool {
        match feature {
            Feature::DistinctOn
            | Feature::RowLocking
            | Feature::Lateral
            | Feature::IntersectAll
            | Feature::ExceptAll
            | Feature::DerivedColumnList
            | Feature::ArrayParameters
            | Feature::ILike
            | Feature::ParenthesizedSetOperands
            | Feature::DeleteUsing
            | Feature::DropCascade
            | Feature::OnConflictOnConstraint
            | Feature::DefaultInValues
            | Feature::Arrays
            | Feature::Intervals
            | Feature::NanValues
            | Feature::DollarQuotes
            | Feature::NestedComments
            | Feature::EscapeStrings
            | Feature::CarriageReturnEndsComment
            | Feature::BackslashLikeEscape => false,
            Feature::BracketIdentifiers => true,
        }
    }

    fn write_constant_predicate(&self, value: bool, out: &mut String) {
        // SQLite folds `p AND FALSE` (and `AND 0`) to the integer 0 while
        // parsing, which ORDER BY and GROUP BY then read as a column
        // number; a comparison is not folded.
        out.push_str(if value { "(1 = 1)" } else { "(1 = 0)" });
    }

    fn write_placeholder(&self, index: usize, out: &mut String) {
        out.push('?');
        super::push_decimal(index, out);
    }

    fn write_literal(&self, value: &Value, out: &mut String) -> Result<(), CompileError> {
        match value {
            Value::Null => out.push_str("NULL"),
            Value::Bool(v) => out.push_str(if *v { "1" } else { "0" }),
            Value::I16(v) => out.push_str(&v.to_string()),
            Value::I32(v) => out.push_str(&v.to_string()),
            Value::I64(v) => out.push_str(&v.to_string()),
            Value::F32(v) => return self.write_literal(&Value::F64(f64::from(*v)), out),
            Value::F64(v) if v.is_nan() => {
                return Err(CompileError::Unsupported {
                    construct: Feature::NanValues.construct(),
                    dialect: self.name(),
                });
            }
            // SQLite reads an out-of-range literal as infinity.
            Value::F64(v) if v.is_infinite() => out.push_str(if *v > 0.0 { "1e999" } else { "-1e999" }),
            Value::F64(v) => write_float(*v, out)?,
            Value::Text(v) => write_text_literal(v, out),
            Value::Bytes(v) => write_hex_blob(v, out),
            Value::Interval(_) | Value::Array(_) => {
                let feature = if matches!(value, Value::Array(_)) { Feature::Arrays } else { Feature::Intervals };
                return Err(CompileError::Unsupported { construct: feature.construct(), dialect: self.name() });
            }
            #[cfg(feature = "uuid")]
            Value::Uuid(v) => write_hex_blob(v.as_bytes(), out),
            #[cfg(feature = "json")]
            Value::Json(v) => write_text_literal(&v.to_string(), out),
            #[cfg(feature = "chrono")]
            Value::Date(v) => write_text_literal(&crate::value::date_text(v), out),
            #[cfg(feature = "chrono")]
            Value::Time(v) => write_text_literal(&crate::value::time_text(v), out),
            #[cfg(feature = "chrono")]
            Value::Timestamp(v) => write_text_literal(&crate::value::timestamp_text(v), out),
            #[cfg(feature = "chrono")]
            Value::TimestampTz(v) => write_text_literal(&crate::value::timestamptz_text(v), out),
            #[cfg(feature = "rust_decimal")]
            Value::Decimal(v) => write_text_literal(&v.to_string(), out),
        }
        Ok(())
    }

    fn write_column_type(&self, ty: &ColumnType, out: &mut String) -> Result<(), CompileError> {
        out.push_str(match ty {
            ColumnType::Bool => "BOOLEAN",
            // Not `INTEGER`: an `INTEGER PRIMARY KEY` is the rowid, which
            // SQLite fills in when the value is missing, and a key the schema
            // does not declare generated must be given. These names have the
            // same integer affinity; generated keys are written by
            // `write_autoincrement_column`.
            ColumnType::SmallInt => "SMALLINT",
            ColumnType::Integer => "INT",
            ColumnType::BigInt => "BIGINT",
            ColumnType::Real | ColumnType::Double => "REAL",
            // TEXT: a NUMERIC column's affinity would turn '1.10' into the
            // double 1.1 and keep 15 significant digits. Decimals are bound as
            // text and kept exactly; they compare and sort as text.
            ColumnType::Numeric(_) => "TEXT",
            ColumnType::Text | ColumnType::Varchar(_) | ColumnType::Char(_) => "TEXT",
            ColumnType::Bytes | ColumnType::Uuid => "BLOB",
            ColumnType::Date | ColumnType::Time | ColumnType::Timestamp | ColumnType::TimestampTz => "TEXT",
            ColumnType::Json | ColumnType::Jsonb => "TEXT",
            ColumnType::Interval => {
                return Err(CompileError::Unsupported {
                    construct: Feature::Intervals.construct(),
                    dialect: self.name(),
                });
            }
            ColumnType::Array(_) => {
                return Err(CompileError::Unsupported { construct: Feature::Arrays.construct(), dialect: self.name() });
            }
            ColumnType::Custom(name) => return super::write_custom_type(name, self.name(), out),
        });
        Ok(())
    }

    /// SQLite parameters carry their own type: no cast.
    fn write_typed_value(&self, w: &mut SqlWriter<'_>, value: &Value, ty: &ColumnType) -> Result<(), CompileError> {
        // Refuse types SQLite cannot store, as `CREATE TABLE` would.
        self.write_column_type(ty, &mut String::new())?;
        w.push_value(value)
    }

    /// `CAST` to a temporal type goes through SQLite's date functions, which
    /// normalise the text form; a plain `CAST(x AS DATE)` would give a number.
    /// Times and timestamps come out in the fixed-width form Quarry binds,
    /// with the operand's microseconds (SQLite's own functions keep only
    /// milliseconds).
    fn write_cast(&self, w: &mut SqlWriter<'_>, expr: &ast::Expr, ty: &ColumnType) -> Result<(), CompileError> {
        match ty {
            ColumnType::Date => {
                w.push_sql("date(");
                w.write_expr(expr)?;
                w.push_sql(")");
                Ok(())
            }
            ColumnType::Time => write_fixed_width(w, "%H:%M:%S", expr, None, ""),
            ColumnType::Timestamp => write_fixed_width(w, "%Y-%m-%d %H:%M:%S", expr, None, ""),
            ColumnType::TimestampTz => write_fixed_width(w, "%Y-%m-%d %H:%M:%S", expr, None, "+00:00"),
            _ => {
                w.push_sql("CAST(");
                w.write_expr(expr)?;
                w.push_sql(" AS ");
                self.write_column_type(ty, w.sql_mut())?;
                w.push_sql(")");
                Ok(())
            }
        }
    }

    fn write_function(&self, w: &mut SqlWriter<'_>, call: &FunctionCall) -> Result<(), CompileError> {
        // One call per arm, so that this frame stays small: it is on the
        // stack once per level of nested calls.
        match (&call.func, call.args.as_slice()) {
            (Func::Substring, [s, rest @ ..]) if !rest.is_empty() && rest.len() <= 2 => write_substr(w, s, rest),
            (Func::Greatest | Func::Least, args) if !args.is_empty() => {
                write_greatest_least(w, call.func == Func::Greatest, args)
            }
            (Func::Now, []) => {
                // SQLite's clock has milliseconds; pad to the bound form.
                w.push_sql("(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000+00:00')");
                Ok(())
            }
            (Func::Round, [x, digits]) => write_round(w, x, digits),
            (Func::Extract { field, .. }, [x]) => write_extract(w, *field, x),
            (Func::DateAdd { unit, on }, [x, amount]) => write_date_add(w, *unit, *on, x, amount),
            (Func::Named(name), _) if !is_plain_name(name) => Err(not_plain_name(name)),
            _ => w.write_function_standard(call),
        }
    }

    /// SQLite has no `LIMIT ALL`: an `OFFSET` alone needs `LIMIT -1`.
    fn write_limit_offset(
        &self,
        w: &mut SqlWriter<'_>,
        limit: Option<&ast::Expr>,
        offset: Option<&ast::Expr>,
    ) -> Result<(), CompileError> {
        match limit {
            Some(limit) => {
                w.push_sql(" LIMIT ");
                w.write_expr(limit)?;
            }
            None if offset.is_some() => w.push_sql(" LIMIT -1"),
            None => {}
        }
        if let Some(offset) = offset {
            w.push_sql(" OFFSET ");
            w.write_expr(offset)?;
        }
        Ok(())
    }

    /// Only `INTEGER PRIMARY KEY` (the rowid) is generated by SQLite;
    /// `AUTOINCREMENT` keeps it from reusing the ids of deleted rows, as
    /// PostgreSQL's identity columns never do.
    fn write_autoincrement_column(
        &self,
        ty: &ColumnType,
        sole_primary_key: bool,
        out: &mut String,
    ) -> Result<bool, CompileError> {
        if !sole_primary_key || !matches!(ty, ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt) {
            return Err(CompileError::Unsupported {
                construct: "a generated column other than a single integer primary key",
                dialect: self.name(),
            });
        }
        out.push_str("INTEGER PRIMARY KEY AUTOINCREMENT");
        Ok(true)
    }
}

/// `substr(s, start [, length])`, 1-based as `SUBSTRING`.
fn write_substr(w: &mut SqlWriter<'_>, s: &ast::Expr, rest: &[ast::Expr]) -> Result<(), CompileError> {
    if let Some(start) = rest.first() {
        w.check_substring_start(start)?;
    }
    w.push_sql("substr(");
    w.write_expr(s)?;
    for a in rest {
        w.push_sql(", ");
        w.write_expr(a)?;
    }
    w.push_sql(")");
    Ok(())
}

/// GREATEST/LEAST ignore NULLs; SQLite's max()/min() return NULL if any
/// argument is NULL. Replacing each argument by the COALESCE of it and all
/// the others keeps the result and the all-NULL case.
fn write_greatest_least(w: &mut SqlWriter<'_>, greatest: bool, args: &[ast::Expr]) -> Result<(), CompileError> {
    // The aggregate over the arguments as rows: it ignores NULLs, is NULL
    // when all are, and writes each argument once (nesting stays linear).
    w.push_sql(if greatest { "(SELECT max(\"v\") FROM (" } else { "(SELECT min(\"v\") FROM (" });
    for (i, arg) in args.iter().enumerate() {
        w.push_sql(if i == 0 { "SELECT " } else { " UNION ALL SELECT " });
        w.write_expr(arg)?;
        if i == 0 {
            w.push_sql(" AS \"v\"");
        }
    }
    w.push_sql("))");
    Ok(())
}

/// `round(x, digits)`. SQLite's `round` treats negative digits as 0, so
/// rounding to tens or hundreds divides by the power of ten, rounds, and
/// multiplies back: for digits known here (the typed API's) with the power
/// bound as a double, otherwise with the power computed from `'1e' || (0 - d)`
/// (SQLite's math functions are not compiled in).
fn write_round(w: &mut SqlWriter<'_>, x: &ast::Expr, digits: &ast::Expr) -> Result<(), CompileError> {
    let known = match digits {
        ast::Expr::Value(v) | ast::Expr::TypedValue { value: v, .. } => match v {
            Value::I16(n) => Some(i64::from(*n)),
            Value::I32(n) => Some(i64::from(*n)),
            Value::I64(n) => Some(*n),
            _ => None,
        },
        _ => None,
    };
    match known {
        Some(n) if n >= 0 => {
            w.push_sql("round(");
            w.write_expr(x)?;
            w.push_sql(", ");
            w.write_expr(digits)?;
            w.push_sql(")");
        }
        Some(n) => {
            // Past 10^308 the power is infinite (and 0 * inf is NaN, which
            // SQLite reads as NULL); every finite double rounds to 0 by then.
            let power = Value::F64(10f64.powi(i32::try_from(n.saturating_neg().min(308)).unwrap_or(308)));
            w.push_sql("(round(");
            w.write_operand(x)?;
            w.push_sql(" / ");
            w.push_value(&power)?;
            w.push_sql(") * ");
            w.push_value(&power)?;
            w.push_sql(")");
        }
        None => {
            w.push_sql("CASE WHEN ");
            w.write_operand(digits)?;
            w.push_sql(" >= 0 THEN round(");
            w.write_expr(x)?;
            w.push_sql(", ");
            w.write_expr(digits)?;
            w.push_sql(") ELSE round(");
            w.write_operand(x)?;
            w.push_sql(" / CAST('1e' || (0 - ");
            w.write_operand(digits)?;
            w.push_sql(") AS REAL)) * CAST('1e' || (0 - ");
            w.write_operand(digits)?;
            w.push_sql(") AS REAL) END");
        }
    }
    Ok(())
}

/// `EXTRACT` through `strftime`, as a whole number.
fn write_extract(w: &mut SqlWriter<'_>, field: DateField, x: &ast::Expr) -> Result<(), CompileError> {
    w.push_sql("CAST(strftime('");
    w.push_sql(match field {
        DateField::Year => "%Y",
        DateField::Month => "%m",
        DateField::Day => "%d",
        DateField::Hour => "%H",
        DateField::Minute => "%M",
        DateField::Second => "%S",
        DateField::DayOfWeek => "%w",
        DateField::DayOfYear => "%j",
        DateField::Epoch => "%s",
    });
    w.push_sql("', ");
    w.write_expr(x)?;
    w.push_sql(") AS INTEGER)");
    Ok(())
}

/// A date or timestamp plus a whole number of `unit`s, through SQLite's
/// date modifiers.
fn write_date_add(
    w: &mut SqlWriter<'_>,
    unit: IntervalUnit,
    on: TemporalKind,
    x: &ast::Expr,
    amount: &ast::Expr,
) -> Result<(), CompileError> {
    let suffix = match on {
        TemporalKind::Date => {
            w.push_sql("date(");
            w.write_expr(x)?;
            w.push_sql(", ");
            write_modifier(w, unit, amount)?;
            w.push_sql(")");
            return Ok(());
        }
        TemporalKind::Timestamp => "",
        TemporalKind::TimestampTz => "+00:00",
        TemporalKind::Time => return Err(CompileError::invalid("a time of day cannot have an interval added")),
    };
    write_fixed_width(w, "%Y-%m-%d %H:%M:%S", x, Some((unit, amount)), suffix)
}

/// `amount || ' unit'`, a date modifier.
fn write_modifier(w: &mut SqlWriter<'_>, unit: IntervalUnit, amount: &ast::Expr) -> Result<(), CompileError> {
    w.write_operand(amount)?;
    w.push_sql(match unit {
        IntervalUnit::Seconds => " || ' seconds'",
        IntervalUnit::Minutes => " || ' minutes'",
        IntervalUnit::Hours => " || ' hours'",
        IntervalUnit::Days => " || ' days'",
        IntervalUnit::Months => " || ' months'",
        IntervalUnit::Years => " || ' years'",
    });
    Ok(())
}

/// A time or timestamp in the fixed-width text form Quarry binds
/// (`.ffffff` always, then `suffix`), optionally moved by a modifier.
///
/// SQLite's date functions keep milliseconds, and round them when a modifier
/// applies (`10:00:59.9996` plus an hour is `11:01:00`), so the whole
/// seconds go through `strftime` (truncated first, when moved) and the
/// fraction is copied from the operand: the digits after its `.`, read as a
/// number and printed with six places (`.000000` when it has none).
fn write_fixed_width(
    w: &mut SqlWriter<'_>,
    format: &str,
    x: &ast::Expr,
    modifier: Option<(IntervalUnit, &ast::Expr)>,
    suffix: &str,
) -> Result<(), CompileError> {
    w.push_sql("(strftime('");
    w.push_sql(format);
    w.push_sql("', ");
    match modifier {
        None => w.write_expr(x)?,
        Some((unit, amount)) => {
            w.push_sql("strftime('%Y-%m-%d %H:%M:%S', ");
            w.write_expr(x)?;
            w.push_sql("), ");
            write_modifier(w, unit, amount)?;
        }
    }
    w.push_sql(") || substr(printf('%.6f', CAST('0' || substr(");
    w.write_operand(x)?;
    w.push_sql(", instr(");
    w.write_operand(x)?;
    w.push_sql(" || '.', '.'), 7) AS REAL)), 2)");
    if !suffix.is_empty() {
        w.push_sql(" || '");
        w.push_sql(suffix);
        w.push_sql("'");
    }
    w.push_sql(")");
    Ok(())
}
