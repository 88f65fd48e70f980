//! tokio-rusqlite by hand: one connection on its own thread (as each of
//! Quarry's SQLite connections is), `prepare_cached`, rows decoded by
//! index on that thread. `lookups`: 64 tasks over a pool of 8 such
//! connections (a semaphore and a stack).

use std::sync::{Arc, Mutex};

use futures_util::future::join_all;
use tokio::sync::Semaphore;
use tokio_rusqlite::Connection;

use crate::harness::Contender;
use crate::model::{LOOKUP_TASKS, LOOKUPS_PER_TASK, POOL_SIZE, digest_one};
use crate::via_rusqlite::{self as sync, InsertSql};
use crate::{NewUser, Post, User, lookup_id};

struct AsyncPool {
    permits: Semaphore,
    idle: Mutex<Vec<Connection>>,
}

pub struct Bench {
    conn: Connection,
    inserts: InsertSql,
    pool: Arc<AsyncPool>,
}

fn open(path: &str, query_only: bool) -> Connection {
    Connection::from(sync::open(path, query_only))
}

impl Contender for Bench {
    async fn connect(target: &str) -> Self {
        let conn = open(target, false);
        let idle = (0..POOL_SIZE).map(|_| open(target, true)).collect();
        let pool = Arc::new(AsyncPool { permits: Semaphore::new(POOL_SIZE), idle: Mutex::new(idle) });
        Bench { conn, inserts: InsertSql::default(), pool }
    }

    async fn select_users(&mut self, size: usize) -> Vec<User> {
        self.conn.call(move |c| sync::select_users(c, size)).await.expect("select")
    }

    async fn join(&mut self, size: usize) -> Vec<(User, Option<Post>)> {
        self.conn.call(move |c| sync::join(c, size)).await.expect("join")
    }

    async fn insert(&mut self, rows: &Arc<[NewUser]>) -> u64 {
        let sql = self.inserts.get("ins_tokio_rusqlite", rows.len());
        let rows = rows.clone();
        self.conn.call(move |c| sync::insert(c, &sql, &rows)).await.expect("insert")
    }

    async fn copy(&mut self, _rows: &Arc<[NewUser]>) -> u64 {
        panic!("COPY is PostgreSQL only")
    }

    async fn inserted(&mut self) -> Vec<NewUser> {
        self.conn.call(|c| sync::inserted(c, "ins_tokio_rusqlite")).await.expect("read back")
    }

    async fn clear(&mut self) {
        self.conn.call(|c| c.execute_batch("DELETE FROM ins_tokio_rusqlite")).await.expect("clear");
    }

    async fn lookups(&mut self) -> u64 {
        let tasks = (0..LOOKUP_TASKS).map(|task| {
            let pool = self.pool.clone();
            tokio::spawn(async move {
                let mut sum = 0u64;
                for k in 0..LOOKUPS_PER_TASK {
                    let permit = pool.permits.acquire().await.expect("permit");
                    let conn = pool.idle.lock().expect("pool").pop().expect("a free connection");
                    let id = lookup_id(task, k);
                    let user = conn.call(move |c| sync::lookup(c, id)).await.expect("lookup");
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
