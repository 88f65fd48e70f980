//! `#[derive(FromRow)]` matches fields to columns by name. With a
//! statement's [`NameChecks`] (which the drivers hand out), each column
//! name is compared once per statement, not once per row, and decoding
//! gives the same values: for columns in field order, for columns in
//! another order (found by name on every row), and for an `Option` of a
//! struct that is `None` on the first row. When the driver has the names
//! the compiled select list gives the columns, a field matching its column
//! there needs no lookup from the database.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

use std::cell::Cell;

use quarry::row::NameChecks;
use quarry::{Error, FromRow, FromValue, Row, Value};

/// A row in memory that counts the names asked for.
struct Cells<'a> {
    names: &'a [&'static str],
    values: Vec<Value>,
    checks: Option<&'a NameChecks>,
    name_lookups: &'a Cell<usize>,
    /// The select list's names, as a prepared statement carries them.
    compiled: Option<&'a [&'static str]>,
}

impl Row for Cells<'_> {
    fn len(&self) -> usize {
        self.values.len()
    }

    fn column_name(&self, index: usize) -> Option<&str> {
        self.name_lookups.set(self.name_lookups.get() + 1);
        self.names.get(index).copied()
    }

    fn get<T: FromValue>(&self, index: usize) -> Result<T, Error> {
        self.values[index].decode().map_err(|e| Error::decode(index, self.names[index], e))
    }

    fn is_null(&self, index: usize) -> Result<bool, Error> {
        Ok(self.values[index].is_null())
    }

    fn name_checks(&self) -> Option<&NameChecks> {
        self.checks
    }

    fn compiled_name(&self, index: usize) -> Option<&str> {
        self.compiled.and_then(|names| names.get(index).copied())
    }
}

#[derive(Debug, PartialEq, FromRow)]
struct User {
    id: i64,
    name: String,
    karma: i32,
}

#[derive(Debug, PartialEq, FromRow)]
struct Post {
    id: i64,
    title: String,
}

/// Decode `rows` (each with `names`) as `T`, sharing one `NameChecks` when
/// `shared`; the values and the number of name lookups.
fn decode<T: FromRow>(names: &[&'static str], rows: &[Vec<Value>], shared: bool) -> (Vec<T>, usize) {
    let checks = NameChecks::new();
    let lookups = Cell::new(0);
    let out = rows
        .iter()
        .map(|values| {
            let row = Cells {
                names,
                values: values.clone(),
                checks: shared.then_some(&checks),
                name_lookups: &lookups,
                compiled: None,
            };
            T::from_row(&row).unwrap()
        })
        .collect();
    (out, lookups.get())
}

fn user_row(i: i64) -> Vec<Value> {
    vec![Value::I64(i), Value::from(format!("u{i}")), Value::I32(i as i32 * 10)]
}

#[test]
fn names_in_field_order_are_compared_once_per_statement() {
    let rows: Vec<Vec<Value>> = (1..=100).map(user_row).collect();
    let names = ["id", "name", "karma"];
    let (users, lookups) = decode::<User>(&names, &rows, true);
    let (unshared, unshared_lookups) = decode::<User>(&names, &rows, false);
    assert_eq!(users, unshared);
    assert_eq!(users[41], User { id: 42, name: "u42".into(), karma: 420 });
    assert_eq!(lookups, 3, "one lookup per field, for the first row only");
    assert_eq!(unshared_lookups, 300, "without NameChecks, every field of every row");
}

#[test]
fn columns_in_another_order_are_found_by_name_on_every_row() {
    // karma, id, name: no field is where the struct expects it.
    let names = ["karma", "id", "name"];
    let rows: Vec<Vec<Value>> =
        (1..=3).map(|i| vec![Value::I32(i as i32 * 10), Value::I64(i), Value::from(format!("u{i}"))]).collect();
    let (users, _) = decode::<User>(&names, &rows, true);
    assert_eq!(users, (1..=3).map(|i| User { id: i, name: format!("u{i}"), karma: i as i32 * 10 }).collect::<Vec<_>>());
}

#[test]
fn an_option_that_is_none_on_the_first_row_is_still_checked_later() {
    // A LEFT JOIN: the first user has no post; the post's columns come in
    // another order than its fields (title before id).
    let names = ["id", "name", "karma", "title", "id"];
    let rows = vec![
        [user_row(1), vec![Value::Null, Value::Null]].concat(),
        [user_row(2), vec![Value::from("second"), Value::I64(20)]].concat(),
        [user_row(3), vec![Value::from("third"), Value::I64(30)]].concat(),
    ];
    let (pairs, _) = decode::<(User, Option<Post>)>(&names, &rows, true);
    let posts: Vec<Option<Post>> = pairs.into_iter().map(|(_, p)| p).collect();
    assert_eq!(
        posts,
        vec![None, Some(Post { id: 20, title: "second".into() }), Some(Post { id: 30, title: "third".into() })]
    );
}

#[test]
fn the_select_lists_names_spare_the_lookups_and_a_mismatch_asks_the_database() {
    let lookups = Cell::new(0);
    let values = user_row(7);
    let row = |names, compiled| Cells { names, values: values.clone(), checks: None, name_lookups: &lookups, compiled };
    // The select list names every field where the struct expects it.
    let user = User::from_row(&row(&["id", "name", "karma"], Some(&["id", "name", "karma"]))).unwrap();
    assert_eq!(user, User { id: 7, name: "u7".into(), karma: 70 });
    assert_eq!(lookups.get(), 0, "no name asked of the database");
    // The database names a column otherwise (SQLite reports a column's
    // declared spelling): the select list's name is the one that counts.
    let user = User::from_row(&row(&["ID", "name", "karma"], Some(&["id", "name", "karma"]))).unwrap();
    assert_eq!(user.id, 7);
    assert_eq!(lookups.get(), 0);
    // A select list that names a field elsewhere is checked against the
    // database's names, and the field is found by name.
    let swapped = vec![Value::I64(7), Value::I32(70), Value::from("u7")];
    let row = Cells {
        names: &["id", "karma", "name"],
        values: swapped,
        checks: None,
        name_lookups: &lookups,
        compiled: Some(&["id", "karma", "name"]),
    };
    assert_eq!(User::from_row(&row).unwrap(), User { id: 7, name: "u7".into(), karma: 70 });
    assert!(lookups.get() > 0, "the mismatched fields asked the database");
}
