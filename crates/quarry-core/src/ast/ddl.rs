//! `CREATE`/`DROP` of tables and indexes.

use std::sync::Arc;

use crate::ident::Ident;
use crate::schema::{IndexDef, TableDef};

use super::TableName;

/// `CREATE TABLE [IF NOT EXISTS] ...` from a table's metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateTable {
    /// The table.
    pub table: Arc<TableDef>,
    /// `IF NOT EXISTS`
    pub if_not_exists: bool,
}

/// `DROP TABLE [IF EXISTS] "t" [CASCADE]`
#[derive(Clone, Debug, PartialEq)]
pub struct DropTable {
    /// The table.
    pub table: TableName,
    /// `IF EXISTS`
    pub if_exists: bool,
    /// `CASCADE` (PostgreSQL only).
    pub cascade: bool,
}

/// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] "name" ON "t" (...) [WHERE ...]`
#[derive(Clone, Debug, PartialEq)]
pub struct CreateIndex {
    /// The indexed table.
    pub table: TableName,
    /// The index.
    pub index: IndexDef,
    /// `IF NOT EXISTS`
    pub if_not_exists: bool,
}

/// `DROP INDEX [IF EXISTS] "name"`
#[derive(Clone, Debug, PartialEq)]
pub struct DropIndex {
    /// The schema the index lives in.
    pub schema: Option<Ident>,
    /// The index's name.
    pub name: Ident,
    /// `IF EXISTS`
    pub if_exists: bool,
}
