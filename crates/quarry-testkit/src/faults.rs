//! Network faults from user space (no iptables or netem here): a TCP proxy
//! that can black-hole, reset, close, refuse or delay connections, and a fake
//! PostgreSQL server that completes the handshake and then never answers.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forward both ways.
    Pass,
    /// Stop forwarding but keep every socket open: a peer that went silent
    /// without RST or FIN (a failover, a cut cable).
    Blackhole,
}

/// A TCP proxy on `127.0.0.1:<random port>` in front of a server, whose
/// connections a test can break on purpose.
///
/// ```no_run
/// # async fn example() -> std::io::Result<()> {
/// let proxy = quarry_testkit::FaultProxy::start("127.0.0.1:5432".parse().unwrap()).await?;
/// let url = format!("postgres://postgres@{}/postgres", proxy.addr());
/// // ... connect through `url`, then:
/// proxy.blackhole();      // everything goes silent
/// proxy.reset_all();      // every connection gets an RST
/// proxy.refuse_new(true); // new connections are closed at once
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<ProxyState>,
    accept_task: JoinHandle<()>,
}

#[derive(Debug)]
struct ProxyState {
    upstream: SocketAddr,
    mode: watch::Sender<ProxyMode>,
    refuse: AtomicBool,
    delay_ms: AtomicU64,
    /// Bumped to end every open connection; the value says how.
    generation: watch::Sender<(u64, Ending)>,
    connections: Mutex<u64>,
}

/// How [`FaultProxy`] ends its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// Close with FIN.
    Close,
    /// Abort with RST (`SO_LINGER` 0).
    Reset,
}

impl FaultProxy {
    /// Start a proxy in front of `upstream` on the current tokio runtime.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (mode, _) = watch::channel(ProxyMode::Pass);
        let (generation, _) = watch::channel((0, Ending::Close));
        let state = Arc::new(ProxyState {
            upstream,
            mode,
            refuse: AtomicBool::new(false),
            delay_ms: AtomicU64::new(0),
            generation,
            connections: Mutex::new(0),
        });
        let accept_state = state.clone();
        let accept_task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if accept_state.refuse.load(Ordering::Relaxed) {
                    drop(client);
                    continue;
                }
                tokio::spawn(relay(client, accept_state.clone()));
            }
        });
        Ok(FaultProxy { addr, state, accept_task })
    }

    /// The address to connect to instead of the server's.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections the proxy has accepted and relayed so far.
    pub fn connections(&self) -> u64 {
        self.state.connections.lock().map(|n| *n).unwrap_or(0)
    }

    /// Forward traffic again.
    pub fn pass(&self) {
        self.state.mode.send_replace(ProxyMode::Pass);
    }

    /// Stop forwarding in both directions, keeping every socket open.
    pub fn blackhole(&self) {
        self.state.mode.send_replace(ProxyMode::Blackhole);
    }

    /// End every open connection with an RST.
    pub fn reset_all(&self) {
        self.end_all(Ending::Reset);
    }

    /// End every open connection with a FIN.
    pub fn close_all(&self) {
        self.end_all(Ending::Close);
    }

    fn end_all(&self, how: Ending) {
        self.state.generation.send_modify(|(n, ending)| {
            *n += 1;
            *ending = how;
        });
    }

    /// Close new connections at once (or accept them again).
    pub fn refuse_new(&self, refuse: bool) {
        self.state.refuse.store(refuse, Ordering::Relaxed);
    }

    /// Delay every forwarded chunk by `delay`.
    pub fn delay(&self, delay: Duration) {
        self.state.delay_ms.store(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept_task.abort();
        self.close_all();
    }
}

async fn relay(client: TcpStream, state: Arc<ProxyState>) {
    let Ok(server) = TcpStream::connect(state.upstream).await else {
        return;
    };
    if let Ok(mut n) = state.connections.lock() {
        *n += 1;
    }
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let ended = state.generation.subscribe();
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = tokio::spawn(pump(client_read, server_write, state.clone(), ended.clone()));
    let down = tokio::spawn(pump(server_read, client_write, state.clone(), ended.clone()));
    let (Ok(Ok(up)), Ok(Ok(down))) = (up.await, down.await) else {
        return;
    };
    // Both pumps stopped: the connection ended by itself, or the test ended
    // it. For a reset, reunite each socket and set SO_LINGER to zero, so that
    // dropping it sends RST instead of FIN.
    let (client_read, server_write, ending_up) = up;
    let (server_read, client_write, ending_down) = down;
    if matches!(ending_up.or(ending_down), Some(Ending::Reset)) {
        for stream in [client_read.reunite(client_write), server_read.reunite(server_write)].into_iter().flatten() {
            let _ = stream.set_zero_linger();
        }
    }
}

type Halves = (tokio::net::tcp::OwnedReadHalf, tokio::net::tcp::OwnedWriteHalf, Option<Ending>);

/// Copy `from` to `to`, honouring the proxy's mode and delay, until the
/// peer closes or the test ends every connection (then say how).
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    state: Arc<ProxyState>,
    mut ended: watch::Receiver<(u64, Ending)>,
) -> std::io::Result<Halves> {
    let start = ended.borrow_and_update().0;
    let mut mode = state.mode.subscribe();
    let mut buf = vec![0_u8; 16 * 1024];
    loop {
        let blackholed = *mode.borrow_and_update() == ProxyMode::Blackhole;
        let n = tokio::select! {
            changed = ended.changed() => {
                let (n, how) = *ended.borrow_and_update();
                if changed.is_err() || n != start {
                    return Ok((from, to, Some(how)));
                }
                continue;
            }
            _ = mode.changed() => continue,
            // A black hole reads nothing and writes nothing.
            read = from.read(&mut buf), if !blackholed => read?,
        };
        if n == 0 {
            let _ = to.shutdown().await;
            return Ok((from, to, None));
        }
        let delay = state.delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        // Bytes read just before a black hole began are held back with the rest.
        while *mode.borrow_and_update() == ProxyMode::Blackhole {
            tokio::select! {
                changed = ended.changed() => {
                    let (n, how) = *ended.borrow_and_update();
                    if changed.is_err() || n != start {
                        return Ok((from, to, Some(how)));
                    }
                }
                _ = mode.changed() => {}
            }
        }
        to.write_all(&buf[..n]).await?;
    }
}

/// A fake PostgreSQL server: it answers the startup handshake (trust
/// authentication, a few parameters, `ReadyForQuery`) and then reads and
/// ignores everything, forever — the peer that sqlx#4349 needed to prove an
/// on-release ping is bounded.
#[derive(Debug)]
pub struct SilentServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl SilentServer {
    /// Start it on `127.0.0.1:<random port>`.
    pub async fn start() -> std::io::Result<SilentServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(handshake_then_silence(stream));
            }
        });
        Ok(SilentServer { addr, task })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A URL for it.
    pub fn url(&self) -> String {
        format!("postgres://postgres@{}/postgres", self.addr)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A backend message: type byte, length (including itself), body.
fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push(kind);
    out.extend_from_slice(&u32::try_from(body.len() + 4).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn parameter(name: &str, value: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(name.as_bytes());
    body.push(0);
    body.extend_from_slice(value.as_bytes());
    body.push(0);
    message(b'S', &body)
}

async fn read_startup(stream: &mut TcpStream) -> std::io::Result<()> {
    loop {
        let mut len = [0_u8; 4];
        stream.read_exact(&mut len).await?;
        let len = u32::from_be_bytes(len) as usize;
        let mut body = vec![0_u8; len.saturating_sub(4)];
        stream.read_exact(&mut body).await?;
        // SSLRequest (80877103) or GSSENCRequest (80877104): decline and
        // wait for the real startup message.
        let code = body.get(..4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
        if matches!(code, Some(80_877_103 | 80_877_104)) {
            stream.write_all(b"N").await?;
            continue;
        }
        return Ok(());
    }
}

async fn handshake_then_silence(mut stream: TcpStream) {
    if read_startup(&mut stream).await.is_err() {
        return;
    }
    let mut reply = message(b'R', &0_u32.to_be_bytes()); // AuthenticationOk
    for (name, value) in [
        ("server_version", "15.0"),
        ("server_encoding", "UTF8"),
        ("client_encoding", "UTF8"),
        ("DateStyle", "ISO, MDY"),
        ("integer_datetimes", "on"),
        ("standard_conforming_strings", "on"),
        ("TimeZone", "UTC"),
    ] {
        reply.extend(parameter(name, value));
    }
    let mut key = Vec::new();
    key.extend_from_slice(&4242_u32.to_be_bytes());
    key.extend_from_slice(&7_u32.to_be_bytes());
    reply.extend(message(b'K', &key)); // BackendKeyData
    reply.extend(message(b'Z', b"I")); // ReadyForQuery, idle
    if stream.write_all(&reply).await.is_err() {
        return;
    }
    // Silence: read and discard until the client gives up.
    let mut sink = vec![0_u8; 4096];
    while let Ok(n) = stream.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}
