//! The plain expression tree: owned enums and structs that the compiler walks.
//!
//! Everything here is dialect-agnostic standard SQL; a construct only one
//! database has is an ordinary node that other dialects refuse with a
//! [`CompileError`](crate::CompileError). The typed API ([`crate::Expr`],
//! [`select`](crate::statement::select()), ...) builds these trees; they are public so that
//! tools can inspect or build statements directly.

mod ddl;
mod dml;
mod expr;
mod query;
mod raw;

pub use ddl::{CreateIndex, CreateTable, DropIndex, DropTable};
pub use dml::{
    Assignment, ConflictAction, ConflictTarget, Delete, Insert, InsertSource, OnConflict, RowWriter, Update, ValuesRow,
    ValuesRows,
};
pub use expr::{
    BinaryOp, ColumnRef, DateField, Expr, FrameBound, FrameUnits, Func, FunctionCall, IntervalUnit, LogicalOp,
    NullsOrder, OrderByExpr, SortDirection, StaticColumnRef, TableName, TemporalKind, UnaryOp, WindowFrame, WindowSpec,
};
pub use query::{
    Cte, Distinct, Join, JoinKind, LockClause, LockStrength, LockWait, Query, Select, SelectItem, SetExpr, SetOperator,
    TableRef, TableWithJoins, With,
};
pub use raw::RawSql;

/// Any statement the compiler can render.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Statement {
    /// `SELECT ...`
    Query(Query),
    /// `INSERT ...`
    Insert(Insert),
    /// `UPDATE ...`
    Update(Update),
    /// `DELETE ...`
    Delete(Delete),
    /// `CREATE TABLE ...`
    CreateTable(CreateTable),
    /// `DROP TABLE ...`
    DropTable(DropTable),
    /// `CREATE INDEX ...`
    CreateIndex(CreateIndex),
    /// `DROP INDEX ...`
    DropIndex(DropIndex),
    /// A whole statement written as raw SQL.
    Raw(RawSql),
}
