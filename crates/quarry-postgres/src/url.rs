//! Connection strings: `postgres://` / `postgresql://` URLs and libpq-style
//! `key=value` strings, parsed by tokio-postgres, with TLS requests refused
//! up front.

use quarry_core::{Error, ErrorKind};
use tokio_postgres::config::SslMode;

/// Parse `url` into a tokio-postgres configuration.
///
/// Every option tokio-postgres knows is accepted (hosts including Unix
/// socket directories, several hosts, ports, user, password, dbname,
/// `application_name`, `options`, `connect_timeout`, `target_session_attrs`,
/// ...). `sslmode=require`, `verify-ca` and `verify-full` are a
/// [`ErrorKind::Config`] error, because this driver does not speak TLS yet
/// and must never fall back to a plain connection silently; `disable`,
/// `prefer` and no `sslmode` connect without TLS.
pub(crate) fn parse(url: &str) -> Result<tokio_postgres::Config, Error> {
    if let Some(mode) = find_sslmode(url)
        && matches!(mode, "require" | "verify-ca" | "verify-full")
    {
        return Err(tls_unsupported(mode));
    }
    let config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| {
        // The error names the option, never the password.
        let reason = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
        Error::new(ErrorKind::Config, format!("invalid PostgreSQL connection string: {reason}")).with_source(e)
    })?;
    if config.get_ssl_mode() == SslMode::Require {
        return Err(tls_unsupported("require"));
    }
    Ok(config)
}

fn tls_unsupported(mode: &str) -> Error {
    Error::new(
        ErrorKind::Config,
        format!(
            "sslmode={mode} asks for TLS, which quarry-postgres does not support yet; \
             use sslmode=disable or prefer (plain connection), or a TLS-terminating proxy"
        ),
    )
}

/// The value of the `sslmode` option, in a URL query string or a
/// `key=value` string, if present (the last one wins, as in libpq).
fn find_sslmode(url: &str) -> Option<&str> {
    let mut found = None;
    let mut rest = url;
    while let Some(at) = rest.find("sslmode") {
        let before = rest[..at].chars().next_back();
        let after = rest[at + "sslmode".len()..].trim_start();
        rest = &rest[at + "sslmode".len()..];
        // Only a whole key: preceded by a separator, followed by `=`.
        if !matches!(before, None | Some('?' | '&' | ' ' | '\t' | '\n')) {
            continue;
        }
        let Some(value) = after.strip_prefix('=') else { continue };
        let value = value.trim_start();
        let value = value.trim_start_matches('\'');
        let end = value.find(['&', ' ', '\t', '\n', '\'', '#']).unwrap_or(value.len());
        found = Some(&value[..end]);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_key_value_strings_parse() {
        let c = parse("postgres://alice:secret@db.example:6543/app?application_name=svc&connect_timeout=3").unwrap();
        assert_eq!(c.get_user(), Some("alice"));
        assert_eq!(c.get_dbname(), Some("app"));
        assert_eq!(c.get_ports(), &[6543]);
        assert_eq!(c.get_application_name(), Some("svc"));
        assert_eq!(c.get_connect_timeout(), Some(&std::time::Duration::from_secs(3)));

        let c = parse("postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write").unwrap();
        assert_eq!(c.get_hosts().len(), 2);

        let c = parse("host=/var/run/postgresql user=postgres dbname=test options='-c TimeZone=UTC'").unwrap();
        assert!(matches!(c.get_hosts()[0], tokio_postgres::config::Host::Unix(_)));
        assert_eq!(c.get_options(), Some("-c TimeZone=UTC"));
    }

    #[test]
    fn tls_modes_are_refused_clearly() {
        for url in [
            "postgres://u@h/db?sslmode=require",
            "postgres://u@h/db?application_name=x&sslmode=verify-full",
            "host=h sslmode=verify-ca",
            "host=h sslmode = require",
        ] {
            let err = parse(url).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{url}");
            assert!(err.message().contains("TLS"), "{url}: {err}");
        }
        assert_eq!(parse("postgres://u@h/db?sslmode=disable").unwrap().get_ssl_mode(), SslMode::Disable);
        assert_eq!(parse("postgres://u@h/db?sslmode=prefer").unwrap().get_ssl_mode(), SslMode::Prefer);
        assert_eq!(parse("postgres://u@h/db").unwrap().get_ssl_mode(), SslMode::Prefer);
    }

    #[test]
    fn bad_strings_are_config_errors_without_the_password() {
        let err = parse("postgres://u:hunter2@h/db?nonsense=1").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("nonsense"), "{err}");
    }
}
