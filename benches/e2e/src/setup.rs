//! Creating the benchmark data (through the raw drivers) and removing it.
//!
//! PostgreSQL: a database of its own (`quarry_bench` by default), dropped
//! afterwards. SQLite: one file in WAL mode, deleted afterwards.

use rusqlite::Connection;

use crate::model::{JOIN_SIZES, LOOKUP_TABLE_SIZE, SELECT_SIZES};
use crate::{posts, users};

/// The contenders' own insert tables.
pub const INSERT_TABLES: [&str; 5] = ["ins_quarry", "ins_raw", "ins_rusqlite", "ins_tokio_rusqlite", "ins_sqlx"];

fn users_tables() -> Vec<(String, usize)> {
    let mut t: Vec<(String, usize)> = SELECT_SIZES.iter().map(|n| (format!("users_{n}"), *n)).collect();
    if !SELECT_SIZES.contains(&LOOKUP_TABLE_SIZE) {
        t.push((format!("users_{LOOKUP_TABLE_SIZE}"), LOOKUP_TABLE_SIZE));
    }
    t
}

/// The database name in a PostgreSQL URL, and the URL of the `postgres`
/// database on the same server.
fn split_url(url: &str) -> (String, String) {
    let (base, db) = url.rsplit_once('/').expect("postgres://host/database");
    let (db, query) = db.split_once('?').map_or((db, ""), |(d, q)| (d, q));
    let admin = if query.is_empty() { format!("{base}/postgres") } else { format!("{base}/postgres?{query}") };
    (db.to_owned(), admin)
}

pub async fn postgres(url: &str) {
    let (db, admin_url) = split_url(url);
    let admin = crate::via_tokio_postgres::connect_client(&admin_url).await;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db}")).await.expect("drop database");
    admin.batch_execute(&format!("CREATE DATABASE {db}")).await.expect("create database");
    let c = crate::via_tokio_postgres::connect_client(url).await;
    let mut ddl = String::new();
    for (t, _) in users_tables() {
        ddl.push_str(&format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT);"));
    }
    for n in JOIN_SIZES {
        ddl.push_str(&format!(
            "CREATE TABLE jusers_{n} (id BIGINT PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT);
             CREATE TABLE jposts_{n} (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES jusers_{n} (id),
                                      title TEXT NOT NULL, body TEXT);
             CREATE INDEX jposts_{n}_user ON jposts_{n} (user_id);"
        ));
    }
    for t in INSERT_TABLES {
        ddl.push_str(&format!("CREATE TABLE {t} (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT);"));
    }
    c.batch_execute(&ddl).await.expect("create tables");
    let mut fill: Vec<(String, usize, bool)> = users_tables().into_iter().map(|(t, n)| (t, n, false)).collect();
    fill.extend(JOIN_SIZES.iter().map(|n| (format!("jusers_{n}"), *n, true)));
    c.batch_execute("BEGIN").await.expect("begin");
    for (table, n, with_posts) in fill {
        let stmt = c
            .prepare(&format!("INSERT INTO {table} (id, name, hair_color) VALUES ($1, $2, $3)"))
            .await
            .expect("prepare");
        for u in users(n) {
            c.execute(&stmt, &[&u.id, &u.name, &u.hair_color]).await.expect("insert user");
        }
        if with_posts {
            let stmt = c
                .prepare(&format!("INSERT INTO jposts_{n} (id, user_id, title, body) VALUES ($1, $2, $3, $4)"))
                .await
                .expect("prepare");
            for p in posts(n) {
                c.execute(&stmt, &[&p.id, &p.user_id, &p.title, &p.body]).await.expect("insert post");
            }
        }
    }
    c.batch_execute("COMMIT; ANALYZE").await.expect("commit");
}

pub async fn postgres_cleanup(url: &str) {
    let (db, admin_url) = split_url(url);
    let admin = crate::via_tokio_postgres::connect_client(&admin_url).await;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await.expect("drop database");
}

fn remove_sqlite(path: &str) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
}

pub fn sqlite(path: &str) {
    remove_sqlite(path);
    let mut c = Connection::open(path).expect("open");
    crate::configure_sqlite(&c, false).expect("configure");
    let tx = c.transaction().expect("begin");
    for (t, _) in users_tables() {
        tx.execute_batch(&format!("CREATE TABLE {t} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT);"))
            .expect("create");
    }
    for n in JOIN_SIZES {
        tx.execute_batch(&format!(
            "CREATE TABLE jusers_{n} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT);
             CREATE TABLE jposts_{n} (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES jusers_{n} (id),
                                      title TEXT NOT NULL, body TEXT);
             CREATE INDEX jposts_{n}_user ON jposts_{n} (user_id);"
        ))
        .expect("create");
    }
    for t in INSERT_TABLES {
        tx.execute_batch(&format!("CREATE TABLE {t} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT);"))
            .expect("create");
    }
    let mut fill: Vec<(String, usize, bool)> = users_tables().into_iter().map(|(t, n)| (t, n, false)).collect();
    fill.extend(JOIN_SIZES.iter().map(|n| (format!("jusers_{n}"), *n, true)));
    for (table, n, with_posts) in fill {
        {
            let mut stmt = tx
                .prepare(&format!("INSERT INTO {table} (id, name, hair_color) VALUES (?1, ?2, ?3)"))
                .expect("prepare");
            for u in users(n) {
                stmt.execute(rusqlite::params![u.id, u.name, u.hair_color]).expect("insert user");
            }
        }
        if with_posts {
            let mut stmt = tx
                .prepare(&format!("INSERT INTO jposts_{n} (id, user_id, title, body) VALUES (?1, ?2, ?3, ?4)"))
                .expect("prepare");
            for p in posts(n) {
                stmt.execute(rusqlite::params![p.id, p.user_id, p.title, p.body]).expect("insert post");
            }
        }
    }
    tx.commit().expect("commit");
    c.execute_batch("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);").expect("analyze");
}

pub fn sqlite_cleanup(path: &str) {
    remove_sqlite(path);
}
