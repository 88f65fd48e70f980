//! The `text_binds` target: the `:name` lexer of `text()` against
//! sqlparser's tokenizer.

use quarry_core::statement::text_dynamic_unchecked;
use quarry_core::{Compile, CompileError};
use sqlparser::dialect::Dialect as ParserDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::dialects;

fn sqlparser_binds(sql: &str, parser: &dyn ParserDialect) -> Option<Vec<String>> {
    // `\:` (a literal colon) is Quarry's own escape, no database's: texts
    // with one are checked by the round trip only.
    if sql.contains("\\:") {
        return None;
    }
    let tokens = Tokenizer::new(parser, sql).tokenize().ok()?;
    // Where sqlparser does not read the text as PostgreSQL or SQLite would,
    // there is nothing to compare with: it reads other databases' literals
    // in every dialect (BigQuery's `b"..."`, raw and triple-quoted
    // strings), ends `x'...'` at a doubled quote, and takes PostgreSQL
    // operators through a colon (not an operator character) or a comment start
    // (`-/*` is one operator to it; PostgreSQL's lexer ends an operator
    // before `/*` or `--`).
    let foreign = |t: &Token| match t {
        Token::CustomBinaryOperator(op) => op.contains("/*") || op.contains("--") || op.contains(':'),
        _ => {
            let kind = format!("{t:?}");
            let variant = kind.split('(').next().unwrap_or_default().to_owned();
            ["Byte", "Raw", "Triple", "DoubleQuotedString", "Hex"].iter().any(|k| variant.contains(k))
        }
    };
    if tokens.iter().any(foreign) {
        return None;
    }
    // Likewise where it splits a comment start between two operators
    // (`#-` then `-` in `#--`): the databases start a comment at any `--`
    // or `/*` outside quotes.
    let splits_comment = |w: &[Token]| {
        let (a, b) = (w[0].to_string(), w[1].to_string());
        (a.ends_with('-') && b.starts_with('-')) || (a.ends_with('/') && b.starts_with('*'))
    };
    if tokens.windows(2).any(splits_comment) {
        return None;
    }
    // `:E'...'` (likewise `:N'`, `:X'`, `:B'`, `:U&'`): a colon before a
    // prefixed string to PostgreSQL, a `:E` parameter to Quarry's lexer, whose
    // names are `[A-Za-z_][A-Za-z0-9_]*` wherever they stand. Neither reading
    // can inject anything (the value stays bound); not compared.
    let prefixed = |t: &Token| {
        matches!(
            t,
            Token::EscapedStringLiteral(_)
                | Token::NationalStringLiteral(_)
                | Token::HexStringLiteral(_)
                | Token::SingleQuotedByteStringLiteral(_)
                | Token::UnicodeStringLiteral(_)
        )
    };
    if tokens.windows(2).any(|w| w[0] == Token::Colon && prefixed(&w[1])) {
        return None;
    }
    let mut names = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if *t != Token::Colon || (i > 0 && tokens[i - 1] == Token::Backslash) {
            continue;
        }
        if let Some(Token::Word(w)) = tokens.get(i + 1)
            && w.quote_style.is_none()
            && w.value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        {
            names.push(w.value.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect());
        }
    }
    Some(names)
}

/// The `:name` lexer of `text()` against sqlparser's tokenizer: the names
/// the tokenizer sees as bind sites are bound (each to a marker value), and
/// the lexer must bind exactly those, in the same places; the debug SQL,
/// with the markers turned back into `:name`, is the text given. Where the
/// tokenizer cannot read the text, every `:name` is bound and refusals
/// (unused binds) are accepted.
pub fn target_text_binds(data: &[u8]) {
    let Ok(sql) = std::str::from_utf8(data) else { return };
    if sql.contains('\u{E000}') {
        return;
    }
    let marker = |k: usize| format!("\u{E000}{k}\u{E000}");
    for (dialect, parser) in dialects() {
        // Backticks quote only on SQLite, but Quarry's lexer treats them as
        // quotes everywhere (never binding inside them, the safe side): no
        // comparison for PostgreSQL texts with one.
        let comparable = !(dialect.name() == "PostgreSQL" && sql.contains('`'));
        let expected = if comparable { sqlparser_binds(sql, parser) } else { None };
        let mut names: Vec<String> = Vec::new();
        let candidates = match &expected {
            Some(sites) => sites.clone(),
            None => every_colon_name(sql),
        };
        for n in candidates {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let mut q = text_dynamic_unchecked(sql.to_owned());
        for (k, n) in names.iter().enumerate() {
            q = q.bind(n.clone(), marker(k));
        }
        let compiled = q.compile(dialect);
        assert_eq!(compiled, q.compile(dialect), "compiling twice");
        let c = match compiled {
            Ok(c) => c,
            Err(CompileError::PositionalPlaceholder { .. } | CompileError::Invalid { .. }) => continue,
            Err(e @ (CompileError::UnusedBind { .. } | CompileError::MissingBind { .. })) => {
                assert!(
                    expected.is_none(),
                    "{}: {e}, where sqlparser finds the bind sites {expected:?} in {sql:?}",
                    dialect.name()
                );
                continue;
            }
            Err(e) => panic!("unexpected refusal: {e}"),
        };
        assert!(!c.sql.contains('\0'));
        // Read the markers back from the debug SQL: the sequence of names bound.
        let debug = q.to_debug_sql(dialect).expect("compiled, so the debug SQL too");
        let mut found = Vec::new();
        let mut rebuilt = String::new();
        let mut rest = debug.as_str();
        while let Some(start) = rest.find('\u{E000}') {
            let after = &rest[start + 3..];
            let end = after.find('\u{E000}').expect("a closed marker");
            let k: usize = after[..end].parse().expect("a marker number");
            let before = rest[..start].strip_suffix('\'').expect("a marker is a quoted literal");
            rebuilt.push_str(before);
            rebuilt.push(':');
            rebuilt.push_str(&names[k]);
            found.push(names[k].clone());
            rest = after[end + 3..].strip_prefix('\'').expect("a marker is a quoted literal");
        }
        rebuilt.push_str(rest);
        // Apart from the bind sites the text is unchanged, but for the
        // backslash of `\:` (a literal colon), which the lexer drops.
        let without = |s: &str| s.replace('\\', "");
        assert_eq!(without(&rebuilt), without(sql), "the lexer changed the text around the binds");
        let dropped = sql.matches('\\').count() - rebuilt.matches('\\').count();
        assert!(dropped <= sql.matches("\\:").count(), "the lexer dropped a backslash not before a colon");
        let mut distinct = found.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(c.params.len(), distinct.len(), "one parameter per name");
        if let Some(expected) = expected {
            assert_eq!(found, expected, "bind sites of {sql:?} on {}", dialect.name());
        }
    }
}

/// Every `:name` in the text, quoted or not.
fn every_colon_name(sql: &str) -> Vec<String> {
    let bytes = sql.as_bytes();
    let mut names = Vec::new();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b':' && bytes.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic() || *n == b'_') {
            names.push(sql[i + 1..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect());
        }
    }
    names
}
