//! The per-connection cache of prepared statements: a bounded LRU keyed by
//! SQL text.
//!
//! Evicting a statement drops tokio-postgres's `Statement`, whose last
//! clone sends `Close` to the server, so the server's prepared statements
//! (`pg_prepared_statements`) never outnumber the capacity (plus those held
//! by a running stream). A hit costs one hash lookup and a counter update;
//! finding the least recently used entry is a scan, done only on a miss,
//! which costs a round trip to the server anyway.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use tokio_postgres::Statement;

/// A bounded LRU of prepared statements.
pub(crate) struct StatementCache {
    entries: HashMap<String, Entry, BuildHasherDefault<FxHasher>>,
    capacity: usize,
    tick: u64,
}

struct Entry {
    statement: Statement,
    used: u64,
}

impl StatementCache {
    /// A cache of at most `capacity` statements (0: cache nothing).
    pub(crate) fn new(capacity: usize) -> Self {
        StatementCache { entries: HashMap::default(), capacity, tick: 0 }
    }

    /// The statement prepared for `sql`, marked as just used.
    pub(crate) fn get(&mut self, sql: &str) -> Option<Statement> {
        let entry = self.entries.get_mut(sql)?;
        self.tick += 1;
        entry.used = self.tick;
        Some(entry.statement.clone())
    }

    /// Remember `statement` for `sql`, evicting the least recently used
    /// statement if the cache is full.
    pub(crate) fn insert(&mut self, sql: &str, statement: Statement) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity
            && !self.entries.contains_key(sql)
            && let Some(oldest) = self.entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone())
        {
            // Dropping the statement closes it on the server.
            self.entries.remove(&oldest);
        }
        self.tick += 1;
        self.entries.insert(sql.to_owned(), Entry { statement, used: self.tick });
    }

    /// Forget the statement for `sql` (closing it on the server).
    pub(crate) fn remove(&mut self, sql: &str) {
        self.entries.remove(sql);
    }

    /// How many statements are cached.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The hash used by rustc (FxHash): statement texts come from the
/// application, not from attackers, and hashing them is on every
/// statement's path.
#[derive(Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use std::hash::Hash;

    use super::*;

    fn hash(s: &str) -> u64 {
        let mut h = FxHasher::default();
        s.hash(&mut h);
        h.finish()
    }

    #[test]
    fn hashes_differ_for_different_texts() {
        assert_ne!(hash("SELECT 1"), hash("SELECT 2"));
        assert_ne!(hash("abcdefgh"), hash("abcdefghi"));
        assert_eq!(hash("SELECT $1"), hash("SELECT $1"));
    }
}
