//! [`Text`]: the string held by [`Value::Text`](super::Value::Text).

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use smol_str::SmolStr;

/// An immutable UTF-8 string, as a bound text value holds it.
///
/// Text of up to 23 bytes is stored inline, so making, cloning and dropping
/// it never allocates: a bulk insert of names, codes or e-mail addresses
/// costs no allocation per value. Longer text is allocated once and shared
/// when cloned, like an `Arc<str>`.
///
/// ```
/// use quarry_core::{Text, Value};
///
/// let short = Text::from("ada");
/// let long = Text::from("a text longer than twenty-three bytes".to_owned());
/// assert_eq!(&*short, "ada");
/// assert_eq!(Value::from("ada"), Value::Text(short));
/// assert_eq!(long.len(), 37);
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(SmolStr);

impl Text {
    /// Text borrowed for the whole program: no allocation, whatever its length.
    pub const fn new_static(text: &'static str) -> Self {
        Text(SmolStr::new_static(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.0.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.0.as_str() == *other
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text(SmolStr::new(text))
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Self {
        Text(SmolStr::new(text))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text(SmolStr::from(text))
    }
}

impl From<Arc<str>> for Text {
    fn from(text: Arc<str>) -> Self {
        Text(SmolStr::from(text))
    }
}

impl From<Box<str>> for Text {
    fn from(text: Box<str>) -> Self {
        Text(SmolStr::from(text))
    }
}

impl From<std::borrow::Cow<'_, str>> for Text {
    fn from(text: std::borrow::Cow<'_, str>) -> Self {
        Text(SmolStr::new(text))
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.0.into()
    }
}

impl From<Text> for Arc<str> {
    fn from(text: Text) -> Self {
        Arc::from(text.0.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_inline_and_long_text_shared() {
        let short = Text::from("exactly twenty-three b.");
        assert_eq!(short.len(), 23);
        assert!(!short.0.is_heap_allocated());
        let long = Text::from("twenty-four bytes, heap.");
        assert!(long.0.is_heap_allocated());
        let copy = long.clone();
        assert_eq!(copy.as_ptr(), long.as_ptr(), "a clone shares the allocation");
        assert!(!Text::new_static("a static text longer than twenty-three bytes").0.is_heap_allocated());
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
