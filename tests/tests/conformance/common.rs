//! Fixtures shared by the conformance tests: a fresh database per test and
//! per backend, the `backend_test!` macro, assertions for the documented
//! differences between databases, and a small shared schema.

#![allow(dead_code, unreachable_pub)]

use std::fmt::Debug;

use quarry::CompileError;

pub use quarry::prelude::*;

/// `Result` for test bodies.
pub type Result<T = (), E = Error> = std::result::Result<T, E>;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database for one test: an engine and whatever must be cleaned
/// up when the test ends (a temporary SQLite file, a PostgreSQL schema).
///
/// The fields are dropped in order: the engine (and its connections) before
/// the database they use.
pub struct TestDb {
    pub engine: Engine,
    pub backend: Backend,
    /// The URL the engine was opened with.
    pub url: String,
    _sqlite: Option<quarry_testkit::SqliteTestDb>,
    #[cfg(feature = "postgres")]
    _postgres: Option<quarry_testkit::PgTestDb>,
}

impl TestDb {
    /// A SQLite database in a temporary file (WAL, as in production).
    pub async fn sqlite(config: PoolConfig) -> Result<TestDb> {
        let file = quarry_testkit::SqliteTestDb::new()
            .map_err(|e| Error::new(quarry::ErrorKind::Config, format!("temporary SQLite file: {e}")))?;
        let url = file.url();
        let engine = Engine::connect_with(&url, config).await?;
        Ok(TestDb {
            engine,
            backend: Backend::Sqlite,
            url,
            _sqlite: Some(file),
            #[cfg(feature = "postgres")]
            _postgres: None,
        })
    }

    /// A fresh PostgreSQL schema, or `None` (test skipped loudly) when no
    /// server is available and `QUARRY_REQUIRE_PG` is not set.
    #[cfg(feature = "postgres")]
    pub async fn postgres(test: &str, config: PoolConfig) -> Result<Option<TestDb>> {
        let Some(db) = quarry_testkit::pg_test_db(test).await else {
            return Ok(None);
        };
        let url = db.url().to_owned();
        let engine = Engine::connect_with(&url, config).await?;
        Ok(Some(TestDb { engine, backend: Backend::Postgres, url, _sqlite: None, _postgres: Some(db) }))
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// A connection from the test's engine.
    pub async fn conn(&self) -> Result<Conn> {
        self.engine.acquire().await
    }

    /// Create the tables of `metadata` (referenced tables first).
    pub async fn create(&self, metadata: MetaData) -> Result {
        self.engine.create_all(&metadata).await
    }

    /// Another engine (pool) on the same database, as another process would
    /// open it. `sqlite_params` (`busy_timeout=100`) is appended to a SQLite
    /// URL as its query string; PostgreSQL URLs are used as they are.
    pub async fn connect_again(&self, config: PoolConfig, sqlite_params: &str) -> Result<Engine> {
        let url = match self.backend {
            Backend::Sqlite if !sqlite_params.is_empty() => format!("{}?{sqlite_params}", self.url),
            _ => self.url.clone(),
        };
        Engine::connect_with(&url, config).await
    }
}

/// The pool settings tests use unless they say otherwise.
pub fn test_config() -> PoolConfig {
    PoolConfig::new().max_size(4).acquire_timeout(std::time::Duration::from_secs(20))
}

/// Define a test run once per backend. The body sees `$db: TestDb` and
/// returns `Result`.
///
/// ```ignore
/// backend_test!(async fn counts(db) {
///     let mut conn = db.engine.acquire().await?;
///     ...
///     Ok(())
/// });
/// ```
/// With `config = expr` before `async`, the engine uses that `PoolConfig`.
macro_rules! backend_test {
    ($(#[$meta:meta])* $(config = $config:expr;)? async fn $name:ident($db:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::common::*;

            #[allow(unused_mut, unused_variables)]
            async fn body($db: TestDb) -> Result {
                $body
            }

            fn config() -> quarry::PoolConfig {
                #[allow(unused_variables)]
                let config = test_config();
                $( let config = $config; )?
                config
            }

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> Result {
                body(TestDb::sqlite(config()).await?).await
            }

            #[cfg(feature = "postgres")]
            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> Result {
                match TestDb::postgres(concat!(module_path!(), "::", stringify!($name)), config()).await? {
                    Some(db) => body(db).await,
                    None => Ok(()),
                }
            }
        }
    };
}

/// The [`CompileError`] behind a `Compile` error.
pub fn compile_error(err: &Error) -> Option<&CompileError> {
    std::error::Error::source(err).and_then(|s| s.downcast_ref::<CompileError>())
}

/// `result` failed with `ErrorKind::Compile`, a `CompileError::Unsupported`
/// whose construct contains `construct`, for SQLite.
#[track_caller]
pub fn assert_unsupported_on_sqlite<T: Debug>(result: Result<T>, construct: &str) {
    let err = match result {
        Ok(value) => panic!("expected {construct:?} to be refused by SQLite, got Ok({value:?})"),
        Err(err) => err,
    };
    assert_eq!(err.kind(), ErrorKind::Compile, "{err:?}");
    match compile_error(&err) {
        Some(CompileError::Unsupported { construct: c, dialect }) => {
            assert!(c.contains(construct), "construct {c:?} does not name {construct:?}");
            assert_eq!(*dialect, "SQLite");
        }
        other => panic!("expected CompileError::Unsupported for {construct:?}, got {other:?} ({err})"),
    }
    assert!(err.message().contains("SQLite"), "{err}");
}

/// A construct PostgreSQL has and SQLite lacks: on PostgreSQL `result` must
/// succeed and its value is returned; on SQLite it must be a `Compile` error
/// naming `construct` and SQLite, and `None` is returned.
#[track_caller]
pub fn pg_only<T: Debug>(db: &TestDb, construct: &str, result: Result<T>) -> Result<Option<T>> {
    match db.backend {
        Backend::Postgres => result.map(Some),
        Backend::Sqlite => {
            assert_unsupported_on_sqlite(result, construct);
            Ok(None)
        }
    }
}

/// `result` failed with `kind`; the error is returned for more checks.
#[track_caller]
pub fn expect_kind<T: Debug>(result: Result<T>, kind: ErrorKind) -> Error {
    match result {
        Ok(value) => panic!("expected an error of kind {kind:?}, got Ok({value:?})"),
        Err(err) => {
            assert_eq!(err.kind(), kind, "{err:?}");
            err
        }
    }
}

/// Strings for `Vec<String>` comparisons.
pub fn strings<const N: usize>(items: [&str; N]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The shared schema of the query tests: teams, users and posts, as in the
/// guide.
///
/// Teams `core` (1) and `web` (2). Users `ada` (karma 50, team 1, email),
/// `bob` (5, team 1), `cy` (20, team 2, email), `dee` (0, no team). Posts:
/// ada's `Engines` (120 likes) and `Numbers` (45), cy's `Styles` (300) and
/// `Draft` (0 likes, unpublished).
pub mod shop {
    use super::*;

    quarry::table! {
        pub struct Teams("teams") {
            id: i64 [primary_key],
            name: String [unique],
        }
    }

    quarry::table! {
        pub struct Users("users") {
            id: i64 [primary_key],
            name: String,
            email: Option<String>,
            karma: i32,
            team_id: Option<i64> [references("teams", "id")],
        }
    }

    quarry::table! {
        pub struct Posts("posts") {
            id: i64 [primary_key],
            author_id: i64 [references("users", "id")],
            title: String,
            likes: i64,
            published: bool,
        }
    }

    /// Create the three tables and insert the rows described above.
    pub async fn seed(db: &TestDb) -> Result {
        let (t, u, p) = (Teams::table(), Users::table(), Posts::table());
        db.create(MetaData::new().with(p).with(u).with(t)).await?;
        let mut conn = db.conn().await?;
        insert_into(t).rows(t.name, ["core", "web"]).execute(&mut conn).await?;
        insert_into(u)
            .rows(
                (u.name, u.email, u.karma, u.team_id),
                [
                    ("ada", Some("ada@example.com"), 50, Some(1_i64)),
                    ("bob", None, 5, Some(1)),
                    ("cy", Some("cy@example.com"), 20, Some(2)),
                    ("dee", None, 0, None),
                ],
            )
            .execute(&mut conn)
            .await?;
        insert_into(p)
            .rows(
                (p.author_id, p.title, p.likes, p.published),
                [
                    (1_i64, "Engines", 120_i64, true),
                    (1, "Numbers", 45, true),
                    (3, "Styles", 300, true),
                    (3, "Draft", 0, false),
                ],
            )
            .execute(&mut conn)
            .await?;
        Ok(())
    }
}
