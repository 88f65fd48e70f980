//! Writing `CREATE`/`DROP` of tables and indexes. DDL takes no
//! parameters, so defaults, checks and index predicates are written with
//! their literals inline (escaped by the dialect).

use crate::ast::{CreateIndex, CreateTable, DropIndex, DropTable};
use crate::dialect::Feature;
use crate::schema::{ColumnDef, TableDef};

use super::{CompileError, SqlWriter};

impl SqlWriter<'_> {
    pub(crate) fn create_table(&mut self, c: &CreateTable) -> Result<(), CompileError> {
        let t: &TableDef = &c.table;
        self.push_sql(if c.if_not_exists { "CREATE TABLE IF NOT EXISTS " } else { "CREATE TABLE " });
        self.push_table_name(&t.table_name())?;
        self.push_sql(" (");
        let mut pk_inline = false;
        for (i, col) in t.columns.iter().enumerate() {
            if i > 0 {
                self.push_sql(", ");
            }
            pk_inline |= self.column_def(t, col)?;
        }
        if let Some(pk) = t.primary_key.as_ref().filter(|_| !pk_inline) {
            self.push_sql(", ");
            self.constraint_name(pk.name.as_ref())?;
            self.push_sql("PRIMARY KEY (");
            self.ident_list(&pk.columns)?;
            self.push_sql(")");
        }
        for u in &t.uniques {
            self.push_sql(", ");
            self.constraint_name(u.name.as_ref())?;
            self.push_sql("UNIQUE (");
            self.ident_list(&u.columns)?;
            self.push_sql(")");
        }
        for fk in &t.foreign_keys {
            self.push_sql(", ");
            self.constraint_name(fk.name.as_ref())?;
            self.push_sql("FOREIGN KEY (");
            self.ident_list(&fk.columns)?;
            self.push_sql(") REFERENCES ");
            self.push_table_name(&fk.ref_table)?;
            self.push_sql(" (");
            self.ident_list(&fk.ref_columns)?;
            self.push_sql(")");
            if let Some(action) = fk.on_delete {
                self.push_sql(" ON DELETE ");
                self.push_sql(action.as_sql());
            }
            if let Some(action) = fk.on_update {
                self.push_sql(" ON UPDATE ");
                self.push_sql(action.as_sql());
            }
        }
        for check in &t.checks {
            self.push_sql(", ");
            self.constraint_name(check.name.as_ref())?;
            self.push_sql("CHECK (");
            self.write_expr(&check.expr)?;
            self.push_sql(")");
        }
        self.push_sql(")");
        Ok(())
    }

    /// Write one column; returns whether it carried the primary key inline.
    fn column_def(&mut self, t: &TableDef, col: &ColumnDef) -> Result<bool, CompileError> {
        self.push_ident(&col.name)?;
        self.push_sql(" ");
        let mut pk_inline = false;
        if col.is_autoincrement(t) {
            let sole_pk = t.primary_key.as_ref().is_some_and(|pk| pk.columns.len() == 1 && pk.columns[0] == col.name);
            let dialect = self.dialect;
            pk_inline = dialect.write_autoincrement_column(&col.ty, sole_pk, self.sql_mut())?;
        } else {
            let dialect = self.dialect;
            dialect.write_column_type(&col.ty, self.sql_mut())?;
        }
        if !col.nullable {
            self.push_sql(" NOT NULL");
        }
        if let Some(default) = &col.server_default {
            self.push_sql(" DEFAULT (");
            self.write_expr(default)?;
            self.push_sql(")");
        }
        Ok(pk_inline)
    }

    fn constraint_name(&mut self, name: Option<&crate::Ident>) -> Result<(), CompileError> {
        if let Some(name) = name {
            self.push_sql("CONSTRAINT ");
            self.push_ident(name)?;
            self.push_sql(" ");
        }
        Ok(())
    }

    pub(crate) fn drop_table(&mut self, d: &DropTable) -> Result<(), CompileError> {
        self.push_sql(if d.if_exists { "DROP TABLE IF EXISTS " } else { "DROP TABLE " });
        self.push_table_name(&d.table)?;
        if d.cascade {
            self.require(Feature::DropCascade)?;
            self.push_sql(" CASCADE");
        }
        Ok(())
    }

    pub(crate) fn create_index(&mut self, c: &CreateIndex) -> Result<(), CompileError> {
        if c.index.columns.is_empty() {
            return Err(CompileError::invalid("an index needs at least one column"));
        }
        self.push_sql(if c.index.unique { "CREATE UNIQUE INDEX " } else { "CREATE INDEX " });
        if c.if_not_exists {
            self.push_sql("IF NOT EXISTS ");
        }
        self.push_ident(&c.index.name)?;
        self.push_sql(" ON ");
        self.push_table_name(&c.table)?;
        self.push_sql(" (");
        self.ident_list(&c.index.columns)?;
        self.push_sql(")");
        if let Some(p) = &c.index.predicate {
            self.push_sql(" WHERE ");
            self.write_expr(p)?;
        }
        Ok(())
    }

    pub(crate) fn drop_index(&mut self, d: &DropIndex) -> Result<(), CompileError> {
        self.push_sql(if d.if_exists { "DROP INDEX IF EXISTS " } else { "DROP INDEX " });
        if let Some(schema) = &d.schema {
            self.push_ident(schema)?;
            self.push_sql(".");
        }
        self.push_ident(&d.name)
    }
}
