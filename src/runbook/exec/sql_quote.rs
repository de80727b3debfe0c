//! PostgreSQL quoting: the one way a value becomes part of SQL text — in a runbook's
//! `{{… | ident}}` / `{{… | literal}}` and in `ALTER USER … WITH PASSWORD`, where
//! PostgreSQL takes no bind parameters.

/// A PostgreSQL identifier, always quoted (`"` doubled). NUL cannot be in one: an error.
pub fn quote_pg_ident(s: &str) -> Result<String, String> {
    if s.contains('\0') {
        return Err("a NUL character cannot be in a PostgreSQL identifier".into());
    }
    Ok(format!("\"{}\"", s.replace('"', "\"\"")))
}

/// A PostgreSQL string literal that means exactly `s` whatever `standard_conforming_strings`
/// says (libpq's `PQescapeLiteral`: quotes doubled, and `E'…'` with doubled backslashes
/// when there is a backslash). NUL cannot be in a PostgreSQL string: an error.
pub fn quote_pg_literal(s: &str) -> Result<String, String> {
    if s.contains('\0') {
        return Err("a NUL character cannot be in a PostgreSQL string".into());
    }
    let body = s.replace('\'', "''");
    Ok(if s.contains('\\') {
        format!("E'{}'", body.replace('\\', "\\\\"))
    } else {
        format!("'{body}'")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_survive_quotes_backslashes_and_semicolons() {
        assert_eq!(quote_pg_literal("plain").unwrap(), "'plain'");
        assert_eq!(quote_pg_literal("it's; DROP").unwrap(), "'it''s; DROP'");
        assert_eq!(quote_pg_literal(r"a\'b").unwrap(), r"E'a\\''b'");
        assert!(quote_pg_literal("nul\0").is_err());
    }

    #[test]
    fn identifiers_are_always_quoted() {
        assert_eq!(quote_pg_ident("we\"ird").unwrap(), "\"we\"\"ird\"");
        assert_eq!(quote_pg_ident("a b;--").unwrap(), "\"a b;--\"");
        assert!(quote_pg_ident("x\0").is_err());
    }
}
