//! Through PgBouncer in transaction mode (RELIABILITY.md §2.6): with the
//! statement cache off (`statement_cache_capacity(0)`), Quarry uses only
//! unnamed statements, so that client connections sharing a few server
//! connections never meet a prepared statement of another client's.
//!
//! PgBouncer is started by the test from the installed binary (Debian's
//! `pgbouncer` package; `.ci/run` installs it). Without it the test says so
//! loudly and passes, unless `QUARRY_REQUIRE_PGBOUNCER=1`, which `.ci/run`
//! sets once the package is installed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use common::{bound, exec, scalar};
use quarry_core::{Connection, ConnectionExt, ErrorKind, PoolConfig, Value};
use quarry_postgres::PgPool;

/// A PgBouncer process in front of one server, killed on drop.
struct Bouncer {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pgbouncer_binary() -> Option<PathBuf> {
    let candidates = [PathBuf::from("/usr/sbin/pgbouncer"), PathBuf::from("/usr/bin/pgbouncer")];
    candidates.into_iter().find(|p| p.exists())
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Start PgBouncer in transaction mode, with two server connections, in
/// front of the server of `server_url`; database `quarry` there is the
/// server's database.
fn start_bouncer(binary: &Path, server_url: &str) -> Bouncer {
    let config = tokio_postgres::Config::from_str(server_url).expect("the test server's URL");
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(h) => h.clone(),
        tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let dbname = config.get_dbname().unwrap_or("postgres");
    let user = config.get_user().unwrap_or("postgres");
    let listen = free_port();
    let dir = std::env::temp_dir().join(format!("quarry-pgbouncer-{}-{listen}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir = TempDir(dir);
    let ini = dir.0.join("pgbouncer.ini");
    std::fs::write(
        &ini,
        format!(
            "[databases]\n\
             quarry = host={host} port={port} dbname={dbname} user={user}\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {listen}\n\
             unix_socket_dir =\n\
             auth_type = any\n\
             pool_mode = transaction\n\
             default_pool_size = 2\n\
             max_client_conn = 100\n\
             ignore_startup_parameters = extra_float_digits,options\n"
        ),
    )
    .unwrap();
    let mut command = Command::new(binary);
    if running_as_root() {
        // PgBouncer refuses to run as root.
        command.arg("-u").arg("postgres");
        Command::new("chmod").arg("-R").arg("a+rX").arg(&dir.0).status().unwrap();
    }
    let child = command.arg(&ini).stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().expect("start pgbouncer");
    let mut bouncer = Bouncer { child, port: listen, _dir: dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", listen)).is_err() {
        if let Ok(Some(status)) = bouncer.child.try_wait() {
            panic!("pgbouncer exited at start: {status}");
        }
        assert!(Instant::now() < deadline, "pgbouncer did not listen on {listen} within 10 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    bouncer.port = listen;
    bouncer
}

const TASKS: i64 = 16;
const ROUNDS: i64 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unnamed_statements_work_through_pgbouncer_in_transaction_mode() {
    let Some(binary) = pgbouncer_binary() else {
        let message = "pgbouncer is not installed (apt-get install pgbouncer)";
        assert!(std::env::var("QUARRY_REQUIRE_PGBOUNCER").as_deref() != Ok("1"), "{message}");
        eprintln!("SKIPPED unnamed_statements_work_through_pgbouncer_in_transaction_mode: {message}");
        return;
    };
    let Some(db) = quarry_testkit::pg_test_db("pgbouncer").await else { return };
    // The table, in the test's schema, made on a direct connection.
    let direct = PgPool::connect(db.url(), PoolConfig::new().max_size(1)).await.unwrap();
    let table = format!("\"{}\".\"items\"", db.schema());
    let mut admin = direct.acquire().await.unwrap();
    exec(&mut admin, &format!("CREATE TABLE {table} (id int8 PRIMARY KEY, task int8 NOT NULL, name text NOT NULL)"))
        .await;

    let bouncer = start_bouncer(&binary, db.admin_url());
    let url = format!("postgres://postgres@127.0.0.1:{}/quarry", bouncer.port);
    // Eight client connections share PgBouncer's two server connections.
    let pool = PgPool::connect(&url, PoolConfig::new().max_size(8).statement_cache_capacity(0)).await.unwrap();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let pool = pool.clone();
            let table = table.clone();
            tokio::spawn(async move {
                for round in 0..ROUNDS {
                    let id = task * ROUNDS + round;
                    let mut conn = pool.acquire().await.unwrap();
                    // A transaction: its statements stay on one server connection.
                    let mut tx = conn.begin().await.unwrap();
                    let insert = format!("INSERT INTO {table} VALUES ($1, $2, $3)");
                    let params = vec![Value::I64(id), Value::I64(task), Value::from(format!("t{task}r{round}"))];
                    assert_eq!(tx.execute(bound(&insert, params)).await.unwrap(), 1);
                    let count = format!("SELECT count(*) FROM {table} WHERE task = $1");
                    let mine: Option<(i64,)> = tx.fetch_optional(bound(&count, vec![Value::I64(task)])).await.unwrap();
                    assert_eq!(mine, Some((round + 1,)));
                    tx.commit().await.unwrap();
                    // Autocommit statements: each may run on another server connection.
                    let select = format!("SELECT name FROM {table} WHERE id = $1");
                    let name: Option<(String,)> =
                        conn.fetch_optional(bound(&select, vec![Value::I64(id)])).await.unwrap();
                    assert_eq!(name, Some((format!("t{task}r{round}"),)));
                    let duplicate = vec![Value::I64(id), Value::I64(task), Value::from("again")];
                    let err = conn.execute(bound(&insert, duplicate)).await.unwrap_err();
                    assert_eq!(err.kind(), ErrorKind::UniqueViolation, "{err}");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a task failed");
    }
    let total: i64 = scalar(&mut admin, &format!("SELECT count(*) FROM {table}")).await;
    assert_eq!(total, TASKS * ROUNDS);
    // PgBouncer's server connections hold no prepared statement of ours.
    let mut through = pool.acquire().await.unwrap();
    let prepared: i64 = scalar(&mut through, "SELECT count(*) FROM pg_prepared_statements").await;
    assert_eq!(prepared, 0);
    drop(through);
    pool.close();
    drop(bouncer);
}
