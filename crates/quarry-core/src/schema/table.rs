//! Handles on tables: what statements take as `FROM` items and targets.

use std::sync::Arc;

use crate::ast::{self, ColumnRef, TableName};
use crate::error::{Error, ErrorKind};
use crate::expr::{Any, Expr, SqlType};
use crate::ident::Ident;

use super::TableDef;

/// Anything that stands for a table with known metadata: the structs that
/// [`table!`](crate::table) declares, and the run-time [`Table`].
pub trait TableSource {
    /// The table's metadata.
    fn def(&self) -> &Arc<TableDef>;

    /// The alias this handle refers to the table by, if any.
    fn alias_name(&self) -> Option<Ident>;

    /// The table as a `FROM` item: `"schema"."name" [AS "alias"]`.
    #[inline]
    fn table_ref(&self) -> ast::TableRef {
        ast::TableRef::Table { name: self.def().table_name(), alias: self.alias_name() }
    }

    /// The name columns of this handle are qualified with: the alias if
    /// any, else the (schema-qualified) table name.
    fn qualifier(&self) -> TableName {
        match self.alias_name() {
            Some(alias) => TableName::new(alias),
            None => self.def().table_name(),
        }
    }
}

/// A table known at run time: its metadata behind an `Arc`, and an optional
/// alias. Cloning is cheap.
///
/// ```
/// use quarry_core::prelude::*;
/// use quarry_core::schema::{ColumnDef, ColumnType, TableDef};
///
/// let events = TableDef::builder("events")
///     .column(ColumnDef::new("id", ColumnType::BigInt).primary_key())
///     .column(ColumnDef::new("kind", ColumnType::Text))
///     .build()?;
/// let kind = events.column("kind")?;
/// let q = select(events.column("id")?).from(&events).filter(kind.eq("login"));
/// assert_eq!(
///     q.compile(&Postgres)?.sql,
///     r#"SELECT "events"."id" FROM "events" WHERE "events"."kind" = $1"#
/// );
/// assert!(events.column("nope").is_err());
/// # Ok::<(), quarry_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    def: Arc<TableDef>,
    alias: Option<Ident>,
}

impl Table {
    /// A handle on `def`.
    pub fn new(def: Arc<TableDef>) -> Self {
        Table { def, alias: None }
    }

    /// The table's metadata.
    pub fn def(&self) -> &TableDef {
        &self.def
    }

    /// The same table under an alias, for self-joins.
    pub fn alias(&self, alias: impl Into<Ident>) -> Table {
        Table { def: self.def.clone(), alias: Some(alias.into()) }
    }

    /// The column named `name`, which must exist.
    pub fn column(&self, name: &str) -> Result<Expr<Any>, Error> {
        self.typed_column::<Any>(name)
    }

    /// The column named `name` with a Rust type, for typed comparisons.
    pub fn typed_column<T: SqlType>(&self, name: &str) -> Result<Expr<T>, Error> {
        let col = self.def.column(name).ok_or_else(|| {
            Error::new(ErrorKind::Config, format!("table `{}` has no column `{name}`", self.def.name))
        })?;
        Ok(Expr::from_node(ast::Expr::Column(ColumnRef { table: Some(self.qualifier()), name: col.name.clone() })))
    }

    /// Every column, in order, as untyped expressions.
    pub fn columns(&self) -> Vec<Expr<Any>> {
        let q = self.qualifier();
        self.def
            .columns
            .iter()
            .map(|c| Expr::from_node(ast::Expr::Column(ColumnRef { table: Some(q.clone()), name: c.name.clone() })))
            .collect()
    }
}

impl TableSource for Table {
    fn def(&self) -> &Arc<TableDef> {
        &self.def
    }

    fn alias_name(&self) -> Option<Ident> {
        self.alias.clone()
    }
}

impl<T: TableSource + ?Sized> TableSource for &T {
    fn def(&self) -> &Arc<TableDef> {
        (**self).def()
    }

    fn alias_name(&self) -> Option<Ident> {
        (**self).alias_name()
    }
}
