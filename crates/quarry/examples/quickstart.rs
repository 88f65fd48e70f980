//! Quarry in five minutes, on embedded SQLite: `cargo run --example quickstart`.
//!
//! Two related tables, rows inserted, a join with an aggregate, an update
//! inside a transaction, and a streamed read. Point the URL at a file
//! (`sqlite://quickstart.db`) or at PostgreSQL (`postgres://...`, with the
//! `postgres` feature) and the same code runs there.

use futures_util::StreamExt;
use quarry::prelude::*;

quarry::table! {
    /// Authors of posts.
    pub struct Authors("authors") {
        id: i64 [primary_key],
        name: String [unique],
        karma: i32 [default_value(0)],
    }
}

quarry::table! {
    /// Blog posts, each by an author.
    pub struct Posts("posts") {
        id: i64 [primary_key],
        author_id: i64 [references("authors", "id")],
        title: String,
        likes: i64,
    }
}

/// A row of the join below.
#[derive(Debug, FromRow)]
struct AuthorStats {
    name: String,
    posts: i64,
    total_likes: i64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), quarry::Error> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "sqlite::memory:".to_owned());
    let engine = Engine::connect(&url).await?;
    println!("connected to {} ({url})", engine.dialect().name());

    let (authors, posts) = (Authors::table(), Posts::table());
    let metadata = MetaData::new().with(authors).with(posts);
    engine.drop_all(&metadata).await?;
    engine.create_all(&metadata).await?;
    println!("created tables: authors, posts");

    let mut conn = engine.acquire().await?;

    // Insert authors, getting their generated ids back.
    let ids: Vec<i64> = insert_into(authors)
        .rows(authors.name, ["ada", "grace", "edsger"])
        .returning(authors.id)
        .fetch_all(&mut conn)
        .await?;
    println!("inserted {} authors with ids {ids:?}", ids.len());

    let new_posts = [
        (ids[0], "Notes on the Analytical Engine", 120_i64),
        (ids[0], "On Bernoulli numbers", 45),
        (ids[1], "Compilers for everyone", 300),
        (ids[2], "Go To Statement Considered Harmful", 999),
        (ids[2], "The Humble Programmer", 512),
    ];
    let inserted =
        insert_into(posts).rows((posts.author_id, posts.title, posts.likes), new_posts).execute(&mut conn).await?;
    println!("inserted {inserted} posts");

    // A join with an aggregate: posts and likes per author, most liked first.
    let stats: Vec<AuthorStats> =
        select((authors.name, count(posts.id).label("posts"), sum(posts.likes).coalesce(0).label("total_likes")))
            .from(authors)
            .left_join(posts, posts.author_id.eq(authors.id))
            .group_by(authors.name)
            .order_by(sum(posts.likes).desc())
            .fetch_all(&mut conn)
            .await?;
    println!("\n{:<10} {:>5} {:>6}", "author", "posts", "likes");
    for s in &stats {
        println!("{:<10} {:>5} {:>6}", s.name, s.posts, s.total_likes);
    }

    // An update inside a transaction: karma is each author's likes / 100.
    engine
        .transaction(async |tx| {
            for s in &stats {
                update(authors)
                    .set(authors.karma, i32::try_from(s.total_likes / 100).unwrap_or(i32::MAX))
                    .filter(authors.name.eq(s.name.as_str()))
                    .execute(tx)
                    .await?;
            }
            Ok(())
        })
        .await?;
    println!("\nupdated karma in one transaction");

    // A streamed read: rows arrive one by one, however many there are.
    println!("\nauthors by karma:");
    let query = select((authors.name, authors.karma)).from(authors).order_by(authors.karma.desc());
    let mut rows = query.stream::<(String, i32)>(&mut conn);
    while let Some(row) = rows.next().await {
        let (name, karma) = row?;
        println!("  {name:<10} karma {karma}");
    }
    Ok(())
}
