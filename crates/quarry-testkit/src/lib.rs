//! Test support for Quarry: PostgreSQL test schemas and SQLite test files.
//!
//! A dev-only crate. Of Quarry it depends on quarry-core only (for the
//! scripted fake driver and the generic [`assert_pool_healthy`]); for
//! databases it hands out URLs, which the tests pass to Quarry (or to the
//! raw drivers).
//!
//! # PostgreSQL
//!
//! ```no_run
//! # async fn example() {
//! let Some(db) = quarry_testkit::pg_test_db("insert_returning").await else {
//!     return; // skipped (loudly), PostgreSQL is not available
//! };
//! // db.url() connects with search_path = db.schema(); the schema is dropped with `db`.
//! # }
//! ```
//!
//! The server is found once per process by [`pg_server`]: `QUARRY_PG_URL`, else
//! a server on 127.0.0.1:5432, else a temporary cluster started from the
//! system's binaries ([`start_temp_cluster`] for a private one). When none is
//! available, tests print `SKIPPED <name>: ...` to stderr and pass, unless
//! `QUARRY_REQUIRE_PG=1` (CI sets it), which makes them fail.
//!
//! | variable | effect |
//! |---|---|
//! | `QUARRY_PG_URL` | the server to use (URL or key=value form), superuser or at least `CREATE` on the database |
//! | `QUARRY_REQUIRE_PG=1` | a missing PostgreSQL fails the test instead of skipping it |
//! | `QUARRY_PG_BIN` | the directory with `initdb` and `pg_ctl` for temporary clusters |
//! | `CARGO_TARGET_DIR` | temporary clusters live in `$CARGO_TARGET_DIR/quarry-pg` |
//!
//! # Temporary clusters
//!
//! When no server is reachable, [`pg_server`] starts (or reuses) the *shared*
//! temporary cluster; [`start_temp_cluster`] starts a *private* one, deleted
//! when dropped. Both come from the system's binaries ([`pg_bin_dir`]): `initdb
//! -U postgres --auth=trust` into a temporary directory renamed when complete
//! (so an interrupted run never leaves a half-initialised cluster), then
//! `pg_ctl -w start` on a free port, listening on 127.0.0.1 only, `fsync=off`.
//! When the process is root, both run as the `postgres` user through `runuser`.
//!
//! Everything lives in [`temp_cluster_dir`] (`<target>/quarry-pg`, or
//! `<tmp>/quarry-pg` when running as root and the `postgres` user cannot reach
//! the target directory):
//!
//! | entry | what it is |
//! |---|---|
//! | `.lock` | `flock`ed while a process creates, sweeps or stops clusters (test binaries run in parallel under nextest) |
//! | `cluster-<port>/` | a data directory; its server log is `server.log` inside |
//! | `cluster-<port>.owner` | who owns it: the shared cluster, or a process id |
//! | `cluster-<port>.tmp-<pid>/` | an `initdb` in progress |
//! | `shared.env` | the shared cluster's state, shell-sourceable ([`temp_cluster_state_file`]) |
//!
//! The shared cluster is reused by every later process whose check (connect,
//! `SELECT 1`, same `data_directory`) succeeds, and replaced when it fails. It
//! is left running when the test process exits, so the next test binary (or
//! the next `cargo test`) starts in milliseconds; stop it with
//! [`stop_temp_cluster`], or from a shell (a `just` recipe) as shown there.
//! Under the lock, each creation first sweeps what killed processes left: dead
//! `initdb` directories and private clusters whose process is gone (stopped
//! with `-m immediate`, deleted). Owner records carry the kernel's boot id and
//! PID namespace, so containers sharing a target directory never sweep each
//! other's clusters.

mod alloc;
mod cluster;
mod faults;
mod faulty;
mod files;
mod health;
mod server;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_postgres::error::SqlState;

pub use alloc::CountingAlloc;
pub use cluster::{
    PgCluster, StopMode, pg_bin_dir, signal, start_temp_cluster, start_temp_cluster_with, stop_temp_cluster,
    temp_cluster_dir, temp_cluster_state_file,
};
pub use faults::{FaultProxy, ProxyMode, SilentServer};
pub use faulty::{Call, FaultScript, FaultyConnection, Op, Step};
pub use files::{Tmpfs, corrupt_header, corrupt_page, page_size};
pub use health::{Inspect, assert_pool_healthy, check_pool_health};
pub use server::{PgServer, PgSource, connect, pg_server};

/// Time allowed for creating a schema (connect + `CREATE SCHEMA`).
const CREATE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time [`PgTestDb`]'s `Drop` waits for the schema to be dropped.
const DROP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `DROP SCHEMA` waits for locks before the test's leftover sessions are terminated.
const DROP_LOCK_TIMEOUT: &str = "2s";

/// Whether `QUARRY_REQUIRE_PG=1` is set: a missing PostgreSQL is then a test failure.
pub fn pg_required() -> bool {
    std::env::var("QUARRY_REQUIRE_PG").is_ok_and(|v| v.trim() == "1")
}

/// Reports that a PostgreSQL test cannot run: panics (failing the test) when
/// [`pg_required`], else prints
/// `SKIPPED <test_name>: PostgreSQL is not available: <reason>; set QUARRY_REQUIRE_PG=1 to make this a failure`
/// to stderr and returns, so the caller can return early.
///
/// # Panics
///
/// Deliberately, when `QUARRY_REQUIRE_PG=1`.
pub fn pg_unavailable(test_name: &str, reason: &str) {
    if pg_required() {
        panic!("{test_name}: PostgreSQL is required (QUARRY_REQUIRE_PG=1) but not available: {reason}");
    }
    eprintln!(
        "SKIPPED {test_name}: PostgreSQL is not available: {reason}; set QUARRY_REQUIRE_PG=1 to make this a failure"
    );
}

/// A fresh schema for the calling test on the server [`pg_server`] finds.
///
/// `Some` when a PostgreSQL server is reachable and the schema was created;
/// otherwise `None` after [`pg_unavailable`] printed a loud `SKIPPED` line, or,
/// with `QUARRY_REQUIRE_PG=1`, a panic with the reason (the test fails).
///
/// # Panics
///
/// Deliberately, when PostgreSQL is unavailable and `QUARRY_REQUIRE_PG=1`.
pub async fn pg_test_db(test_name: &str) -> Option<PgTestDb> {
    let created = match pg_server().await {
        Ok(server) => PgTestDb::create(&server, test_name).await,
        Err(reason) => Err(reason),
    };
    match created {
        Ok(db) => Some(db),
        Err(reason) => {
            pg_unavailable(test_name, &reason);
            None
        }
    }
}

/// A fresh PostgreSQL schema for one test, dropped (`CASCADE`) when this value is dropped.
///
/// Connections made with [`url`](Self::url) have `search_path` set to the
/// schema and `application_name` set to its name, so unqualified tables land
/// in it and the test's sessions can be found in `pg_stat_activity`.
///
/// Dropping runs `DROP SCHEMA` on a separate thread with its own runtime (so it
/// works inside or outside any tokio runtime) and waits for it up to 10 s. If
/// the drop is blocked by locks for 2 s, sessions whose `application_name` is
/// this schema's name (only this test's) are terminated and the drop retried.
/// Failures are printed to stderr, never panicked on. Declare the value before
/// the pools and connections that use it, so they are dropped first.
#[derive(Debug)]
pub struct PgTestDb {
    schema: String,
    url: String,
    server: PgServer,
}

impl PgTestDb {
    /// Creates a fresh schema named after `test_name` on `server` (for a
    /// specific server such as a [`PgCluster`]; tests normally call [`pg_test_db`]).
    pub async fn create(server: &PgServer, test_name: &str) -> Result<Self, String> {
        let schema = schema_name(test_name);
        let create = async {
            let client = server::connect_within(server.url(), CREATE_TIMEOUT).await?;
            client
                .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
                .await
                .map_err(|e| format!("cannot create schema {schema}: {}", db_error_text(&e)))
        };
        tokio::time::timeout(CREATE_TIMEOUT, create)
            .await
            .map_err(|_| format!("creating schema {schema} timed out after {} s", CREATE_TIMEOUT.as_secs()))??;
        let url = url_with_schema(server.url(), &schema);
        Ok(Self { schema, url, server: server.clone() })
    }

    /// A URL whose connections use this test's schema by default
    /// (`options=-csearch_path%3D<schema>`) and have `application_name=<schema>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema's name, `quarry_t_<test name>_<12 hex digits>` (lower case,
    /// at most 63 bytes (PostgreSQL's limit), no quoting needed).
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// A URL for the same server with no search_path override (for admin queries).
    pub fn admin_url(&self) -> &str {
        self.server.url()
    }

    /// The server the schema lives on.
    pub fn server(&self) -> &PgServer {
        &self.server
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        let admin = self.server.url().to_owned();
        let schema = self.schema.clone();
        let (done, outcome) = mpsc::channel();
        let spawned = std::thread::Builder::new().name(format!("drop {schema}")).spawn(move || {
            let result = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime.block_on(async {
                    tokio::time::timeout(DROP_TIMEOUT, drop_schema(&admin, &schema))
                        .await
                        .unwrap_or_else(|_| Err("timed out".to_owned()))
                }),
                Err(e) => Err(format!("cannot build a tokio runtime: {e}")),
            };
            // The receiver may have given up waiting; nothing to do then.
            let _ = done.send(result);
        });
        let problem = match spawned {
            Err(e) => Some(format!("cannot spawn a thread: {e}")),
            Ok(thread) => match outcome.recv_timeout(DROP_TIMEOUT + Duration::from_secs(1)) {
                Ok(result) => {
                    // The thread has sent its result, so this returns at once.
                    let _ = thread.join();
                    result.err()
                }
                Err(_) => Some("timed out (left to finish in the background)".to_owned()),
            },
        };
        if let Some(problem) = problem {
            eprintln!("quarry-testkit: dropping schema {} failed: {problem}", self.schema);
        }
    }
}

/// `DROP SCHEMA ... CASCADE`; when blocked by locks, terminates the sessions
/// carrying the schema's application_name and retries once.
async fn drop_schema(admin_url: &str, schema: &str) -> Result<(), String> {
    let client = server::connect_within(admin_url, DROP_TIMEOUT).await?;
    let drop_sql = format!("SET lock_timeout = '{DROP_LOCK_TIMEOUT}'; DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    match client.batch_execute(&drop_sql).await {
        Ok(()) => return Ok(()),
        Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {}
        Err(e) => return Err(db_error_text(&e)),
    }
    client
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
            &[&schema],
        )
        .await
        .map_err(|e| format!("terminating the test's sessions: {}", db_error_text(&e)))?;
    client.batch_execute(&drop_sql).await.map_err(|e| db_error_text(&e))
}

/// The server's message when there is one (tokio-postgres' Display says only "db error").
fn db_error_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => server::error_chain(e),
    }
}

/// Adds the schema's search_path and application_name to a base URL (URL or key=value form).
fn url_with_schema(base: &str, schema: &str) -> String {
    if base.starts_with("postgres://") || base.starts_with("postgresql://") {
        let separator = if base.contains('?') { '&' } else { '?' };
        format!("{base}{separator}options=-csearch_path%3D{schema}&application_name={schema}")
    } else {
        format!("{base} options='-csearch_path={schema}' application_name={schema}")
    }
}

/// `quarry_t_<sanitised test name, at most 41 bytes>_<12 hex digits>`.
fn schema_name(test_name: &str) -> String {
    let mut part = String::new();
    for c in test_name.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_alphanumeric() {
            part.push(c);
        } else if !part.is_empty() && !part.ends_with('_') {
            part.push('_');
        }
    }
    // Keep the end of long names (`module::sub::the_test`): it says the most.
    let part = part[part.len().saturating_sub(41)..].trim_matches('_');
    let part = if part.is_empty() { "test" } else { part };
    format!("quarry_t_{part}_{}", random_suffix())
}

/// 48 random bits as 12 hex digits, from std's randomly keyed hasher.
fn random_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

/// A temporary SQLite database file in its own temporary directory, deleted
/// (with the directory, including `-wal`/`-shm` files) on drop.
///
/// The file itself is not created: SQLite creates it on first open.
#[derive(Debug)]
pub struct SqliteTestDb {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl SqliteTestDb {
    /// A fresh directory under the system's temporary directory, with `test.db` as the path.
    pub fn new() -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("quarry-sqlite-").tempdir()?;
        let path = dir.path().join("test.db");
        Ok(Self { dir, path })
    }

    /// The database file's absolute path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory holding the file (and SQLite's `-wal`/`-shm`/`-journal` files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `sqlite://<absolute path>` (the form Quarry's SQLite driver takes).
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_valid_and_distinct() {
        let a = schema_name("conformance::select::Left Join (nulls)");
        let b = schema_name("conformance::select::Left Join (nulls)");
        assert_ne!(a, b);
        assert!(a.starts_with("quarry_t_conformance_select_left_join_nulls_"), "{a}");
        let long = schema_name(&"x".repeat(500));
        assert!(long.len() <= 63, "{long}");
        for name in [&a, &long, &schema_name(""), &schema_name("::")] {
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{name}");
            assert!(!name.contains("__"), "{name}");
        }
    }

    #[test]
    fn schema_url_forms() {
        assert_eq!(
            url_with_schema("postgres://u@h:1/d", "s"),
            "postgres://u@h:1/d?options=-csearch_path%3Ds&application_name=s"
        );
        assert_eq!(
            url_with_schema("postgres://u@h/d?sslmode=disable", "s"),
            "postgres://u@h/d?sslmode=disable&options=-csearch_path%3Ds&application_name=s"
        );
        assert_eq!(url_with_schema("host=h user=u", "s"), "host=h user=u options='-csearch_path=s' application_name=s");
        for url in ["postgres://u@h/d?options=-csearch_path%3Ds&application_name=s", "host=h options='-csearch_path=s'"]
        {
            let config: tokio_postgres::Config = url.parse().expect("parses");
            assert_eq!(config.get_options(), Some("-csearch_path=s"));
        }
    }
}
