//! Quarry, on either backend (the URL decides): typed queries built and
//! compiled on every call, as an application does, run on one connection
//! held by the benchmark (`lookups`: a separate engine with a pool of 8,
//! a connection acquired per lookup).

use std::sync::Arc;

use futures_util::future::join_all;
use quarry::prelude::*;

use crate::harness::Contender;
use crate::model::{JOIN_HAIR, LOOKUP_TASKS, LOOKUPS_PER_TASK, POOL_SIZE, digest_one};
use crate::{NewUser, Post, User, lookup_id};

macro_rules! users_table {
    ($name:ident, $sql:literal) => {
        quarry::table! {
            pub struct $name($sql) {
                id: i64 [primary_key],
                name: String,
                hair_color: Option<String>,
            }
        }
    };
}

macro_rules! posts_table {
    ($name:ident, $sql:literal) => {
        quarry::table! {
            pub struct $name($sql) {
                id: i64 [primary_key],
                user_id: i64,
                title: String,
                body: Option<String>,
            }
        }
    };
}

users_table!(Users1, "users_1");
users_table!(Users100, "users_100");
users_table!(Users10000, "users_10000");
users_table!(JUsers1, "jusers_1");
users_table!(JUsers1000, "jusers_1000");
posts_table!(JPosts1, "jposts_1");
posts_table!(JPosts1000, "jposts_1000");
users_table!(InsQuarry, "ins_quarry");

pub struct Bench {
    conn: Conn,
    pool: Engine,
    postgres: bool,
}

macro_rules! select_all {
    ($conn:expr, $t:ident) => {{
        let t = $t::table();
        select((t.id, t.name, t.hair_color)).from(t).fetch_all::<User>($conn).await.expect("select")
    }};
}

macro_rules! join {
    ($conn:expr, $u:ident, $p:ident) => {{
        let (u, p) = ($u::table(), $p::table());
        select((u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body))
            .from(u)
            .left_join(p, p.user_id.eq(u.id))
            .filter(u.hair_color.eq(JOIN_HAIR))
            .fetch_all::<(User, Option<Post>)>($conn)
            .await
            .expect("join")
    }};
}

impl Contender for Bench {
    async fn connect(target: &str) -> Self {
        // An SQLite target is a file path: WAL (Quarry's default for files)
        // with synchronous=NORMAL, as the other contenders are configured.
        let url =
            if target.contains("://") { target.to_owned() } else { format!("sqlite://{target}?synchronous=normal") };
        let target = url.as_str();
        let single = Engine::connect_with(target, PoolConfig::new().max_size(1)).await.expect("connect");
        let conn = single.acquire().await.expect("acquire");
        let pool = Engine::connect_with(target, PoolConfig::new().max_size(POOL_SIZE)).await.expect("pool");
        let postgres = target.starts_with("postgres");
        Bench { conn, pool, postgres }
    }

    async fn select_users(&mut self, size: usize) -> Vec<User> {
        let conn = &mut self.conn;
        match size {
            1 => select_all!(conn, Users1),
            100 => select_all!(conn, Users100),
            10_000 => select_all!(conn, Users10000),
            _ => panic!("no users_{size} table"),
        }
    }

    async fn join(&mut self, size: usize) -> Vec<(User, Option<Post>)> {
        let conn = &mut self.conn;
        match size {
            1 => join!(conn, JUsers1, JPosts1),
            1000 => join!(conn, JUsers1000, JPosts1000),
            _ => panic!("no jusers_{size} table"),
        }
    }

    async fn insert(&mut self, rows: &Arc<[NewUser]>) -> u64 {
        let t = InsQuarry::table();
        insert_into(t)
            .rows((t.name, t.hair_color), rows.iter().map(|r| (r.name.as_str(), r.hair_color.as_deref())))
            .execute(&mut self.conn)
            .await
            .expect("insert")
    }

    async fn copy(&mut self, rows: &Arc<[NewUser]>) -> u64 {
        let t = InsQuarry::table();
        let pg = self.conn.as_postgres().expect("COPY is PostgreSQL only");
        pg.copy_in(&t, &["name", "hair_color"], rows.iter().map(|r| (r.name.as_str(), r.hair_color.as_deref())))
            .await
            .expect("copy")
    }

    async fn inserted(&mut self) -> Vec<NewUser> {
        let t = InsQuarry::table();
        let rows: Vec<(String, Option<String>)> =
            select((t.name, t.hair_color)).from(t).order_by(t.id).fetch_all(&mut self.conn).await.expect("read back");
        rows.into_iter().map(|(name, hair_color)| NewUser { name, hair_color }).collect()
    }

    async fn clear(&mut self) {
        if self.postgres {
            text("TRUNCATE ins_quarry").execute(&mut self.conn).await.expect("truncate");
        } else {
            delete_from(InsQuarry::table()).execute(&mut self.conn).await.expect("clear");
        }
    }

    async fn lookups(&mut self) -> u64 {
        let tasks = (0..LOOKUP_TASKS).map(|task| {
            let engine = self.pool.clone();
            tokio::spawn(async move {
                let u = Users10000::table();
                let mut sum = 0u64;
                for k in 0..LOOKUPS_PER_TASK {
                    let mut conn = engine.acquire().await.expect("acquire");
                    let user: User = select((u.id, u.name, u.hair_color))
                        .from(u)
                        .filter(u.id.eq(lookup_id(task, k)))
                        .fetch_one(&mut conn)
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
