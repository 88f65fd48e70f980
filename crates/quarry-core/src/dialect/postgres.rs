//! PostgreSQL.

use crate::ast::{DateField, Expr, Func, FunctionCall, IntervalUnit, TemporalKind};
use crate::compile::{CompileError, SqlWriter};
use crate::schema::ColumnType;
use crate::value::Value;

use super::{Dialect, Feature, is_plain_name, not_plain_name, quote_with, write_float};

/// The PostgreSQL dialect: `$1` placeholders, identifiers up to 63 bytes,
/// every [`Feature`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Postgres;

/// Write `text` as a string literal that means the same whatever
/// `standard_conforming_strings` is: `E'...'` with `\` and `'` doubled when it
/// holds a backslash, `'...'` otherwise. NUL cannot be held by `text`.
fn write_text_literal(text: &str, out: &mut String) -> Result<(), CompileError> {
    if text.contains('\0') {
        return Err(CompileError::InvalidLiteral { reason: "PostgreSQL text cannot contain NUL".into() });
    }
    if text.contains('\\') {
        out.push('E');
        quote_with(&text.replace('\\', "\\\\"), '\'', out);
    } else {
        quote_with(text, '\'', out);
    }
    Ok(())
}

fn write_hex(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
}

fn write_typed_text(text: &str, ty: &str, out: &mut String) -> Result<(), CompileError> {
    write_text_literal(text, out)?;
    out.push_str("::");
    out.push_str(ty);
    Ok(())
}

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "PostgreSQL"
    }

    fn supports(&self, feature: Feature) -> bool {
        // Brackets are array subscripts on PostgreSQL, not identifier quotes.
        feature != Feature::BracketIdentifiers
    }

    fn max_identifier_bytes(&self) -> Option<usize> {
        Some(63)
    }

    fn write_placeholder(&self, index: usize, out: &mut String) {
        out.push('$');
        super::push_decimal(index, out);
    }

    fn write_literal(&self, value: &Value, out: &mut String) -> Result<(), CompileError> {
        match value {
            Value::Null => out.push_str("NULL"),
            Value::Bool(true) => out.push_str("TRUE"),
            Value::Bool(false) => out.push_str("FALSE"),
            Value::I16(v) => out.push_str(&v.to_string()),
            Value::I32(v) => out.push_str(&v.to_string()),
            Value::I64(v) => out.push_str(&v.to_string()),
            Value::F32(v) => return self.write_literal(&Value::F64(f64::from(*v)), out),
            Value::F64(v) if v.is_nan() => out.push_str("'NaN'::float8"),
            Value::F64(v) if v.is_infinite() => {
                out.push_str(if *v > 0.0 { "'Infinity'::float8" } else { "'-Infinity'::float8" })
            }
            Value::F64(v) => {
                out.push_str("CAST(");
                write_float(*v, out)?;
                out.push_str(" AS DOUBLE PRECISION)");
            }
            Value::Text(v) => write_text_literal(v, out)?,
            Value::Bytes(v) => {
                out.push_str("decode('");
                write_hex(v, out);
                out.push_str("', 'hex')");
            }
            Value::Interval(v) => write_typed_text(&v.to_string(), "interval", out)?,
            #[cfg(feature = "uuid")]
            Value::Uuid(v) => write_typed_text(&v.to_string(), "uuid", out)?,
            #[cfg(feature = "json")]
            Value::Json(v) => write_typed_text(&v.to_string(), "jsonb", out)?,
            #[cfg(feature = "chrono")]
            Value::Date(v) => write_typed_text(&crate::value::date_text(v), "date", out)?,
            #[cfg(feature = "chrono")]
            Value::Time(v) => write_typed_text(&crate::value::time_text(v), "time", out)?,
            #[cfg(feature = "chrono")]
            Value::Timestamp(v) => write_typed_text(&crate::value::timestamp_text(v), "timestamp", out)?,
            #[cfg(feature = "chrono")]
            Value::TimestampTz(v) => write_typed_text(&crate::value::timestamptz_text(v), "timestamptz", out)?,
            #[cfg(feature = "rust_decimal")]
            Value::Decimal(v) => write_typed_text(&v.to_string(), "numeric", out)?,
            Value::Array(items) => {
                if items.is_empty() {
                    out.push_str("'{}'");
                } else {
                    out.push_str("ARRAY[");
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        self.write_literal(item, out)?;
                    }
                    out.push(']');
                }
            }
        }
        Ok(())
    }

    fn write_column_type(&self, ty: &ColumnType, out: &mut String) -> Result<(), CompileError> {
        match ty {
            ColumnType::Bool => out.push_str("BOOLEAN"),
            ColumnType::SmallInt => out.push_str("SMALLINT"),
            ColumnType::Integer => out.push_str("INTEGER"),
            ColumnType::BigInt => out.push_str("BIGINT"),
            ColumnType::Real => out.push_str("REAL"),
            ColumnType::Double => out.push_str("DOUBLE PRECISION"),
            ColumnType::Numeric(None) => out.push_str("NUMERIC"),
            ColumnType::Numeric(Some((p, s))) => out.push_str(&format!("NUMERIC({p}, {s})")),
            ColumnType::Text => out.push_str("TEXT"),
            ColumnType::Varchar(None) => out.push_str("VARCHAR"),
            ColumnType::Varchar(Some(n)) => out.push_str(&format!("VARCHAR({n})")),
            ColumnType::Char(n) => out.push_str(&format!("CHAR({n})")),
            ColumnType::Bytes => out.push_str("BYTEA"),
            ColumnType::Date => out.push_str("DATE"),
            ColumnType::Time => out.push_str("TIME"),
            ColumnType::Timestamp => out.push_str("TIMESTAMP"),
            ColumnType::TimestampTz => out.push_str("TIMESTAMPTZ"),
            ColumnType::Interval => out.push_str("INTERVAL"),
            ColumnType::Uuid => out.push_str("UUID"),
            ColumnType::Json => out.push_str("JSON"),
            ColumnType::Jsonb => out.push_str("JSONB"),
            ColumnType::Array(elem) => {
                if matches!(**elem, ColumnType::Array(_)) {
                    return Err(CompileError::Unsupported { construct: "nested array types", dialect: self.name() });
                }
                self.write_column_type(elem, out)?;
                out.push_str("[]");
            }
            ColumnType::Custom(name) => super::write_custom_type(name, self.name(), out)?,
        }
        Ok(())
    }

    /// `CAST($n AS type)`. Text bound for another type is cast from `TEXT`
    /// explicitly, so the server parses it rather than expecting the binary
    /// form of the target type.
    fn write_typed_value(&self, w: &mut SqlWriter<'_>, value: &Value, ty: &ColumnType) -> Result<(), CompileError> {
        let text_for_other = matches!(value, Value::Text(_))
            && !matches!(ty, ColumnType::Text | ColumnType::Varchar(_) | ColumnType::Char(_));
        w.push_sql("CAST(");
        w.push_value(value)?;
        if text_for_other && !w.inline_values() {
            w.push_sql("::text");
        }
        w.push_sql(" AS ");
        self.write_column_type(ty, w.sql_mut())?;
        w.push_sql(")");
        Ok(())
    }

    fn write_function(&self, w: &mut SqlWriter<'_>, call: &FunctionCall) -> Result<(), CompileError> {
        // One call per arm, so that this frame stays small: it is on the
        // stack once per level of nested calls.
        match (&call.func, call.args.as_slice()) {
            (Func::Round, [x, digits]) => write_round(w, x, digits),
            (Func::Extract { field, on }, [x]) => write_extract(w, *field, *on, x),
            (Func::DateAdd { unit, on }, [x, amount]) => write_date_add(w, *unit, *on, x, amount),
            (Func::Named(name), _) if !is_plain_name(name) => Err(not_plain_name(name)),
            _ => w.write_function_standard(call),
        }
    }

    fn write_autoincrement_column(
        &self,
        ty: &ColumnType,
        _sole_primary_key: bool,
        out: &mut String,
    ) -> Result<bool, CompileError> {
        if !matches!(ty, ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt) {
            return Err(CompileError::invalid("only integer columns can be generated by the database"));
        }
        self.write_column_type(ty, out)?;
        out.push_str(" GENERATED BY DEFAULT AS IDENTITY");
        Ok(false)
    }
}

/// `round()` of a double, half away from zero (as `numeric` rounds).
fn write_round(w: &mut SqlWriter<'_>, x: &Expr, digits: &Expr) -> Result<(), CompileError> {
    w.push_sql("CAST(round(CAST(");
    w.write_expr(x)?;
    w.push_sql(" AS NUMERIC), ");
    w.write_expr(digits)?;
    w.push_sql(") AS DOUBLE PRECISION)");
    Ok(())
}

/// `EXTRACT` as a whole number.
fn write_extract(
    w: &mut SqlWriter<'_>,
    field: DateField,
    on: Option<TemporalKind>,
    x: &Expr,
) -> Result<(), CompileError> {
    let time_of_day = matches!(field, DateField::Hour | DateField::Minute | DateField::Second);
    // `EXTRACT(HOUR FROM date)` is an error in PostgreSQL: a date's time of
    // day is midnight, so read it from the date as a timestamp. A
    // timestamptz's fields are read in UTC, as SQLite (which keeps only UTC)
    // reads them, whatever the session's time zone; its epoch needs no zone.
    let (open, close) = match on {
        Some(TemporalKind::Date) if time_of_day => ("CAST(", " AS TIMESTAMP)"),
        Some(TemporalKind::TimestampTz) if field != DateField::Epoch => ("(", " AT TIME ZONE 'UTC')"),
        _ => ("", ""),
    };
    w.push_sql("CAST(FLOOR(EXTRACT(");
    w.push_sql(match field {
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
    w.push_sql(" FROM ");
    w.push_sql(open);
    if open.is_empty() {
        w.write_expr(x)?;
    } else {
        w.write_operand(x)?;
    }
    w.push_sql(close);
    w.push_sql(")) AS BIGINT)");
    Ok(())
}

/// A date or timestamp plus a whole number of `unit`s.
fn write_date_add(
    w: &mut SqlWriter<'_>,
    unit: IntervalUnit,
    on: TemporalKind,
    x: &Expr,
    amount: &Expr,
) -> Result<(), CompileError> {
    if unit == IntervalUnit::Days && on == TemporalKind::Date {
        // date + integer is a date.
        w.push_sql("(");
        w.write_operand(x)?;
        w.push_sql(" + CAST(");
        w.write_expr(amount)?;
        w.push_sql(" AS INTEGER))");
        return Ok(());
    }
    let (open, close) = match on {
        TemporalKind::Date => ("CAST(", " AS DATE)"),
        TemporalKind::Timestamp | TemporalKind::TimestampTz => ("(", ")"),
        TemporalKind::Time => return Err(CompileError::invalid("a time of day cannot have an interval added")),
    };
    w.push_sql(open);
    w.write_operand(x)?;
    w.push_sql(" + make_interval(");
    w.push_sql(match unit {
        IntervalUnit::Seconds => "secs",
        IntervalUnit::Minutes => "mins",
        IntervalUnit::Hours => "hours",
        IntervalUnit::Days => "days",
        IntervalUnit::Months => "months",
        IntervalUnit::Years => "years",
    });
    w.push_sql(" => CAST(");
    w.write_expr(amount)?;
    w.push_sql(if unit == IntervalUnit::Seconds { " AS DOUBLE PRECISION))" } else { " AS INTEGER))" });
    w.push_sql(close);
    Ok(())
}
