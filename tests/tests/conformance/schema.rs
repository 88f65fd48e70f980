//! Schemas: `create_all`/`drop_all` in foreign-key order, keys, unique and
//! check constraints, indexes, server and client defaults, generated ids,
//! tables built at run time, and hostile identifiers.

use chrono::{DateTime, Utc};
use quarry::ast::TableName;
use quarry::expr::ColumnValue;
use quarry::schema::{ColumnDef, ColumnType, ForeignKey, IndexDef, ReferentialAction, TableDef};

use crate::common::*;

quarry::table! {
    struct Teams("teams") {
        id: i64 [primary_key],
        slug: String [unique, sql_type(ColumnType::Varchar(Some(40)))],
    }
}

quarry::table! {
    struct Players("players") {
        id: i64 [primary_key],
        team_id: Option<i64> [references("teams", "id"), on_delete(ReferentialAction::SetNull)],
        name: String,
        active: bool [default_value(true)],
        score: f64 as "points" [default_value(0.0)],
    }
    [
        check("points_not_negative", col("points").ge(0.0)),
        unique_named("players_team_name", ["team_id", "name"]),
        index(IndexDef::new("players_active_name", ["name"]).unique().filter(col("active").eq(true))),
    ]
}

quarry::table! {
    struct Appearances("appearances") {
        match_id: i64,
        player_id: i64,
        minutes: i16,
    }
    [
        primary_key(["match_id", "player_id"]),
        foreign_key(
            ForeignKey::new(vec!["player_id".into()], TableName::new("players"), vec!["id".into()])
                .on_delete(ReferentialAction::Cascade)
        ),
    ]
}

/// The three tables, added in an order that is not their dependency order.
fn league() -> MetaData {
    MetaData::new().with(Appearances::table()).with(Players::table()).with(Teams::table())
}

backend_test!(async fn create_all_and_drop_all_in_dependency_order(db) {
    Players::validate()?;
    Appearances::validate()?;
    let (t, p, a) = (Teams::table(), Players::table(), Appearances::table());
    db.engine.create_all(&league()).await?;
    db.engine.create_all(&league()).await?; // idempotent
    let mut conn = db.conn().await?;
    insert_into(t).values(t.slug.set("core")).execute(&mut conn).await?;
    insert_into(p).values((p.team_id.set(1_i64), p.name.set("ada"))).execute(&mut conn).await?;
    insert_into(a).values((a.match_id.set(1_i64), a.player_id.set(1_i64), a.minutes.set(90_i16))).execute(&mut conn).await?;
    drop(conn);
    db.engine.create_all(&league()).await?; // existing tables (and their rows) are kept
    let n: i64 = select(count_star()).from(a).fetch_scalar(&mut db.conn().await?).await?;
    assert_eq!(n, 1);

    // Referencing tables are dropped first, rows and all; a second drop is a no-op.
    db.engine.drop_all(&league()).await?;
    db.engine.drop_all(&league()).await?;
    let mut conn = db.conn().await?;
    for table in ["teams", "players", "appearances"] {
        let gone = select(count_star()).from(table_named(table)).fetch_scalar::<i64>(&mut conn).await;
        expect_kind(gone, ErrorKind::Syntax);
    }
    // And created again from scratch.
    db.engine.create_all(&league()).await?;
    let n: i64 = select(count_star()).from(t).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 0);

    // The statements one by one.
    drop_table(a).execute(&mut conn).await?;
    drop_table(a).if_exists().execute(&mut conn).await?;
    expect_kind(drop_table(a).execute(&mut conn).await, ErrorKind::Syntax);
    create_table(a).execute(&mut conn).await?;
    create_table(a).if_not_exists().execute(&mut conn).await?;
    expect_kind(create_table(a).execute(&mut conn).await, ErrorKind::Syntax);
    // A cycle of foreign keys cannot be ordered.
    let x = TableDef::builder("x")
        .column(ColumnDef::new("id", ColumnType::BigInt).primary_key())
        .column(ColumnDef::new("y_id", ColumnType::BigInt).references("y", "id"))
        .build()?;
    let y = TableDef::builder("y")
        .column(ColumnDef::new("id", ColumnType::BigInt).primary_key())
        .column(ColumnDef::new("x_id", ColumnType::BigInt).references("x", "id"))
        .build()?;
    expect_kind(db.engine.create_all(&MetaData::new().with(x).with(y)).await, ErrorKind::Compile);
    Ok(())
});

backend_test!(async fn keys_and_constraints_are_enforced(db) {
    db.engine.create_all(&league()).await?;
    let (t, p, a) = (Teams::table(), Players::table(), Appearances::table());
    let mut conn = db.conn().await?;
    insert_into(t).rows(t.slug, ["core", "web"]).execute(&mut conn).await?;
    expect_kind(insert_into(t).values(t.slug.set("core")).execute(&mut conn).await, ErrorKind::UniqueViolation);

    insert_into(p).rows((p.team_id, p.name), [(Some(1_i64), "ada"), (Some(2), "bob"), (None, "cy")]).execute(&mut conn).await?;
    // A multi-column unique constraint: (team, name) once per team.
    let dup = insert_into(p).values((p.team_id.set(1_i64), p.name.set("ada"), p.active.set(false))).execute(&mut conn).await;
    expect_kind(dup, ErrorKind::UniqueViolation);
    // A named check constraint on a renamed column.
    let err = insert_into(p).values((p.name.set("neg"), p.score.set(-1.0))).execute(&mut conn).await;
    assert_eq!(expect_kind(err, ErrorKind::CheckViolation).constraint(), Some("points_not_negative"));

    // A composite primary key: each pair once.
    insert_into(a)
        .rows((a.match_id, a.player_id, a.minutes), [(1_i64, 1_i64, 90_i16), (1, 2, 45), (2, 1, 10)])
        .execute(&mut conn)
        .await?;
    let dup = insert_into(a).values((a.match_id.set(1_i64), a.player_id.set(2_i64), a.minutes.set(1_i16))).execute(&mut conn).await;
    expect_kind(dup, ErrorKind::UniqueViolation);
    let err = insert_into(a).values((a.match_id.set(3_i64), a.player_id.set(99_i64), a.minutes.set(1_i16))).execute(&mut conn).await;
    expect_kind(err, ErrorKind::ForeignKeyViolation);

    // ON DELETE CASCADE and SET NULL.
    delete_from(p).filter(p.id.eq(1)).execute(&mut conn).await?;
    let left: Vec<(i64, i64)> =
        select((a.match_id, a.player_id)).from(a).order_by(a.match_id).fetch_all(&mut conn).await?;
    assert_eq!(left, vec![(1, 2)]);
    delete_from(t).filter(t.id.eq(2)).execute(&mut conn).await?;
    let teams: Vec<Option<i64>> = select(p.team_id).from(p).order_by(p.id).fetch_all(&mut conn).await?;
    assert_eq!(teams, [None, None]);
    Ok(())
});

backend_test!(async fn indexes_and_partial_unique_index_as_upsert_target(db) {
    db.engine.create_all(&league()).await?;
    let p = Players::table();
    let mut conn = db.conn().await?;
    // The index exists: creating it again fails, unless IF NOT EXISTS.
    let index = Players::def().indexes[0].clone();
    expect_kind(create_index(p, index.clone()).execute(&mut conn).await, ErrorKind::Syntax);
    create_index(p, index.clone()).if_not_exists().execute(&mut conn).await?;

    // Unique among active players only.
    insert_into(p).rows((p.name, p.active), [("ada", true), ("ada", false), ("ada", false)]).execute(&mut conn).await?;
    let dup = insert_into(p).values((p.name.set("ada"), p.active.set(true))).execute(&mut conn).await;
    expect_kind(dup, ErrorKind::UniqueViolation);
    let score: f64 = insert_into(p)
        .values((p.name.set("ada"), p.score.set(5.0)))
        .on_conflict(p.name)
        .filter(col("active").eq(true))
        .do_update(p.score.set(p.score + p.score.excluded()))
        .returning(p.score)
        .fetch_scalar(&mut conn)
        .await?;
    assert_eq!(score, 5.0);

    // Dropped, the index no longer constrains; created again by statement.
    drop_index("players_active_name").execute(&mut conn).await?;
    drop_index("players_active_name").if_exists().execute(&mut conn).await?;
    insert_into(p).values((p.name.set("ada"), p.active.set(true))).execute(&mut conn).await?;
    let err = create_index(p, index).execute(&mut conn).await;
    expect_kind(err, ErrorKind::UniqueViolation);
    // A plain index and a multi-column unique one, by statement.
    create_index(p, IndexDef::new("players_points", ["points"])).execute(&mut conn).await?;
    expect_kind(create_index(p, IndexDef::new("players_points", ["name"])).execute(&mut conn).await, ErrorKind::Syntax);
    create_index(p, IndexDef::new("players_id_name", ["id", "name"]).unique()).execute(&mut conn).await?;
    let n: i64 = select(count_star()).from(p).filter(p.score.ge(5.0)).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 1);
    Ok(())
});

backend_test!(async fn server_and_client_defaults(db) {
    let events = TableDef::builder("events")
        .column(ColumnDef::new("id", ColumnType::BigInt).primary_key())
        .column(ColumnDef::new("kind", ColumnType::Text).server_default("created"))
        .column(ColumnDef::new("at", ColumnType::TimestampTz).server_default(now()))
        .column(ColumnDef::new("weight", ColumnType::Integer).server_default(42))
        .column(ColumnDef::new("ratio", ColumnType::Double).server_default(1.5))
        .column(ColumnDef::new("flag", ColumnType::Bool).server_default(true))
        .column(ColumnDef::new("quoted", ColumnType::Text).server_default("it's \\ 'quoted'"))
        .column(ColumnDef::new("source", ColumnType::Text).default_value("client"))
        .column(ColumnDef::new("note", ColumnType::Text).nullable(true))
        .build()?;
    db.create(MetaData::new().with(&events)).await?;
    let mut conn = db.conn().await?;
    let at = events.typed_column::<DateTime<Utc>>("at")?;
    let all = (
        events.typed_column::<i64>("id")?,
        events.typed_column::<String>("kind")?,
        at.clone(),
        events.typed_column::<i32>("weight")?,
        events.typed_column::<f64>("ratio")?,
        events.typed_column::<bool>("flag")?,
        events.typed_column::<String>("quoted")?,
        events.typed_column::<String>("source")?,
        events.typed_column::<Option<String>>("note")?,
    );
    type Row = (i64, String, DateTime<Utc>, i32, f64, bool, String, String, Option<String>);
    let first: Row = insert_into(&events).values(ColumnValue::untyped("note", "hi")).returning(all.clone()).fetch_one(&mut conn).await?;
    let system = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() as i64;
    assert!((first.2.timestamp() - system).abs() < 120, "now() default: {}", first.2);
    assert_eq!(
        (first.0, first.1.as_str(), first.3, first.4, first.5, first.6.as_str(), first.7.as_str(), first.8.as_deref()),
        (1, "created", 42, 1.5, true, "it's \\ 'quoted'", "client", Some("hi"))
    );
    // Given values win over both kinds of default; DEFAULT VALUES takes them all.
    let second: Row = insert_into(&events)
        .values((ColumnValue::untyped("kind", "given"), ColumnValue::untyped("source", "given"), ColumnValue::untyped("weight", 7)))
        .returning(all.clone())
        .fetch_one(&mut conn)
        .await?;
    assert_eq!((second.1.as_str(), second.3, second.7.as_str()), ("given", 7, "given"));
    let third: Row = insert_into(&events).default_values().returning(all).fetch_one(&mut conn).await?;
    assert_eq!((third.0, third.1.as_str(), third.3, third.8), (3, "created", 42, None));
    // The server's now() compares with bound timestamps.
    let recent: i64 = select(count_star())
        .from(&events)
        .filter(at.gt(DateTime::<Utc>::from_timestamp(system - 3600, 0).expect("in range")))
        .fetch_scalar(&mut conn)
        .await?;
    assert_eq!(recent, 3);
    Ok(())
});

quarry::table! {
    struct Narrow("narrow") {
        id: i32 [primary_key],
        label: String,
    }
}

// SQLite's rowid would hand out the id of a deleted last row again; an
// identity column does not.
backend_test!(async fn generated_ids_are_not_reused(db) {
    let n = Narrow::table();
    db.create(MetaData::new().with(n)).await?;
    let mut conn = db.conn().await?;
    let ids: Vec<i32> = insert_into(n).rows(n.label, ["a", "b"]).returning(n.id).fetch_all(&mut conn).await?;
    assert_eq!(ids, [1, 2]);
    delete_from(n).filter(n.id.eq(2)).execute(&mut conn).await?;
    let id: i32 = insert_into(n).values(n.label.set("c")).returning(n.id).fetch_scalar(&mut conn).await?;
    assert_eq!(id, 3, "the deleted row's id is not handed out again");
    Ok(())
});

quarry::table! {
    struct Manual("manual") {
        id: i64 [primary_key, autoincrement(false)],
        label: String,
    }
}

backend_test!(async fn generated_ids_are_returned(db) {
    let n = Narrow::table();
    db.create(MetaData::new().with(n)).await?;
    let mut conn = db.conn().await?;
    let ids: Vec<i32> = insert_into(n).rows(n.label, ["a", "b", "c"]).returning(n.id).fetch_all(&mut conn).await?;
    assert_eq!(ids, [1, 2, 3]);
    let id: i32 = insert_into(n).values(n.label.set("d")).returning(n.id).fetch_scalar(&mut conn).await?;
    assert_eq!(id, 4);
    delete_from(n).filter(n.id.eq(2)).execute(&mut conn).await?;
    let id: i32 = insert_into(n).values(n.label.set("e")).returning(n.id).fetch_scalar(&mut conn).await?;
    assert_eq!(id, 5, "ids are not reused from the middle");
    Ok(())
});

// `autoincrement(false)`: the database does not generate the key, so a row
// without one is refused.
backend_test!(async fn autoincrement_false_requires_an_id(db) {
    let m = Manual::table();
    db.create(MetaData::new().with(m)).await?;
    let mut conn = db.conn().await?;
    // Without autoincrement the id must be given.
    let err = insert_into(m).values(m.label.set("no id")).execute(&mut conn).await;
    expect_kind(err, ErrorKind::NotNullViolation);
    insert_into(m).values((m.id.set(10_i64), m.label.set("given"))).execute(&mut conn).await?;
    let labels: Vec<(i64, String)> = select((m.id, m.label)).from(m).fetch_all(&mut conn).await?;
    assert_eq!(labels, vec![(10, "given".to_owned())]);
    Ok(())
});

backend_test!(async fn runtime_table_end_to_end(db) {
    let name = format!("runtime_{}", 7);
    let notes = TableDef::builder(name.clone())
        .column(ColumnDef::new("id", ColumnType::BigInt).primary_key())
        .column(ColumnDef::new("title", ColumnType::Text).unique())
        .column(ColumnDef::new("body", ColumnType::Text).nullable(true))
        .column(ColumnDef::new("stars", ColumnType::Integer).default_value(0))
        .column(ColumnDef::new("parent_id", ColumnType::BigInt).nullable(true).references(name.clone(), "id"))
        .index(IndexDef::new(format!("{name}_stars"), ["stars"]))
        .build()?;
    db.create(MetaData::new().with(&notes)).await?;
    let mut conn = db.conn().await?;
    let (id, title, stars) =
        (notes.typed_column::<i64>("id")?, notes.typed_column::<String>("title")?, notes.typed_column::<i32>("stars")?);
    assert!(notes.column("nope").is_err());

    for (t, parent) in [("first", None), ("second", Some(1_i64)), ("third", Some(1))] {
        insert_into(&notes)
            .values((ColumnValue::untyped("title", t), ColumnValue::untyped("parent_id", parent.map_or(Value::Null, Value::from))))
            .execute(&mut conn)
            .await?;
    }
    let n = update(&notes).values(ColumnValue::untyped("stars", 5)).filter(title.clone().ne("first")).execute(&mut conn).await?;
    assert_eq!(n, 2);
    let rows: Vec<(i64, String, i32)> =
        select((id.clone(), title.clone(), stars.clone())).from(&notes).order_by(id.clone()).fetch_all(&mut conn).await?;
    assert_eq!(rows, vec![(1, "first".into(), 0), (2, "second".into(), 5), (3, "third".into(), 5)]);

    // A self-join through an alias.
    let parent = notes.alias("parent");
    let pairs: Vec<(String, String)> = select((title.clone(), parent.typed_column::<String>("title")?))
        .from(&notes)
        .join(&parent, parent.typed_column::<i64>("id")?.eq(notes.typed_column::<Option<i64>>("parent_id")?))
        .order_by(id.clone())
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(pairs, vec![("second".into(), "first".into()), ("third".into(), "first".into())]);
    // Every column, untyped; then constraints, delete and drop.
    let all: Vec<(i64, String, Option<String>, i32, Option<i64>)> =
        select(notes.columns()).from(&notes).order_by(id.clone()).limit(1).fetch_all(&mut conn).await?;
    assert_eq!(all, vec![(1, "first".into(), None, 0, None)]);
    let dup = insert_into(&notes).values(ColumnValue::untyped("title", "first")).execute(&mut conn).await;
    expect_kind(dup, ErrorKind::UniqueViolation);
    let orphan = insert_into(&notes)
        .values((ColumnValue::untyped("title", "orphan"), ColumnValue::untyped("parent_id", 99_i64)))
        .execute(&mut conn)
        .await;
    expect_kind(orphan, ErrorKind::ForeignKeyViolation);
    assert_eq!(delete_from(&notes).filter(stars.gt(0)).execute(&mut conn).await?, 2);
    db.engine.drop_all(&MetaData::new().with(&notes)).await?;
    expect_kind(select(count_star()).from(&notes).fetch_scalar::<i64>(&mut conn).await, ErrorKind::Syntax);
    Ok(())
});

quarry::table! {
    struct Hostile("select \"from\" 'where' ü table") {
        id: i64 as "order by" [primary_key],
        quote: String as "col\"umn",
        space: String as "two words",
        unicode: Option<String> as "ünï😀",
        keyword: i32 as "group",
        placeholder: String as ":name $1 ?1",
    }
    [
        unique(["col\"umn"]),
        index(IndexDef::new("index \"of\" group", ["group"])),
        check("check \"it\"", col("group").ge(0)),
    ]
}

quarry::table! {
    struct HostileChild("table; DROP TABLE x; --") {
        id: i64 [primary_key],
        parent: i64 as "references \"parent\"" [references("select \"from\" 'where' ü table", "order by")],
    }
}

backend_test!(async fn hostile_identifiers_round_trip(db) {
    let (h, c) = (Hostile::table(), HostileChild::table());
    db.create(MetaData::new().with(c).with(h)).await?;
    db.create(MetaData::new().with(c).with(h)).await?;
    let mut conn = db.conn().await?;
    let ids: Vec<i64> = insert_into(h)
        .rows(
            (h.quote, h.space, h.unicode, h.keyword, h.placeholder),
            [("a\"b", "c d", Some("é"), 1, ":x"), ("'", "", None, 2, "$2")],
        )
        .returning(h.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(ids, [1, 2]);
    insert_into(c).values(c.parent.set(1_i64)).execute(&mut conn).await?;
    type Row = (i64, String, String, Option<String>, i32, String);
    let rows: Vec<Row> = select(h).from(h).order_by(h.id).fetch_all(&mut conn).await?;
    assert_eq!(
        rows,
        vec![
            (1, "a\"b".into(), "c d".into(), Some("é".into()), 1, ":x".into()),
            (2, "'".into(), String::new(), None, 2, "$2".into()),
        ]
    );
    // Joins, aliases, filters, grouping, upserts and updates over them.
    let alias = Hostile::alias("alias \"with\" quotes");
    let joined: Vec<(i64, String)> = select((c.id, alias.quote))
        .from(c)
        .join(alias, alias.id.eq(c.parent))
        .filter(alias.keyword.ge(0).and(alias.placeholder.eq(":x")))
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(joined, vec![(1, "a\"b".to_owned())]);
    let grouped: Vec<(i32, i64)> =
        select((h.keyword, count_star().label("count \"all\""))).from(h).group_by(h.keyword).order_by(h.keyword).fetch_all(&mut conn).await?;
    assert_eq!(grouped, vec![(1, 1), (2, 1)]);
    let n = insert_into(h)
        .values((h.quote.set("'"), h.space.set("x"), h.keyword.set(5), h.placeholder.set("p")))
        .on_conflict(h.quote)
        .do_update(h.keyword.set(h.keyword.excluded()))
        .execute(&mut conn)
        .await?;
    assert_eq!(n, 1);
    let keyword: i32 = select(h.keyword).from(h).filter(h.quote.eq("'")).fetch_scalar(&mut conn).await?;
    assert_eq!(keyword, 5);
    let err = update(h).set(h.keyword, -1).execute(&mut conn).await;
    assert_eq!(expect_kind(err, ErrorKind::CheckViolation).constraint(), Some("check \"it\""));
    expect_kind(insert_into(c).values(c.parent.set(99_i64)).execute(&mut conn).await, ErrorKind::ForeignKeyViolation);

    // Run-time names: a table and columns named from strings.
    let odd = TableDef::builder(String::from("run \"time\" SELECT"))
        .column(ColumnDef::new(String::from("id"), ColumnType::BigInt).primary_key())
        .column(ColumnDef::new(String::from("value \"v\""), ColumnType::Text))
        .build()?;
    db.create(MetaData::new().with(&odd)).await?;
    insert_into(&odd).values(ColumnValue::untyped(String::from("value \"v\""), "ok")).execute(&mut conn).await?;
    let v: String = select(odd.column("value \"v\"")?).from(&odd).fetch_scalar(&mut conn).await?;
    assert_eq!(v, "ok");

    db.engine.drop_all(&MetaData::new().with(h).with(c).with(&odd)).await?;
    expect_kind(select(count_star()).from(h).fetch_scalar::<i64>(&mut conn).await, ErrorKind::Syntax);
    Ok(())
});
