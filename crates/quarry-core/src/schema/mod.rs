//! Table metadata: columns and their SQL types, keys, constraints and
//! indexes, shared by statically declared tables ([`table!`](crate::table))
//! and tables built at run time ([`TableDef::builder`]).

use std::collections::HashSet;
use std::sync::Arc;

use crate::ast::{self, TableName};
use crate::error::{Error, ErrorKind};
use crate::ident::Ident;
use crate::value::Value;

mod macros;
mod metadata;
mod table;

pub use metadata::MetaData;
pub use table::{Table, TableSource};

/// The SQL type of a column, rendered by each dialect
/// (`BIGINT` on PostgreSQL, `INTEGER` on SQLite, ...).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnType {
    /// `BOOLEAN`
    Bool,
    /// `SMALLINT`
    SmallInt,
    /// `INTEGER`
    Integer,
    /// `BIGINT`
    BigInt,
    /// `REAL` (32-bit)
    Real,
    /// `DOUBLE PRECISION`
    Double,
    /// `NUMERIC[(precision, scale)]`
    Numeric(Option<(u16, u16)>),
    /// `TEXT`
    Text,
    /// `VARCHAR[(n)]`
    Varchar(Option<u32>),
    /// `CHAR(n)`
    Char(u32),
    /// `BYTEA` / `BLOB`
    Bytes,
    /// `DATE`
    Date,
    /// `TIME`
    Time,
    /// `TIMESTAMP`
    Timestamp,
    /// `TIMESTAMPTZ`
    TimestampTz,
    /// `INTERVAL` (PostgreSQL only)
    Interval,
    /// `UUID`
    Uuid,
    /// `JSON`
    Json,
    /// `JSONB`
    Jsonb,
    /// `elem[]` (PostgreSQL only)
    Array(Box<ColumnType>),
    /// A type the dialects do not know, written as given. Only letters,
    /// digits, `_`, spaces, parentheses and commas are accepted.
    Custom(&'static str),
}

/// What a foreign key does when the referenced row is deleted or updated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReferentialAction {
    /// `NO ACTION`
    NoAction,
    /// `RESTRICT`
    Restrict,
    /// `CASCADE`
    Cascade,
    /// `SET NULL`
    SetNull,
    /// `SET DEFAULT`
    SetDefault,
}

impl ReferentialAction {
    /// The action's SQL keywords.
    pub fn as_sql(self) -> &'static str {
        match self {
            ReferentialAction::NoAction => "NO ACTION",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
        }
    }
}

/// A column of a table.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ColumnDef {
    /// The column's name.
    pub name: Ident,
    /// Its SQL type.
    pub ty: ColumnType,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// A client-side default: bound by `INSERT` statements that do not set
    /// the column.
    pub default: Option<Value>,
    /// A server-side default (`DEFAULT ...` in `CREATE TABLE`), written with
    /// its literals inline since DDL cannot take parameters.
    pub server_default: Option<ast::Expr>,
    /// Whether the database generates values (identity on PostgreSQL,
    /// `INTEGER PRIMARY KEY` on SQLite). `None` means "if this is the single
    /// integer primary key column".
    pub autoincrement: Option<bool>,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Has a single-column `UNIQUE` constraint.
    pub unique: bool,
    /// A single-column foreign key.
    pub references: Option<ForeignKey>,
}

impl ColumnDef {
    /// A `NOT NULL` column of the given type.
    pub fn new(name: impl Into<Ident>, ty: ColumnType) -> Self {
        ColumnDef {
            name: name.into(),
            ty,
            nullable: false,
            default: None,
            server_default: None,
            autoincrement: None,
            primary_key: false,
            unique: false,
            references: None,
        }
    }

    /// Accept NULL (or not).
    pub fn nullable(mut self, nullable: bool) -> Self {
        self.nullable = nullable;
        self
    }

    /// Make this column (part of) the primary key.
    pub fn primary_key(mut self) -> Self {
        self.primary_key = true;
        self
    }

    /// Give this column a single-column `UNIQUE` constraint.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// Have the database generate this column's values, or not.
    pub fn autoincrement(mut self, on: bool) -> Self {
        self.autoincrement = Some(on);
        self
    }

    /// A client-side default value, bound when an insert leaves the column out.
    pub fn default_value(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// A server-side default expression, such as [`now()`](crate::expr::now) or a
    /// literal; rendered inline in `CREATE TABLE`.
    pub fn server_default(mut self, expr: impl crate::expr::IntoExpr<crate::expr::Any>) -> Self {
        self.server_default = Some(expr.into_expr().into_node());
        self
    }

    /// A foreign key to `table.column`.
    pub fn references(mut self, table: impl Into<Ident>, column: impl Into<Ident>) -> Self {
        self.references = Some(ForeignKey::new(vec![self.name.clone()], TableName::new(table), vec![column.into()]));
        self
    }

    /// `ON DELETE` for the foreign key given by [`references`](Self::references).
    pub fn on_delete(mut self, action: ReferentialAction) -> Self {
        if let Some(fk) = &mut self.references {
            fk.on_delete = Some(action);
        }
        self
    }

    /// `ON UPDATE` for the foreign key given by [`references`](Self::references).
    pub fn on_update(mut self, action: ReferentialAction) -> Self {
        if let Some(fk) = &mut self.references {
            fk.on_update = Some(action);
        }
        self
    }

    /// Override the SQL type.
    pub fn sql_type(mut self, ty: ColumnType) -> Self {
        self.ty = ty;
        self
    }

    /// Whether the database generates this column's values in `table`.
    pub fn is_autoincrement(&self, table: &TableDef) -> bool {
        match self.autoincrement {
            Some(on) => on,
            None => {
                table.primary_key.as_ref().is_some_and(|pk| pk.columns.len() == 1 && pk.columns[0] == self.name)
                    && matches!(self.ty, ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt)
            }
        }
    }
}

/// `[CONSTRAINT name] PRIMARY KEY (columns)`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimaryKey {
    /// The constraint's name.
    pub name: Option<Ident>,
    /// The key's columns, in order.
    pub columns: Vec<Ident>,
}

/// `[CONSTRAINT name] FOREIGN KEY (columns) REFERENCES table (columns) [ON DELETE ...] [ON UPDATE ...]`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKey {
    /// The constraint's name.
    pub name: Option<Ident>,
    /// The referencing columns.
    pub columns: Vec<Ident>,
    /// The referenced table.
    pub ref_table: TableName,
    /// The referenced columns.
    pub ref_columns: Vec<Ident>,
    /// `ON DELETE`
    pub on_delete: Option<ReferentialAction>,
    /// `ON UPDATE`
    pub on_update: Option<ReferentialAction>,
}

impl ForeignKey {
    /// A foreign key from `columns` to `ref_table (ref_columns)`.
    pub fn new(columns: Vec<Ident>, ref_table: TableName, ref_columns: Vec<Ident>) -> Self {
        ForeignKey { name: None, columns, ref_table, ref_columns, on_delete: None, on_update: None }
    }

    /// Name the constraint.
    pub fn named(mut self, name: impl Into<Ident>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// `ON DELETE action`
    pub fn on_delete(mut self, action: ReferentialAction) -> Self {
        self.on_delete = Some(action);
        self
    }

    /// `ON UPDATE action`
    pub fn on_update(mut self, action: ReferentialAction) -> Self {
        self.on_update = Some(action);
        self
    }
}

/// `[CONSTRAINT name] UNIQUE (columns)`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UniqueConstraint {
    /// The constraint's name.
    pub name: Option<Ident>,
    /// The columns.
    pub columns: Vec<Ident>,
}

/// `[CONSTRAINT name] CHECK (expr)`, with literals inline.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckConstraint {
    /// The constraint's name.
    pub name: Option<Ident>,
    /// The condition.
    pub expr: ast::Expr,
}

/// An index on a table.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexDef {
    /// The index's name.
    pub name: Ident,
    /// The indexed columns, in order.
    pub columns: Vec<Ident>,
    /// `UNIQUE`
    pub unique: bool,
    /// `WHERE ...` for a partial index, with literals inline.
    pub predicate: Option<ast::Expr>,
}

impl IndexDef {
    /// An index named `name` on `columns`.
    pub fn new<I: Into<Ident>>(name: impl Into<Ident>, columns: impl IntoIterator<Item = I>) -> Self {
        IndexDef {
            name: name.into(),
            columns: columns.into_iter().map(Into::into).collect(),
            unique: false,
            predicate: None,
        }
    }

    /// Make it a unique index.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// Make it a partial index over the rows matching `predicate`.
    pub fn filter(mut self, predicate: impl crate::expr::IntoExpr<bool>) -> Self {
        self.predicate = Some(predicate.into_expr().into_node());
        self
    }
}

/// A table's metadata: what `CREATE TABLE` needs, and what inserts consult
/// for client-side defaults.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TableDef {
    /// The schema the table lives in, if not the default.
    pub schema: Option<Ident>,
    /// The table's name.
    pub name: Ident,
    /// The columns, in order.
    pub columns: Vec<ColumnDef>,
    /// The primary key.
    pub primary_key: Option<PrimaryKey>,
    /// Foreign keys (column-level ones included).
    pub foreign_keys: Vec<ForeignKey>,
    /// Unique constraints (column-level ones included).
    pub uniques: Vec<UniqueConstraint>,
    /// Check constraints.
    pub checks: Vec<CheckConstraint>,
    /// Indexes, created after the table.
    pub indexes: Vec<IndexDef>,
}

impl TableDef {
    /// Start describing a table named `name`.
    ///
    /// ```
    /// use quarry_core::schema::{ColumnDef, ColumnType, IndexDef, TableDef};
    ///
    /// let users = TableDef::builder("users")
    ///     .column(ColumnDef::new("id", ColumnType::BigInt).primary_key())
    ///     .column(ColumnDef::new("email", ColumnType::Text).unique())
    ///     .column(ColumnDef::new("team_id", ColumnType::BigInt).nullable(true).references("teams", "id"))
    ///     .index(IndexDef::new("users_team_idx", ["team_id"]))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(users.def().columns.len(), 3);
    /// ```
    pub fn builder(name: impl Into<Ident>) -> TableBuilder {
        TableBuilder {
            def: TableDef {
                schema: None,
                name: name.into(),
                columns: Vec::new(),
                primary_key: None,
                foreign_keys: Vec::new(),
                uniques: Vec::new(),
                checks: Vec::new(),
                indexes: Vec::new(),
            },
        }
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The table's (possibly schema-qualified) name.
    #[inline]
    pub fn table_name(&self) -> TableName {
        TableName { schema: self.schema.clone(), name: self.name.clone() }
    }
}

/// Builds a [`TableDef`], checking it on [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct TableBuilder {
    def: TableDef,
}

impl TableBuilder {
    /// Put the table in a schema.
    pub fn schema(mut self, schema: impl Into<Ident>) -> Self {
        self.def.schema = Some(schema.into());
        self
    }

    /// Add a column.
    pub fn column(mut self, column: ColumnDef) -> Self {
        self.def.columns.push(column);
        self
    }

    /// Set a (composite) primary key.
    pub fn primary_key<I: Into<Ident>>(mut self, columns: impl IntoIterator<Item = I>) -> Self {
        self.def.primary_key = Some(PrimaryKey { name: None, columns: columns.into_iter().map(Into::into).collect() });
        self
    }

    /// Add a foreign key.
    pub fn foreign_key(mut self, fk: ForeignKey) -> Self {
        self.def.foreign_keys.push(fk);
        self
    }

    /// Add a (multi-column) unique constraint.
    pub fn unique<I: Into<Ident>>(mut self, columns: impl IntoIterator<Item = I>) -> Self {
        self.def.uniques.push(UniqueConstraint { name: None, columns: columns.into_iter().map(Into::into).collect() });
        self
    }

    /// Add a named (multi-column) unique constraint.
    pub fn unique_named<I: Into<Ident>>(
        mut self,
        name: impl Into<Ident>,
        columns: impl IntoIterator<Item = I>,
    ) -> Self {
        self.def
            .uniques
            .push(UniqueConstraint { name: Some(name.into()), columns: columns.into_iter().map(Into::into).collect() });
        self
    }

    /// Add a check constraint.
    pub fn check(mut self, name: impl Into<Ident>, condition: impl crate::expr::IntoExpr<bool>) -> Self {
        self.def.checks.push(CheckConstraint { name: Some(name.into()), expr: condition.into_expr().into_node() });
        self
    }

    /// Add an index.
    pub fn index(mut self, index: IndexDef) -> Self {
        self.def.indexes.push(index);
        self
    }

    /// Check the definition and make a [`Table`] of it: column names must be
    /// unique and every key, constraint and index must name existing columns.
    pub fn build(self) -> Result<Table, Error> {
        self.build_def().map(|def| Table::new(Arc::new(def)))
    }

    /// Like [`build`](Self::build), returning the bare metadata.
    pub fn build_def(self) -> Result<TableDef, Error> {
        let def = self.build_def_unchecked();
        validate(&def)?;
        Ok(def)
    }

    /// Collect column-level keys and constraints into the table's lists,
    /// without checking the result (the [`table!`](crate::table) macro's
    /// path; its `validate()` checks).
    #[doc(hidden)]
    pub fn build_def_unchecked(mut self) -> TableDef {
        let def = &mut self.def;
        if def.primary_key.is_none() {
            let columns: Vec<Ident> = def.columns.iter().filter(|c| c.primary_key).map(|c| c.name.clone()).collect();
            if !columns.is_empty() {
                def.primary_key = Some(PrimaryKey { name: None, columns });
            }
        }
        let uniques: Vec<UniqueConstraint> = def
            .columns
            .iter()
            .filter(|c| c.unique)
            .map(|c| UniqueConstraint { name: None, columns: vec![c.name.clone()] })
            .collect();
        def.uniques.splice(0..0, uniques);
        let fks: Vec<ForeignKey> = def.columns.iter().filter_map(|c| c.references.clone()).collect();
        def.foreign_keys.extend(fks);
        self.def
    }
}

/// Check a table definition: at least one column, unique column names, and
/// keys, constraints and indexes that name existing columns.
pub fn validate(def: &TableDef) -> Result<(), Error> {
    let invalid = |msg: String| Error::new(ErrorKind::Config, format!("table `{}`: {msg}", def.name));
    if def.columns.is_empty() {
        return Err(invalid("a table needs at least one column".into()));
    }
    let mut seen = HashSet::new();
    for c in &def.columns {
        if !seen.insert(c.name.as_str()) {
            return Err(invalid(format!("column `{}` is declared twice", c.name)));
        }
    }
    let flagged: Vec<&Ident> = def.columns.iter().filter(|c| c.primary_key).map(|c| &c.name).collect();
    if let Some(pk) = &def.primary_key
        && !flagged.is_empty()
        && flagged.iter().copied().ne(pk.columns.iter())
    {
        return Err(invalid("primary key given both on columns and for the table".into()));
    }
    let check = |what: &str, cols: &[Ident]| -> Result<(), Error> {
        if cols.is_empty() {
            return Err(invalid(format!("{what} has no columns")));
        }
        for col in cols {
            if !seen.contains(col.as_str()) {
                return Err(invalid(format!("{what} names unknown column `{col}`")));
            }
        }
        Ok(())
    };
    if let Some(pk) = &def.primary_key {
        check("primary key", &pk.columns)?;
    }
    for u in &def.uniques {
        check("unique constraint", &u.columns)?;
    }
    for fk in &def.foreign_keys {
        check("foreign key", &fk.columns)?;
        if fk.columns.len() != fk.ref_columns.len() {
            return Err(invalid(format!(
                "foreign key to `{}` has {} columns but references {}",
                fk.ref_table.name,
                fk.columns.len(),
                fk.ref_columns.len()
            )));
        }
    }
    for ix in &def.indexes {
        check(&format!("index `{}`", ix.name), &ix.columns)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_collects_column_level_constraints() {
        let t = TableDef::builder("posts")
            .column(ColumnDef::new("id", ColumnType::BigInt).primary_key())
            .column(ColumnDef::new("slug", ColumnType::Text).unique())
            .column(
                ColumnDef::new("user_id", ColumnType::BigInt)
                    .references("users", "id")
                    .on_delete(ReferentialAction::Cascade),
            )
            .build_def()
            .unwrap();
        assert_eq!(t.primary_key.as_ref().unwrap().columns, vec![Ident::from("id")]);
        assert_eq!(t.uniques.len(), 1);
        assert_eq!(t.foreign_keys[0].on_delete, Some(ReferentialAction::Cascade));
        assert!(t.columns[0].is_autoincrement(&t));
        assert!(!t.columns[2].is_autoincrement(&t));
    }

    #[test]
    fn builder_rejects_bad_definitions() {
        let dup = TableDef::builder("t")
            .column(ColumnDef::new("a", ColumnType::Text))
            .column(ColumnDef::new("a", ColumnType::Text))
            .build_def();
        assert!(dup.unwrap_err().to_string().contains("declared twice"));
        let unknown = TableDef::builder("t")
            .column(ColumnDef::new("a", ColumnType::Text))
            .index(IndexDef::new("ix", ["b"]))
            .build_def();
        assert!(unknown.unwrap_err().to_string().contains("unknown column `b`"));
        assert!(TableDef::builder("t").build_def().is_err());
    }
}
