//! The data every contender reads and writes, the structs rows decode into,
//! and the digests that prove all contenders returned the same answer.
//!
//! Shared source: the sqlx workspace includes this file with `#[path]`, so
//! both binaries generate identical data and compare identical digests.
//! `define_model!` takes the derives each library decodes with.

/// Sizes of the `users_N` tables read by the `select` workload.
pub const SELECT_SIZES: [usize; 3] = [1, 100, 10_000];
/// Sizes of the `jusers_N` tables read by the `join` workload.
pub const JOIN_SIZES: [usize; 2] = [1, 1_000];
/// Rows per insert (and COPY) operation.
pub const INSERT_SIZES: [usize; 3] = [1, 100, 10_000];
/// The `lookups` workload: tasks, lookups per task, pool size.
pub const LOOKUP_TASKS: usize = 64;
pub const LOOKUPS_PER_TASK: usize = 200;
pub const POOL_SIZE: usize = 8;
/// The table the lookups read.
pub const LOOKUP_TABLE_SIZE: usize = 10_000;
/// The hair colour the join filters on.
pub const JOIN_HAIR: &str = "black";

/// Declares `User`, `Post` and `NewUser` with the given extra derives.
#[macro_export]
macro_rules! define_model {
    ($($derive:path),* $(,)?) => {
        /// A row of `users_N` / `jusers_N`.
        #[derive(Clone, Debug, PartialEq, Eq, $($derive),*)]
        pub struct User {
            pub id: i64,
            pub name: String,
            pub hair_color: Option<String>,
        }

        /// A row of `jposts_N`.
        #[derive(Clone, Debug, PartialEq, Eq, $($derive),*)]
        pub struct Post {
            pub id: i64,
            pub user_id: i64,
            pub title: String,
            pub body: Option<String>,
        }

        /// A row to insert (the id is generated).
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct NewUser {
            pub name: String,
            pub hair_color: Option<String>,
        }

        impl $crate::model::Digest for User {
            fn digest(&self, h: &mut $crate::model::Fnv) {
                h.i64(self.id);
                h.str(&self.name);
                h.opt(self.hair_color.as_deref());
            }
        }

        impl $crate::model::Digest for Post {
            fn digest(&self, h: &mut $crate::model::Fnv) {
                h.i64(self.id);
                h.i64(self.user_id);
                h.str(&self.title);
                h.opt(self.body.as_deref());
            }
        }

        impl $crate::model::Digest for NewUser {
            fn digest(&self, h: &mut $crate::model::Fnv) {
                h.str(&self.name);
                h.opt(self.hair_color.as_deref());
            }
        }

        /// The users of a table of `n` rows (ids from 1).
        pub fn users(n: usize) -> Vec<User> {
            (0..n)
                .map(|i| User {
                    id: i as i64 + 1,
                    name: $crate::model::user_name(i),
                    hair_color: $crate::model::hair(i).map(str::to_owned),
                })
                .collect()
        }

        /// The posts of the users of a join table of `n` users.
        pub fn posts(n: usize) -> Vec<Post> {
            let mut out = Vec::new();
            for i in 0..n {
                for k in 0..$crate::model::posts_of(i) {
                    let id = out.len() as i64 + 1;
                    out.push(Post {
                        id,
                        user_id: i as i64 + 1,
                        title: format!("Post {k} by user {i}"),
                        body: (id % 2 == 1).then(|| format!("{id}: {}", $crate::model::LOREM)),
                    });
                }
            }
            out
        }

        /// The rows an insert of `n` rows writes.
        pub fn new_users(n: usize) -> Vec<NewUser> {
            (0..n)
                .map(|i| NewUser { name: $crate::model::user_name(i), hair_color: $crate::model::hair(i).map(str::to_owned) })
                .collect()
        }

        /// What the join must return, computed in Rust.
        pub fn expected_join(n: usize) -> Vec<(User, Option<Post>)> {
            let posts = posts(n);
            let mut out = Vec::new();
            for u in users(n).into_iter().filter(|u| u.hair_color.as_deref() == Some($crate::model::JOIN_HAIR)) {
                let mine: Vec<&Post> = posts.iter().filter(|p| p.user_id == u.id).collect();
                if mine.is_empty() {
                    out.push((u, None));
                } else {
                    for p in mine {
                        out.push((u.clone(), Some(p.clone())));
                    }
                }
            }
            out
        }

        /// The id looked up by task `task`'s `k`-th lookup.
        pub fn lookup_id(task: usize, k: usize) -> i64 {
            ((task * 7919 + k * 104_729) % $crate::model::LOOKUP_TABLE_SIZE) as i64 + 1
        }
    };
}

pub const LOREM: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.";

pub fn user_name(i: usize) -> String {
    format!("User {i}")
}

/// Black, brown, none, in turn.
pub fn hair(i: usize) -> Option<&'static str> {
    match i % 3 {
        0 => Some("black"),
        1 => Some("brown"),
        _ => None,
    }
}

/// How many posts user `i` (0-based) has: 1, 2 or 0, by groups of three users.
pub fn posts_of(i: usize) -> usize {
    (i / 3 + 1) % 3
}

/// FNV-1a, 64 bits: a digest of decoded results, for comparing contenders.
#[derive(Clone, Copy, Debug)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x100_0000_01b3);
        }
    }
    pub fn i64(&mut self, v: i64) {
        self.bytes(&v.to_le_bytes());
    }
    pub fn str(&mut self, s: &str) {
        self.i64(s.len() as i64);
        self.bytes(s.as_bytes());
    }
    pub fn opt(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.bytes(&[1]);
                self.str(s);
            }
            None => self.bytes(&[0]),
        }
    }
}

/// A value whose content goes into a digest.
pub trait Digest {
    fn digest(&self, h: &mut Fnv);
}

impl<T: Digest> Digest for Option<T> {
    fn digest(&self, h: &mut Fnv) {
        match self {
            Some(v) => {
                h.bytes(&[1]);
                v.digest(h);
            }
            None => h.bytes(&[0]),
        }
    }
}

impl<A: Digest, B: Digest> Digest for (A, B) {
    fn digest(&self, h: &mut Fnv) {
        self.0.digest(h);
        self.1.digest(h);
    }
}

/// The digest of a result, in the order given.
pub fn digest_seq<T: Digest>(items: &[T]) -> u64 {
    let mut h = Fnv::default();
    h.i64(items.len() as i64);
    for item in items {
        item.digest(&mut h);
    }
    h.0
}

/// The digest of a result whose order does not matter (no ORDER BY):
/// the sum of the items' digests.
pub fn digest_set<T: Digest>(items: &[T]) -> u64 {
    let mut sum = items.len() as u64;
    for item in items {
        let mut h = Fnv::default();
        item.digest(&mut h);
        sum = sum.wrapping_add(h.0);
    }
    sum
}

/// The digest of one item.
pub fn digest_one<T: Digest>(item: &T) -> u64 {
    let mut h = Fnv::default();
    item.digest(&mut h);
    h.0
}
