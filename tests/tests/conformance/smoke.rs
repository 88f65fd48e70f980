//! The first test: a table created, rows written and read back.

use crate::common::*;

quarry::table! {
    pub struct Items("items") {
        id: i64 [primary_key],
        name: String,
        qty: i32,
    }
}

backend_test!(async fn create_insert_select(db) {
    let items = Items::table();
    db.engine.create_all(&MetaData::new().with(items)).await?;
    let mut conn = db.engine.acquire().await?;
    insert_into(items).rows((items.name, items.qty), [("bolt", 10), ("nut", 25)]).execute(&mut conn).await?;
    let rows: Vec<(String, i32)> =
        select((items.name, items.qty)).from(items).order_by(items.name.asc()).fetch_all(&mut conn).await?;
    assert_eq!(rows, vec![("bolt".to_owned(), 10), ("nut".to_owned(), 25)]);
    Ok(())
});
