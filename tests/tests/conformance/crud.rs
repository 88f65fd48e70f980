//! Inserts, updates and deletes with their affected-row counts and
//! `RETURNING`, the `fetch_*` methods, and decoding rows into tuples and
//! `#[derive(FromRow)]` structs.

use crate::common::*;

quarry::table! {
    struct Users("users") {
        id: i64 [primary_key],
        email: String [unique],
        name: String,
        karma: i32 [default_value(0)],
        bio: Option<String>,
    }
}

quarry::table! {
    struct Posts("posts") {
        id: i64 [primary_key],
        author_id: i64 [references("users", "id")],
        title: String,
        likes: i64 [default_value(0_i64)],
    }
}

#[derive(Debug, Clone, PartialEq, FromRow)]
struct User {
    id: i64,
    email: String,
    name: String,
    karma: i32,
    bio: Option<String>,
}

#[derive(Debug, Clone, PartialEq, FromRow)]
struct Post {
    id: i64,
    author_id: i64,
    title: String,
    likes: i64,
}

async fn setup(db: &TestDb) -> Result<Conn> {
    db.create(MetaData::new().with(Posts::table()).with(Users::table())).await?;
    db.conn().await
}

fn user(id: i64, email: &str, name: &str, karma: i32, bio: Option<&str>) -> User {
    User { id, email: email.into(), name: name.into(), karma, bio: bio.map(Into::into) }
}

backend_test!(async fn insert_values_rows_and_counts(db) {
    let u = Users::table();
    let mut conn = setup(&db).await?;
    // `values` rows may list their columns in any order.
    let n = insert_into(u)
        .values((u.email.set("ada@example.com"), u.name.set("ada"), u.karma.set(50), u.bio.set("first")))
        .values((u.bio.set(None::<String>), u.karma.set(5), u.name.set("bob"), u.email.set("bob@example.com")))
        .execute(&mut conn)
        .await?;
    assert_eq!(n, 2);
    let n = insert_into(u)
        .rows(
            (u.email, u.name, u.karma, u.bio),
            [("cy@example.com", "cy", 20, Some("third")), ("dee@example.com", "dee", -3, None)],
        )
        .execute(&mut conn)
        .await?;
    assert_eq!(n, 2);
    let n = insert_into(u).rows((u.email, u.name), Vec::<(&str, &str)>::new()).execute(&mut conn).await;
    // An insert of no rows is not valid SQL: refused before it is sent.
    expect_kind(n, ErrorKind::Compile);

    let all: Vec<User> = select(u).from(u).order_by(u.id).fetch_all(&mut conn).await?;
    assert_eq!(
        all,
        vec![
            user(1, "ada@example.com", "ada", 50, Some("first")),
            user(2, "bob@example.com", "bob", 5, None),
            user(3, "cy@example.com", "cy", 20, Some("third")),
            user(4, "dee@example.com", "dee", -3, None),
        ]
    );
    Ok(())
});

backend_test!(async fn text_values_bind_and_decode_as_text(db) {
    let u = Users::table();
    let mut conn = setup(&db).await?;
    // Inline (up to 24 bytes), static, and shared (longer) text.
    let long = quarry::Text::from("a name longer than twenty-four bytes".to_owned());
    let rows = [
        (quarry::Text::from("ada@example.com"), long.clone()),
        (quarry::Text::new_static("bob@example.com"), quarry::Text::from("bob")),
    ];
    assert_eq!(insert_into(u).rows((u.email, u.name), rows).execute(&mut conn).await?, 2);
    let found: Vec<(quarry::Text, std::sync::Arc<str>)> =
        select((u.name, u.email)).from(u).filter(u.name.eq(long.clone())).fetch_all(&mut conn).await?;
    assert_eq!(found, vec![(long, std::sync::Arc::from("ada@example.com"))]);
    let short: quarry::Text = select(u.name).from(u).filter(u.id.eq(2)).fetch_scalar(&mut conn).await?;
    assert_eq!(short, "bob");
    Ok(())
});

// Batches of one shape, as an application inserts them: from the second
// on, the placeholders are the text kept from the first, and each batch's
// own values must arrive. Batches that leave `karma` out get its client
// default after each row; batches that set it move their values into the
// parameters instead of copying them.
backend_test!(async fn batches_of_one_shape_insert_their_own_values(db) {
    let u = Users::table();
    let mut conn = setup(&db).await?;
    let batch = |b: i32| (0..40).map(move |i| (format!("u{b}-{i}@example.com"), format!("user {b}-{i}"), b * 100 + i));
    let two_columns = |b: i32| batch(b).map(|(email, name, _)| (email, name));
    for b in 0..3 {
        let n = insert_into(u).rows((u.email, u.name), two_columns(b)).execute(&mut conn).await?;
        assert_eq!(n, 40, "batch {b}");
    }
    // Another shape in between, then the first shape again.
    insert_into(u).rows((u.email, u.name), two_columns(3).take(39)).execute(&mut conn).await?;
    insert_into(u).rows((u.email, u.name), two_columns(4)).execute(&mut conn).await?;
    for b in 5..7 {
        let n = insert_into(u).rows((u.email, u.name, u.karma), batch(b)).execute(&mut conn).await?;
        assert_eq!(n, 40, "batch {b}");
    }
    let rows: Vec<(String, String, i32)> =
        select((u.email, u.name, u.karma)).from(u).order_by(u.id).fetch_all(&mut conn).await?;
    let expected: Vec<(String, String, i32)> = (0..7)
        .flat_map(|b| batch(b).take(if b == 3 { 39 } else { 40 }))
        .map(|(email, name, karma)| (email, name, if karma >= 500 { karma } else { 0 }))
        .collect();
    assert_eq!(rows, expected);
    Ok(())
});

backend_test!(async fn client_defaults_fill_left_out_columns(db) {
    let (u, p) = (Users::table(), Posts::table());
    let mut conn = setup(&db).await?;
    let ada: User = insert_into(u)
        .values((u.email.set("ada@example.com"), u.name.set("ada")))
        .returning(u)
        .fetch_one(&mut conn)
        .await?;
    assert_eq!(ada, user(1, "ada@example.com", "ada", 0, None), "karma took its client default");
    let explicit: i32 = insert_into(u)
        .values((u.email.set("bob@example.com"), u.name.set("bob"), u.karma.set(7)))
        .returning(u.karma)
        .fetch_scalar(&mut conn)
        .await?;
    assert_eq!(explicit, 7, "a value given wins over the default");
    let posts: Vec<Post> = insert_into(p)
        .rows((p.author_id, p.title), [(1_i64, "a"), (2, "b")])
        .returning(p)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(
        posts,
        vec![
            Post { id: 1, author_id: 1, title: "a".into(), likes: 0 },
            Post { id: 2, author_id: 2, title: "b".into(), likes: 0 },
        ]
    );
    Ok(())
});

quarry::table! {
    struct Visits("visits") {
        id: i64 [primary_key],
        note: Option<String>,
        source: String [default_value("web")],
    }
}

backend_test!(async fn insert_default_values(db) {
    let v = Visits::table();
    db.create(MetaData::new().with(v)).await?;
    let mut conn = db.conn().await?;
    let n = insert_into(Visits::table()).default_values().execute(&mut conn).await?;
    assert_eq!(n, 1);
    let (id, note): (i64, Option<String>) =
        insert_into(v).default_values().returning((v.id, v.note)).fetch_one(&mut conn).await?;
    assert_eq!((id, note), (2, None));
    let sources: Vec<String> = select(v.source).from(v).order_by(v.id).fetch_all(&mut conn).await?;
    assert_eq!(sources, strings(["web", "web"]), "client defaults apply to DEFAULT VALUES too");
    Ok(())
});

backend_test!(async fn returning_on_insert_update_delete(db) {
    let (u, p) = (Users::table(), Posts::table());
    let mut conn = setup(&db).await?;
    let ids: Vec<i64> = insert_into(u)
        .rows((u.email, u.name, u.karma), [("ada@example.com", "ada", 50), ("bob@example.com", "bob", 5), ("cy@example.com", "cy", 20)])
        .returning(u.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(ids, [1, 2, 3]);
    // Expressions and labels in RETURNING.
    let (id, shout, doubled): (i64, String, i32) = insert_into(u)
        .values((u.email.set("dee@example.com"), u.name.set("dee"), u.karma.set(4)))
        .returning((u.id, upper(u.name).label("shout"), (u.karma * 2).label("doubled")))
        .fetch_one(&mut conn)
        .await?;
    assert_eq!((id, shout.as_str(), doubled), (4, "DEE", 8));

    let mut changed: Vec<(String, i32)> = update(u)
        .set(u.karma, u.karma + 1)
        .filter(u.karma.lt(25))
        .returning((u.name, u.karma))
        .fetch_all(&mut conn)
        .await?;
    changed.sort();
    assert_eq!(changed, vec![("bob".to_owned(), 6), ("cy".to_owned(), 21), ("dee".to_owned(), 5)]);

    let nothing: Option<String> =
        update(u).set(u.name, "x").filter(u.id.eq(99)).returning(u.name).fetch_optional(&mut conn).await?;
    assert_eq!(nothing, None);

    insert_into(p).rows((p.author_id, p.title, p.likes), [(1_i64, "a", 1_i64), (2, "b", 2), (2, "c", 3)]).execute(&mut conn).await?;
    let mut gone: Vec<Post> = delete_from(p).filter(p.author_id.eq(2)).returning(p).fetch_all(&mut conn).await?;
    gone.sort_by_key(|p| p.id);
    assert_eq!(
        gone,
        vec![
            Post { id: 2, author_id: 2, title: "b".into(), likes: 2 },
            Post { id: 3, author_id: 2, title: "c".into(), likes: 3 },
        ]
    );
    let left: i64 = select(count_star()).from(p).fetch_scalar(&mut conn).await?;
    assert_eq!(left, 1);
    Ok(())
});

backend_test!(async fn update_and_delete_counts(db) {
    let (u, p) = (Users::table(), Posts::table());
    let mut conn = setup(&db).await?;
    insert_into(u)
        .rows((u.email, u.name, u.karma), [("a@x", "a", 1), ("b@x", "b", 2), ("c@x", "c", 3), ("d@x", "d", 4)])
        .execute(&mut conn)
        .await?;
    assert_eq!(update(u).set(u.bio, "none").filter(u.id.eq(99)).execute(&mut conn).await?, 0);
    assert_eq!(update(u).set(u.bio, "one").filter(u.id.eq(1)).execute(&mut conn).await?, 1);
    assert_eq!(update(u).set(u.karma, u.karma * 10).filter(u.karma.ge(2)).execute(&mut conn).await?, 3);
    // Setting a column to the value it has still counts the row.
    assert_eq!(update(u).set(u.bio, "one").filter(u.id.eq(1)).execute(&mut conn).await?, 1);
    // Several assignments at once, and no filter: every row.
    assert_eq!(update(u).values((u.bio.set(None::<String>), u.name.set(upper(u.name)))).execute(&mut conn).await?, 4);
    let rows: Vec<(String, i32, Option<String>)> =
        select((u.name, u.karma, u.bio)).from(u).order_by(u.id).fetch_all(&mut conn).await?;
    assert_eq!(
        rows,
        vec![("A".into(), 1, None), ("B".into(), 20, None), ("C".into(), 30, None), ("D".into(), 40, None)]
    );

    // UPDATE ... FROM and DELETE ... USING (emulated on SQLite) touch the same rows.
    insert_into(p).rows((p.author_id, p.title, p.likes), [(1_i64, "p1", 10_i64), (3, "p3", 300), (3, "p3b", 1)]).execute(&mut conn).await?;
    let n = update(u).set(u.karma, u.karma + 1).from(p).filter(p.author_id.eq(u.id).and(p.likes.gt(5))).execute(&mut conn).await?;
    assert_eq!(n, 2);
    let karma: Vec<i32> = select(u.karma).from(u).order_by(u.id).fetch_all(&mut conn).await?;
    assert_eq!(karma, [2, 20, 31, 40]);
    let n = delete_from(p).using(u).filter(p.author_id.eq(u.id).and(u.karma.gt(30))).execute(&mut conn).await?;
    assert_eq!(n, 2);
    assert_eq!(delete_from(p).filter(p.id.eq(99)).execute(&mut conn).await?, 0);
    assert_eq!(delete_from(p).execute(&mut conn).await?, 1);
    assert_eq!(delete_from(u).filter(u.karma.lt(25)).execute(&mut conn).await?, 2);
    Ok(())
});

backend_test!(async fn fetch_one_optional_scalar(db) {
    let u = Users::table();
    let mut conn = setup(&db).await?;
    insert_into(u)
        .rows((u.email, u.name, u.karma, u.bio), [("a@x", "ada", 50, Some("hi")), ("b@x", "bob", 5, None)])
        .execute(&mut conn)
        .await?;
    let by_name = |name: &'static str| select((u.id, u.bio)).from(u).filter(u.name.eq(name));

    let (id, bio): (i64, Option<String>) = by_name("ada").fetch_one(&mut conn).await?;
    assert_eq!((id, bio.as_deref()), (1, Some("hi")));
    let found: Option<(i64, Option<String>)> = by_name("bob").fetch_optional(&mut conn).await?;
    assert_eq!(found, Some((2, None)));
    let missing: Option<(i64, Option<String>)> = by_name("zed").fetch_optional(&mut conn).await?;
    assert_eq!(missing, None);
    expect_kind(by_name("zed").fetch_one::<(i64, Option<String>)>(&mut conn).await, ErrorKind::RowNotFound);

    // fetch_one and fetch_optional take the first of several rows.
    let first: i64 = select(u.id).from(u).order_by(u.id.desc()).fetch_one(&mut conn).await?;
    assert_eq!(first, 2);
    let first: Option<String> = select(u.name).from(u).order_by(u.name).fetch_optional(&mut conn).await?;
    assert_eq!(first.as_deref(), Some("ada"));

    // fetch_scalar: the first column of the first row.
    let n: i64 = select((count_star(), max(u.karma))).from(u).fetch_scalar(&mut conn).await?;
    assert_eq!(n, 2);
    let bio: Option<String> = select(u.bio).from(u).filter(u.name.eq("bob")).fetch_scalar(&mut conn).await?;
    assert_eq!(bio, None, "a NULL scalar decodes into an Option");
    let err = expect_kind(select(u.bio).from(u).filter(u.name.eq("bob")).fetch_scalar::<String>(&mut conn).await, ErrorKind::Decode);
    assert_eq!(err.column(), Some("bio"));
    expect_kind(select(u.id).from(u).filter(u.id.gt(100)).fetch_scalar::<i64>(&mut conn).await, ErrorKind::RowNotFound);
    let none: Option<i32> = select(max(u.karma)).from(u).filter(u.id.gt(100)).fetch_scalar(&mut conn).await?;
    assert_eq!(none, None, "an aggregate over no rows is one NULL row");
    Ok(())
});

#[derive(Debug, PartialEq, FromRow)]
struct Author {
    id: i64,
    #[quarry(rename = "author")]
    name: String,
}

#[derive(Debug, PartialEq, FromRow)]
struct PostWithAuthor {
    title: String,
    likes: i64,
    #[quarry(flatten)]
    author: Author,
}

/// Fields in another order than the select list: matched by name.
#[derive(Debug, PartialEq, FromRow)]
struct Shuffled {
    karma: i32,
    name: String,
    #[quarry(rename = "user_id")]
    id: i64,
}

#[derive(Debug, PartialEq, FromRow)]
struct Karma(String, i32);

backend_test!(async fn derive_from_row(db) {
    let (u, p) = (Users::table(), Posts::table());
    let mut conn = setup(&db).await?;
    insert_into(u).rows((u.email, u.name, u.karma), [("a@x", "ada", 50), ("b@x", "bob", 5)]).execute(&mut conn).await?;
    insert_into(p).rows((p.author_id, p.title, p.likes), [(1_i64, "Engines", 120_i64), (1, "Numbers", 45)]).execute(&mut conn).await?;

    let rows: Vec<PostWithAuthor> = select((p.title, p.likes, u.id, u.name.label("author")))
        .from(p)
        .join(u, u.id.eq(p.author_id))
        .order_by(p.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(
        rows,
        vec![
            PostWithAuthor { title: "Engines".into(), likes: 120, author: Author { id: 1, name: "ada".into() } },
            PostWithAuthor { title: "Numbers".into(), likes: 45, author: Author { id: 1, name: "ada".into() } },
        ]
    );

    let shuffled: Vec<Shuffled> =
        select((u.id.label("user_id"), u.name, u.karma)).from(u).order_by(u.id).fetch_all(&mut conn).await?;
    assert_eq!(
        shuffled,
        vec![Shuffled { karma: 50, name: "ada".into(), id: 1 }, Shuffled { karma: 5, name: "bob".into(), id: 2 }]
    );

    // Tuple structs and tuples decode by position; a struct inside a tuple reads its own columns.
    let karma: Vec<Karma> = select((u.name, u.karma)).from(u).order_by(u.id).fetch_all(&mut conn).await?;
    assert_eq!(karma, vec![Karma("ada".into(), 50), Karma("bob".into(), 5)]);
    let mixed: (i64, Author, String) = select((lit(7_i64), u.id, u.name.label("author"), u.email))
        .from(u)
        .filter(u.id.eq(2))
        .fetch_one(&mut conn)
        .await?;
    assert_eq!(mixed, (7, Author { id: 2, name: "bob".into() }, "b@x".into()));

    // A column the struct names that the row lacks is a decode error naming it.
    let err = expect_kind(select((u.id, u.name)).from(u).fetch_all::<Author>(&mut conn).await, ErrorKind::Decode);
    assert!(err.message().contains("author"), "{err}");
    Ok(())
});

backend_test!(async fn left_join_into_optional_struct(db) {
    let (u, p) = (Users::table(), Posts::table());
    let mut conn = setup(&db).await?;
    insert_into(u).rows((u.email, u.name, u.karma), [("a@x", "ada", 50), ("b@x", "bob", 5)]).execute(&mut conn).await?;
    insert_into(p).rows((p.author_id, p.title, p.likes), [(1_i64, "Engines", 120_i64)]).execute(&mut conn).await?;

    let rows: Vec<(User, Option<Post>)> =
        select((u, p)).from(u).left_join(p, p.author_id.eq(u.id)).order_by(u.id).fetch_all(&mut conn).await?;
    assert_eq!(
        rows,
        vec![
            (user(1, "a@x", "ada", 50, None), Some(Post { id: 1, author_id: 1, title: "Engines".into(), likes: 120 })),
            (user(2, "b@x", "bob", 5, None), None),
        ]
    );
    // The same with tuples, and a scalar Option on the nullable side.
    let rows: Vec<((i64, String), Option<(i64, String)>, Option<i64>)> = select((u.id, u.name, p.id, p.title, p.likes))
        .from(u)
        .left_join(p, p.author_id.eq(u.id))
        .order_by(u.id)
        .fetch_all(&mut conn)
        .await?;
    assert_eq!(
        rows,
        vec![((1, "ada".into()), Some((1, "Engines".into())), Some(120)), ((2, "bob".into()), None, None)]
    );
    // A row whose optional part is only partly NULL is Some, and then its
    // NULL columns must fit the struct: `User.bio` is an Option.
    let partly: Vec<Option<User>> = select(u).from(u).order_by(u.id).fetch_all(&mut conn).await?;
    assert!(partly.iter().all(Option::is_some));
    Ok(())
});
