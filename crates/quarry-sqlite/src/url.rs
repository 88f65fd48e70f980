//! Parsing `sqlite:` URLs.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use quarry_core::{Error, ErrorKind};

/// Where the database lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    /// A private in-memory database shared by one pool's connections, held
    /// by SQLite's `memdb` VFS under a name unique to the pool.
    Memory(String),
    /// A database file.
    File(PathBuf),
}

/// How the database is opened (`?mode=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccessMode {
    /// `ro`: reads only; writes fail with `ErrorKind::ReadOnly`.
    Ro,
    /// `rw`: the file must exist.
    Rw,
    /// `rwc` (the default): created if missing.
    Rwc,
}

/// What a `sqlite:` URL says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SqliteOptions {
    pub(crate) location: Location,
    pub(crate) mode: AccessMode,
    /// How long a connection waits for a lock (and a writer for the write connection).
    pub(crate) busy_timeout: Duration,
    /// `PRAGMA synchronous` for file databases (`full` by default).
    pub(crate) synchronous: Synchronous,
    /// `immutable=1`: the file cannot change (read-only media); SQLite takes
    /// no locks and needs no `-shm` file. Implies `mode=ro`.
    pub(crate) immutable: bool,
    /// `max_variables=<n>`: lower `SQLITE_LIMIT_VARIABLE_NUMBER` (the most
    /// parameters one statement binds) on every connection; bulk inserts
    /// split under it.
    pub(crate) max_variables: Option<u32>,
}

/// `PRAGMA synchronous`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Synchronous {
    Off,
    Normal,
    Full,
}

impl Synchronous {
    pub(crate) fn as_sql(self) -> &'static str {
        match self {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

fn config_error(message: String) -> Error {
    Error::new(ErrorKind::Config, message)
}

/// Decode `%XX` escapes (paths with spaces and the like).
fn percent_decode(text: &str) -> Result<String, Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(b) = hex else {
                return Err(config_error(format!("bad percent escape in SQLite URL path {text:?}")));
            };
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| config_error(format!("SQLite URL path {text:?} is not UTF-8")))
}

fn unique_memory_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("/quarry-memory-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Parse `sqlite::memory:`, `sqlite://relative/path.db`,
/// `sqlite:///absolute/path.db` (or `sqlite:path`), with the query
/// parameters `mode=ro|rw|rwc`, `immutable=1`, `busy_timeout=<ms>`,
/// `synchronous=off|normal|full` and `max_variables=<n>`.
pub(crate) fn parse(url: &str) -> Result<SqliteOptions, Error> {
    let rest = url
        .strip_prefix("sqlite:")
        .ok_or_else(|| config_error(format!("not a SQLite URL: {url:?} (expected sqlite:...)")))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.strip_prefix("//").unwrap_or(path);
    let location = match path {
        ":memory:" => Location::Memory(unique_memory_name()),
        "" => return Err(config_error(format!("SQLite URL {url:?} names no database file"))),
        path => Location::File(PathBuf::from(percent_decode(path)?)),
    };
    let mut options = SqliteOptions {
        location,
        mode: AccessMode::Rwc,
        busy_timeout: Duration::from_secs(5),
        synchronous: Synchronous::Full,
        immutable: false,
        max_variables: None,
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match (key, value) {
            ("mode", "ro") => options.mode = AccessMode::Ro,
            ("mode", "rw") => options.mode = AccessMode::Rw,
            ("mode", "rwc") => options.mode = AccessMode::Rwc,
            ("busy_timeout", ms) => {
                let ms: u64 = ms
                    .parse()
                    .map_err(|_| config_error(format!("busy_timeout={ms:?} is not a number of milliseconds")))?;
                options.busy_timeout = Duration::from_millis(ms);
            }
            ("immutable", "1" | "true") => {
                options.immutable = true;
                options.mode = AccessMode::Ro;
            }
            ("immutable", "0" | "false") => options.immutable = false,
            ("synchronous", v) => {
                options.synchronous = match v.to_ascii_lowercase().as_str() {
                    "off" => Synchronous::Off,
                    "normal" => Synchronous::Normal,
                    "full" => Synchronous::Full,
                    _ => return Err(config_error(format!("synchronous={v:?} is not off, normal or full"))),
                }
            }
            ("max_variables", n) => {
                let n: u32 = n
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| config_error(format!("max_variables={n:?} is not a positive number")))?;
                options.max_variables = Some(n);
            }
            _ => {
                return Err(config_error(format!(
                    "unknown SQLite URL parameter {pair:?} (known: mode=ro|rw|rwc, immutable=1, busy_timeout=<ms>, synchronous=off|normal|full, max_variables=<n>)"
                )));
            }
        }
    }
    if options.mode == AccessMode::Ro && matches!(options.location, Location::Memory(_)) {
        return Err(config_error("an in-memory database cannot be opened read-only".into()));
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_url_forms() {
        let o = parse("sqlite::memory:").unwrap();
        assert!(matches!(o.location, Location::Memory(ref n) if n.starts_with("/quarry-memory-")));
        assert_ne!(parse("sqlite::memory:").unwrap().location, o.location, "each pool gets its own database");
        assert_eq!(parse("sqlite://data/app.db").unwrap().location, Location::File("data/app.db".into()));
        assert_eq!(parse("sqlite:///tmp/a%20b.db").unwrap().location, Location::File("/tmp/a b.db".into()));
        assert_eq!(parse("sqlite:app.db").unwrap().location, Location::File("app.db".into()));
        let o = parse("sqlite://x.db?immutable=1").unwrap();
        assert!(o.immutable && o.mode == AccessMode::Ro);
        let o = parse("sqlite://x.db?mode=ro&busy_timeout=250&synchronous=normal").unwrap();
        assert_eq!(o.mode, AccessMode::Ro);
        assert_eq!(o.busy_timeout, Duration::from_millis(250));
        assert_eq!(o.synchronous, Synchronous::Normal);
        assert_eq!(o.max_variables, None);
        assert_eq!(parse("sqlite://x.db?max_variables=999").unwrap().max_variables, Some(999));
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "postgres://x",
            "sqlite://",
            "sqlite://x.db?mode=wat",
            "sqlite://x.db?cache=shared",
            "sqlite::memory:?mode=ro",
            "sqlite://x.db?max_variables=0",
            "sqlite://x.db?max_variables=many",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{bad}: {e}");
        }
    }
}
