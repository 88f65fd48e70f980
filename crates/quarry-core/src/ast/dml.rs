//! `INSERT`, `UPDATE` and `DELETE`.

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
    /// `VALUES (...), (...)`: one inner `Vec` per row, as long as `columns`.
    Values(Vec<Vec<Expr>>),
    /// `SELECT ...`
    Query(Box<Query>),
    /// `DEFAULT VALUES`
    DefaultValues,
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
