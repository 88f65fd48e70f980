//! Finding a PostgreSQL server for the tests, once per process.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio_postgres::{Client, NoTls};

/// How long a reachability check may take to connect and answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The local server tried when `QUARRY_PG_URL` is unset (database chosen at run time).
const LOCAL: &str = "postgres://postgres@127.0.0.1:5432";

/// A PostgreSQL server the tests can use, from [`pg_server`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgServer {
    url: String,
    source: PgSource,
}

/// Where a [`PgServer`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PgSource {
    /// `QUARRY_PG_URL`.
    EnvUrl,
    /// The server on 127.0.0.1:5432 (user `postgres`).
    Local,
    /// A temporary cluster started by this crate from the system's binaries.
    TempCluster {
        /// Its data directory.
        data_dir: PathBuf,
        /// Its port on 127.0.0.1.
        port: u16,
    },
}

impl PgServer {
    pub(crate) fn new(url: String, source: PgSource) -> Self {
        Self { url, source }
    }

    /// The base URL (a superuser connection to an existing database, no search_path override).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Where the server came from.
    pub fn source(&self) -> &PgSource {
        &self.source
    }

    /// Whether this is a temporary cluster started by this crate.
    pub fn is_temporary(&self) -> bool {
        matches!(self.source, PgSource::TempCluster { .. })
    }
}

/// Where the server is, found once per process: `QUARRY_PG_URL` when set (and
/// then only it: Err when it does not answer); else a server reachable on
/// 127.0.0.1:5432 as user `postgres` (database `test` if it exists, else
/// `postgres`); else the shared temporary cluster started from the system's
/// PostgreSQL binaries (reused across processes, left running at exit; see
/// [`crate::stop_temp_cluster`]). Err(reason) when none works.
///
/// The outcome, success or failure, is cached for the life of the process.
pub async fn pg_server() -> Result<PgServer, String> {
    static SERVER: OnceCell<Result<PgServer, String>> = OnceCell::const_new();
    SERVER.get_or_init(discover).await.clone()
}

async fn discover() -> Result<PgServer, String> {
    if let Some(url) = std::env::var("QUARRY_PG_URL").ok().filter(|u| !u.trim().is_empty()) {
        return match check_server(&url, None).await {
            Ok(()) => Ok(PgServer::new(url, PgSource::EnvUrl)),
            Err(e) => Err(format!("QUARRY_PG_URL is set but its server is not usable: {e}")),
        };
    }
    let local_error = match local_server().await {
        Ok(server) => return Ok(server),
        Err(e) => e,
    };
    match crate::cluster::shared_cluster().await {
        Ok(server) => {
            if let PgSource::TempCluster { data_dir, .. } = server.source() {
                eprintln!(
                    "quarry-testkit: no PostgreSQL on 127.0.0.1:5432 ({local_error}); using the temporary cluster \
                     {} in {} (left running; stop it with quarry_testkit::stop_temp_cluster)",
                    server.url(),
                    data_dir.display()
                );
            }
            Ok(server)
        }
        Err(e) => Err(format!(
            "QUARRY_PG_URL is not set; no server on 127.0.0.1:5432 ({local_error}); no temporary cluster ({e})"
        )),
    }
}

async fn local_server() -> Result<PgServer, String> {
    let admin = format!("{LOCAL}/postgres");
    let client = connect_within(&admin, CHECK_TIMEOUT).await?;
    let has_test = tokio::time::timeout(
        CHECK_TIMEOUT,
        client.query_one("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'test')", &[]),
    )
    .await
    .map_err(|_| "timed out".to_owned())?
    .map_err(|e| error_chain(&e))?
    .try_get::<_, bool>(0)
    .map_err(|e| e.to_string())?;
    drop(client);
    if has_test {
        let url = format!("{LOCAL}/test");
        if check_server(&url, None).await.is_ok() {
            return Ok(PgServer::new(url, PgSource::Local));
        }
    }
    Ok(PgServer::new(admin, PgSource::Local))
}

/// Connects and runs `SELECT 1` within [`CHECK_TIMEOUT`]; with `data_dir`, also
/// checks the server runs from that directory (a recorded temporary cluster,
/// not whatever took its port since).
pub(crate) async fn check_server(url: &str, data_dir: Option<&Path>) -> Result<(), String> {
    let check = async {
        let client = connect_within(url, CHECK_TIMEOUT).await?;
        client.simple_query("SELECT 1").await.map_err(|e| error_chain(&e))?;
        if let Some(expected) = data_dir {
            let row = client.query_one("SELECT current_setting('data_directory')", &[]).await;
            let actual: String = row.and_then(|r| r.try_get(0)).map_err(|e| e.to_string())?;
            if Path::new(&actual) != expected {
                return Err(format!("the server there runs from {actual}, not {}", expected.display()));
            }
        }
        Ok(())
    };
    tokio::time::timeout(CHECK_TIMEOUT, check).await.map_err(|_| format!("{url}: timed out"))?
}

/// [`crate::connect`] with a time limit and the error as text.
pub(crate) async fn connect_within(url: &str, limit: Duration) -> Result<Client, String> {
    match tokio::time::timeout(limit, connect(url)).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(format!("cannot connect to {url}: {}", error_chain(&e))),
        Err(_) => Err(format!("cannot connect to {url}: timed out after {} s", limit.as_secs())),
    }
}

/// An error with its sources (tokio-postgres' messages alone are terse: "error connecting to server").
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Connects with tokio-postgres (no TLS) and spawns the connection's task on
/// the current tokio runtime; the connection closes when the client is dropped.
pub async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        // Errors show up on the client; nothing to report here.
        let _ = connection.await;
    });
    Ok(client)
}
