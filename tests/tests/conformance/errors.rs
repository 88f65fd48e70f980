//! Every error kind provoked for real, with the same kind on every
//! database, and what each database names (constraint, table, column).

use std::time::{Duration, Instant};

use quarry::schema::{ColumnDef, ColumnType, TableDef};

use crate::common::*;

quarry::table! {
    struct Teams("teams") {
        id: i64 [primary_key],
        name: String,
    }
}

quarry::table! {
    struct Users("users") {
        id: i64 [primary_key],
        email: String [unique],
        name: String,
        age: i32,
        team_id: Option<i64> [references("teams", "id")],
    }
    [check("age_positive", col("age").gt(0))]
}

async fn setup(db: &TestDb) -> Result<(Users, Conn)> {
    let u = Users::table();
    db.create(MetaData::new().with(u).with(Teams::table())).await?;
    let mut conn = db.conn().await?;
    insert_into(Teams::table()).values(Teams::table().name.set("core")).execute(&mut conn).await?;
    insert_into(u)
        .values((u.email.set("ada@example.com"), u.name.set("ada"), u.age.set(36)))
        .execute(&mut conn)
        .await?;
    Ok((u, conn))
}

/// The error's cause, as text.
fn source_text(err: &Error) -> String {
    std::error::Error::source(err).map(ToString::to_string).unwrap_or_default()
}

/// The sqlstate() each database gives: PostgreSQL's SQLSTATE, SQLite's
/// extended result code name.
fn code(db: &TestDb, postgres: &'static str, sqlite: &'static str) -> Option<&'static str> {
    Some(if db.is_postgres() { postgres } else { sqlite })
}

backend_test!(async fn unique_violation(db) {
    let (u, mut conn) = setup(&db).await?;
    let err = insert_into(u)
        .values((u.email.set("ada@example.com"), u.name.set("again"), u.age.set(1)))
        .execute(&mut conn)
        .await;
    let err = expect_kind(err, ErrorKind::UniqueViolation);
    assert_eq!(err.sqlstate(), code(&db, "23505", "SQLITE_CONSTRAINT_UNIQUE"));
    assert!(!err.is_retryable());
    match db.backend {
        // PostgreSQL names the constraint and its table (not the column).
        Backend::Postgres => {
            assert_eq!((err.constraint(), err.table(), err.column()), (Some("users_email_key"), Some("users"), None));
        }
        // SQLite names `table.column`.
        Backend::Sqlite => {
            assert_eq!(
                (err.constraint(), err.table(), err.column()),
                (Some("users.email"), Some("users"), Some("email"))
            );
            assert_eq!(err.to_string(), "unique violation: UNIQUE constraint failed: users.email [SQLITE_CONSTRAINT_UNIQUE]");
        }
    }
    // A duplicate primary key is a unique violation too.
    let err = insert_into(u)
        .values((u.id.set(1_i64), u.email.set("other@example.com"), u.name.set("x"), u.age.set(1)))
        .execute(&mut conn)
        .await;
    let err = expect_kind(err, ErrorKind::UniqueViolation);
    assert_eq!(err.sqlstate(), code(&db, "23505", "SQLITE_CONSTRAINT_PRIMARYKEY"));
    assert_eq!(err.table(), Some("users"));
    // The connection is fine afterwards.
    let n: i64 = select(count_star()).from(u).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 1);
    Ok(())
});

backend_test!(async fn foreign_key_violation(db) {
    let (u, mut conn) = setup(&db).await?;
    let err = insert_into(u)
        .values((u.email.set("bob@example.com"), u.name.set("bob"), u.age.set(30), u.team_id.set(99_i64)))
        .execute(&mut conn)
        .await;
    let err = expect_kind(err, ErrorKind::ForeignKeyViolation);
    assert_eq!(err.sqlstate(), code(&db, "23503", "SQLITE_CONSTRAINT_FOREIGNKEY"));
    match db.backend {
        Backend::Postgres => assert_eq!((err.constraint(), err.table()), (Some("users_team_id_fkey"), Some("users"))),
        // SQLite does not say which foreign key failed.
        Backend::Sqlite => assert_eq!((err.constraint(), err.table(), err.column()), (None, None, None)),
    }
    // Deleting a referenced row.
    update(u).set(u.team_id, 1_i64).execute(&mut conn).await?;
    let err = delete_from(Teams::table()).execute(&mut conn).await;
    expect_kind(err, ErrorKind::ForeignKeyViolation);
    Ok(())
});

backend_test!(async fn not_null_violation(db) {
    let (u, mut conn) = setup(&db).await?;
    let err = text("INSERT INTO users (email, age) VALUES ('x@example.com', 1)").execute(&mut conn).await;
    let err = expect_kind(err, ErrorKind::NotNullViolation);
    assert_eq!(err.sqlstate(), code(&db, "23502", "SQLITE_CONSTRAINT_NOTNULL"));
    assert_eq!((err.table(), err.column()), (Some("users"), Some("name")));
    // Through the typed API: a NULL bound where the column is NOT NULL.
    let err = update(u).set(u.name, raw("NULL").typed::<String>()).execute(&mut conn).await;
    let err = expect_kind(err, ErrorKind::NotNullViolation);
    assert_eq!(err.column(), Some("name"));
    Ok(())
});

backend_test!(async fn check_violation(db) {
    let (u, mut conn) = setup(&db).await?;
    let err =
        insert_into(u).values((u.email.set("bob@example.com"), u.name.set("bob"), u.age.set(-1))).execute(&mut conn).await;
    let err = expect_kind(err, ErrorKind::CheckViolation);
    assert_eq!(err.sqlstate(), code(&db, "23514", "SQLITE_CONSTRAINT_CHECK"));
    assert_eq!(err.constraint(), Some("age_positive"));
    if db.is_postgres() {
        assert_eq!(err.table(), Some("users"));
    }
    let err = update(u).set(u.age, 0).execute(&mut conn).await;
    assert_eq!(expect_kind(err, ErrorKind::CheckViolation).constraint(), Some("age_positive"));
    Ok(())
});

backend_test!(async fn syntax_and_unknown_names(db) {
    let (u, mut conn) = setup(&db).await?;
    // A malformed raw fragment.
    let err = select(raw("1 +")).fetch_all::<i64>(&mut conn).await;
    let err = expect_kind(err, ErrorKind::Syntax);
    assert_eq!(err.sqlstate(), code(&db, "42601", "SQLITE_ERROR"));
    let err = text("SELEC 1").execute(&mut conn).await;
    expect_kind(err, ErrorKind::Syntax);
    // An unknown table, and an unknown column.
    let err = select(col("id")).from(table_named("no_such_table")).fetch_all::<i64>(&mut conn).await;
    let err = expect_kind(err, ErrorKind::Syntax);
    assert_eq!(err.sqlstate(), code(&db, "42P01", "SQLITE_ERROR"));
    assert!(err.message().contains("no_such_table"), "{err}");
    let err = select(col("no_such_column")).from(u).fetch_all::<i64>(&mut conn).await;
    let err = expect_kind(err, ErrorKind::Syntax);
    assert_eq!(err.sqlstate(), code(&db, "42703", "SQLITE_ERROR"));
    // Each failure leaves the connection usable.
    let n: i64 = select(count_star()).from(u).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 1);
    Ok(())
});

backend_test!(async fn decode_errors_name_column_and_types(db) {
    let (u, mut conn) = setup(&db).await?;
    let err = select((u.id, u.name)).from(u).fetch_all::<(i64, i64)>(&mut conn).await;
    let err = expect_kind(err, ErrorKind::Decode);
    assert_eq!(err.column(), Some("name"));
    let found = err.message().strip_prefix("decoding column 1 `name` as i64: found ").unwrap_or_else(|| panic!("{err}"));
    assert!(found.eq_ignore_ascii_case("text"), "found {found:?}");
    // NULL into a non-Option type.
    let err = select(u.team_id).from(u).fetch_one::<i64>(&mut conn).await;
    let err = expect_kind(err, ErrorKind::Decode);
    assert_eq!(err.column(), Some("team_id"));
    let found = err.message().strip_prefix("decoding column 0 `team_id` as i64: found ").unwrap_or_else(|| panic!("{err}"));
    assert!(found.eq_ignore_ascii_case("null"), "found {found:?}");
    // An integer that does not fit the Rust type.
    let err = select(lit(1_i64 << 40).label("big")).fetch_one::<i32>(&mut conn).await;
    let err = expect_kind(err, ErrorKind::Decode);
    assert_eq!(err.column(), Some("big"));
    assert!(err.message().starts_with("decoding column 0 `big` as i32: found "), "{err}");
    assert!(source_text(&err).contains("out of range"), "{err:?}");
    // A labelled expression, a struct field.
    #[derive(Debug, FromRow)]
    #[allow(dead_code)]
    struct Row {
        id: i64,
        age: bool,
    }
    let err = select((u.id, (u.age * 2).label("age"))).from(u).fetch_all::<Row>(&mut conn).await;
    let err = expect_kind(err, ErrorKind::Decode);
    assert_eq!(err.column(), Some("age"));
    assert!(err.message().contains("as bool"), "{err}");
    // A tuple wider than the row: the missing column is named by position.
    let err = select((u.id, u.name)).from(u).fetch_all::<(i64, String, i64)>(&mut conn).await;
    let err = expect_kind(err, ErrorKind::Decode);
    assert_eq!(err.message(), "column 2 does not exist: the row has 2 columns");
    Ok(())
});

quarry::table! {
    struct Small("small") {
        id: i64 [primary_key],
        n: i32,
    }
}

backend_test!(async fn integers_out_of_range(db) {
    let t = Small::table();
    db.create(MetaData::new().with(t)).await?;
    let mut conn = db.conn().await?;
    let result = insert_into(t).values(t.n.set(i64::MAX)).execute(&mut conn).await;
    match db.backend {
        // PostgreSQL checks the value against the column's type when binding.
        Backend::Postgres => {
            expect_kind(result, ErrorKind::Encode);
        }
        // SQLite stores every integer in 64 bits: reading it as i32 fails.
        Backend::Sqlite => {
            assert_eq!(result?, 1);
            let err = select(t.n).from(t).fetch_one::<i32>(&mut conn).await;
            assert!(source_text(&expect_kind(err, ErrorKind::Decode)).contains("out of range"));
        }
    }
    Ok(())
});

backend_test!(async fn compile_errors_for_unsupported_constructs(db) {
    let (u, mut conn) = setup(&db).await?;
    let locked = select(u.id).from(u).order_by(u.id).limit(1).for_update().skip_locked().fetch_all::<i64>(&mut conn).await;
    if let Some(ids) = pg_only(&db, "FOR UPDATE", locked)? {
        assert_eq!(ids, [1]);
    }
    let shared = select(u.id).from(u).for_share().nowait().fetch_all::<i64>(&mut conn).await;
    pg_only(&db, "FOR UPDATE/FOR SHARE", shared)?;
    let lateral = select(u.name)
        .from(u)
        .join(select(lit(1_i64).label("one")).filter(u.id.gt(0)).subquery("l").lateral(), lit(true))
        .fetch_all::<String>(&mut conn)
        .await;
    pg_only(&db, "LATERAL", lateral)?;
    let cascade = drop_table(Teams::table()).cascade().execute(&mut conn).await;
    pg_only(&db, "CASCADE", cascade)?;
    // Nothing was sent on SQLite: the tables are intact there.
    if !db.is_postgres() {
        let n: i64 = select(count_star()).from(Teams::table()).fetch_scalar(&mut conn).await?;
        assert_eq!(n, 1);
    }

    // Refused on both databases, before anything is sent.
    let mut deep = u.age.expr();
    for _ in 0..1000 {
        deep = deep + 1;
    }
    let err = select(deep).from(u).fetch_all::<i64>(&mut conn).await;
    let err = expect_kind(err, ErrorKind::Compile);
    assert!(matches!(compile_error(&err), Some(quarry::CompileError::TooDeep { .. })), "{err:?}");
    let err = text("SELECT :a").fetch_all::<i64>(&mut conn).await;
    assert!(matches!(compile_error(&expect_kind(err, ErrorKind::Compile)), Some(quarry::CompileError::MissingBind { .. })));
    let err = text("SELECT $1").fetch_all::<i64>(&mut conn).await;
    expect_kind(err, ErrorKind::Compile);
    let err = select(lit(1_i64)).join(table_named("t"), lit(true)).fetch_all::<i64>(&mut conn).await;
    expect_kind(err, ErrorKind::Compile);
    Ok(())
});

backend_test!(async fn identifiers_too_long_for_postgres(db) {
    // PostgreSQL would truncate names over 63 bytes: refused there; SQLite
    // keeps them.
    let name = "t".repeat(64);
    let table = TableDef::builder(name.clone()).column(ColumnDef::new("id", ColumnType::BigInt).primary_key()).build()?;
    let created = db.create(MetaData::new().with(&table)).await;
    match db.backend {
        Backend::Postgres => {
            let err = expect_kind(created, ErrorKind::Compile);
            assert!(matches!(compile_error(&err), Some(quarry::CompileError::InvalidIdentifier { .. })), "{err:?}");
        }
        Backend::Sqlite => {
            created?;
            let n: i64 = select(count_star()).from(&table).fetch_scalar(&mut db.conn().await?).await?;
            assert_eq!(n, 0);
        }
    }
    Ok(())
});

backend_test!(async fn config_errors_for_bad_urls(db) {
    let bad = [
        "mysql://localhost/app",
        "",
        "not a url",
        "sqlite://app.db?cache=shared",
        "sqlite://app.db?mode=sideways",
        "sqlite::memory:?mode=ro",
        "postgres://app@localhost:notaport/app",
        "postgres://app@localhost/app?sslmode=require",
        "postgres://app@localhost/app?no_such_option=1",
    ];
    for url in bad {
        let err = Engine::connect(url).await;
        let err = expect_kind(err.map(|_| ()), ErrorKind::Config);
        assert!(!err.message().is_empty(), "{url}");
    }
    // The test's own URL is fine.
    Engine::connect(&db.url).await?.close();
    Ok(())
});

backend_test!(
    config = test_config().max_size(1).acquire_timeout(Duration::from_millis(300));
    async fn pool_timeout_when_exhausted(db) {
        let held = db.conn().await?;
        let started = Instant::now();
        let err = expect_kind(db.conn().await, ErrorKind::PoolTimeout);
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(250), "gave up after {waited:?}");
        assert!(waited < Duration::from_secs(3), "waited {waited:?}");
        assert!(err.message().contains("waiting"), "{err}");
        assert!(!err.is_retryable());
        // Released: the next acquire succeeds at once.
        drop(held);
        let started = Instant::now();
        let mut conn = db.conn().await?;
        assert!(started.elapsed() < Duration::from_millis(250));
        let one: i64 = select(lit(1_i64)).fetch_scalar(&mut conn).await?;
        assert_eq!(one, 1);
        Ok(())
    }
);

backend_test!(async fn pool_closed_after_close(db) {
    let (u, conn) = setup(&db).await?;
    let other = db.engine.clone();
    db.engine.close();
    expect_kind(db.conn().await, ErrorKind::PoolClosed);
    expect_kind(other.acquire().await, ErrorKind::PoolClosed);
    expect_kind(other.begin().await.map(|_| ()), ErrorKind::PoolClosed);
    let err = other.transaction(async |tx| select(count_star()).from(u).fetch_scalar::<i64>(tx).await).await;
    expect_kind(err, ErrorKind::PoolClosed);
    // A connection already out finishes its work.
    let mut conn = conn;
    let n: i64 = select(count_star()).from(u).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 1);
    drop(conn);
    expect_kind(db.conn().await, ErrorKind::PoolClosed);
    Ok(())
});
