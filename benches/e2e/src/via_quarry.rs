//! Quarry, on either backend (the URL decides), run on one connection held
//! by the benchmark (`lookups`: a separate engine with a pool of 8, a
//! connection acquired per lookup).
//!
//! The repeated queries (selects, the join, the lookup, the one-row
//! insert) are prepared once
//! with `param()` and `engine.prepare()` and bound on every call, as an
//! application that runs them often would, and as the raw contenders
//! prepare theirs once. With `QUARRY_BENCH_BUILD_EACH_CALL=1` they are
//! built and compiled on every call instead, to measure that cost.

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
    /// The prepared queries, unless they are built on every call.
    prepared: Option<Queries>,
}

/// The queries prepared once.
struct Queries {
    select_1: Prepared,
    select_100: Prepared,
    select_10000: Prepared,
    join_1: Prepared,
    join_1000: Prepared,
    lookup: Prepared,
    /// A one-row insert (more rows are built with `rows()`).
    insert_one: Prepared,
}

macro_rules! select_all_query {
    ($t:ident) => {{
        let t = $t::table();
        select((t.id, t.name, t.hair_color)).from(t)
    }};
}

macro_rules! join_query {
    ($u:ident, $p:ident, $hair:expr) => {{
        let (u, p) = ($u::table(), $p::table());
        select((u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body))
            .from(u)
            .left_join(p, p.user_id.eq(u.id))
            .filter(u.hair_color.eq($hair))
    }};
}

fn lookup_query(id: impl quarry::expr::IntoExpr<i64>) -> quarry::statement::Select {
    let u = Users10000::table();
    select((u.id, u.name, u.hair_color)).from(u).filter(u.id.eq(id))
}

impl Queries {
    fn prepare(engine: &Engine) -> Queries {
        let prepare = |q| engine.prepare(q).expect("prepare");
        Queries {
            select_1: prepare(select_all_query!(Users1)),
            select_100: prepare(select_all_query!(Users100)),
            select_10000: prepare(select_all_query!(Users10000)),
            join_1: prepare(join_query!(JUsers1, JPosts1, param::<String>("hair"))),
            join_1000: prepare(join_query!(JUsers1000, JPosts1000, param::<String>("hair"))),
            lookup: prepare(lookup_query(param::<i64>("id"))),
            insert_one: {
                let t = InsQuarry::table();
                let insert = insert_into(t)
                    .values((t.name.set(param::<String>("name")), t.hair_color.set(param::<String>("hair"))));
                engine.prepare(insert).expect("prepare")
            },
        }
    }
}

macro_rules! select_all {
    ($conn:expr, $t:ident) => {{ select_all_query!($t).fetch_all::<User>($conn).await.expect("select") }};
}

macro_rules! join {
    ($conn:expr, $u:ident, $p:ident) => {{ join_query!($u, $p, JOIN_HAIR).fetch_all::<(User, Option<Post>)>($conn).await.expect("join") }};
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
        let build_each_call = std::env::var("QUARRY_BENCH_BUILD_EACH_CALL").is_ok_and(|v| v == "1");
        let prepared = if build_each_call { None } else { Some(Queries::prepare(&pool)) };
        Bench { conn, pool, postgres, prepared }
    }

    async fn select_users(&mut self, size: usize) -> Vec<User> {
        let conn = &mut self.conn;
        if let Some(q) = &self.prepared {
            let query = match size {
                1 => &q.select_1,
                100 => &q.select_100,
                10_000 => &q.select_10000,
                _ => panic!("no users_{size} table"),
            };
            return query.bound().fetch_all::<User>(conn).await.expect("select");
        }
        match size {
            1 => select_all!(conn, Users1),
            100 => select_all!(conn, Users100),
            10_000 => select_all!(conn, Users10000),
            _ => panic!("no users_{size} table"),
        }
    }

    async fn join(&mut self, size: usize) -> Vec<(User, Option<Post>)> {
        let conn = &mut self.conn;
        if let Some(q) = &self.prepared {
            let query = match size {
                1 => &q.join_1,
                1000 => &q.join_1000,
                _ => panic!("no jusers_{size} table"),
            };
            return query.bind("hair", JOIN_HAIR).fetch_all::<(User, Option<Post>)>(conn).await.expect("join");
        }
        match size {
            1 => join!(conn, JUsers1, JPosts1),
            1000 => join!(conn, JUsers1000, JPosts1000),
            _ => panic!("no jusers_{size} table"),
        }
    }

    async fn insert(&mut self, rows: &Arc<[NewUser]>) -> u64 {
        if let (Some(q), [row]) = (&self.prepared, &rows[..]) {
            let insert = q.insert_one.bind("name", row.name.as_str()).bind("hair", row.hair_color.as_deref());
            return insert.execute(&mut self.conn).await.expect("insert");
        }
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
            let prepared = self.prepared.as_ref().map(|q| q.lookup.clone());
            tokio::spawn(async move {
                let mut sum = 0u64;
                for k in 0..LOOKUPS_PER_TASK {
                    let mut conn = engine.acquire().await.expect("acquire");
                    let id = lookup_id(task, k);
                    let user: User = match &prepared {
                        Some(lookup) => lookup.bind("id", id).fetch_one(&mut conn).await,
                        None => lookup_query(id).fetch_one(&mut conn).await,
                    }
                    .expect("lookup");
                    sum = sum.wrapping_add(digest_one(&user));
                }
                sum
            })
        });
        join_all(tasks).await.into_iter().map(|r| r.expect("task")).fold(0, u64::wrapping_add)
    }
}
