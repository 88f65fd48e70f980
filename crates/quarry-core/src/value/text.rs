//! [`Text`]: the string held by [`Value::Text`](super::Value::Text).

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use arrayvec::ArrayString;

use super::Value;

/// The longest text kept inline: as much as fits in 32 bytes with the
/// length and the kind (a `Value` holding it is 40 bytes, as `Bytes` make it).
const INLINE_CAPACITY: usize = 24;

/// An immutable UTF-8 string, as a bound text value holds it.
///
/// Text of up to 24 bytes is stored inline, so making, cloning and dropping
/// it never allocates: a bulk insert of names, codes or short e-mail
/// addresses costs no allocation per value. Longer text is allocated once
/// and shared when cloned, like an `Arc<str>`.
///
/// ```
/// use quarry_core::{Text, Value};
///
/// let short = Text::from("ada");
/// let long = Text::from("a text longer than twenty-four bytes".to_owned());
/// assert_eq!(&*short, "ada");
/// assert_eq!(Value::from("ada"), Value::Text(short));
/// assert_eq!(long.len(), 36);
/// ```
#[derive(Clone)]
pub struct Text(Repr);

// A `Text` is four words, and a `Value` holding it five, as with `Bytes`.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Text>() == 32 && std::mem::size_of::<Value>() == 40);

#[derive(Clone)]
enum Repr {
    Inline(ArrayString<INLINE_CAPACITY>),
    Static(&'static str),
    Shared(Arc<str>),
}

impl Text {
    /// Text borrowed for the whole program: no allocation, whatever its length.
    pub const fn new_static(text: &'static str) -> Self {
        Text(Repr::Static(text))
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline(text) => text,
            Repr::Static(text) => text,
            Repr::Shared(text) => text,
        }
    }

    /// `text` copied: inline when it fits, else in an allocation of its own.
    #[inline]
    fn copied(text: &str) -> Self {
        match ArrayString::from(text) {
            Ok(inline) => Text(Repr::Inline(inline)),
            Err(_) => Text(Repr::Shared(Arc::from(text))),
        }
    }
}

/// Append `text` to `values` as a [`Value::Text`].
///
/// Short text is copied straight into its place in the list, after the
/// value is pushed. Copied into a `Text` first, with the `Text` then moved
/// into the list, the move reads the bytes back while the copy's narrower
/// stores are still in flight, and a load that a store cannot be forwarded
/// to stalls the CPU: `perf` put a tenth of a 10,000-row SQLite insert
/// there (callgrind, which counts instructions, does not see it).
#[inline]
pub(crate) fn push_text(values: &mut Vec<Value>, text: &str) {
    if text.len() > INLINE_CAPACITY {
        values.push(Value::Text(Text(Repr::Shared(Arc::from(text)))));
        return;
    }
    // A constant, so that it is stored straight into the list too.
    const EMPTY: Value = Value::Text(Text(Repr::Inline(ArrayString::new_const())));
    values.push(EMPTY);
    if let Some(Value::Text(Text(Repr::Inline(slot)))) = values.last_mut() {
        slot.push_str(text);
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::new_static("")
    }
}

impl Deref for Text {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Hashes as its `str`, as [`Borrow<str>`] requires.
impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text::copied(text)
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Self {
        Text::copied(text)
    }
}

/// Short text is copied inline (and the `String`'s allocation freed);
/// longer text is copied into a new shared allocation.
impl From<String> for Text {
    fn from(text: String) -> Self {
        // `Arc<str>` cannot take over a `String`'s buffer: it copies either way.
        Text::copied(&text)
    }
}

impl From<Arc<str>> for Text {
    fn from(text: Arc<str>) -> Self {
        Text(Repr::Shared(text))
    }
}

impl From<Box<str>> for Text {
    fn from(text: Box<str>) -> Self {
        Text::copied(&text)
    }
}

impl From<std::borrow::Cow<'_, str>> for Text {
    fn from(text: std::borrow::Cow<'_, str>) -> Self {
        Text::copied(&text)
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.as_str().to_owned()
    }
}

impl From<Text> for Arc<str> {
    fn from(text: Text) -> Self {
        match text.0 {
            Repr::Shared(text) => text,
            other => Arc::from(Text(other).as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_shared(text: &Text) -> bool {
        matches!(text.0, Repr::Shared(_))
    }

    #[test]
    fn short_text_is_inline_and_long_text_shared() {
        let short = Text::from("exactly twenty-four byte");
        assert_eq!(short.len(), 24);
        assert!(!is_shared(&short));
        let long = Text::from("twenty-five bytes, shared");
        assert_eq!(long.len(), 25);
        assert!(is_shared(&long));
        let copy = long.clone();
        assert_eq!(copy.as_ptr(), long.as_ptr(), "a clone shares the allocation");
        assert!(!is_shared(&Text::new_static("a static text longer than twenty-four bytes")));
        assert!(!is_shared(&Text::from(String::from("moved inline"))));
        assert!(is_shared(&Text::from(String::from("a string too long to move inline"))));
    }

    #[test]
    fn pushed_text_reads_back_whatever_its_length() {
        let mut values = Vec::new();
        for text in ["", "é", "exactly twenty-four byte", "twenty-five bytes, shared", "ünïcödé ünïcödé ünïcödé"]
        {
            push_text(&mut values, text);
            assert_eq!(values.last(), Some(&Value::Text(Text::from(text))), "{text:?}");
        }
        assert_eq!(values.len(), 5);
    }

    #[test]
    fn conversions_keep_the_text_and_share_what_is_shared() {
        let long = "a boxed text longer than twenty-four bytes";
        assert_eq!(Text::from(Box::<str>::from(long)), long);
        assert!(is_shared(&Text::from(Box::<str>::from(long))));
        assert!(!is_shared(&Text::from(Box::<str>::from("boxed"))));
        assert_eq!(Text::from(std::borrow::Cow::Owned(long.to_owned())), long);
        assert_eq!(Text::from(std::borrow::Cow::Borrowed("cow")), "cow");
        let shared: Arc<str> = Arc::from(long);
        let back: Arc<str> = Text::from(shared.clone()).into();
        assert!(Arc::ptr_eq(&shared, &back), "a shared text goes back as the same allocation");
        let inline: Arc<str> = Text::from("inline").into();
        assert_eq!(&*inline, "inline");
    }

    #[test]
    fn every_kind_compares_and_hashes_as_its_string() {
        use std::collections::hash_map::DefaultHasher;
        let hash = |t: &dyn Fn(&mut DefaultHasher)| {
            let mut h = DefaultHasher::new();
            t(&mut h);
            h.finish()
        };
        let inline = Text::from("abc");
        let stat = Text::new_static("abc");
        let shared = Text::from(Arc::<str>::from("abc"));
        assert_eq!(inline, stat);
        assert_eq!(stat, shared);
        assert_eq!(hash(&|h| inline.hash(h)), hash(&|h| "abc".hash(h)));
        assert_eq!(hash(&|h| shared.hash(h)), hash(&|h| "abc".hash(h)));
        assert_eq!(Text::default(), "");
    }

    #[test]
    fn compares_and_prints_as_its_string() {
        let t = Text::from(String::from("it's \"quoted\""));
        assert_eq!(t, "it's \"quoted\"");
        assert_eq!(format!("{t:?}"), format!("{:?}", "it's \"quoted\""));
        assert_eq!(t.to_string(), "it's \"quoted\"");
        let mut sorted = vec![Text::from("b"), Text::from("a")];
        sorted.sort();
        assert_eq!(sorted, ["a", "b"]);
        assert_eq!(String::from(t.clone()), *t);
    }
}
