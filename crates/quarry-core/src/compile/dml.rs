//! Writing `INSERT`, `UPDATE` and `DELETE`.

use crate::ast::{
    Assignment, ConflictAction, ConflictTarget, Delete, Insert, InsertSource, OnConflict, SelectItem, Update,
    ValuesRow, ValuesRows, With,
};
use crate::dialect::Feature;
use crate::ident::Ident;
use crate::value::Value;

use super::{CompileError, SqlWriter};

impl SqlWriter<'_> {
    fn with_prefix(&mut self, with: Option<&With>) -> Result<(), CompileError> {
        match with {
            Some(with) => self.with_clause(with),
            None => Ok(()),
        }
    }

    pub(crate) fn insert(&mut self, i: &Insert) -> Result<(), CompileError> {
        self.with_prefix(i.with.as_ref())?;
        self.push_sql("INSERT INTO ");
        self.push_table_name(&i.table)?;
        let defaults: Vec<&(Ident, Value)> =
            i.column_defaults.iter().filter(|(name, _)| !i.columns.contains(name)).collect();
        match &i.source {
            InsertSource::Values(rows) => {
                if rows.is_empty() {
                    return Err(CompileError::invalid("INSERT ... VALUES needs at least one row"));
                }
                if rows.width() != i.columns.len() {
                    return Err(CompileError::invalid(format!(
                        "the INSERT's rows have {} values for {} columns",
                        rows.width(),
                        i.columns.len()
                    )));
                }
                if rows.contains_default() {
                    self.require(Feature::DefaultInValues)?;
                }
                self.insert_columns(&i.columns, &defaults)?;
                // Room for every row: ", ($nnn, $nnn, ...)" is at most ~8 bytes a value.
                let values = rows.len() * (i.columns.len() + defaults.len());
                if !self.leave_out_rows {
                    // (Rows left out are moved in by the caller, which
                    // allocates their list.)
                    self.params.reserve(values);
                }
                self.sql.reserve(values * 8 + rows.len() * 4);
                self.push_sql(" VALUES ");
                match rows.as_values() {
                    Some(values) if self.binds_plainly(rows, &defaults) => {
                        self.bound_rows(values, rows.width(), rows.len(), &defaults);
                    }
                    _ => self.insert_rows(rows, &defaults)?,
                }
            }
            InsertSource::Query(q) => {
                if !i.columns.is_empty() {
                    self.push_sql(" (");
                    self.ident_list(&i.columns)?;
                    self.push_sql(")");
                }
                if i.on_conflict.is_some() {
                    // SQLite cannot tell an upsert's ON from a join's after a
                    // bare SELECT; a WHERE clause ends the SELECT on every database.
                    self.push_sql(" SELECT * FROM (");
                    self.query(q)?;
                    self.push_sql(") AS \"quarry_source\" WHERE TRUE");
                } else {
                    self.push_sql(" ");
                    self.query(q)?;
                }
            }
            InsertSource::DefaultValues if defaults.is_empty() => self.push_sql(" DEFAULT VALUES"),
            InsertSource::DefaultValues => {
                self.insert_columns(&[], &defaults)?;
                self.push_sql(" VALUES (");
                self.comma_separated(&defaults, |w, (_, value)| w.push_value(value))?;
                self.push_sql(")");
            }
        }
        if let Some(on_conflict) = &i.on_conflict {
            self.on_conflict(on_conflict)?;
        }
        self.returning(&i.returning)
    }

    /// Write the rows cell by cell, with each row's client defaults after it.
    fn insert_rows(&mut self, rows: &ValuesRows, defaults: &[&(Ident, Value)]) -> Result<(), CompileError> {
        for (n, row) in rows.iter().enumerate() {
            if n > 0 {
                self.push_sql(", ");
            }
            self.push_sql("(");
            match row {
                ValuesRow::Values(values) => self.comma_separated(values, |w, v| w.push_value(v))?,
                ValuesRow::Exprs(exprs) => self.write_expr_list(exprs)?,
            }
            self.comma_separated_after(!row.is_empty(), defaults, |w, (_, value)| w.push_value(value))?;
            self.push_sql(")");
        }
        Ok(())
    }

    /// Whether `rows` of plain values (and `defaults`) are all bound as
    /// they are: not written inline, and none of a type the dialect must
    /// be asked about. The rows know whether they may hold one, so a bulk
    /// insert's values are not each looked at here (reading them all took
    /// about 1.4% of a 10,000-row SQLite insert's time).
    fn binds_plainly(&self, rows: &ValuesRows, defaults: &[&(Ident, Value)]) -> bool {
        let plain = |v: &Value| super::required_feature(v).is_none();
        !self.inline_values() && !rows.may_hold_special_values() && defaults.iter().all(|(_, v)| plain(v))
    }

    /// Rows of bound values: the placeholders in one piece (see
    /// [`placeholder_rows`](super::placeholder_rows)), then every row's
    /// values and client defaults as parameters.
    fn bound_rows(&mut self, values: &[Value], width: usize, rows: usize, defaults: &[&(Ident, Value)]) {
        let first = self.params_written() + 1;
        super::placeholder_rows::write(self.dialect(), first, width + defaults.len(), rows, &mut self.sql);
        if defaults.is_empty() {
            if self.leave_out_rows && self.rows_left_out.is_none() {
                let at = self.params.len();
                self.rows_left_out = Some(at..at + values.len());
            } else {
                self.params.extend_from_slice(values);
            }
            return;
        }
        for row in 0..rows {
            self.params.extend_from_slice(&values[row * width..(row + 1) * width]);
            self.params.extend(defaults.iter().map(|(_, v)| v.clone()));
        }
    }

    fn insert_columns(&mut self, columns: &[Ident], defaults: &[&(Ident, Value)]) -> Result<(), CompileError> {
        if columns.is_empty() && defaults.is_empty() {
            return Err(CompileError::invalid("INSERT ... VALUES names no columns"));
        }
        self.push_sql(" (");
        self.ident_list(columns)?;
        self.comma_separated_after(!columns.is_empty(), defaults, |w, (name, _)| w.push_ident(name))?;
        self.push_sql(")");
        Ok(())
    }

    fn on_conflict(&mut self, oc: &OnConflict) -> Result<(), CompileError> {
        self.push_sql(" ON CONFLICT");
        match &oc.target {
            ConflictTarget::Any => {
                if matches!(oc.action, ConflictAction::DoUpdate { .. }) {
                    return Err(CompileError::invalid("ON CONFLICT DO UPDATE needs conflict columns"));
                }
            }
            ConflictTarget::Columns { columns, predicate } => {
                if columns.is_empty() {
                    return Err(CompileError::invalid("ON CONFLICT needs at least one column"));
                }
                self.push_sql(" (");
                self.ident_list(columns)?;
                self.push_sql(")");
                if let Some(p) = predicate {
                    // The predicate names a partial unique index: the
                    // database matches it against the index's own predicate
                    // when the statement is prepared, before any parameter
                    // is bound, so its literals are written inline as in
                    // `CREATE INDEX`.
                    self.push_sql(" WHERE ");
                    let saved = std::mem::replace(&mut self.inline_values, true);
                    let result = self.write_expr(p);
                    self.inline_values = saved;
                    result?;
                }
            }
            ConflictTarget::Constraint(name) => {
                self.require(Feature::OnConflictOnConstraint)?;
                self.push_sql(" ON CONSTRAINT ");
                self.push_ident(name)?;
            }
        }
        match &oc.action {
            ConflictAction::DoNothing => self.push_sql(" DO NOTHING"),
            ConflictAction::DoUpdate { assignments, selection } => {
                self.push_sql(" DO UPDATE SET ");
                self.assignments(assignments)?;
                if let Some(s) = selection {
                    self.push_sql(" WHERE ");
                    self.write_expr(s)?;
                }
            }
        }
        Ok(())
    }

    fn assignments(&mut self, assignments: &[Assignment]) -> Result<(), CompileError> {
        if assignments.is_empty() {
            return Err(CompileError::invalid("SET needs at least one assignment"));
        }
        self.comma_separated(assignments, |w, a| {
            w.push_ident(&a.column)?;
            w.push_sql(" = ");
            w.write_expr(&a.value)
        })
    }

    pub(crate) fn returning(&mut self, items: &[SelectItem]) -> Result<(), CompileError> {
        if items.is_empty() {
            return Ok(());
        }
        self.push_sql(" RETURNING ");
        self.comma_separated(items, |w, item| {
            w.write_expr(&item.expr)?;
            if let Some(alias) = &item.alias {
                w.push_sql(" AS ");
                w.push_ident(alias)?;
            }
            Ok(())
        })
    }

    pub(crate) fn update(&mut self, u: &Update) -> Result<(), CompileError> {
        self.with_prefix(u.with.as_ref())?;
        self.push_sql("UPDATE ");
        self.push_table_name(&u.table)?;
        if let Some(alias) = &u.alias {
            self.push_sql(" AS ");
            self.push_ident(alias)?;
        }
        self.push_sql(" SET ");
        self.assignments(&u.assignments)?;
        if !u.from.is_empty() {
            self.push_sql(" FROM ");
            self.write_from_list(&u.from)?;
        }
        if let Some(s) = &u.selection {
            self.push_sql(" WHERE ");
            self.write_expr(s)?;
        }
        self.returning(&u.returning)
    }

    pub(crate) fn delete(&mut self, d: &Delete) -> Result<(), CompileError> {
        self.with_prefix(d.with.as_ref())?;
        self.push_sql("DELETE FROM ");
        self.push_table_name(&d.table)?;
        if let Some(alias) = &d.alias {
            self.push_sql(" AS ");
            self.push_ident(alias)?;
        }
        if d.using.is_empty() {
            if let Some(s) = &d.selection {
                self.push_sql(" WHERE ");
                self.write_expr(s)?;
            }
        } else if self.dialect.supports(Feature::DeleteUsing) {
            self.push_sql(" USING ");
            self.write_from_list(&d.using)?;
            if let Some(s) = &d.selection {
                self.push_sql(" WHERE ");
                self.write_expr(s)?;
            }
        } else {
            self.delete_using_as_exists(d)?;
        }
        self.returning(&d.returning)
    }

    /// `DELETE FROM t USING u WHERE cond` is `DELETE FROM t WHERE EXISTS
    /// (SELECT 1 FROM u WHERE cond)`: the condition refers to `t`'s row.
    fn delete_using_as_exists(&mut self, d: &Delete) -> Result<(), CompileError> {
        self.push_sql(" WHERE EXISTS (SELECT 1 FROM ");
        self.write_from_list(&d.using)?;
        if let Some(s) = &d.selection {
            self.push_sql(" WHERE ");
            self.write_expr(s)?;
        }
        self.push_sql(")");
        Ok(())
    }
}
