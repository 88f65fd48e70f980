//! Raw SQL fragments: the `:name` lexer.
//!
//! The scanner copies the text verbatim, except that each `:name` outside
//! string literals, quoted identifiers, comments and dollar-quoted strings
//! becomes a placeholder bound to the named value (`::` casts and `\:` are
//! left alone, the latter written as `:`). Positional placeholders the
//! database would bind by itself (`$1`, `?`; on SQLite also `@name`,
//! `$name`, and an escaped `\:name`, which SQLite reads as its own named
//! parameter) are refused, since Quarry numbers parameters itself. SQL text
//! with a NUL is refused: SQLite would stop reading at it.
//!
//! Where the two databases read the same characters differently, the
//! dialect's [`Feature`]s decide: dollar quotes, `E'...'` escape strings,
//! nested comments and comments ended by a carriage return (PostgreSQL),
//! `[bracketed]` identifiers (SQLite). Identifiers and keywords are skipped
//! whole, as both databases read them (letters, digits, `_`, `$` and any
//! non-ASCII character), so a `$` or an `E` inside one starts nothing.

use crate::ast::RawSql;
use crate::dialect::{Dialect, Feature};

use super::{CompileError, SqlWriter};

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether `b` starts an identifier or keyword token of the database.
fn is_word_start(b: u8) -> bool {
    is_name_start(b) || b >= 0x80
}

/// Whether `b` continues an identifier or keyword token of the database.
fn is_word_char(b: u8) -> bool {
    is_name_char(b) || b == b'$' || b >= 0x80
}

/// How the database reads the characters the lexer must not look into.
struct Lexical {
    dollar_quotes: bool,
    nested_comments: bool,
    escape_strings: bool,
    comment_ends_at_cr: bool,
    bracket_identifiers: bool,
}

impl Lexical {
    fn of(dialect: &dyn Dialect) -> Self {
        Lexical {
            dollar_quotes: dialect.supports(Feature::DollarQuotes),
            nested_comments: dialect.supports(Feature::NestedComments),
            escape_strings: dialect.supports(Feature::EscapeStrings),
            comment_ends_at_cr: dialect.supports(Feature::CarriageReturnEndsComment),
            bracket_identifiers: dialect.supports(Feature::BracketIdentifiers),
        }
    }

    /// The end of the `--` comment starting at `start`: just past its line break.
    fn line_comment_end(&self, bytes: &[u8], start: usize) -> usize {
        let ends = |b: &u8| *b == b'\n' || (self.comment_ends_at_cr && *b == b'\r');
        bytes[start..].iter().position(ends).map_or(bytes.len(), |p| start + p + 1)
    }
}

/// The end (exclusive) of the quoted run starting at `start` (which holds
/// `quote`), where a doubled quote stands for itself and, when
/// `backslash_escapes`, `\x` is one escaped character. An unterminated run
/// extends to the end of the text.
fn quoted_end(bytes: &[u8], start: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if backslash_escapes => i += 2,
            b if b == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The end of a `/* ... */` comment starting at `start`, counting nesting
/// as PostgreSQL does when `nested` (SQLite ends it at the first `*/`).
fn block_comment_end(bytes: &[u8], start: usize, nested: bool) -> usize {
    let mut depth = 0_usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') if nested || depth == 0 => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// If a dollar quote (`$$` or `$tag$`) starts at `start`, the end of the
/// quoted string.
fn dollar_quote_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    if i < bytes.len() && is_name_start(bytes[i]) {
        while i < bytes.len() && is_name_char(bytes[i]) {
            i += 1;
        }
    }
    if bytes.get(i) != Some(&b'$') {
        return None;
    }
    let tag = &text[start..=i];
    let body = i + 1;
    Some(text[body..].find(tag).map_or(text.len(), |pos| body + pos + tag.len()))
}

/// The length of a positional or database-named placeholder at `at`, if one
/// starts there: `$1` anywhere, `?`, `?1`, `@name` and `$name` on databases
/// without dollar quoting (SQLite binds those itself).
fn placeholder_len(bytes: &[u8], at: usize, dollar_quotes: bool) -> Option<usize> {
    let next = bytes.get(at + 1).copied();
    let run = |from: usize, pred: fn(u8) -> bool| bytes[from..].iter().take_while(|b| pred(**b)).count();
    match bytes[at] {
        b'$' if next.is_some_and(|b| b.is_ascii_digit()) => Some(1 + run(at + 1, |b| b.is_ascii_digit())),
        b'$' | b'@' if !dollar_quotes && next.is_some_and(is_name_start) => Some(1 + run(at + 1, is_name_char)),
        b'?' if !dollar_quotes => Some(1 + run(at + 1, |b| b.is_ascii_digit())),
        _ => None,
    }
}

impl SqlWriter<'_> {
    pub(crate) fn raw(&mut self, raw: &RawSql) -> Result<(), CompileError> {
        let text: &str = &raw.sql;
        if text.contains('\0') {
            // SQLite stops reading SQL text at a NUL: what follows would be
            // silently dropped (an UPDATE would lose its WHERE).
            return Err(CompileError::invalid("raw SQL contains a NUL character"));
        }
        let bytes = text.as_bytes();
        let lexical = Lexical::of(self.dialect);
        // The placeholder number each bind got, so a repeated :name reuses it.
        let mut placeholders: Vec<Option<usize>> = vec![None; raw.binds.len()];
        let mut copied = 0; // bytes of `text` already written
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                _ if is_word_start(b) => {
                    let end = i + bytes[i..].iter().take_while(|b| is_word_char(**b)).count();
                    let escape_string = lexical.escape_strings
                        && end == i + 1
                        && matches!(b, b'E' | b'e')
                        && bytes.get(end) == Some(&b'\'');
                    i = if escape_string { quoted_end(bytes, end, b'\'', true) } else { end };
                }
                // A number: what follows its digits is a token of its own
                // (`6$t$...$t$` is a number and a dollar quote).
                b'0'..=b'9' => i += bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count(),
                b'\'' => i = quoted_end(bytes, i, b'\'', false),
                b'"' | b'`' => i = quoted_end(bytes, i, b, false),
                b'[' if lexical.bracket_identifiers => {
                    i = bytes[i..].iter().position(|b| *b == b']').map_or(bytes.len(), |p| i + p + 1);
                }
                b'-' if bytes.get(i + 1) == Some(&b'-') => i = lexical.line_comment_end(bytes, i),
                b'/' if bytes.get(i + 1) == Some(&b'*') => i = block_comment_end(bytes, i, lexical.nested_comments),
                b'$' if lexical.dollar_quotes => match dollar_quote_end(text, i) {
                    Some(end) => i = end,
                    None => {
                        if let Some(len) = placeholder_len(bytes, i, lexical.dollar_quotes) {
                            return Err(CompileError::PositionalPlaceholder {
                                placeholder: text[i..i + len].to_owned(),
                            });
                        }
                        i += 1;
                    }
                },
                b'\\' if bytes.get(i + 1) == Some(&b':') => {
                    if !lexical.dollar_quotes && bytes.get(i + 2).is_some_and(|n| is_name_start(*n)) {
                        // Where the database binds `:name` itself (SQLite),
                        // the unescaped text would be a parameter that
                        // Quarry never binds.
                        let len = 1 + bytes[i + 2..].iter().take_while(|b| is_name_char(**b)).count();
                        return Err(CompileError::PositionalPlaceholder {
                            placeholder: text[i + 1..i + 1 + len].to_owned(),
                        });
                    }
                    self.sql.push_str(&text[copied..i]);
                    copied = i + 1; // drop the backslash, keep the colon
                    i += 2;
                }
                b':' if bytes.get(i + 1) == Some(&b':') => i += 2,
                b':' if bytes.get(i + 1).is_some_and(|n| is_name_start(*n)) => {
                    let end = i + 1 + bytes[i + 1..].iter().take_while(|b| is_name_char(**b)).count();
                    let name = &text[i + 1..end];
                    let Some(slot) = raw.binds.iter().position(|(n, _)| n == name) else {
                        return Err(CompileError::MissingBind { name: name.to_owned() });
                    };
                    self.sql.push_str(&text[copied..i]);
                    match placeholders[slot] {
                        Some(index) if !self.inline_values => self.dialect.write_placeholder(index, &mut self.sql),
                        _ => {
                            self.push_value(&raw.binds[slot].1)?;
                            placeholders[slot] = Some(self.params_written());
                        }
                    }
                    copied = end;
                    i = end;
                }
                b'$' | b'?' | b'@' => {
                    if let Some(len) = placeholder_len(bytes, i, lexical.dollar_quotes) {
                        return Err(CompileError::PositionalPlaceholder { placeholder: text[i..i + len].to_owned() });
                    }
                    i += 1;
                }
                _ => i += 1,
            }
        }
        self.sql.push_str(&text[copied..]);
        if let Some(slot) = placeholders.iter().position(Option::is_none) {
            return Err(CompileError::UnusedBind { name: raw.binds[slot].0.to_string() });
        }
        Ok(())
    }
}
