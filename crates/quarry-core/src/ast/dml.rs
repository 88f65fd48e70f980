//! `INSERT`, `UPDATE` and `DELETE`.

use crate::compile::CompileError;
use crate::ident::Ident;
use crate::value::Value;

use super::{Expr, Query, SelectItem, TableName, TableWithJoins, With};

/// `INSERT INTO table (columns) source [ON CONFLICT ...] [RETURNING ...]`
#[derive(Clone, Debug, PartialEq)]
pub struct Insert {
    /// `WITH ...`
    pub with: Option<With>,
    /// The target table.
    pub table: TableName,
    /// The columns given by `source`.
    pub columns: Vec<Ident>,
    /// `VALUES`, a query, or `DEFAULT VALUES`.
    pub source: InsertSource,
    /// Client-side defaults: values bound for these columns when `columns`
    /// does not name them (a column's `default` in the schema).
    pub column_defaults: Vec<(Ident, Value)>,
    /// `ON CONFLICT ...`
    pub on_conflict: Option<OnConflict>,
    /// `RETURNING ...`
    pub returning: Vec<SelectItem>,
}

/// Where inserted rows come from.
#[derive(Clone, Debug, PartialEq)]
pub enum InsertSource {
    /// `VALUES (...), (...)`: rows as wide as `columns`.
    Values(ValuesRows),
    /// `SELECT ...`
    Query(Box<Query>),
    /// `DEFAULT VALUES`
    DefaultValues,
}

/// The rows of `VALUES (...), (...)`, each `width` expressions long, kept
/// in one flat `Vec` so that a bulk insert allocates once for its values
/// rather than once per row.
///
/// ```
/// use quarry_core::ast::{Expr, ValuesRows};
/// use quarry_core::Value;
///
/// let mut rows = ValuesRows::new(2);
/// rows.push_row([Expr::Value(Value::I64(1)), Expr::Value(Value::I64(2))])?;
/// assert!(rows.push_row([Expr::Value(Value::I64(3))]).is_err());
/// assert_eq!(rows.len(), 1);
/// assert_eq!(rows.iter().next().map(<[Expr]>::len), Some(2));
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ValuesRows {
    width: usize,
    rows: usize,
    cells: Vec<Expr>,
}

impl ValuesRows {
    /// No rows yet; each will hold `width` expressions.
    pub fn new(width: usize) -> Self {
        ValuesRows { width, rows: 0, cells: Vec::new() }
    }

    /// No rows yet, with room for `rows` of them.
    pub fn with_capacity(width: usize, rows: usize) -> Self {
        ValuesRows { width, rows: 0, cells: Vec::with_capacity(width.saturating_mul(rows)) }
    }

    /// Rows given as one `Vec` each; all must be as long as the first.
    pub fn from_rows(rows: Vec<Vec<Expr>>) -> Result<Self, CompileError> {
        let width = rows.first().map_or(0, Vec::len);
        let mut out = ValuesRows::with_capacity(width, rows.len());
        for row in rows {
            out.push_row(row)?;
        }
        Ok(out)
    }

    /// Append a row. A row of another width is refused, and nothing is added.
    pub fn push_row(&mut self, row: impl IntoIterator<Item = Expr>) -> Result<(), CompileError> {
        self.push_row_with(|cells| cells.extend(row))
    }

    /// Append a row written by `fill` into the flat list of cells (for
    /// builders that push values one by one). If `fill` adds other than
    /// `width` cells, they are removed again and the row is refused.
    pub fn push_row_with(&mut self, fill: impl FnOnce(&mut Vec<Expr>)) -> Result<(), CompileError> {
        let before = self.cells.len();
        fill(&mut self.cells);
        let added = self.cells.len() - before;
        if added != self.width {
            self.cells.truncate(before);
            return Err(CompileError::invalid(format!(
                "row {} of the INSERT has {added} values for {} columns",
                self.rows, self.width
            )));
        }
        self.rows += 1;
        Ok(())
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The number of expressions in each row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Every row's expressions, row after row.
    pub fn cells(&self) -> &[Expr] {
        &self.cells
    }

    /// The rows, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[Expr]> + '_ {
        (0..self.rows).map(move |r| &self.cells[r * self.width..(r + 1) * self.width])
    }

    /// Split into runs of at most `max_rows` rows each (at least one row a run).
    pub fn into_chunks(self, max_rows: usize) -> Vec<ValuesRows> {
        let max_rows = max_rows.max(1);
        let (width, mut rows) = (self.width, self.rows);
        let mut cells = self.cells.into_iter();
        let mut chunks = Vec::with_capacity(rows.div_ceil(max_rows));
        while rows > 0 {
            let n = rows.min(max_rows);
            chunks.push(ValuesRows { width, rows: n, cells: cells.by_ref().take(n * width).collect() });
            rows -= n;
        }
        chunks
    }
}

/// `ON CONFLICT [target] DO NOTHING | DO UPDATE SET ... [WHERE ...]`
#[derive(Clone, Debug, PartialEq)]
pub struct OnConflict {
    /// What conflicts are handled.
    pub target: ConflictTarget,
    /// What to do then.
    pub action: ConflictAction,
}

/// The conflict an `ON CONFLICT` clause handles.
#[derive(Clone, Debug, PartialEq)]
pub enum ConflictTarget {
    /// Any conflict (only with `DO NOTHING`).
    Any,
    /// `("a", "b") [WHERE predicate]`: the unique index on these columns.
    Columns {
        /// The columns.
        columns: Vec<Ident>,
        /// The partial index's predicate.
        predicate: Option<Expr>,
    },
    /// `ON CONSTRAINT "name"` (PostgreSQL only).
    Constraint(Ident),
}

/// The action of an `ON CONFLICT` clause.
#[derive(Clone, Debug, PartialEq)]
pub enum ConflictAction {
    /// `DO NOTHING`
    DoNothing,
    /// `DO UPDATE SET ... [WHERE ...]`
    DoUpdate {
        /// The assignments.
        assignments: Vec<Assignment>,
        /// Only update rows matching this.
        selection: Option<Expr>,
    },
}

/// `"column" = value`
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// The column set.
    pub column: Ident,
    /// Its new value.
    pub value: Expr,
}

/// `UPDATE table [AS alias] SET ... [FROM ...] [WHERE ...] [RETURNING ...]`
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    /// `WITH ...`
    pub with: Option<With>,
    /// The target table.
    pub table: TableName,
    /// Its alias.
    pub alias: Option<Ident>,
    /// `SET` assignments (at least one).
    pub assignments: Vec<Assignment>,
    /// `FROM` other tables.
    pub from: Vec<TableWithJoins>,
    /// `WHERE`
    pub selection: Option<Expr>,
    /// `RETURNING`
    pub returning: Vec<SelectItem>,
}

/// `DELETE FROM table [AS alias] [USING ...] [WHERE ...] [RETURNING ...]`
#[derive(Clone, Debug, PartialEq)]
pub struct Delete {
    /// `WITH ...`
    pub with: Option<With>,
    /// The target table.
    pub table: TableName,
    /// Its alias.
    pub alias: Option<Ident>,
    /// `USING` other tables (rewritten to `WHERE EXISTS` on SQLite).
    pub using: Vec<TableWithJoins>,
    /// `WHERE`
    pub selection: Option<Expr>,
    /// `RETURNING`
    pub returning: Vec<SelectItem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[i64]) -> Vec<Expr> {
        values.iter().map(|&v| Expr::Value(Value::I64(v))).collect()
    }

    #[test]
    fn chunks_keep_the_rows_in_order() {
        let rows = ValuesRows::from_rows((0..5).map(|r| row(&[r, r * 10])).collect()).expect("one width");
        let chunks = rows.into_chunks(2);
        let sizes: Vec<usize> = chunks.iter().map(ValuesRows::len).collect();
        assert_eq!(sizes, [2, 2, 1]);
        let firsts: Vec<&Expr> = chunks.iter().flat_map(|c| c.iter().map(|r| &r[0])).collect();
        assert_eq!(firsts, row(&[0, 1, 2, 3, 4]).iter().collect::<Vec<_>>());
        assert!(chunks.iter().all(|c| c.width() == 2 && c.cells().len() == c.len() * 2));
    }

    #[test]
    fn rows_without_columns_are_counted() {
        let mut rows = ValuesRows::new(0);
        for _ in 0..3 {
            rows.push_row([]).expect("an empty row fits width 0");
        }
        assert_eq!(rows.iter().count(), 3);
        assert_eq!(rows.into_chunks(2).iter().map(ValuesRows::len).collect::<Vec<_>>(), [2, 1]);
    }

    #[test]
    fn a_row_of_another_width_adds_nothing() {
        let mut rows = ValuesRows::new(2);
        rows.push_row(row(&[1, 2])).expect("fits");
        let err = rows.push_row_with(|cells| cells.extend(row(&[3, 4, 5]))).expect_err("too wide");
        assert_eq!(err.to_string(), "invalid statement: row 1 of the INSERT has 3 values for 2 columns");
        assert_eq!((rows.len(), rows.cells().len()), (1, 2));
        assert!(ValuesRows::from_rows(vec![row(&[1]), row(&[1, 2])]).is_err());
    }
}
