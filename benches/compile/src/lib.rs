//! The statements the compile benchmark builds, with Quarry and with
//! sea-query, shared by the criterion bench and the profiling example.

#![allow(missing_docs)]

pub mod quarry_side {
    use quarry_core::prelude::*;
    use quarry_core::{Compiled, Dialect};

    quarry_core::table! {
        pub struct Users("users") { id: i64 [primary_key], name: String, email: String, active: bool, post_count: i64 }
    }
    quarry_core::table! {
        pub struct Posts("posts") { id: i64 [primary_key], user_id: i64, title: String, published: bool }
    }
    quarry_core::table! {
        pub struct Comments("comments") { id: i64 [primary_key], post_id: i64, score: i32 }
    }
    quarry_core::table! {
        pub struct Employees("employees") { id: i64 [primary_key], manager_id: Option<i64>, name: String }
    }

    pub fn pk_lookup(d: &dyn Dialect) -> Compiled {
        let u = Users::table();
        select((u.id, u.name, u.email)).from(u).filter(u.id.eq(42)).into_compiled(d).expect("compiles")
    }

    pub fn join(d: &dyn Dialect) -> Compiled {
        let (u, p, c) = (Users::table(), Posts::table(), Comments::table());
        select((u.id, u.name, count(c.id).label("n")))
            .from(u)
            .join(p, p.user_id.eq(u.id))
            .join(c, c.post_id.eq(p.id))
            .filter(u.active.eq(true))
            .filter(p.published.eq(true))
            .filter(c.score.gt(3))
            .filter(u.name.like("a%"))
            .group_by((u.id, u.name))
            .having(count(c.id).gt(5))
            .order_by(u.name.asc())
            .limit(10)
            .compile(d)
            .expect("compiles")
    }

    pub fn insert_100(d: &dyn Dialect, rows: &[(i64, &'static str, bool)]) -> Compiled {
        let p = Posts::table();
        insert_into(p).rows((p.user_id, p.title, p.published), rows.iter().copied()).into_compiled(d).expect("compiles")
    }

    pub fn correlated_update(d: &dyn Dialect) -> Compiled {
        let (u, p) = (Users::table(), Posts::table());
        let posts_of_user =
            select(count_star()).from(p).filter(p.user_id.eq(u.id)).filter(p.published.eq(true)).scalar::<i64>();
        update(u).set(u.post_count, posts_of_user).filter(u.active.eq(true)).into_compiled(d).expect("compiles")
    }

    pub fn recursive_cte(d: &dyn Dialect) -> Compiled {
        let e = Employees::table();
        let subordinates = table_named("subordinates");
        let (s_id, s_name) = (subordinates.col::<i64>("id"), subordinates.col::<String>("name"));
        let anchor = select((e.id, e.manager_id, e.name)).from(e).filter(e.id.eq(7));
        let ea = Employees::alias("e");
        let step = select((ea.id, ea.manager_id, ea.name)).from(ea).join(&subordinates, ea.manager_id.eq(s_id.clone()));
        let cte = anchor.union_all(step).cte("subordinates").columns(["id", "manager_id", "name"]).recursive();
        select((s_id, s_name)).from(&subordinates).with(cte).into_compiled(d).expect("compiles")
    }
}

pub mod sea_side {
    use sea_query::{
        Alias, CommonTableExpression, Expr, ExprTrait, Func, Iden, JoinType, Order, PostgresQueryBuilder, Query,
        SqliteQueryBuilder, UnionType, Values, WithClause,
    };

    #[derive(Iden, Clone, Copy)]
    enum Users {
        Table,
        Id,
        Name,
        Email,
        Active,
        PostCount,
    }

    #[derive(Iden, Clone, Copy)]
    enum Posts {
        Table,
        Id,
        UserId,
        Title,
        Published,
    }

    #[derive(Iden, Clone, Copy)]
    enum Comments {
        Table,
        Id,
        PostId,
        Score,
    }

    #[derive(Iden, Clone, Copy)]
    enum Employees {
        Table,
        Id,
        ManagerId,
        Name,
    }

    /// Which of sea-query's builders to render with.
    #[derive(Clone, Copy)]
    pub enum Backend {
        Postgres,
        Sqlite,
    }

    fn build<S>(
        backend: Backend,
        stmt: &S,
        f: impl Fn(&S, &dyn QueryBuilderDyn) -> (String, Values),
    ) -> (String, Values) {
        match backend {
            Backend::Postgres => f(stmt, &PostgresQueryBuilder),
            Backend::Sqlite => f(stmt, &SqliteQueryBuilder),
        }
    }

    /// Object-safe shim so one closure serves both builders.
    pub trait QueryBuilderDyn {
        fn select(&self, q: &sea_query::SelectStatement) -> (String, Values);
        fn insert(&self, q: &sea_query::InsertStatement) -> (String, Values);
        fn update(&self, q: &sea_query::UpdateStatement) -> (String, Values);
        fn with(&self, q: &sea_query::WithQuery) -> (String, Values);
    }

    macro_rules! shim {
        ($($builder:ident),*) => {$(
            impl QueryBuilderDyn for $builder {
                fn select(&self, q: &sea_query::SelectStatement) -> (String, Values) {
                    q.build($builder)
                }
                fn insert(&self, q: &sea_query::InsertStatement) -> (String, Values) {
                    q.build($builder)
                }
                fn update(&self, q: &sea_query::UpdateStatement) -> (String, Values) {
                    q.build($builder)
                }
                fn with(&self, q: &sea_query::WithQuery) -> (String, Values) {
                    q.build($builder)
                }
            }
        )*};
    }

    shim!(PostgresQueryBuilder, SqliteQueryBuilder);

    pub fn pk_lookup(b: Backend) -> (String, Values) {
        let mut q = Query::select();
        q.columns([(Users::Table, Users::Id), (Users::Table, Users::Name), (Users::Table, Users::Email)])
            .from(Users::Table)
            .and_where(Expr::col((Users::Table, Users::Id)).eq(42));
        build(b, &q, |q, qb| qb.select(q))
    }

    pub fn join(b: Backend) -> (String, Values) {
        let mut q = Query::select();
        q.column((Users::Table, Users::Id))
            .column((Users::Table, Users::Name))
            .expr_as(Func::count(Expr::col((Comments::Table, Comments::Id))), Alias::new("n"))
            .from(Users::Table)
            .inner_join(Posts::Table, Expr::col((Posts::Table, Posts::UserId)).equals((Users::Table, Users::Id)))
            .inner_join(
                Comments::Table,
                Expr::col((Comments::Table, Comments::PostId)).equals((Posts::Table, Posts::Id)),
            )
            .and_where(Expr::col((Users::Table, Users::Active)).eq(true))
            .and_where(Expr::col((Posts::Table, Posts::Published)).eq(true))
            .and_where(Expr::col((Comments::Table, Comments::Score)).gt(3))
            .and_where(Expr::col((Users::Table, Users::Name)).like("a%"))
            .group_by_col((Users::Table, Users::Id))
            .group_by_col((Users::Table, Users::Name))
            .and_having(Func::count(Expr::col((Comments::Table, Comments::Id))).gt(5))
            .order_by((Users::Table, Users::Name), Order::Asc)
            .limit(10);
        build(b, &q, |q, qb| qb.select(q))
    }

    pub fn insert_100(b: Backend, rows: &[(i64, &'static str, bool)]) -> (String, Values) {
        let mut q = Query::insert();
        q.into_table(Posts::Table).columns([Posts::UserId, Posts::Title, Posts::Published]);
        for &(user_id, title, published) in rows {
            q.values_panic([user_id.into(), title.into(), published.into()]);
        }
        build(b, &q, |q, qb| qb.insert(q))
    }

    pub fn correlated_update(b: Backend) -> (String, Values) {
        let mut posts_of_user = Query::select();
        posts_of_user
            .expr(Func::count(Expr::col(sea_query::Asterisk)))
            .from(Posts::Table)
            .and_where(Expr::col((Posts::Table, Posts::UserId)).equals((Users::Table, Users::Id)))
            .and_where(Expr::col((Posts::Table, Posts::Published)).eq(true));
        let mut q = Query::update();
        q.table(Users::Table)
            .value(Users::PostCount, Expr::SubQuery(None, Box::new(posts_of_user.into())))
            .and_where(Expr::col((Users::Table, Users::Active)).eq(true));
        build(b, &q, |q, qb| qb.update(q))
    }

    pub fn recursive_cte(b: Backend) -> (String, Values) {
        let mut anchor = Query::select();
        anchor
            .columns([
                (Employees::Table, Employees::Id),
                (Employees::Table, Employees::ManagerId),
                (Employees::Table, Employees::Name),
            ])
            .from(Employees::Table)
            .and_where(Expr::col((Employees::Table, Employees::Id)).eq(7));
        let mut step = Query::select();
        step.columns([
            (Alias::new("e"), Employees::Id),
            (Alias::new("e"), Employees::ManagerId),
            (Alias::new("e"), Employees::Name),
        ])
        .from_as(Employees::Table, Alias::new("e"))
        .join(
            JoinType::InnerJoin,
            Alias::new("subordinates"),
            Expr::col((Alias::new("e"), Employees::ManagerId)).equals((Alias::new("subordinates"), Employees::Id)),
        );
        anchor.union(UnionType::All, step);
        let mut cte = CommonTableExpression::new();
        cte.query(anchor)
            .columns([Employees::Id, Employees::ManagerId, Employees::Name])
            .table_name(Alias::new("subordinates"));
        let mut select = Query::select();
        select
            .columns([(Alias::new("subordinates"), Employees::Id), (Alias::new("subordinates"), Employees::Name)])
            .from(Alias::new("subordinates"));
        let mut with = WithClause::new();
        with.recursive(true).cte(cte);
        let q = select.with(with);
        build(b, &q, |q, qb| qb.with(q))
    }
}

pub fn rows() -> Vec<(i64, &'static str, bool)> {
    const TITLES: [&str; 4] = ["On Computable Numbers", "A Relational Model", "Go To Considered Harmful", "Notes"];
    (0..100).map(|i| (i, TITLES[i as usize % 4], i % 3 == 0)).collect()
}
