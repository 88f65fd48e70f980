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

/// The rows of `VALUES (...), (...)`, each `width` cells long, kept in one
/// flat list so that a bulk insert allocates once for its values rather
/// than once per row.
///
/// While every cell is a bound value (the usual bulk insert) the cells are
/// stored as plain [`Value`]s, without the expression node around each;
/// the first cell that is any other expression (`DEFAULT`, a function
/// call) turns the list into expressions.
///
/// ```
/// use quarry_core::ast::{Expr, ValuesRow, ValuesRows};
/// use quarry_core::Value;
///
/// let mut rows = ValuesRows::new(2);
/// rows.push_row([Expr::Value(Value::I64(1)), Expr::Value(Value::I64(2))])?;
/// assert!(rows.push_row([Expr::Value(Value::I64(3))]).is_err());
/// assert_eq!(rows.len(), 1);
/// assert!(matches!(rows.iter().next(), Some(ValuesRow::Values([Value::I64(1), Value::I64(2)]))));
///
/// rows.push_row([Expr::Default, Expr::Value(Value::I64(4))])?;
/// assert!(rows.contains_default());
/// assert_eq!(rows.iter().map(|row| row.len()).sum::<usize>(), 4);
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ValuesRows {
    width: usize,
    rows: usize,
    cells: Cells,
    /// Set when a value of a kind some dialect must be asked about (see
    /// `compile::required_feature`) is added, so that compiling need not
    /// look at every value of a bulk insert. It may stay set after the row
    /// holding that value is refused or the rows are split.
    special_values: bool,
}

/// The flat list of cells of [`ValuesRows`].
#[derive(Clone, Debug)]
enum Cells {
    /// Every cell is a bound value.
    Values(Vec<Value>),
    /// At least one cell is another expression.
    Exprs(Vec<Expr>),
}

impl Default for Cells {
    fn default() -> Self {
        Cells::Values(Vec::new())
    }
}

impl Cells {
    fn len(&self) -> usize {
        match self {
            Cells::Values(values) => values.len(),
            Cells::Exprs(exprs) => exprs.len(),
        }
    }

    fn truncate(&mut self, len: usize) {
        match self {
            Cells::Values(values) => values.truncate(len),
            Cells::Exprs(exprs) => exprs.truncate(len),
        }
    }

    fn slice(&self, range: std::ops::Range<usize>) -> ValuesRow<'_> {
        match self {
            Cells::Values(values) => ValuesRow::Values(&values[range]),
            Cells::Exprs(exprs) => ValuesRow::Exprs(&exprs[range]),
        }
    }
}

/// One row of [`ValuesRows`], borrowed: plain values, or expressions when
/// the rows hold any cell that is not a bound value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValuesRow<'a> {
    /// Every cell is a bound value.
    Values(&'a [Value]),
    /// The cells as expressions.
    Exprs(&'a [Expr]),
}

impl ValuesRow<'_> {
    /// The number of cells.
    pub fn len(&self) -> usize {
        match self {
            ValuesRow::Values(values) => values.len(),
            ValuesRow::Exprs(exprs) => exprs.len(),
        }
    }

    /// Whether the row has no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Appends one row's cells to [`ValuesRows`]; see
/// [`ValuesRows::push_row_with`].
#[derive(Debug)]
pub struct RowWriter<'a> {
    cells: &'a mut Cells,
    special_values: &'a mut bool,
}

impl RowWriter<'_> {
    /// Append a bound value.
    #[inline]
    pub fn push_value(&mut self, value: Value) {
        self.note(&value);
        match &mut *self.cells {
            Cells::Values(values) => crate::vec_alloc::push_in_place(values, Value::Null, value),
            Cells::Exprs(exprs) => exprs.push(Expr::Value(value)),
        }
    }

    /// Record whether `value` is of a kind some dialect must be asked about
    /// (known at compile time for the usual kinds, so this costs nothing there).
    #[inline]
    fn note(&mut self, value: &Value) {
        if crate::compile::required_feature(value).is_some() {
            *self.special_values = true;
        }
    }

    /// Append a `NULL`. The constant is stored straight into the list:
    /// through [`push_value`](Self::push_value), a `NULL` made by the caller
    /// is built on the stack (its tag byte alone) and copied in whole, and
    /// that copy stalls on the narrow store it reads back (see
    /// `vec_alloc::push_in_place`).
    #[inline]
    pub fn push_null(&mut self) {
        match &mut *self.cells {
            // Made after the list has room, so that it is made in place.
            Cells::Values(values) => values.resize_with(values.len() + 1, || Value::Null),
            Cells::Exprs(exprs) => exprs.push(Expr::Value(Value::Null)),
        }
    }

    /// Append bound text. While the cells are plain values, short text is
    /// copied straight into its place in the list, which is cheaper than
    /// [`push_value`](Self::push_value) with a [`Value::Text`] made first.
    #[inline]
    pub fn push_text(&mut self, text: &str) {
        match &mut *self.cells {
            Cells::Values(values) => crate::value::push_text(values, text),
            Cells::Exprs(exprs) => exprs.push(Expr::Value(Value::from(text))),
        }
    }

    /// Append a cell: a bound value stays a plain value while every cell
    /// before it is one.
    pub fn push(&mut self, cell: Expr) {
        if let Expr::Value(value) = &cell {
            self.note(value);
        }
        match (&mut *self.cells, cell) {
            (Cells::Values(values), Expr::Value(value)) => values.push(value),
            (Cells::Values(values), other) => {
                let mut exprs = Vec::with_capacity(values.capacity().max(values.len() + 1));
                exprs.extend(std::mem::take(values).into_iter().map(Expr::Value));
                exprs.push(other);
                *self.cells = Cells::Exprs(exprs);
            }
            (Cells::Exprs(exprs), cell) => exprs.push(cell),
        }
    }
}

impl ValuesRows {
    /// No rows yet; each will hold `width` cells.
    pub fn new(width: usize) -> Self {
        ValuesRows { width, rows: 0, cells: Cells::default(), special_values: false }
    }

    /// No rows yet, with room for `rows` of them.
    pub fn with_capacity(width: usize, rows: usize) -> Self {
        ValuesRows {
            width,
            rows: 0,
            cells: Cells::Values(Vec::with_capacity(width.saturating_mul(rows))),
            special_values: false,
        }
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
        self.push_row_with(|cells| row.into_iter().for_each(|cell| cells.push(cell)))
    }

    /// Append a row written cell by cell by `fill` (for builders that push
    /// values one by one). If `fill` adds other than `width` cells, they
    /// are removed again and the row is refused.
    pub fn push_row_with(&mut self, fill: impl FnOnce(&mut RowWriter<'_>)) -> Result<(), CompileError> {
        let before = self.cells.len();
        fill(&mut RowWriter { cells: &mut self.cells, special_values: &mut self.special_values });
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

    /// The number of cells in each row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Every row's cells, row after row, when every cell is a bound value
    /// (the usual bulk insert); `None` when any cell is another expression.
    pub fn as_values(&self) -> Option<&[Value]> {
        match &self.cells {
            Cells::Values(values) => Some(values),
            Cells::Exprs(_) => None,
        }
    }

    /// Every row's cells, row after row, when every cell is a bound value;
    /// else the rows, unchanged.
    pub fn into_values(self) -> Result<Vec<Value>, ValuesRows> {
        match self.cells {
            Cells::Values(values) => Ok(values),
            Cells::Exprs(_) => Err(self),
        }
    }

    /// Whether a value of a kind some dialect must be asked about (an array
    /// or an interval) may be among the cells: false only when none is.
    pub(crate) fn may_hold_special_values(&self) -> bool {
        self.special_values
    }

    /// Whether any cell is `DEFAULT`.
    pub fn contains_default(&self) -> bool {
        match &self.cells {
            Cells::Values(_) => false,
            Cells::Exprs(exprs) => exprs.iter().any(|e| matches!(e, Expr::Default)),
        }
    }

    /// The rows, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ValuesRow<'_>> + '_ {
        (0..self.rows).map(move |r| self.cells.slice(r * self.width..(r + 1) * self.width))
    }

    /// Split into runs of at most `max_rows` rows each (at least one row a run).
    pub fn into_chunks(self, max_rows: usize) -> Vec<ValuesRows> {
        fn split<T>(
            cells: Vec<T>,
            width: usize,
            rows: usize,
            max_rows: usize,
            wrap: fn(Vec<T>) -> Cells,
            special_values: bool,
        ) -> Vec<ValuesRows> {
            let mut cells = cells.into_iter();
            let mut left = rows;
            let mut chunks = Vec::with_capacity(rows.div_ceil(max_rows));
            while left > 0 {
                let n = left.min(max_rows);
                let chunk = wrap(cells.by_ref().take(n * width).collect());
                chunks.push(ValuesRows { width, rows: n, cells: chunk, special_values });
                left -= n;
            }
            chunks
        }
        let max_rows = max_rows.max(1);
        match self.cells {
            Cells::Values(values) => split(values, self.width, self.rows, max_rows, Cells::Values, self.special_values),
            Cells::Exprs(exprs) => split(exprs, self.width, self.rows, max_rows, Cells::Exprs, self.special_values),
        }
    }
}

/// Rows are equal when their cells are, whether stored as values or as
/// expressions.
impl PartialEq for ValuesRows {
    fn eq(&self, other: &Self) -> bool {
        fn cell_eq(a: &Expr, b: &Value) -> bool {
            matches!(a, Expr::Value(a) if a == b)
        }
        self.width == other.width
            && self.rows == other.rows
            && match (&self.cells, &other.cells) {
                (Cells::Values(a), Cells::Values(b)) => a == b,
                (Cells::Exprs(a), Cells::Exprs(b)) => a == b,
                (Cells::Exprs(a), Cells::Values(b)) | (Cells::Values(b), Cells::Exprs(a)) => {
                    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| cell_eq(a, b))
                }
            }
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

    /// Every cell of `rows` as an expression, row after row.
    fn cells(rows: &ValuesRows) -> Vec<Expr> {
        rows.iter()
            .flat_map(|row| match row {
                ValuesRow::Values(values) => values.iter().cloned().map(Expr::Value).collect::<Vec<_>>(),
                ValuesRow::Exprs(exprs) => exprs.to_vec(),
            })
            .collect()
    }

    #[test]
    fn chunks_keep_the_rows_in_order() {
        let rows = ValuesRows::from_rows((0..5).map(|r| row(&[r, r * 10])).collect()).expect("one width");
        let chunks = rows.into_chunks(2);
        let sizes: Vec<usize> = chunks.iter().map(ValuesRows::len).collect();
        assert_eq!(sizes, [2, 2, 1]);
        let firsts: Vec<Expr> = chunks.iter().flat_map(|c| cells(c).into_iter().step_by(2)).collect();
        assert_eq!(firsts, row(&[0, 1, 2, 3, 4]));
        assert!(chunks.iter().all(|c| c.width() == 2 && cells(c).len() == c.len() * 2));
    }

    #[test]
    fn chunks_of_expressions_keep_the_rows_in_order() {
        let mut rows = ValuesRows::new(2);
        for r in 0..5 {
            rows.push_row([Expr::Default, Expr::Value(Value::I64(r))]).expect("fits");
        }
        let chunks = rows.into_chunks(3);
        assert_eq!(chunks.iter().map(ValuesRows::len).collect::<Vec<_>>(), [3, 2]);
        let seconds: Vec<Expr> = chunks.iter().flat_map(|c| cells(c).into_iter().skip(1).step_by(2)).collect();
        assert_eq!(seconds, row(&[0, 1, 2, 3, 4]));
        assert!(chunks.iter().all(ValuesRows::contains_default));
    }

    #[test]
    fn rows_know_whether_they_may_hold_a_value_a_dialect_is_asked_about() {
        let interval = || Value::Interval(crate::Interval::default());
        let mut rows = ValuesRows::new(2);
        for r in 0..3 {
            rows.push_row_with(|cells| {
                cells.push_value(Value::I64(r));
                cells.push_text("t");
            })
            .expect("fits");
            rows.push_row_with(|cells| {
                cells.push_null();
                cells.push(Expr::Value(Value::Bool(true)));
            })
            .expect("fits");
        }
        assert!(!rows.may_hold_special_values());

        // Pushed as a value, or as an expression that is a value.
        let mut by_value = rows.clone();
        by_value
            .push_row_with(|cells| {
                cells.push_value(Value::I64(9));
                cells.push_value(interval());
            })
            .expect("fits");
        assert!(by_value.may_hold_special_values());
        let mut by_expr = rows.clone();
        by_expr
            .push_row([Expr::Value(Value::Null), Expr::Value(Value::Array(vec![Value::I64(1)].into()))])
            .expect("fits");
        assert!(by_expr.may_hold_special_values());
        let built =
            ValuesRows::from_rows(vec![row(&[1, 2]), vec![Expr::Value(interval()), Expr::Default]]).expect("one width");
        assert!(built.may_hold_special_values());

        // Every chunk keeps the mark, whichever holds the value.
        assert!(by_value.into_chunks(2).iter().all(ValuesRows::may_hold_special_values));
        assert!(!rows.into_chunks(2).iter().any(ValuesRows::may_hold_special_values));
    }

    #[test]
    fn plain_values_are_stored_bare_until_another_expression_comes() {
        let mut rows = ValuesRows::new(2);
        rows.push_row(row(&[1, 2])).expect("fits");
        assert!(matches!(rows.iter().next(), Some(ValuesRow::Values(_))));
        assert!(!rows.contains_default());

        rows.push_row([Expr::Value(Value::I64(3)), Expr::Default]).expect("fits");
        assert!(rows.iter().all(|r| matches!(r, ValuesRow::Exprs(_))));
        assert!(rows.contains_default());
        let mut expected = row(&[1, 2, 3]);
        expected.push(Expr::Default);
        assert_eq!(cells(&rows), expected);

        // The same rows, built as expressions from the start, are equal.
        let mut built = ValuesRows::new(2);
        built.push_row([Expr::Default, Expr::Default]).expect("fits");
        let mut same = ValuesRows::from_rows(vec![row(&[1, 2]), vec![Expr::Value(Value::I64(3)), Expr::Default]])
            .expect("one width");
        assert_eq!(rows, same);
        same.push_row(row(&[5, 6])).expect("fits");
        assert_ne!(rows, same);
        assert_ne!(rows, built);
        assert_eq!(ValuesRows::from_rows(vec![row(&[7])]), ValuesRows::from_rows(vec![row(&[7])]));
        assert_ne!(ValuesRows::from_rows(vec![row(&[7])]), ValuesRows::from_rows(vec![row(&[8])]));
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
        let err =
            rows.push_row_with(|cells| row(&[3, 4, 5]).into_iter().for_each(|c| cells.push(c))).expect_err("too wide");
        assert_eq!(err.to_string(), "invalid statement: row 1 of the INSERT has 3 values for 2 columns");
        assert_eq!((rows.len(), cells(&rows)), (1, row(&[1, 2])));
        // A refused row that turned the cells into expressions leaves the earlier rows whole.
        rows.push_row([Expr::Default]).expect_err("too narrow");
        assert_eq!((rows.len(), cells(&rows)), (1, row(&[1, 2])));
        assert!(ValuesRows::from_rows(vec![row(&[1]), row(&[1, 2])]).is_err());
    }
}
