//! Stale prepared statements on a server that speaks another language
//! (RELIABILITY.md §2.5 `stale_plan_localised`; the bug of t8y2/dbx#4631,
//! where matching the English message failed on a Chinese-localised server).
//!
//! Quarry recognises "cached plan must not change result type" by SQLSTATE
//! `0A000` and the routine `RevalidateCachedQuery`, never by the message
//! (`src/error.rs`). This test sets `lc_messages` to a non-English locale,
//! checks that the server's messages really are translated, and repeats
//! `errors.rs::stale_plans_are_reprepared_outside_transactions` (plus the
//! in-transaction case, whose error carries the translated message).
//!
//! Where the locale comes from:
//! 1. the shared test server, when it accepts one of [`CANDIDATES`] (set for
//!    the pool with `options=-c lc_messages=...` in its URL);
//! 2. else a locale compiled here with `localedef` into a private directory
//!    (under `quarry_testkit::temp_cluster_dir()`, removed afterwards), and a
//!    private cluster whose server finds it through glibc's `LOCPATH`. The
//!    environment of a process cannot be changed safely once it runs
//!    threads, so that part runs in a child process (this test binary, on
//!    [`child_on_a_private_cluster_with_a_generated_locale`], started with
//!    `LOCPATH` set); the system's locales and the shared server are never
//!    touched;
//! 3. else the test prints `SKIPPED stale_plan_localised: ...` and passes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{exec, sql};
use quarry_core::prelude::*;
use quarry_core::{Connection, PoolConfig};
use quarry_postgres::{PgConnection, PgPool};
use quarry_testkit::PgTestDb;

const TEST: &str = "stale_plan_localised";
/// Non-English locales PostgreSQL has translations for, in both spellings glibc accepts.
const CANDIDATES: &[&str] = &[
    "de_DE.UTF-8",
    "fr_FR.UTF-8",
    "es_ES.UTF-8",
    "ru_RU.UTF-8",
    "de_DE.utf8",
    "fr_FR.utf8",
    "es_ES.utf8",
    "ru_RU.utf8",
];
/// Locales to compile with `localedef -i <source> -f UTF-8 <name>`, in order.
const GENERATE: &[(&str, &str)] = &[("de_DE", "de_DE.UTF-8"), ("fr_FR", "fr_FR.UTF-8"), ("es_ES", "es_ES.UTF-8")];
/// Set in the child process, to the name of the locale compiled for it.
const CHILD_ENV: &str = "QUARRY_LOCALE_CHILD";
const CHILD_TEST: &str = "child_on_a_private_cluster_with_a_generated_locale";
/// What the child prints when every check passed.
const CHILD_DONE: &str = "localised stale-plan checks passed with lc_messages=";
const CHILD_WITHIN: Duration = Duration::from_secs(240);
/// PostgreSQL's English texts, which a translated server must not send.
const ENGLISH_DIVISION: &str = "division by zero";
const ENGLISH_STALE: &str = "cached plan must not change result type";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_plan_localised() {
    let Some(db) = quarry_testkit::pg_test_db(TEST).await else { return };
    let tried = match localised_locale(&db).await {
        Ok(locale) => {
            stale_plans_under(&db, &locale).await;
            return;
        }
        Err(tried) => tried,
    };
    drop(db);
    eprintln!("{TEST}: the shared server accepts no translated lc_messages ({tried}); making a locale");
    let generated = match generate_locale() {
        Ok(generated) => generated,
        Err(reason) => {
            eprintln!(
                "SKIPPED {TEST}: no non-English lc_messages is accepted by the server (tried {tried}), \
                 and none could be made: {reason}"
            );
            return;
        }
    };
    let (stdout, stderr) = run_child(&generated).await;
    // The child's own lines, with its SKIPPED line if it could not start a
    // private cluster.
    eprint!("{stderr}");
    if stderr.lines().any(|l| l.starts_with("SKIPPED")) {
        return;
    }
    assert!(
        stdout.contains("1 passed") && stdout.contains(&format!("{CHILD_DONE}{}", generated.name)),
        "the child ran no check:\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
}

/// The body of the child process: does nothing unless started by
/// [`stale_plan_localised`] with `LOCPATH` set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_on_a_private_cluster_with_a_generated_locale() {
    let Ok(generated) = std::env::var(CHILD_ENV) else {
        return;
    };
    let locpath = std::env::var("LOCPATH").unwrap_or_default();
    let cluster = match quarry_testkit::start_temp_cluster().await {
        Ok(cluster) => cluster,
        Err(reason) => {
            eprintln!(
                "SKIPPED {TEST}: the shared server has no non-English locale and no private cluster \
                 could be started to give it one: {reason}"
            );
            return;
        }
    };
    let db = PgTestDb::create(&cluster.server(), TEST).await.unwrap();
    let locale = match localised_locale(&db).await {
        Ok(locale) => locale,
        // The server takes the locale but has no translations (built
        // without NLS, or its message catalogs are not installed).
        Err(tried) if tried.contains(&format!("{generated}: accepted")) => {
            eprintln!("SKIPPED {TEST}: PostgreSQL accepts lc_messages={generated} but does not translate: {tried}");
            return;
        }
        // The locale is on disk and LOCPATH names it: the server must take it.
        Err(tried) => {
            panic!("{generated} was compiled into LOCPATH={locpath}, but the private cluster refuses it: {tried}")
        }
    };
    stale_plans_under(&db, &locale).await;
    drop(db);
    drop(cluster);
    println!("{CHILD_DONE}{locale}");
}

/// The first of [`CANDIDATES`] that the server accepts for `lc_messages`
/// *and* translates its messages into; Err lists what each one did.
async fn localised_locale(db: &PgTestDb) -> Result<String, String> {
    let pool = PgPool::connect(db.url(), PoolConfig::new().max_size(1)).await.unwrap();
    let mut c = pool.acquire().await.unwrap();
    let mut tried = Vec::new();
    for &locale in CANDIDATES {
        match c.execute(sql(&format!("SET lc_messages = '{locale}'"))).await {
            Err(e) => tried.push(format!("{locale}: {} {}", e.sqlstate().unwrap_or("-"), e.message())),
            Ok(_) => {
                let message = division_by_zero(&mut c).await;
                exec(&mut c, "RESET lc_messages").await;
                if message == ENGLISH_DIVISION {
                    tried.push(format!("{locale}: accepted, but the messages stay English"));
                } else {
                    return Ok(locale.to_owned());
                }
            }
        }
    }
    Err(tried.join("; "))
}

/// The server's message for `SELECT 1/0` (22012).
async fn division_by_zero(c: &mut PgConnection) -> String {
    let err = common::try_scalar::<i32>(c, sql("SELECT 1/0")).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("22012"), "{err:?}");
    err.message().to_owned()
}

/// `url` with `-c lc_messages=<locale>` added to its `options` (which
/// `PgTestDb::url` uses for the search path), in either URL form.
fn with_lc_messages(url: &str, locale: &str) -> String {
    for (from, to) in [
        ("options=-csearch_path%3D", format!("options=-clc_messages%3D{locale}%20-csearch_path%3D")),
        ("options='-csearch_path=", format!("options='-clc_messages={locale} -csearch_path=")),
    ] {
        if url.contains(from) {
            return url.replacen(from, &to, 1);
        }
    }
    panic!("no search_path option to extend in {url}");
}

/// `errors.rs::stale_plans_are_reprepared_outside_transactions` and
/// `stale_plans_inside_a_transaction_are_stale_statement_errors`, with
/// every pooled connection's `lc_messages` set to `locale`.
async fn stale_plans_under(db: &PgTestDb, locale: &str) {
    let url = with_lc_messages(db.url(), locale);
    let pool = PgPool::connect(&url, PoolConfig::new().max_size(3)).await.unwrap();
    let admin = common::admin(db).await;
    let mut adm = admin.acquire().await.unwrap();
    let mut conns = common::stale_plan_tables(&mut adm, &pool).await;

    // Every pooled connection speaks the locale (else this test proves nothing).
    let mut translated = String::new();
    for c in &mut conns {
        assert_eq!(common::scalar::<String>(c, "SHOW lc_messages").await, locale);
        translated = division_by_zero(c).await;
        assert_ne!(translated, ENGLISH_DIVISION, "lc_messages={locale} did not translate the messages");
    }

    common::reshape_under_cached_statements(&mut conns, &mut adm).await;
    for c in &mut conns {
        let rows: Vec<(Value,)> = c.fetch_all(sql("SELECT * FROM v")).await.unwrap();
        assert_eq!(rows.into_iter().map(|(v,)| v).collect::<Vec<_>>(), vec![Value::from("a")]);
        let rows: Vec<(String, i32)> = c.fetch_all(sql("SELECT * FROM v")).await.unwrap();
        assert_eq!(rows, vec![("a".to_owned(), 1)]);
    }

    // Inside a transaction the stale plan is reported, not retried: its
    // message is the server's translated one, and it is still recognised.
    let mut c = conns.pop().unwrap();
    let _: Vec<(i64, String, i32)> = c.fetch_all(sql("SELECT * FROM t")).await.unwrap();
    exec(&mut adm, "ALTER TABLE t ADD COLUMN y text").await;
    let mut tx = c.begin().await.unwrap();
    let err = tx.fetch_all::<(i64, String, i32, Option<String>)>(sql("SELECT * FROM t")).await.unwrap_err();
    assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::StaleStatement, Some("0A000")), "{err:?}");
    assert_ne!(err.message(), ENGLISH_STALE, "the server's message is not translated");
    eprintln!(
        "{TEST}: lc_messages={locale}: \"{translated}\"; the stale plan error read \"{}\" and was recognised",
        err.message()
    );
    tx.rollback().await.unwrap();
    let rows: Vec<(i64, String, i32, Option<String>)> = c.fetch_all(sql("SELECT * FROM t")).await.unwrap();
    assert_eq!(rows, vec![(1, "a".to_owned(), 7, None)]);
    drop(c);
    drop(conns);
    common::healthy(&pool, db).await;
}

/// A locale compiled by [`generate_locale`]: its directory (removed on drop)
/// and name.
struct Generated {
    dir: PathBuf,
    name: String,
}

impl Drop for Generated {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Compiles the first of [`GENERATE`] that `localedef` can build into a
/// fresh directory the `postgres` user can read. Its name ends in
/// `.tmp-<pid>`, so if this process dies the testkit's next sweep removes it.
fn generate_locale() -> Result<Generated, String> {
    let base = quarry_testkit::temp_cluster_dir().map_err(|e| format!("no directory for it: {e}"))?;
    let dir = base.join(format!("locales.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // Removed again on every early return.
    let mut generated = Generated { dir, name: String::new() };
    let mut failures = Vec::new();
    for &(source, name) in GENERATE {
        let out = generated.dir.join(name);
        let run = Command::new("localedef").args(["-i", source, "-f", "UTF-8"]).arg(&out).stdin(Stdio::null()).output();
        match run {
            Err(e) => return Err(format!("cannot run localedef (the locales package): {e}")),
            // localedef may exit 1 for mere warnings; the compiled files are what count.
            Ok(_) if out.join("LC_MESSAGES").is_dir() && out.join("LC_CTYPE").is_file() => {
                make_readable(&generated.dir);
                name.clone_into(&mut generated.name);
                return Ok(generated);
            }
            Ok(o) => failures.push(format!(
                "localedef -i {source} -f UTF-8: {}: {}",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            )),
        }
    }
    Err(failures.join("; "))
}

/// `chmod -R a+rX`: the server runs as `postgres`.
fn make_readable(dir: &Path) {
    let _ = Command::new("chmod").arg("-R").arg("a+rX").arg(dir).status();
}

/// Runs [`CHILD_TEST`] in a child process with `LOCPATH` naming the
/// generated locale (and the system's directory, which `LOCPATH` replaces),
/// returning its stdout and stderr.
async fn run_child(generated: &Generated) -> (String, String) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let locpath = format!("{}:/usr/lib/locale", generated.dir.display());
    let stdout_path = generated.dir.join("child.stdout");
    let stderr_path = generated.dir.join("child.stderr");
    let mut child = Command::new(exe)
        .args([CHILD_TEST, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD_ENV, &generated.name)
        .env("LOCPATH", &locpath)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("start the child test process");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > CHILD_WITHIN {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child process ran over {} s", CHILD_WITHIN.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(status.success(), "the child process failed ({status}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    (stdout, stderr)
}
