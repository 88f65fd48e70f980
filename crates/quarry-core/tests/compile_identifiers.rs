//! Identifiers: always quoted with `"` doubled, static or run-time; names a
//! database cannot hold exactly are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

mod common;

use common::*;
use quarry_core::prelude::*;
use quarry_core::schema::{ColumnDef, ColumnType, TableDef};
use quarry_core::statement::IntoQuery;
use quarry_core::{CompileError, Dialect, Ident, ast};

quarry_core::table! {
    /// A declared table whose names need quoting.
    pub struct Odd("we\"ird; DROP TABLE x; --") {
        id: i64 [primary_key],
        select_: String as "select",
        quoted: String as "a\"b\"\"c",
    }
}

quarry_core::table! {
    /// A declared table in a schema, with names at the 63-byte limit and over it.
    pub struct InSchema("t", schema = "s") {
        id: i64 [primary_key],
        at_limit: i64 as "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        over_limit: i64 as "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    }
}

/// A declared table's columns are quoted once, when it is declared; what
/// they compile to is the same as quoting each part.
#[test]
fn static_columns_compile_as_their_parts_quoted() {
    let t = InSchema::table();
    check_same_params(
        &select((t.id, t.at_limit)).from(t).filter(t.id.eq(1_i64)),
        &format!(r#"SELECT "s"."t"."id", "s"."t"."{a}" FROM "s"."t" WHERE "s"."t"."id" = $1"#, a = "a".repeat(63)),
        &format!(r#"SELECT "s"."t"."id", "s"."t"."{a}" FROM "s"."t" WHERE "s"."t"."id" = ?1"#, a = "a".repeat(63)),
        &[Value::I64(1)],
    );
    // Over PostgreSQL's limit: refused there, kept whole on SQLite.
    let q = select(t.over_limit).from(t);
    let reason = invalid_on(&q, &Postgres);
    assert!(reason.contains("64 bytes"), "{reason}");
    assert_eq!(lite(&q).sql, format!(r#"SELECT "s"."t"."{a}" FROM "s"."t""#, a = "a".repeat(64)));
    // Under an alias, the columns are qualified by it.
    let a = InSchema::alias("x");
    assert_eq!(pg(&select(a.id).from(a)).sql, r#"SELECT "x"."id" FROM "s"."t" AS "x""#);
    // The select list's names are the columns' names.
    let q = select((t.id, t.at_limit)).from(t).into_query();
    let names = match &q.body {
        quarry_core::ast::SetExpr::Select(s) => s.output_names().unwrap(),
        other => panic!("not a select: {other:?}"),
    };
    assert_eq!(names, [Ident::new_static("id"), Ident::new_static(InSchema::table().at_limit.name())]);
}

/// The quoted text a column's expression kept, if any.
fn quoted_text<T>(c: Column<T>) -> Option<&'static str> {
    match c.expr().into_node() {
        ast::Expr::StaticColumn(r) => r.quoted_text(),
        other => panic!("not a static column: {other:?}"),
    }
}

/// A dialect like PostgreSQL that quotes identifiers with backticks.
#[derive(Debug)]
struct Backticks;

impl Dialect for Backticks {
    fn name(&self) -> &'static str {
        "Backticks"
    }
    fn supports(&self, feature: quarry_core::dialect::Feature) -> bool {
        Postgres.supports(feature)
    }
    fn max_identifier_bytes(&self) -> Option<usize> {
        Some(63)
    }
    fn identifier_quote(&self) -> char {
        '`'
    }
    fn write_placeholder(&self, index: usize, out: &mut String) {
        Postgres.write_placeholder(index, out)
    }
    fn write_literal(&self, value: &Value, out: &mut String) -> Result<(), CompileError> {
        Postgres.write_literal(value, out)
    }
    fn write_column_type(&self, ty: &ColumnType, out: &mut String) -> Result<(), CompileError> {
        Postgres.write_column_type(ty, out)
    }
    fn write_autoincrement_column(&self, ty: &ColumnType, big: bool, out: &mut String) -> Result<bool, CompileError> {
        Postgres.write_autoincrement_column(ty, big, out)
    }
}

/// Under another quote character, a declared table's columns are quoted
/// part by part with it; the kept `"` text is not used.
#[test]
fn static_columns_under_another_quote_are_quoted_with_it() {
    let t = InSchema::table();
    let q = select(t.id).from(table_named("x")).filter(t.id.eq(1_i64));
    assert_eq!(q.compile(&Backticks).unwrap().sql, "SELECT `s`.`t`.`id` FROM `x` WHERE `s`.`t`.`id` = $1");
}

/// The length limit applies to every part of a declared column, not only
/// its name.
#[test]
fn static_columns_with_a_long_schema_or_table_are_refused_on_postgres() {
    quarry_core::table! {
        pub struct LongTable("tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt") { id: i64 }
    }
    quarry_core::table! {
        pub struct LongSchema("t", schema = "ssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss") { id: i64 }
    }
    let (t64, s64) = ("t".repeat(64), "s".repeat(64));
    let cases = [
        (select(LongTable::table().id).from(table_named("x")), format!(r#"SELECT "{t64}"."id" FROM "x""#)),
        (select(LongSchema::table().id).from(table_named("x")), format!(r#"SELECT "{s64}"."t"."id" FROM "x""#)),
    ];
    for (q, on_sqlite) in cases {
        let reason = invalid_on(&q, &Postgres);
        assert!(reason.contains("64 bytes"), "{reason}");
        assert_eq!(lite(&q).sql, on_sqlite);
    }
}

/// Quoted text given for a column is used only if it is exactly its parts
/// quoted, and only for parts that need no escaping.
#[test]
fn prequoted_text_is_checked_against_the_parts() {
    let compiled = |c: Column<i64>| pg(&select(c).from(table_named("t"))).sql;
    let plain = Column::<i64>::new(None, "t", "c");
    assert_eq!(compiled(plain.prequoted(r#""t"."c""#)), r#"SELECT "t"."c" FROM "t""#);
    assert_eq!(quoted_text(plain.prequoted(r#""t"."c""#)), Some(r#""t"."c""#));
    assert_eq!(quoted_text(plain), None);
    for wrong in [
        r#""t"."d""#,
        r#""t"."c"#,
        r#""t"."c"x"#,
        r#""t"."c"."c""#,
        r#""u"."c""#,
        "",
        r#"t.c"#,
        r#""t"."cc""#,
        r#""s"."t"."c""#,
        "`t`.`c`",
        r#""t". "c""#,
    ] {
        assert_eq!(quoted_text(plain.prequoted(wrong)), None, "{wrong}");
        assert_eq!(compiled(plain.prequoted(wrong)), r#"SELECT "t"."c" FROM "t""#, "{wrong}");
    }
    let schema = Column::<i64>::new(Some("s"), "t", "c");
    assert_eq!(quoted_text(schema.prequoted(r#""s"."t"."c""#)), Some(r#""s"."t"."c""#));
    assert_eq!(compiled(schema.prequoted(r#""s"."t"."c""#)), r#"SELECT "s"."t"."c" FROM "t""#);
    assert_eq!(quoted_text(schema.prequoted(r#""t"."c""#)), None);
    assert_eq!(compiled(schema.prequoted(r#""t"."c""#)), r#"SELECT "s"."t"."c" FROM "t""#);
    // A declared table's columns keep their text.
    assert_eq!(quoted_text(InSchema::table().id), Some(r#""s"."t"."id""#));
    assert_eq!(quoted_text(InSchema::alias("x").id), None);
    assert_eq!(quoted_text(Odd::table().quoted), None);
    // Equal by their names, whether the text was kept or not.
    let unquoted = Column::<i64>::new(Some("s"), "t", "id");
    assert_eq!(InSchema::table().id.expr().into_node(), unquoted.expr().into_node());
    assert_ne!(InSchema::table().id.expr().into_node(), InSchema::table().at_limit.expr().into_node());
    assert_eq!(format!("{:?}", InSchema::table().id.expr()), format!("{:?}", unquoted.expr()));
    // A part with a quote in it is escaped, whatever text was given.
    let odd = Column::<i64>::new(None, "t", "c\"");
    assert_eq!(compiled(odd.prequoted(r#""t"."c"""#)), r#"SELECT "t"."c""" FROM "t""#);
    assert_eq!(compiled(odd.prequoted(r#""t"."c"""""#)), r#"SELECT "t"."c""" FROM "t""#);
}

#[test]
fn static_identifiers_are_quoted_and_escaped() {
    let o = Odd::table();
    let q = select((o.select_, o.quoted)).from(o).filter(o.id.eq(1_i64));
    check_same_params(
        &q,
        r#"SELECT "we""ird; DROP TABLE x; --"."select", "we""ird; DROP TABLE x; --"."a""b""""c" FROM "we""ird; DROP TABLE x; --" WHERE "we""ird; DROP TABLE x; --"."id" = $1"#,
        r#"SELECT "we""ird; DROP TABLE x; --"."select", "we""ird; DROP TABLE x; --"."a""b""""c" FROM "we""ird; DROP TABLE x; --" WHERE "we""ird; DROP TABLE x; --"."id" = ?1"#,
        &[Value::I64(1)],
    );
    let alias = Odd::alias("o\"");
    let q = select(alias.select_.label("l\"")).from(alias);
    check_same_params(
        &q,
        r#"SELECT "o"""."select" AS "l""" FROM "we""ird; DROP TABLE x; --" AS "o""""#,
        r#"SELECT "o"""."select" AS "l""" FROM "we""ird; DROP TABLE x; --" AS "o""""#,
        &[],
    );
    // SQLite creates and queries it.
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute(&lite(&create_table(o)).sql, []).unwrap();
    conn.prepare(&lite(&q).sql).unwrap();
}

#[test]
fn runtime_identifiers_are_quoted_and_escaped() {
    let t = TableDef::builder(String::from("t\"1"))
        .column(ColumnDef::new(String::from("c\"\""), ColumnType::Text))
        .build()
        .unwrap();
    let c = t.column("c\"\"").unwrap();
    let q = select(c.clone()).from(&t).filter(c.eq("v"));
    check_same_params(
        &q,
        r#"SELECT "t""1"."c""""" FROM "t""1" WHERE "t""1"."c""""" = $1"#,
        r#"SELECT "t""1"."c""""" FROM "t""1" WHERE "t""1"."c""""" = ?1"#,
        &[t_("v")],
    );
    check_same_params(
        &create_table(t),
        r#"CREATE TABLE "t""1" ("c""""" TEXT NOT NULL)"#,
        r#"CREATE TABLE "t""1" ("c""""" TEXT NOT NULL)"#,
        &[],
    );
    let n = table_named(String::from("n\"t")).alias(String::from("a\"l"));
    let q = select((col(String::from("x\"y")), n.col::<i64>("z\""))).from(&n);
    check_same_params(
        &q,
        r#"SELECT "x""y", "a""l"."z""" FROM "n""t" AS "a""l""#,
        r#"SELECT "x""y", "a""l"."z""" FROM "n""t" AS "a""l""#,
        &[],
    );
    let q = select(col("c")).from(table_named("t").in_schema("s\"c"));
    check_same_params(&q, r#"SELECT "c" FROM "s""c"."t""#, r#"SELECT "c" FROM "s""c"."t""#, &[]);
}

fn t_(s: &str) -> Value {
    Value::from(s)
}

#[track_caller]
fn invalid_on(q: &impl Compile, dialect: &dyn Dialect) -> String {
    match q.compile(dialect) {
        Err(CompileError::InvalidIdentifier { reason, dialect: d, .. }) => {
            assert_eq!(d, dialect.name());
            reason
        }
        other => panic!("expected InvalidIdentifier on {}, got {other:?}", dialect.name()),
    }
}

#[test]
fn empty_and_nul_identifiers_are_refused_on_both() {
    for name in ["", "a\0b", "\0"] {
        let q = select(col(String::from(name))).from(table_named("t"));
        for d in [&Postgres as &dyn Dialect, &Sqlite] {
            let reason = invalid_on(&q, d);
            assert!(reason.contains(if name.is_empty() { "empty" } else { "NUL" }), "{reason}");
        }
        let q = select(col("c")).from(table_named(String::from(name)));
        invalid_on(&q, &Postgres);
        invalid_on(&q, &Sqlite);
        let q = select(col("c").label(String::from(name))).from(table_named("t"));
        invalid_on(&q, &Postgres);
        invalid_on(&q, &Sqlite);
    }
}

#[test]
fn long_identifiers() {
    let n63 = "a".repeat(63);
    let n64 = "a".repeat(64);
    let q63 = select(col(n63.clone())).from(table_named("t"));
    assert_eq!(pg(&q63).sql, format!(r#"SELECT "{n63}" FROM "t""#));
    let q64 = select(col(n64.clone())).from(table_named("t"));
    let reason = invalid_on(&q64, &Postgres);
    assert!(reason.contains("64 bytes"), "{reason}");
    assert_eq!(lite(&q64).sql, format!(r#"SELECT "{n64}" FROM "t""#));
    // The limit counts bytes, not characters: 32 two-byte characters.
    let wide = "é".repeat(32);
    invalid_on(&select(col(wide.clone())).from(table_named("t")), &Postgres);
    assert!(lite(&select(col(wide)).from(table_named("t"))).sql.contains('é'));
    // Quotes count as they are written in the name, not doubled.
    let quotes = "\"".repeat(63);
    assert!(pg(&select(col(quotes)).from(table_named("t"))).sql.contains(&"\"".repeat(126)));
}

/// PostgreSQL would truncate both names to the same 63 bytes, so two
/// distinct columns would collide: both are refused rather than merged.
#[test]
fn names_sharing_63_bytes_are_refused_not_merged() {
    let prefix = "x".repeat(63);
    let a = format!("{prefix}a");
    let b = format!("{prefix}b");
    let t = TableDef::builder("t")
        .column(ColumnDef::new(a.clone(), ColumnType::Text))
        .column(ColumnDef::new(b.clone(), ColumnType::Text))
        .build()
        .unwrap();
    invalid_on(&create_table(t.clone()), &Postgres);
    let q = select((col(a.clone()), col(b.clone()))).from(&t);
    invalid_on(&q, &Postgres);
    // SQLite keeps both exactly, as two columns.
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute(&lite(&create_table(t)).sql, []).unwrap();
    let stmt = conn.prepare(&lite(&q).sql).unwrap();
    assert_eq!(stmt.column_names(), [a.as_str(), b.as_str()]);
}

#[test]
fn quoting_is_injective() {
    // Distinct names give distinct quoted tokens, even names that look
    // already quoted.
    let names = ["a", "\"a\"", "a\"", "\"a", "\"\"a\"\"", "a b", "A"];
    let mut seen = std::collections::HashSet::new();
    for n in names {
        let sql = pg(&select(col(n)).from(table_named("t"))).sql;
        assert!(seen.insert(sql.clone()), "{n:?} collides: {sql}");
    }
}
