//! sqlx on SQLite: one `SqliteConnection` (its own worker thread, statements
//! cached by sqlx), a `SqlitePool` of 8 for the lookups, and
//! `QueryBuilder::push_values` for inserts. The same PRAGMAs as Quarry's
//! connections: WAL, synchronous=NORMAL, foreign_keys=ON,
//! case_sensitive_like=ON, busy_timeout 5 s.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{ConnectOptions, FromRow, QueryBuilder, Row, SqliteConnection, SqlitePool};

use crate::harness::Contender;
use crate::model::{LOOKUP_TASKS, LOOKUPS_PER_TASK, POOL_SIZE, digest_one};
use crate::{NewUser, Post, User, lookup_id};

pub struct Bench {
    conn: SqliteConnection,
    pool: SqlitePool,
}

struct JoinRow(User, Option<Post>);

impl<'r> FromRow<'r, SqliteRow> for JoinRow {
    fn from_row(row: &'r SqliteRow) -> Result<Self, sqlx::Error> {
        let user = User { id: row.try_get(0)?, name: row.try_get(1)?, hair_color: row.try_get(2)? };
        let post_id: Option<i64> = row.try_get(3)?;
        let post = match post_id {
            Some(id) => Some(Post { id, user_id: row.try_get(4)?, title: row.try_get(5)?, body: row.try_get(6)? }),
            None => None,
        };
        Ok(JoinRow(user, post))
    }
}

fn select_sql(size: usize) -> &'static str {
    match size {
        1 => "SELECT id, name, hair_color FROM users_1",
        100 => "SELECT id, name, hair_color FROM users_100",
        10_000 => "SELECT id, name, hair_color FROM users_10000",
        _ => panic!("no users_{size} table"),
    }
}

fn join_sql(size: usize) -> &'static str {
    match size {
        1 => {
            "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body FROM jusers_1 AS u \
             LEFT JOIN jposts_1 AS p ON p.user_id = u.id WHERE u.hair_color = ?1"
        }
        1000 => {
            "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body FROM jusers_1000 AS u \
             LEFT JOIN jposts_1000 AS p ON p.user_id = u.id WHERE u.hair_color = ?1"
        }
        _ => panic!("no jusers_{size} table"),
    }
}

fn options(path: &str) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        .pragma("case_sensitive_like", "ON")
}

impl Contender for Bench {
    async fn connect(target: &str) -> Self {
        let conn = options(target).connect().await.expect("connect");
        let pool = SqlitePoolOptions::new()
            .max_connections(POOL_SIZE as u32)
            .min_connections(POOL_SIZE as u32)
            .connect_with(options(target))
            .await
            .expect("pool");
        Bench { conn, pool }
    }

    async fn select_users(&mut self, size: usize) -> Vec<User> {
        sqlx::query_as::<_, User>(select_sql(size)).fetch_all(&mut self.conn).await.expect("select")
    }

    async fn join(&mut self, size: usize) -> Vec<(User, Option<Post>)> {
        let rows: Vec<JoinRow> = sqlx::query_as::<_, JoinRow>(join_sql(size))
            .bind(crate::model::JOIN_HAIR)
            .fetch_all(&mut self.conn)
            .await
            .expect("join");
        rows.into_iter().map(|JoinRow(u, p)| (u, p)).collect()
    }

    async fn insert(&mut self, rows: &Arc<[NewUser]>) -> u64 {
        let mut q = QueryBuilder::new("INSERT INTO ins_sqlx (name, hair_color) ");
        q.push_values(rows.iter(), |mut b, r| {
            b.push_bind(r.name.as_str()).push_bind(r.hair_color.as_deref());
        });
        q.build().execute(&mut self.conn).await.expect("insert").rows_affected()
    }

    async fn copy(&mut self, _rows: &Arc<[NewUser]>) -> u64 {
        panic!("COPY is PostgreSQL only")
    }

    async fn inserted(&mut self) -> Vec<NewUser> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as("SELECT name, hair_color FROM ins_sqlx ORDER BY id")
            .fetch_all(&mut self.conn)
            .await
            .expect("read back");
        rows.into_iter().map(|(name, hair_color)| NewUser { name, hair_color }).collect()
    }

    async fn clear(&mut self) {
        sqlx::raw_sql("DELETE FROM ins_sqlx").execute(&mut self.conn).await.expect("clear");
    }

    async fn lookups(&mut self) -> u64 {
        let tasks = (0..LOOKUP_TASKS).map(|task| {
            let pool = self.pool.clone();
            tokio::spawn(async move {
                let mut sum = 0u64;
                for k in 0..LOOKUPS_PER_TASK {
                    let user = sqlx::query_as::<_, User>("SELECT id, name, hair_color FROM users_10000 WHERE id = ?1")
                        .bind(lookup_id(task, k))
                        .fetch_one(&pool)
                        .await
                        .expect("lookup");
                    sum = sum.wrapping_add(digest_one(&user));
                }
                sum
            })
        });
        join_all(tasks).await.into_iter().map(|r| r.expect("task")).fold(0, u64::wrapping_add)
    }
}
