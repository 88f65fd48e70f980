//! A set of tables created and dropped together.

use std::sync::Arc;

use super::{TableDef, TableSource};

/// A collection of tables, as SQLAlchemy's `MetaData`: what `create_all`
/// creates (referenced tables first) and `drop_all` drops.
///
/// ```
/// use quarry_core::schema::MetaData;
/// quarry_core::table! { pub struct Teams("teams") { id: i64 [primary_key] } }
/// quarry_core::table! {
///     pub struct Players("players") { id: i64 [primary_key], team_id: i64 [references("teams", "id")] }
/// }
/// let metadata = MetaData::new().with(Players::table()).with(Teams::table());
/// assert_eq!(metadata.tables().len(), 2);
/// ```
#[derive(Clone, Debug, Default)]
pub struct MetaData {
    tables: Vec<Arc<TableDef>>,
}

impl MetaData {
    /// An empty collection.
    pub fn new() -> Self {
        MetaData::default()
    }

    /// Add a table (a table already present, by name, is replaced).
    pub fn with(mut self, table: impl TableSource) -> Self {
        self.add(table);
        self
    }

    /// Add a table in place.
    pub fn add(&mut self, table: impl TableSource) {
        let def = table.def().clone();
        match self.tables.iter_mut().find(|t| t.name == def.name && t.schema == def.schema) {
            Some(existing) => *existing = def,
            None => self.tables.push(def),
        }
    }

    /// The tables, in the order they were added.
    pub fn tables(&self) -> &[Arc<TableDef>] {
        &self.tables
    }

    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&Arc<TableDef>> {
        self.tables.iter().find(|t| t.name == name)
    }
}
