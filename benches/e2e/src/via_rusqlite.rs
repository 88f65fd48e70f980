//! rusqlite by hand, synchronous, on the calling thread: one connection,
//! `prepare_cached`, rows decoded by index. `lookups`: 64 tokio tasks over a
//! pool of 8 connections (a semaphore and a stack), each query run on the
//! task's own worker thread.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::future::join_all;
use rusqlite::{Connection, params};
use tokio::sync::Semaphore;

use crate::harness::Contender;
use crate::model::{JOIN_HAIR, LOOKUP_TASKS, LOOKUPS_PER_TASK, POOL_SIZE, digest_one};
use crate::{NewUser, Post, User, lookup_id};

pub(crate) const SELECT_1: &str = "SELECT id, name, hair_color FROM users_1";
pub(crate) const SELECT_100: &str = "SELECT id, name, hair_color FROM users_100";
pub(crate) const SELECT_10000: &str = "SELECT id, name, hair_color FROM users_10000";
pub(crate) const JOIN_1: &str = "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body FROM jusers_1 AS u \
                                 LEFT JOIN jposts_1 AS p ON p.user_id = u.id WHERE u.hair_color = ?1";
pub(crate) const JOIN_1000: &str = "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body FROM jusers_1000 AS u \
                                    LEFT JOIN jposts_1000 AS p ON p.user_id = u.id WHERE u.hair_color = ?1";
pub(crate) const LOOKUP: &str = "SELECT id, name, hair_color FROM users_10000 WHERE id = ?1";

pub(crate) fn select_sql(size: usize) -> &'static str {
    match size {
        1 => SELECT_1,
        100 => SELECT_100,
        10_000 => SELECT_10000,
        _ => panic!("no users_{size} table"),
    }
}

pub(crate) fn join_sql(size: usize) -> &'static str {
    match size {
        1 => JOIN_1,
        1000 => JOIN_1000,
        _ => panic!("no jusers_{size} table"),
    }
}

pub(crate) fn user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User { id: row.get(0)?, name: row.get(1)?, hair_color: row.get(2)? })
}

pub(crate) fn join_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(User, Option<Post>)> {
    let post_id: Option<i64> = row.get(3)?;
    let post = match post_id {
        Some(id) => Some(Post { id, user_id: row.get(4)?, title: row.get(5)?, body: row.get(6)? }),
        None => None,
    };
    Ok((user(row)?, post))
}

pub(crate) fn select_users(c: &Connection, size: usize) -> rusqlite::Result<Vec<User>> {
    let mut stmt = c.prepare_cached(select_sql(size))?;
    stmt.query_map([], user)?.collect()
}

pub(crate) fn join(c: &Connection, size: usize) -> rusqlite::Result<Vec<(User, Option<Post>)>> {
    let mut stmt = c.prepare_cached(join_sql(size))?;
    stmt.query_map([JOIN_HAIR], join_row)?.collect()
}

pub(crate) fn insert(c: &Connection, sql: &str, rows: &[NewUser]) -> rusqlite::Result<u64> {
    let mut stmt = c.prepare_cached(sql)?;
    for (i, r) in rows.iter().enumerate() {
        stmt.raw_bind_parameter(2 * i + 1, &r.name)?;
        stmt.raw_bind_parameter(2 * i + 2, &r.hair_color)?;
    }
    Ok(stmt.raw_execute()? as u64)
}

pub(crate) fn inserted(c: &Connection, table: &str) -> rusqlite::Result<Vec<NewUser>> {
    let mut stmt = c.prepare(&format!("SELECT name, hair_color FROM {table} ORDER BY id"))?;
    stmt.query_map([], |r| Ok(NewUser { name: r.get(0)?, hair_color: r.get(1)? }))?.collect()
}

pub(crate) fn lookup(c: &Connection, id: i64) -> rusqlite::Result<User> {
    c.prepare_cached(LOOKUP)?.query_row(params![id], user)
}

pub(crate) fn open(path: &str, query_only: bool) -> Connection {
    let c = Connection::open(path).expect("open");
    crate::configure_sqlite(&c, query_only).expect("configure");
    c
}

/// Insert statements by row count, built once.
#[derive(Default)]
pub(crate) struct InsertSql(HashMap<usize, Arc<str>>);

impl InsertSql {
    pub(crate) fn get(&mut self, table: &str, n: usize) -> Arc<str> {
        self.0.entry(n).or_insert_with(|| crate::insert_sql(table, n, false).into()).clone()
    }
}

/// A pool of synchronous connections.
struct SyncPool {
    permits: Semaphore,
    idle: Mutex<Vec<Connection>>,
}

pub struct Bench {
    conn: Connection,
    inserts: InsertSql,
    pool: Arc<SyncPool>,
}

impl Contender for Bench {
    async fn connect(target: &str) -> Self {
        let conn = open(target, false);
        let idle = (0..POOL_SIZE).map(|_| open(target, true)).collect();
        let pool = Arc::new(SyncPool { permits: Semaphore::new(POOL_SIZE), idle: Mutex::new(idle) });
        Bench { conn, inserts: InsertSql::default(), pool }
    }

    async fn select_users(&mut self, size: usize) -> Vec<User> {
        select_users(&self.conn, size).expect("select")
    }

    async fn join(&mut self, size: usize) -> Vec<(User, Option<Post>)> {
        join(&self.conn, size).expect("join")
    }

    async fn insert(&mut self, rows: &Arc<[NewUser]>) -> u64 {
        let sql = self.inserts.get("ins_rusqlite", rows.len());
        insert(&self.conn, &sql, rows).expect("insert")
    }

    async fn copy(&mut self, _rows: &Arc<[NewUser]>) -> u64 {
        panic!("COPY is PostgreSQL only")
    }

    async fn inserted(&mut self) -> Vec<NewUser> {
        inserted(&self.conn, "ins_rusqlite").expect("read back")
    }

    async fn clear(&mut self) {
        self.conn.execute_batch("DELETE FROM ins_rusqlite").expect("clear");
    }

    async fn lookups(&mut self) -> u64 {
        let tasks = (0..LOOKUP_TASKS).map(|task| {
            let pool = self.pool.clone();
            tokio::spawn(async move {
                let mut sum = 0u64;
                for k in 0..LOOKUPS_PER_TASK {
                    let permit = pool.permits.acquire().await.expect("permit");
                    let conn = pool.idle.lock().expect("pool").pop().expect("a free connection");
                    let user = lookup(&conn, lookup_id(task, k)).expect("lookup");
                    pool.idle.lock().expect("pool").push(conn);
                    drop(permit);
                    sum = sum.wrapping_add(digest_one(&user));
                }
                sum
            })
        });
        join_all(tasks).await.into_iter().map(|r| r.expect("task")).fold(0, u64::wrapping_add)
    }
}
