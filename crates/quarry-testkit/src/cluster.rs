//! Temporary PostgreSQL clusters started from the system's binaries (see the
//! crate documentation, "Temporary clusters").

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::server::{PgServer, PgSource, check_server};

/// The state name of the cluster [`crate::pg_server`] falls back to.
const SHARED: &str = "shared";
/// How long to wait for another process holding the lock (an `initdb` takes seconds).
const LOCK_WAIT: Duration = Duration::from_secs(180);
/// Unix socket paths are limited to 107 bytes; the socket file name takes 16.
const MAX_SOCKET_DIR_LEN: usize = 90;

/// How [`PgCluster::stop`] shuts a server down: `pg_ctl stop -m <mode>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Wait for every client to disconnect.
    Smart,
    /// Roll back open transactions, disconnect clients, shut down cleanly.
    Fast,
    /// Kill every server process without a clean shutdown (crash recovery on the next start).
    Immediate,
}

impl StopMode {
    fn as_arg(self) -> &'static str {
        match self {
            StopMode::Smart => "smart",
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        }
    }
}

/// A private temporary PostgreSQL cluster from [`start_temp_cluster`].
///
/// It listens on `127.0.0.1:<port>` only, trusts every local connection
/// (superuser `postgres`), and runs with `fsync=off` (crash safety is not
/// needed; `synchronous_commit` keeps its default, `on`). Dropping it stops
/// the server (`-m immediate`) and deletes its data directory, blocking the
/// thread for a fraction of a second; if the process dies first, the next
/// cluster creation in this target directory cleans up.
#[derive(Debug)]
pub struct PgCluster {
    env: &'static ClusterEnv,
    data_dir: PathBuf,
    port: u16,
    url: String,
    /// `name=value` server settings given to every start (`-c`).
    settings: Vec<String>,
}

impl PgCluster {
    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The TCP port the server listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory (`<temp_cluster_dir>/cluster-<port>`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server's log file.
    pub fn log_file(&self) -> PathBuf {
        self.data_dir.join("server.log")
    }

    /// This cluster as a [`PgServer`], e.g. for [`crate::PgTestDb::create`].
    pub fn server(&self) -> PgServer {
        PgServer::new(self.url.clone(), PgSource::TempCluster { data_dir: self.data_dir.clone(), port: self.port })
    }

    /// Stops the server (`pg_ctl stop -w -m <mode>`); the data directory stays.
    pub async fn stop(&self, mode: StopMode) -> Result<(), String> {
        let (env, dir) = (self.env, self.data_dir.clone());
        blocking(move || env.stop(&dir, mode)).await
    }

    /// Starts the server again after [`stop`](Self::stop), on the same port
    /// and with the same settings.
    pub async fn start(&self) -> Result<(), String> {
        let (env, dir, port, settings) = (self.env, self.data_dir.clone(), self.port, self.settings.clone());
        blocking(move || env.start(&dir, port, &settings)).await
    }

    /// The postmaster's process id (the first line of `postmaster.pid`), for
    /// signalling it; Err when the server is not running.
    pub fn postmaster_pid(&self) -> Result<u32, String> {
        let file = self.data_dir.join("postmaster.pid");
        let text = fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        text.lines()
            .next()
            .and_then(|line| line.trim().parse().ok())
            .ok_or_else(|| format!("{} does not start with a process id", file.display()))
    }
}

/// Sends `signal` (`"STOP"`, `"CONT"`, `"KILL"`, `"TERM"`...) to process
/// `pid` with `kill(1)`: a PostgreSQL backend (`pg_backend_pid()`) or the
/// postmaster ([`PgCluster::postmaster_pid`]) of a server on this machine.
pub fn signal(pid: u32, signal: &str) -> Result<(), String> {
    let mut cmd = Command::new("kill");
    cmd.arg(format!("-{signal}")).arg(pid.to_string()).stdin(Stdio::null());
    run(cmd, "kill").map(drop)
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.env.destroy(&self.data_dir);
    }
}

/// Starts a private temporary cluster on a free port and waits until it accepts connections.
///
/// `initdb` runs into a temporary directory that is renamed when complete,
/// then `pg_ctl -w start`; as root both run as the `postgres` user (through
/// `runuser`). Takes about a second on an idle machine. Err(reason) when no
/// PostgreSQL binaries are found ([`pg_bin_dir`]) or the server does not start
/// (the reason includes the end of the server log).
pub async fn start_temp_cluster() -> Result<PgCluster, String> {
    start_temp_cluster_with(&[]).await
}

/// [`start_temp_cluster`] with server settings (`"max_connections=5"`),
/// passed as `-c name=value` to this and every later start.
pub async fn start_temp_cluster_with(settings: &[&str]) -> Result<PgCluster, String> {
    let settings: Vec<String> = settings.iter().map(|s| (*s).to_owned()).collect();
    if let Some(bad) = settings.iter().find(|s| !s.contains('=')) {
        return Err(format!("server setting {bad:?} is not name=value"));
    }
    let env = blocking(env).await?;
    let lock = env.lock().await?;
    let owner = Owner::Process(std::process::id());
    let create_settings = settings.clone();
    let (data_dir, port) = blocking(move || {
        let _lock = lock;
        env.sweep();
        env.create(&owner, &create_settings)
    })
    .await?;
    let cluster = PgCluster { env, url: local_url(port), data_dir, port, settings };
    check_server(&cluster.url, Some(&cluster.data_dir)).await?;
    Ok(cluster)
}

/// The shared temporary cluster [`crate::pg_server`] falls back to: reused when
/// the state file names a live cluster, else created (under the lock). It is
/// left running when the process exits; [`stop_temp_cluster`] stops it.
pub(crate) async fn shared_cluster() -> Result<PgServer, String> {
    cluster_for_state(SHARED.to_owned(), Owner::Shared(SHARED.to_owned())).await
}

/// Finds (or creates) the cluster recorded in the state file `<name>.env`.
async fn cluster_for_state(name: String, owner: Owner) -> Result<PgServer, String> {
    let env = blocking(env).await?;
    let lock = env.lock().await?;
    let ours = namespace_id();
    if let Some(state) = env.read_state(&name) {
        let url = local_url(state.port);
        let mut alive = check_server(&url, Some(&state.data_dir)).await;
        if alive.is_err() {
            // A second chance before replacing a cluster other processes may be using
            // (a busy machine can be slow to fork a backend).
            tokio::time::sleep(Duration::from_millis(500)).await;
            alive = check_server(&url, Some(&state.data_dir)).await;
        }
        if alive.is_ok() {
            return Ok(PgServer::new(url, PgSource::TempCluster { data_dir: state.data_dir, port: state.port }));
        }
        if state.ns != ours {
            return Err(format!(
                "{} names a cluster started from another container or boot ({}), which is unreachable from here; \
                 not touching it",
                env.state_file(&name).display(),
                state.ns
            ));
        }
    }
    let (data_dir, port) = blocking(move || {
        let _lock = lock;
        if let Some(state) = env.read_state(&name) {
            env.destroy(&state.data_dir);
        }
        env.sweep();
        let (dir, port) = env.create(&owner, &[])?;
        if let Err(e) = env.write_state(&name, &dir, port) {
            env.destroy(&dir);
            return Err(e);
        }
        Ok((dir, port))
    })
    .await?;
    let url = local_url(port);
    check_server(&url, Some(&data_dir)).await?;
    Ok(PgServer::new(url, PgSource::TempCluster { data_dir, port }))
}

/// Stops the shared temporary cluster (the one [`crate::pg_server`] starts when no
/// server is reachable) and deletes its data directory and state file.
///
/// Ok(true) when there was one, Ok(false) when there was none. Blocking; call
/// it only when no test is using the cluster. From a shell (e.g. a `just`
/// recipe), the same with the state file ([`temp_cluster_state_file`]):
///
/// ```sh
/// f=target/quarry-pg/shared.env   # or $TMPDIR/quarry-pg/shared.env, see temp_cluster_dir()
/// if [ -f "$f" ]; then
///   . "$f"
///   ${QUARRY_TEMP_PG_RUN_AS:+runuser -u "$QUARRY_TEMP_PG_RUN_AS" --} \
///     "$QUARRY_TEMP_PG_BIN/pg_ctl" -D "$QUARRY_TEMP_PG_DATA" -m fast stop
///   rm -rf "$QUARRY_TEMP_PG_DATA" "$QUARRY_TEMP_PG_DATA.owner" "$f"
/// fi
/// ```
pub fn stop_temp_cluster() -> Result<bool, String> {
    stop_state(SHARED)
}

fn stop_state(name: &str) -> Result<bool, String> {
    let env = env()?;
    let lock = env.open_lock_file()?;
    lock.lock().map_err(|e| format!("cannot lock {}: {e}", env.lock_path().display()))?;
    let Some(state) = env.read_state(name) else {
        return Ok(false);
    };
    if state.ns != namespace_id() {
        return Err(format!(
            "{} was written from another container or boot ({}); not touching it",
            env.state_file(name).display(),
            state.ns
        ));
    }
    env.destroy(&state.data_dir);
    remove_file(&env.state_file(name));
    Ok(true)
}

/// The directory holding temporary clusters, their lock and state files:
/// `$CARGO_TARGET_DIR/quarry-pg`, else `<workspace root>/target/quarry-pg`
/// (the workspace root is the nearest ancestor of `CARGO_MANIFEST_DIR` with a
/// `Cargo.lock`); as root, when the `postgres` user cannot write there (a parent
/// directory it cannot traverse), `<tmp>/quarry-pg` owned by `postgres`.
/// Creates it. Err when no PostgreSQL binaries are found.
pub fn temp_cluster_dir() -> Result<PathBuf, String> {
    env().map(|env| env.base.clone())
}

/// The shared cluster's state file, `<temp_cluster_dir>/shared.env`: shell
/// variables `QUARRY_TEMP_PG_PORT`, `QUARRY_TEMP_PG_DATA`, `QUARRY_TEMP_PG_BIN`,
/// `QUARRY_TEMP_PG_RUN_AS` (empty unless root), `QUARRY_TEMP_PG_URL`,
/// `QUARRY_TEMP_PG_NS`. It exists only while a shared cluster is recorded.
pub fn temp_cluster_state_file() -> Result<PathBuf, String> {
    env().map(|env| env.state_file(SHARED))
}

/// The directory with `initdb` and `pg_ctl`: `$QUARRY_PG_BIN` when set, else the
/// newest `/usr/lib/postgresql/<version>/bin`, else the first `PATH` entry that
/// has both (symlinks resolved, so Debian's wrappers lead to the real binaries).
pub fn pg_bin_dir() -> Result<PathBuf, String> {
    env().map(|env| env.bin_dir.clone())
}

/// Who owns a cluster directory (recorded in `cluster-<port>.owner`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    /// The cluster recorded in the state file `<name>.env`, kept across processes.
    Shared(String),
    /// A private cluster of this process, swept once the process is gone.
    Process(u32),
}

impl Owner {
    fn encode(&self) -> String {
        match self {
            Owner::Shared(name) => format!("shared:{name}"),
            Owner::Process(pid) => format!("pid:{pid}"),
        }
    }

    fn decode(s: &str) -> Option<Owner> {
        match s.split_once(':')? {
            ("shared", name) => Some(Owner::Shared(name.to_owned())),
            ("pid", pid) => pid.parse().ok().map(Owner::Process),
            _ => None,
        }
    }
}

/// A shared cluster's state file.
#[derive(Debug)]
struct State {
    port: u16,
    data_dir: PathBuf,
    ns: String,
}

/// What running `initdb`/`pg_ctl` needs on this machine; detected once per process.
#[derive(Debug)]
pub(crate) struct ClusterEnv {
    bin_dir: PathBuf,
    /// `Some("postgres")` when this process is root (PostgreSQL refuses to run as root).
    run_as: Option<String>,
    base: PathBuf,
}

fn env() -> Result<&'static ClusterEnv, String> {
    static ENV: OnceLock<Result<ClusterEnv, String>> = OnceLock::new();
    ENV.get_or_init(detect).as_ref().map_err(Clone::clone)
}

fn detect() -> Result<ClusterEnv, String> {
    let bin_dir = find_bin_dir()?;
    let preferred = target_dir().join("quarry-pg");
    if !is_root() {
        fs::create_dir_all(&preferred).map_err(|e| format!("cannot create {}: {e}", preferred.display()))?;
        return Ok(ClusterEnv { bin_dir, run_as: None, base: preferred });
    }
    let user = "postgres";
    let (uid, gid) = user_ids(user)
        .map_err(|e| format!("running as root, so PostgreSQL must run as the `{user}` user, but: {e}"))?;
    let base = match prepare_root_base(&preferred, uid, gid, true) {
        Ok(()) => preferred,
        Err(first) => {
            let fallback = std::env::temp_dir().join("quarry-pg");
            prepare_root_base(&fallback, uid, gid, false).map_err(|second| format!("{first}; {second}"))?;
            fallback
        }
    };
    Ok(ClusterEnv { bin_dir, run_as: Some(user.to_owned()), base })
}

/// Root is only ever detected on Unix; this keeps the crate compiling elsewhere.
#[cfg(not(unix))]
fn prepare_root_base(_: &Path, _: u32, _: u32, _: bool) -> Result<(), String> {
    Err("running PostgreSQL as another user is only supported on Unix".to_owned())
}

/// Creates `dir` owned by the `postgres` user and checks that user can write to it
/// (which fails when a parent directory is not traversable by it).
#[cfg(unix)]
fn prepare_root_base(dir: &Path, uid: u32, gid: u32, take_ownership: bool) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let shown = dir.display();
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    match fs::create_dir(dir) {
        Ok(()) => std::os::unix::fs::chown(dir, Some(uid), Some(gid))
            .map_err(|e| format!("cannot chown {shown} to postgres: {e}"))?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let meta = fs::metadata(dir).map_err(|e| format!("cannot stat {shown}: {e}"))?;
            if meta.uid() != uid {
                if !take_ownership {
                    return Err(format!("{shown} exists and is not owned by postgres"));
                }
                std::os::unix::fs::chown(dir, Some(uid), Some(gid))
                    .map_err(|e| format!("cannot chown {shown} to postgres: {e}"))?;
            }
        }
        Err(e) => return Err(format!("cannot create {shown}: {e}")),
    }
    let status = Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-w"])
        .arg(dir)
        .current_dir("/")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run runuser: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} is not writable by the postgres user (is a parent directory not traversable?)"))
    }
}

impl ClusterEnv {
    fn lock_path(&self) -> PathBuf {
        self.base.join(".lock")
    }

    fn state_file(&self, name: &str) -> PathBuf {
        self.base.join(format!("{name}.env"))
    }

    fn open_lock_file(&self) -> Result<File, String> {
        let path = self.lock_path();
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            // Created by another user (root and non-root runs sharing a target
            // directory): flock works on a read-only descriptor too.
            .or_else(|_| File::open(&path))
            .map_err(|e| format!("cannot open {}: {e}", path.display()))
    }

    /// Takes the base directory's lock (an `flock`, released when the file is
    /// dropped or the process dies), polling so no thread blocks.
    async fn lock(&self) -> Result<File, String> {
        let file = self.open_lock_file()?;
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(format!(
                        "another process held {} for {} s",
                        self.lock_path().display(),
                        LOCK_WAIT.as_secs()
                    ));
                }
                Err(TryLockError::Error(e)) => {
                    return Err(format!("cannot lock {}: {e}", self.lock_path().display()));
                }
            }
        }
    }

    /// A command running `tool` from the bin directory, as `postgres` when root.
    fn command(&self, tool: &str) -> Command {
        let program = self.bin_dir.join(tool);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(program);
                cmd
            }
            None => Command::new(program),
        };
        // The `postgres` user may not be able to enter the test's working directory.
        cmd.current_dir("/").stdin(Stdio::null());
        cmd
    }

    /// Creates and starts a cluster on a free port (the lock must be held).
    fn create(&self, owner: &Owner, settings: &[String]) -> Result<(PathBuf, u16), String> {
        let mut last_error = String::from("every probed port had a cluster directory");
        for _ in 0..3 {
            let port = free_port()?;
            let dir = self.base.join(format!("cluster-{port}"));
            if dir.exists() {
                continue; // a stopped cluster of a live process
            }
            let tmp = self.base.join(format!("cluster-{port}.tmp-{}", std::process::id()));
            remove_dir(&tmp);
            if let Err(e) = self.initdb(&tmp) {
                remove_dir(&tmp);
                return Err(e);
            }
            let record = format!("ns={}\nowner={}\n", shell_quote(&namespace_id()), owner.encode());
            if let Err(e) = fs::write(owner_file(&dir), record) {
                remove_dir(&tmp);
                return Err(format!("cannot write {}: {e}", owner_file(&dir).display()));
            }
            if let Err(e) = fs::rename(&tmp, &dir) {
                remove_dir(&tmp);
                remove_file(&owner_file(&dir));
                return Err(format!("cannot rename {} to {}: {e}", tmp.display(), dir.display()));
            }
            match self.start(&dir, port, settings) {
                Ok(()) => return Ok((dir, port)),
                Err(e) => {
                    // Most likely the port was taken since we probed it: try another.
                    self.destroy(&dir);
                    last_error = e;
                }
            }
        }
        Err(last_error)
    }

    fn initdb(&self, dir: &Path) -> Result<(), String> {
        let mut cmd = self.command("initdb");
        cmd.arg("-D").arg(dir).args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
        run(cmd, "initdb").map(drop)
    }

    fn start(&self, dir: &Path, port: u16, settings: &[String]) -> Result<(), String> {
        // pg_ctl passes -o through /bin/sh: quote the socket directory.
        let socket_dir = match dir.to_str() {
            Some(path) if path.len() <= MAX_SOCKET_DIR_LEN => shell_quote(path),
            _ => "''".to_owned(), // no Unix socket; TCP only
        };
        let mut options = format!("-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off");
        for setting in settings {
            options.push_str(" -c ");
            options.push_str(&shell_quote(setting));
        }
        let log = dir.join("server.log");
        let mut cmd = self.command("pg_ctl");
        cmd.arg("-D").arg(dir).arg("-l").arg(&log).args(["-w", "-t", "60", "-o", &options, "start"]);
        run(cmd, "pg_ctl start").map(drop).map_err(|e| format!("{e}; server log: {}", log_tail(&log)))
    }

    fn stop(&self, dir: &Path, mode: StopMode) -> Result<(), String> {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("-D").arg(dir).args(["-m", mode.as_arg(), "-w", "-t", "30", "stop"]);
        run(cmd, "pg_ctl stop").map(drop)
    }

    /// Stops the server if one runs, deletes the data directory and its owner record.
    /// Never fails: problems go to stderr.
    fn destroy(&self, dir: &Path) {
        if dir.join("postmaster.pid").exists()
            && let Err(e) = self.stop(dir, StopMode::Immediate)
        {
            eprintln!("quarry-testkit: stopping the cluster in {}: {e}", dir.display());
        }
        remove_dir(dir);
        remove_file(&owner_file(dir));
    }

    /// Deletes what crashed processes left behind (the lock must be held):
    /// unfinished `initdb` directories, clusters whose owner is gone, state files
    /// naming missing clusters. Only touches records of this boot and PID namespace.
    fn sweep(&self) {
        if !Path::new("/proc/self").exists() {
            return; // cannot tell live processes from dead ones
        }
        let Ok(entries) = fs::read_dir(&self.base) else {
            return;
        };
        let ours = namespace_id();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if let Some((_, pid)) = name.rsplit_once(".tmp-") {
                // Written only under the lock, which we hold: a leftover of a dead process.
                if !pid.parse().is_ok_and(process_alive) {
                    if path.is_dir() { remove_dir(&path) } else { remove_file(&path) }
                }
            } else if name.starts_with("cluster-") && !name.contains('.') && path.is_dir() {
                let record = read_vars(&owner_file(&path));
                let ns = record.iter().find(|(k, _)| k == "ns").map(|(_, v)| v.as_str());
                if ns.is_some_and(|ns| ns != ours) {
                    continue; // another container's cluster
                }
                let owner = record.iter().find(|(k, _)| k == "owner").and_then(|(_, v)| Owner::decode(v));
                let keep = match owner {
                    Some(Owner::Process(pid)) => process_alive(pid),
                    Some(Owner::Shared(state)) => self.read_state(&state).is_some_and(|s| s.data_dir == path),
                    None => false,
                };
                if !keep {
                    self.destroy(&path);
                }
            } else if let Some(state) = name.strip_suffix(".env")
                && let Some(s) = self.read_state(state)
                && s.ns == ours
                && !s.data_dir.exists()
            {
                remove_file(&path);
            }
        }
    }

    fn read_state(&self, name: &str) -> Option<State> {
        let vars = read_vars(&self.state_file(name));
        let get = |key: &str| vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        Some(State {
            port: get("QUARRY_TEMP_PG_PORT")?.parse().ok()?,
            data_dir: PathBuf::from(get("QUARRY_TEMP_PG_DATA")?),
            ns: get("QUARRY_TEMP_PG_NS").unwrap_or_default(),
        })
    }

    /// Writes the state file atomically (temporary file, then rename).
    fn write_state(&self, name: &str, dir: &Path, port: u16) -> Result<(), String> {
        let text = format!(
            "# The shared temporary PostgreSQL cluster of quarry-testkit (sourceable by sh).\n\
             QUARRY_TEMP_PG_PORT={port}\n\
             QUARRY_TEMP_PG_DATA={}\n\
             QUARRY_TEMP_PG_BIN={}\n\
             QUARRY_TEMP_PG_RUN_AS={}\n\
             QUARRY_TEMP_PG_URL={}\n\
             QUARRY_TEMP_PG_NS={}\n",
            shell_quote(&dir.to_string_lossy()),
            shell_quote(&self.bin_dir.to_string_lossy()),
            shell_quote(self.run_as.as_deref().unwrap_or("")),
            shell_quote(&local_url(port)),
            shell_quote(&namespace_id()),
        );
        let path = self.state_file(name);
        let tmp = self.base.join(format!("{name}.env.tmp-{}", std::process::id()));
        fs::write(&tmp, text)
            .and_then(|()| fs::rename(&tmp, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

fn local_url(port: u16) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/postgres")
}

fn owner_file(dir: &Path) -> PathBuf {
    let mut name = dir.as_os_str().to_owned();
    name.push(".owner");
    PathBuf::from(name)
}

fn remove_dir(path: &Path) {
    if let Err(e) = fs::remove_dir_all(path)
        && e.kind() != io::ErrorKind::NotFound
    {
        eprintln!("quarry-testkit: cannot remove {}: {e}", path.display());
    }
}

fn remove_file(path: &Path) {
    if let Err(e) = fs::remove_file(path)
        && e.kind() != io::ErrorKind::NotFound
    {
        eprintln!("quarry-testkit: cannot remove {}: {e}", path.display());
    }
}

/// Runs a command, turning a non-zero exit into Err with its output.
fn run(mut cmd: Command, what: &str) -> Result<Output, String> {
    let out = cmd.output().map_err(|e| format!("cannot run {what} ({cmd:?}): {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        Err(format!("{what} failed ({}): {} {}", out.status, stderr.trim(), stdout.trim()))
    }
}

/// The last lines of a server log, for error messages.
fn log_tail(path: &Path) -> String {
    match fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(10)..].join(" | ")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// Runs a blocking closure on tokio's blocking pool.
async fn blocking<T, F>(f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, String> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await.map_err(|e| format!("background task failed: {e}"))?
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Identifies this boot and PID namespace, so process ids in owner records are
/// only compared within the namespace that wrote them.
fn namespace_id() -> String {
    let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let ns = fs::read_link("/proc/self/ns/pid").map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    format!("{}/{}", boot.trim(), ns)
}

fn is_root() -> bool {
    if let Ok(status) = fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("Uid:"))
    {
        // Real, effective, saved, filesystem: the effective one decides.
        return line.split_whitespace().nth(2) == Some("0");
    }
    Command::new("id").arg("-u").output().is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn user_ids(user: &str) -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let mut cmd = Command::new("id");
        cmd.args([flag, user]);
        let out = run(cmd, "id")?;
        String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|e| format!("unexpected output of id: {e}"))
    };
    Ok((id("-u")?, id("-g")?))
}

fn find_bin_dir() -> Result<PathBuf, String> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("QUARRY_PG_BIN").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return if has_tools(&dir) {
            Ok(dir)
        } else {
            Err(format!("QUARRY_PG_BIN={} has no initdb and pg_ctl", dir.display()))
        };
    }
    let mut best: Option<(Vec<u32>, PathBuf)> = None;
    for entry in fs::read_dir("/usr/lib/postgresql").into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(version) = name.split('.').map(|part| part.parse().ok()).collect::<Option<Vec<u32>>>() else {
            continue;
        };
        let bin = entry.path().join("bin");
        if has_tools(&bin) && best.as_ref().is_none_or(|(newest, _)| version > *newest) {
            best = Some((version, bin));
        }
    }
    if let Some((_, bin)) = best {
        return Ok(bin);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        if has_tools(&dir) {
            let real = fs::canonicalize(dir.join("initdb")).ok().and_then(|p| p.parent().map(Path::to_path_buf));
            return Ok(real.filter(|real| has_tools(real)).unwrap_or(dir));
        }
    }
    Err("no PostgreSQL binaries (initdb and pg_ctl) in /usr/lib/postgresql/*/bin or on PATH \
         (set QUARRY_PG_BIN to their directory)"
        .to_owned())
}

/// `$CARGO_TARGET_DIR` (relative to the workspace root when relative), else `<workspace root>/target`.
fn target_dir() -> PathBuf {
    let root = workspace_root();
    match std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => root.join(dir), // join keeps an absolute path as is
        None => root.join("target"),
    }
}

/// The nearest ancestor of the running test's `CARGO_MANIFEST_DIR` (else this
/// crate's) that holds a `Cargo.lock`.
fn workspace_root() -> PathBuf {
    let starts =
        [std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from), Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")))];
    starts
        .into_iter()
        .flatten()
        .find_map(|start| start.ancestors().find(|dir| dir.join("Cargo.lock").is_file()).map(Path::to_path_buf))
        .unwrap_or_else(std::env::temp_dir)
}

/// Quotes for `sh`: `'...'`, with `'` written as `'\''`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Reads `KEY=value` lines (values as written by [`shell_quote`]); missing file → empty.
fn read_vars(path: &Path) -> Vec<(String, String)> {
    let Ok(text) = fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| {
            let value = match value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
                Some(quoted) => quoted.replace(r"'\''", "'"),
                None => value.to_owned(),
            };
            (key.trim().to_owned(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.env");
        let tricky = "/a b/it's/$HOME";
        fs::write(&path, format!("# c\nA={}\nB=7\n", shell_quote(tricky))).expect("write");
        assert_eq!(read_vars(&path), vec![("A".to_owned(), tricky.to_owned()), ("B".to_owned(), "7".to_owned())]);
    }

    #[test]
    fn owner_records_round_trip() {
        for owner in [Owner::Shared("shared".to_owned()), Owner::Process(42)] {
            assert_eq!(Owner::decode(&owner.encode()), Some(owner));
        }
        assert_eq!(Owner::decode("nonsense"), None);
    }

    /// The shared-cluster path (state file, reuse, sweep) under a state name of
    /// its own, owned by this process so that a crash leaves nothing for long.
    #[tokio::test]
    async fn state_file_cluster_is_reused_then_swept() {
        if let Err(reason) = pg_bin_dir() {
            crate::pg_unavailable("state_file_cluster_is_reused_then_swept", &reason);
            return;
        }
        let name = format!("selftest-{}", std::process::id());
        let owner = Owner::Process(std::process::id());
        let first = cluster_for_state(name.clone(), owner.clone()).await.expect("first cluster");
        let second = cluster_for_state(name.clone(), owner).await.expect("second lookup");
        assert_eq!(first.url(), second.url(), "the recorded cluster is reused");
        let env = env().expect("env");
        let state = env.read_state(&name).expect("state file");
        assert!(state.data_dir.join("PG_VERSION").is_file());

        // A cluster whose server died is replaced, not reused.
        env.stop(&state.data_dir, StopMode::Immediate).expect("stop");
        assert!(check_server(first.url(), None).await.is_err(), "stopped");
        let third = cluster_for_state(name.clone(), Owner::Process(std::process::id())).await.expect("third");
        check_server(third.url(), None).await.expect("the replacement is alive");

        let state = env.read_state(&name).expect("state file");
        assert_eq!(stop_state(&name), Ok(true));
        assert!(!state.data_dir.exists());
        assert!(!env.state_file(&name).exists());
        assert!(check_server(third.url(), None).await.is_err(), "stopped");
        assert_eq!(stop_state(&name), Ok(false));
    }

    /// What a killed test process leaves behind is cleaned up by the next creation.
    #[tokio::test]
    async fn sweep_removes_leftovers_of_dead_processes() {
        if let Err(reason) = pg_bin_dir() {
            crate::pg_unavailable("sweep_removes_leftovers_of_dead_processes", &reason);
            return;
        }
        let mut child = Command::new("true").spawn().expect("spawn");
        let dead = child.id();
        child.wait().expect("wait");
        let env = env().expect("env");

        let lock = env.lock().await.expect("lock");
        let (dir, port) = blocking(move || env.create(&Owner::Process(dead), &[])).await.expect("cluster");
        let half = env.base.join(format!("cluster-1.tmp-{dead}"));
        fs::create_dir(&half).expect("half-initialised dir");
        let live = env.base.join(format!("cluster-2.tmp-{}", std::process::id()));
        fs::create_dir(&live).expect("in-progress dir");
        check_server(&local_url(port), Some(&dir)).await.expect("running");

        blocking(move || {
            env.sweep();
            Ok(())
        })
        .await
        .expect("sweep");
        drop(lock);
        assert!(!dir.exists(), "the dead process's cluster was deleted");
        assert!(!owner_file(&dir).exists());
        assert!(check_server(&local_url(port), None).await.is_err(), "and its server stopped");
        assert!(!half.exists(), "the half-initialised directory was deleted");
        assert!(live.exists(), "a live process's directory stays");
        remove_dir(&live);
    }
}
