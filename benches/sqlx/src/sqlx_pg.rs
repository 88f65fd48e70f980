//! sqlx on PostgreSQL: one `PgConnection` (statements prepared and cached
//! by sqlx), a `PgPool` of 8 for the lookups, `QueryBuilder::push_values`
//! for inserts and `copy_in_raw` with binary rows for COPY.

use std::sync::Arc;

use futures_util::future::join_all;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{Connection, FromRow, PgConnection, PgPool, QueryBuilder, Row};

use crate::harness::Contender;
use crate::model::{LOOKUP_TASKS, LOOKUPS_PER_TASK, POOL_SIZE, digest_one};
use crate::{NewUser, Post, User, lookup_id};

pub struct Bench {
    conn: PgConnection,
    pool: PgPool,
}

/// A join row decoded by position, as one does with sqlx when two tables
/// share column names.
struct JoinRow(User, Option<Post>);

impl<'r> FromRow<'r, PgRow> for JoinRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
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
             LEFT JOIN jposts_1 AS p ON p.user_id = u.id WHERE u.hair_color = $1"
        }
        1000 => {
            "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body FROM jusers_1000 AS u \
             LEFT JOIN jposts_1000 AS p ON p.user_id = u.id WHERE u.hair_color = $1"
        }
        _ => panic!("no jusers_{size} table"),
    }
}

/// Binary COPY data for `rows` (name text, hair_color text).
fn copy_data(rows: &[NewUser]) -> Vec<u8> {
    let mut out = Vec::with_capacity(19 + rows.len() * 32 + 2);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes());
    for r in rows {
        out.extend_from_slice(&2i16.to_be_bytes());
        out.extend_from_slice(&(r.name.len() as i32).to_be_bytes());
        out.extend_from_slice(r.name.as_bytes());
        match &r.hair_color {
            Some(h) => {
                out.extend_from_slice(&(h.len() as i32).to_be_bytes());
                out.extend_from_slice(h.as_bytes());
            }
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out
}

impl Contender for Bench {
    async fn connect(target: &str) -> Self {
        let options: PgConnectOptions = target.parse().expect("PostgreSQL URL");
        let conn = PgConnection::connect_with(&options).await.expect("connect");
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE as u32)
            .min_connections(POOL_SIZE as u32)
            .connect_with(options)
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

    async fn copy(&mut self, rows: &Arc<[NewUser]>) -> u64 {
        let data = copy_data(rows);
        let mut copy =
            self.conn.copy_in_raw("COPY ins_sqlx (name, hair_color) FROM STDIN (FORMAT binary)").await.expect("copy");
        copy.send(data).await.expect("copy data");
        copy.finish().await.expect("copy finish")
    }

    async fn inserted(&mut self) -> Vec<NewUser> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as("SELECT name, hair_color FROM ins_sqlx ORDER BY id")
            .fetch_all(&mut self.conn)
            .await
            .expect("read back");
        rows.into_iter().map(|(name, hair_color)| NewUser { name, hair_color }).collect()
    }

    async fn clear(&mut self) {
        sqlx::raw_sql("TRUNCATE ins_sqlx").execute(&mut self.conn).await.expect("truncate");
    }

    async fn lookups(&mut self) -> u64 {
        let tasks = (0..LOOKUP_TASKS).map(|task| {
            let pool = self.pool.clone();
            tokio::spawn(async move {
                let mut sum = 0u64;
                for k in 0..LOOKUPS_PER_TASK {
                    let user = sqlx::query_as::<_, User>("SELECT id, name, hair_color FROM users_10000 WHERE id = $1")
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
