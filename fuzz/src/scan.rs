//! Reading SQL that Quarry wrote: quoted identifiers, literals,
//! placeholders, and what is left outside them.

use quarry_core::{CompileError, Compiled, Dialect};

/// What [`scan`] finds in compiled SQL.
#[derive(Debug, Default, PartialEq)]
pub struct Scanned {
    /// The text outside quoted identifiers, literals and placeholders, with
    /// each of those replaced by a marker (`"` for an identifier, `'` for a
    /// literal, `?` for a placeholder).
    pub skeleton: String,
    /// The quoted identifiers, unescaped, in order.
    pub identifiers: Vec<String>,
    /// The placeholder numbers, in order.
    pub placeholders: Vec<usize>,
}

/// Split SQL written by Quarry into its parts, checking as it goes that
/// every quoted identifier and literal is terminated, and that outside them
/// there are only keywords, names of functions and types, numbers,
/// operators and punctuation: no `;`, no comment, no NUL, no non-ASCII.
pub fn scan(sql: &str, dialect: &dyn Dialect) -> Scanned {
    let postgres = dialect.name() == "PostgreSQL";
    let sigil = if postgres { '$' } else { '?' };
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Scanned::default();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' => {
                let mut ident = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => panic!("unterminated quoted identifier in {sql:?}"),
                        Some('"') if chars.get(i + 1) == Some(&'"') => {
                            ident.push('"');
                            i += 2;
                        }
                        Some('"') => break,
                        Some(c) => {
                            ident.push(*c);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.identifiers.push(ident);
                out.skeleton.push('"');
            }
            '\'' => {
                // PostgreSQL's E'...' has backslash escapes; the `E` is in
                // the skeleton already.
                let escapes = postgres && out.skeleton.ends_with('E') && {
                    let before = out.skeleton[..out.skeleton.len() - 1].chars().next_back();
                    !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == '_')
                };
                i += 1;
                loop {
                    match chars.get(i) {
                        None => panic!("unterminated literal in {sql:?}"),
                        Some('\\') if escapes => i += 2,
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => i += 2,
                        Some('\'') => break,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
                out.skeleton.push('\'');
            }
            c if c == sigil => {
                let digits: String = chars[i + 1..].iter().take_while(|c| c.is_ascii_digit()).collect();
                assert!(!digits.is_empty(), "a bare {sigil} outside quotes in {sql:?}");
                out.placeholders.push(digits.parse().expect("a placeholder number"));
                out.skeleton.push('?');
                i += 1 + digits.len();
            }
            c => {
                assert!(
                    c.is_ascii_alphanumeric() || " _(),.*+-/%<>=!|:[]".contains(c),
                    "{c:?} outside quotes in {sql:?}"
                );
                out.skeleton.push(c);
                i += 1;
            }
        }
    }
    for bad in ["--", "/*", ";"] {
        assert!(!out.skeleton.contains(bad), "{bad:?} outside quotes in {sql:?}");
    }
    out
}

/// Placeholders are numbered `1..=n`, each used, `n == params`.
pub(crate) fn assert_dense(placeholders: &[usize], params: usize, sql: &str) {
    let mut seen: Vec<usize> = placeholders.to_vec();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen, (1..=params).collect::<Vec<_>>(), "placeholders of {sql:?}");
}

pub(crate) fn check_compiled(c: &Compiled, dialect: &dyn Dialect) -> Scanned {
    assert!(!c.sql.contains('\0'), "NUL in {:?}", c.sql);
    let scanned = scan(&c.sql, dialect);
    assert_dense(&scanned.placeholders, c.params.len(), &c.sql);
    scanned
}

/// The refusals a length-changing rename may cause: a name over 63 bytes.
pub(crate) fn is_length_refusal(e: &CompileError) -> bool {
    matches!(e, CompileError::InvalidIdentifier { reason, .. } if reason.contains("bytes long"))
}
