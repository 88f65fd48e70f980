//! tokio-postgres by hand: one client whose statements are prepared once
//! and cached (by SQL, as `prepare_cached` does), rows decoded by index;
//! `lookups` through deadpool-postgres (a pool of 8, `prepare_cached`).

use std::collections::HashMap;
use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::future::join_all;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls, Row, Statement};

use crate::harness::Contender;
use crate::model::{JOIN_HAIR, LOOKUP_TASKS, LOOKUPS_PER_TASK, POOL_SIZE, digest_one};
use crate::{NewUser, Post, User, lookup_id};

pub struct Bench {
    client: Client,
    statements: HashMap<String, Statement>,
    inserts: HashMap<usize, Statement>,
    pool: Pool,
}

pub(crate) fn user(row: &Row) -> User {
    User { id: row.get(0), name: row.get(1), hair_color: row.get(2) }
}

fn join_row(row: &Row) -> (User, Option<Post>) {
    let post_id: Option<i64> = row.get(3);
    let post = post_id.map(|id| Post { id, user_id: row.get(4), title: row.get(5), body: row.get(6) });
    (user(row), post)
}

pub(crate) async fn connect_client(target: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(target, NoTls).await.expect("connect");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

impl Bench {
    async fn prepared(&mut self, sql: &str) -> Statement {
        if let Some(s) = self.statements.get(sql) {
            return s.clone();
        }
        let s = self.client.prepare(sql).await.expect("prepare");
        self.statements.insert(sql.to_owned(), s.clone());
        s
    }
}

impl Contender for Bench {
    async fn connect(target: &str) -> Self {
        let client = connect_client(target).await;
        let config: tokio_postgres::Config = target.parse().expect("URL");
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager).max_size(POOL_SIZE).build().expect("pool");
        Bench { client, statements: HashMap::new(), inserts: HashMap::new(), pool }
    }

    async fn select_users(&mut self, size: usize) -> Vec<User> {
        let sql = match size {
            1 => "SELECT id, name, hair_color FROM users_1",
            100 => "SELECT id, name, hair_color FROM users_100",
            10_000 => "SELECT id, name, hair_color FROM users_10000",
            _ => panic!("no users_{size} table"),
        };
        let stmt = self.prepared(sql).await;
        self.client.query(&stmt, &[]).await.expect("select").iter().map(user).collect()
    }

    async fn join(&mut self, size: usize) -> Vec<(User, Option<Post>)> {
        let sql = match size {
            1 => {
                "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body FROM jusers_1 AS u \
                 LEFT JOIN jposts_1 AS p ON p.user_id = u.id WHERE u.hair_color = $1"
            }
            1000 => {
                "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body FROM jusers_1000 AS u \
                 LEFT JOIN jposts_1000 AS p ON p.user_id = u.id WHERE u.hair_color = $1"
            }
            _ => panic!("no jusers_{size} table"),
        };
        let stmt = self.prepared(sql).await;
        self.client.query(&stmt, &[&JOIN_HAIR]).await.expect("join").iter().map(join_row).collect()
    }

    async fn insert(&mut self, rows: &Arc<[NewUser]>) -> u64 {
        let stmt = match self.inserts.get(&rows.len()) {
            Some(s) => s.clone(),
            None => {
                let sql = crate::insert_sql("ins_raw", rows.len(), true);
                let s = self.client.prepare(&sql).await.expect("prepare");
                self.inserts.insert(rows.len(), s.clone());
                s
            }
        };
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(rows.len() * 2);
        for r in rows.iter() {
            params.push(&r.name);
            params.push(&r.hair_color);
        }
        self.client.execute(&stmt, &params).await.expect("insert")
    }

    async fn copy(&mut self, rows: &Arc<[NewUser]>) -> u64 {
        let stmt = self.prepared("COPY ins_raw (name, hair_color) FROM STDIN (FORMAT binary)").await;
        let sink = self.client.copy_in::<_, bytes::Bytes>(&stmt).await.expect("copy");
        let writer = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::TEXT]);
        let mut writer = std::pin::pin!(writer);
        for r in rows.iter() {
            writer.as_mut().write(&[&r.name, &r.hair_color]).await.expect("copy row");
        }
        writer.finish().await.expect("copy finish")
    }

    async fn inserted(&mut self) -> Vec<NewUser> {
        let rows = self.client.query("SELECT name, hair_color FROM ins_raw ORDER BY id", &[]).await.expect("read back");
        rows.iter().map(|r| NewUser { name: r.get(0), hair_color: r.get(1) }).collect()
    }

    async fn clear(&mut self) {
        self.client.batch_execute("TRUNCATE ins_raw").await.expect("truncate");
    }

    async fn lookups(&mut self) -> u64 {
        let tasks = (0..LOOKUP_TASKS).map(|task| {
            let pool = self.pool.clone();
            tokio::spawn(async move {
                let mut sum = 0u64;
                for k in 0..LOOKUPS_PER_TASK {
                    let client = pool.get().await.expect("acquire");
                    let stmt = client
                        .prepare_cached("SELECT id, name, hair_color FROM users_10000 WHERE id = $1")
                        .await
                        .expect("prepare");
                    let row = client.query_one(&stmt, &[&lookup_id(task, k)]).await.expect("lookup");
                    sum = sum.wrapping_add(digest_one(&user(&row)));
                }
                sum
            })
        });
        join_all(tasks).await.into_iter().map(|r| r.expect("task")).fold(0, u64::wrapping_add)
    }
}
