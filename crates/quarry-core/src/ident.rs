//! SQL identifiers: table, column, alias and constraint names.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// A name in SQL: a table, column, alias, index or constraint.
///
/// An `Ident` is either a `&'static str` (tables declared with
/// [`table!`](crate::table) use these, so building a query from them
/// allocates nothing per identifier) or a shared `Arc<str>` for names known
/// only at run time. Cloning never allocates.
///
/// An `Ident` is always written quoted, with the quote character doubled,
/// whichever variant it is: the compiler never trusts a name to be safe.
/// Names the target database cannot hold (empty, containing NUL, longer than
/// PostgreSQL's 63 bytes) are rejected with a
/// [`CompileError`](crate::CompileError) when the statement is compiled.
///
/// ```
/// use quarry_core::Ident;
///
/// let fixed = Ident::new_static("users");
/// let runtime = Ident::from(String::from("users"));
/// assert_eq!(fixed, runtime);
/// assert_eq!(&*fixed, "users");
/// ```
#[derive(Clone)]
pub struct Ident(Repr);

/// The name, and whether it is plain: non-empty and free of quote
/// characters and NUL, checked once when the identifier is made so that
/// writing it needs no escaping scan. (Four variants rather than a flag
/// beside the enum keep an `Ident` three words wide.)
#[derive(Clone)]
enum Repr {
    StaticPlain(&'static str),
    Static(&'static str),
    SharedPlain(Arc<str>),
    Shared(Arc<str>),
}

/// Whether `name` can be quoted without escaping in any dialect: not empty,
/// and no `"`, `` ` ``, `[`, `]` or NUL in it.
pub(crate) const fn is_plain(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if matches!(bytes[i], b'"' | b'`' | b'[' | b']' | 0) {
            return false;
        }
        i += 1;
    }
    true
}

impl Ident {
    /// An identifier borrowed for the whole program: no allocation.
    pub const fn new_static(name: &'static str) -> Self {
        Ident::new_static_known(name, is_plain(name))
    }

    /// A static identifier whose plainness was computed already (by
    /// [`Column::new`](crate::Column::new), at compile time).
    pub(crate) const fn new_static_known(name: &'static str, plain: bool) -> Self {
        Ident(if plain { Repr::StaticPlain(name) } else { Repr::Static(name) })
    }

    fn shared(name: Arc<str>) -> Self {
        Ident(if is_plain(&name) { Repr::SharedPlain(name) } else { Repr::Shared(name) })
    }

    /// Whether the name needs no escaping to be quoted: not empty, and free
    /// of quote characters and NUL.
    pub fn is_plain(&self) -> bool {
        matches!(self.0, Repr::StaticPlain(_) | Repr::SharedPlain(_))
    }

    /// An identifier from a run-time string (allocated once, shared after).
    pub fn new(name: impl Into<Ident>) -> Self {
        name.into()
    }

    /// The name as written, without quotes.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::StaticPlain(s) | Repr::Static(s) => s,
            Repr::SharedPlain(s) | Repr::Shared(s) => s,
        }
    }
}

impl Deref for Ident {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Ident {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Ident {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Ident {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Ident {}

impl PartialEq<str> for Ident {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Ident {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Hash for Ident {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialOrd for Ident {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ident {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&'static str> for Ident {
    fn from(name: &'static str) -> Self {
        Ident::new_static(name)
    }
}

impl From<String> for Ident {
    fn from(name: String) -> Self {
        Ident::shared(Arc::from(name))
    }
}

impl From<&String> for Ident {
    fn from(name: &String) -> Self {
        Ident::shared(Arc::from(name.as_str()))
    }
}

impl From<Arc<str>> for Ident {
    fn from(name: Arc<str>) -> Self {
        Ident::shared(name)
    }
}

impl From<&Ident> for Ident {
    fn from(name: &Ident) -> Self {
        name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_and_shared_compare_by_text() {
        let a = Ident::new_static("name");
        let b = Ident::from(String::from("name"));
        assert_eq!(a, b);
        assert_eq!(a, "name");
        assert_ne!(a, Ident::from("other"));
    }

    #[test]
    fn plainness_is_known_up_front() {
        assert!(Ident::new_static("users").is_plain());
        assert!(Ident::from(String::from("naïve name; --")).is_plain());
        for odd in ["", "a\"b", "a`b", "a[b]", "a\0b"] {
            assert!(!Ident::from(odd.to_owned()).is_plain(), "{odd:?}");
        }
    }
}
