//! The placeholders of a run of inserted rows, `($1, $2), ($3, $4)`, kept
//! per thread for the next insert of the same shape.
//!
//! A bulk insert writes one placeholder per value, and an application
//! usually inserts batches of one size again and again: the placeholders
//! of `rows` rows of `width` values numbered from `first` are the same
//! text every time. Each thread keeps the last such text that was long
//! enough to be worth keeping, and an insert of the same shape copies it
//! whole. Only placeholders are kept, never a value.

use std::cell::RefCell;

use crate::dialect::Dialect;

/// Runs of fewer placeholders are written afresh: keeping them would cost
/// about as much as writing them.
const MIN_KEPT: usize = 64;

/// Runs longer than this, in bytes, are not kept, so that no thread holds
/// more than this much.
const MAX_KEPT_BYTES: usize = 1 << 20;

/// The last run kept on this thread.
struct Kept {
    dialect: &'static str,
    first: usize,
    width: usize,
    rows: usize,
    text: String,
}

thread_local! {
    static LAST: RefCell<Option<Kept>> = const { RefCell::new(None) };
}

/// Append the placeholders of `rows` rows of `width` parameters each,
/// numbered from `first`, to `out`. Dialects are told apart by
/// [`Dialect::name`].
pub(super) fn write(dialect: &dyn Dialect, first: usize, width: usize, rows: usize, out: &mut String) {
    if width.saturating_mul(rows) < MIN_KEPT {
        write_fresh(dialect, first, width, rows, out);
        return;
    }
    let name = dialect.name();
    let same = |k: &Kept| k.first == first && k.width == width && k.rows == rows && k.dialect == name;
    // The run's start as this dialect writes it, compared with the kept
    // text's: a dialect that shares another's name but not its
    // placeholders gets its own text.
    let start = out.len();
    out.push('(');
    dialect.write_placeholder(first, out);
    let head = out.len() - start;
    // `try_with`: while the thread exits, its local may be gone already.
    let copied = LAST
        .try_with(|last| match &*last.borrow() {
            Some(kept) if same(kept) && kept.text.get(..head) == Some(&out[start..]) => {
                out.push_str(&kept.text[head..]);
                true
            }
            _ => false,
        })
        .unwrap_or(false);
    if copied {
        return;
    }
    out.truncate(start);
    write_fresh(dialect, first, width, rows, out);
    let text = &out[start..];
    if text.len() <= MAX_KEPT_BYTES {
        let kept = Kept { dialect: name, first, width, rows, text: text.to_owned() };
        let _ = LAST.try_with(|last| *last.borrow_mut() = Some(kept));
    }
}

fn write_fresh(dialect: &dyn Dialect, first: usize, width: usize, rows: usize, out: &mut String) {
    let mut next = first;
    for row in 0..rows {
        out.push_str(if row == 0 { "(" } else { ", (" });
        for cell in 0..width {
            if cell > 0 {
                out.push_str(", ");
            }
            dialect.write_placeholder(next, out);
            next += 1;
        }
        out.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::{Postgres, Sqlite};

    fn written(dialect: &dyn Dialect, first: usize, width: usize, rows: usize) -> String {
        let mut out = String::from("VALUES ");
        write(dialect, first, width, rows, &mut out);
        out
    }

    fn expected(prefix: char, first: usize, width: usize, rows: usize) -> String {
        let rows: Vec<String> = (0..rows)
            .map(|r| {
                let cells: Vec<String> = (0..width).map(|c| format!("{prefix}{}", first + r * width + c)).collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        format!("VALUES {}", rows.join(", "))
    }

    #[test]
    fn short_runs_are_written_each_time() {
        assert_eq!(written(&Postgres, 1, 2, 2), "VALUES ($1, $2), ($3, $4)");
        assert_eq!(written(&Sqlite, 3, 1, 3), "VALUES (?3), (?4), (?5)");
    }

    #[test]
    fn a_kept_run_is_reused_only_for_the_same_shape_and_dialect() {
        // The same shape twice (the second from the kept text), then each
        // key changed in turn: every text is what writing afresh gives.
        let shapes = [
            (&Postgres as &dyn Dialect, '$', 1, 3, 100),
            (&Postgres, '$', 1, 3, 100),
            (&Sqlite, '?', 1, 3, 100),
            (&Postgres, '$', 2, 3, 100),
            (&Postgres, '$', 2, 4, 100),
            (&Postgres, '$', 2, 4, 101),
            (&Postgres, '$', 2, 4, 101),
        ];
        for (dialect, prefix, first, width, rows) in shapes {
            assert_eq!(written(dialect, first, width, rows), expected(prefix, first, width, rows));
        }
    }

    /// A dialect that takes PostgreSQL's name but writes `:n`.
    #[derive(Debug)]
    struct Impostor;

    impl Dialect for Impostor {
        fn name(&self) -> &'static str {
            "PostgreSQL"
        }
        fn supports(&self, _: crate::dialect::Feature) -> bool {
            true
        }
        fn write_placeholder(&self, index: usize, out: &mut String) {
            out.push(':');
            out.push_str(&index.to_string());
        }
        fn write_literal(&self, _: &crate::Value, _: &mut String) -> Result<(), crate::CompileError> {
            Ok(())
        }
        fn write_column_type(&self, _: &crate::schema::ColumnType, _: &mut String) -> Result<(), crate::CompileError> {
            Ok(())
        }
        fn write_autoincrement_column(
            &self,
            _: &crate::schema::ColumnType,
            _: bool,
            _: &mut String,
        ) -> Result<bool, crate::CompileError> {
            Ok(false)
        }
    }

    #[test]
    fn a_dialect_sharing_a_name_but_not_its_placeholders_gets_its_own_text() {
        assert_eq!(written(&Postgres, 1, 8, 10), expected('$', 1, 8, 10));
        assert_eq!(written(&Impostor, 1, 8, 10), expected(':', 1, 8, 10));
        assert_eq!(written(&Postgres, 1, 8, 10), expected('$', 1, 8, 10));
    }

    #[test]
    fn runs_over_the_size_limit_are_not_kept() {
        // 200,000 placeholders of at least 4 bytes each: over 1 MiB.
        let text = written(&Postgres, 1, 2, 100_000);
        assert!(text.len() > MAX_KEPT_BYTES);
        assert_eq!(text, expected('$', 1, 2, 100_000));
        let kept = LAST.with_borrow(|k| k.as_ref().map(|k| k.rows));
        assert_ne!(kept, Some(100_000));
    }
}
