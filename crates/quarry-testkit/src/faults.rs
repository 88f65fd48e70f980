//! Network faults from user space (no iptables or netem here): a TCP proxy
//! that can black-hole, reset, close, refuse or delay connections, or cut one
//! right after forwarding a given client message, and a fake PostgreSQL
//! server that completes the handshake and then never answers.

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
/// proxy.cut_after_forwarding(b"COMMIT"); // the next COMMIT reaches the server, its answer never comes back
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
    /// The pattern of an armed [`FaultProxy::cut_after_forwarding`].
    cut: Mutex<Option<Vec<u8>>>,
    /// How many connections such cuts have ended.
    cuts: AtomicU64,
}

/// The longest pattern [`FaultProxy::cut_after_forwarding`] finds even when
/// the client's bytes arrive split across several reads.
const CUT_WINDOW: usize = 1024;

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
            cut: Mutex::new(None),
            cuts: AtomicU64::new(0),
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

    /// Arm a one-shot cut: the first chunk of client bytes forwarded after
    /// this call in which `pattern` ends (found across reads for patterns of
    /// up to 1 KiB) is forwarded to the server in full, and then that
    /// connection is closed on both sides (FIN) without relaying anything
    /// more in either direction. The server gets the message, the client never
    /// gets its answer: a `COMMIT` whose outcome the client cannot know
    /// (`cut_after_forwarding(b"COMMIT")`).
    ///
    /// A pattern forwarded before the call never fires it, and only the
    /// client-to-server direction is searched. The cut fires on one
    /// connection (the first to send the pattern) and then disarms itself;
    /// other connections and later ones pass as usual ([`cuts`](Self::cuts)
    /// counts the cuts). Arming again replaces a pattern that has not fired.
    /// The chunk is the proxy's read, not a protocol message: a client
    /// message that goes on in a later read is forwarded only up to the end
    /// of the read that completed the pattern (small messages such as
    /// PostgreSQL's `Query` fit in one read).
    ///
    /// The stop of the server-to-client relay is ordered before the chunk is
    /// written to the server, so no answer to it can slip through.
    ///
    /// # Panics
    ///
    /// When `pattern` is empty (it would match anything).
    pub fn cut_after_forwarding(&self, pattern: impl Into<Vec<u8>>) {
        let pattern = pattern.into();
        assert!(!pattern.is_empty(), "cut_after_forwarding: an empty pattern would match anything");
        if let Ok(mut cut) = self.state.cut.lock() {
            *cut = Some(pattern);
        }
    }

    /// Disarm a cut that has not fired yet.
    pub fn disarm_cut(&self) {
        if let Ok(mut cut) = self.state.cut.lock() {
            *cut = None;
        }
    }

    /// Whether a cut is armed and has not fired yet.
    pub fn cut_armed(&self) -> bool {
        self.state.cut.lock().is_ok_and(|cut| cut.is_some())
    }

    /// How many connections [`cut_after_forwarding`](Self::cut_after_forwarding)
    /// has ended so far.
    pub fn cuts(&self) -> u64 {
        self.state.cuts.load(Ordering::SeqCst)
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
    // This connection's own end, set by a cut (`cut_after_forwarding`).
    let (cut, _) = watch::channel(false);
    let cut = Arc::new(cut);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = tokio::spawn(pump(client_read, server_write, state.clone(), ended.clone(), cut.clone(), Direction::Up));
    let down = tokio::spawn(pump(server_read, client_write, state.clone(), ended.clone(), cut, Direction::Down));
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

/// Which way a [`pump`] copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    /// Client to server: searched for an armed cut's pattern.
    Up,
    /// Server to client.
    Down,
}

/// Copy `from` to `to`, honouring the proxy's mode and delay, until the
/// peer closes, the test ends every connection, or a cut ends this one
/// (then say how).
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    state: Arc<ProxyState>,
    mut ended: watch::Receiver<(u64, Ending)>,
    cut: Arc<watch::Sender<bool>>,
    direction: Direction,
) -> std::io::Result<Halves> {
    let start = ended.borrow_and_update().0;
    let mut mode = state.mode.subscribe();
    let mut cut_seen = cut.subscribe();
    let mut buf = vec![0_u8; 16 * 1024];
    // The last bytes sent upstream, to find a pattern split across reads.
    let mut tail: Vec<u8> = Vec::new();
    loop {
        if *cut_seen.borrow_and_update() {
            return Ok((from, to, Some(Ending::Close)));
        }
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
            _ = cut_seen.changed() => continue,
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
                _ = cut_seen.changed() => {
                    if *cut_seen.borrow_and_update() {
                        return Ok((from, to, Some(Ending::Close)));
                    }
                }
            }
        }
        let chunk = &buf[..n];
        if direction == Direction::Up && take_cut(&state, &tail, chunk) {
            // Stop the other direction first: whatever it reads from now on
            // (the answer to this chunk included) is never written.
            cut.send_replace(true);
            state.cuts.fetch_add(1, Ordering::SeqCst);
            to.write_all(chunk).await?;
            // FIN after the chunk, then both sockets are dropped.
            let _ = to.shutdown().await;
            return Ok((from, to, Some(Ending::Close)));
        }
        // A cut on this connection since the read: drop the bytes.
        if *cut_seen.borrow_and_update() {
            return Ok((from, to, Some(Ending::Close)));
        }
        to.write_all(chunk).await?;
        if direction == Direction::Up {
            remember_tail(&mut tail, chunk);
        }
    }
}

/// Whether an armed cut's pattern ends in `chunk` (possibly starting in
/// `tail`, the bytes forwarded before it); if so, disarm it (one shot).
fn take_cut(state: &ProxyState, tail: &[u8], chunk: &[u8]) -> bool {
    let Ok(mut armed) = state.cut.lock() else {
        return false;
    };
    let Some(pattern) = armed.as_deref() else {
        return false;
    };
    // Only as much of the tail as cannot hold the whole pattern, so a match
    // always ends in this chunk (never in bytes forwarded before arming).
    let keep = tail.len().min(pattern.len() - 1);
    let mut window = Vec::with_capacity(keep + chunk.len());
    window.extend_from_slice(&tail[tail.len() - keep..]);
    window.extend_from_slice(chunk);
    let found = window.windows(pattern.len()).any(|w| w == pattern);
    if found {
        *armed = None;
    }
    found
}

/// Keep the last [`CUT_WINDOW`] bytes forwarded upstream.
fn remember_tail(tail: &mut Vec<u8>, chunk: &[u8]) {
    tail.extend_from_slice(chunk);
    if tail.len() > CUT_WINDOW {
        tail.drain(..tail.len() - CUT_WINDOW);
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    /// An echo server that also reports every byte it received.
    async fn recording_echo() -> (SocketAddr, mpsc::UnboundedReceiver<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut buf = [0_u8; 1024];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        let _ = tx.send(buf[..n].to_vec());
                        if s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        (addr, rx)
    }

    async fn echoed(s: &mut TcpStream, bytes: &[u8]) -> Vec<u8> {
        s.write_all(bytes).await.unwrap();
        let mut buf = vec![0_u8; bytes.len()];
        tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut buf)).await.unwrap().unwrap();
        buf
    }

    /// Everything the server received so far, waiting until it holds `len` bytes.
    async fn received(rx: &mut mpsc::UnboundedReceiver<Vec<u8>>, len: usize) -> Vec<u8> {
        let mut got = Vec::new();
        while got.len() < len {
            let chunk = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await.unwrap().unwrap();
            got.extend(chunk);
        }
        got
    }

    /// The client reads nothing but the end of the connection (never the echo).
    async fn assert_cut(s: &mut TcpStream) {
        let mut buf = [0_u8; 64];
        match tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await.unwrap() {
            Ok(0) | Err(_) => {}
            Ok(n) => panic!("the answer was relayed after the cut: {:?}", &buf[..n]),
        }
    }

    #[tokio::test]
    async fn a_cut_forwards_the_chunk_and_relays_no_answer() {
        let (server, mut rx) = recording_echo().await;
        let proxy = FaultProxy::start(server).await.unwrap();
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        // A pattern forwarded before the cut was armed does not fire it.
        assert_eq!(echoed(&mut s, b"BEGIN;COMMIT").await, b"BEGIN;COMMIT");
        proxy.cut_after_forwarding(b"COMMIT");
        assert!(proxy.cut_armed());
        assert_eq!(echoed(&mut s, b"INSERT").await, b"INSERT");
        assert_eq!(proxy.cuts(), 0);
        s.write_all(b"xxCOMMITyy").await.unwrap();
        assert_cut(&mut s).await;
        assert_eq!(received(&mut rx, 28).await, b"BEGIN;COMMITINSERTxxCOMMITyy");
        assert_eq!((proxy.cuts(), proxy.cut_armed()), (1, false));
        // One shot: the next connection passes the pattern.
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(echoed(&mut s, b"COMMIT").await, b"COMMIT");
        assert_eq!(proxy.cuts(), 1);
    }

    #[tokio::test]
    async fn a_pattern_split_across_reads_is_found_and_a_disarmed_cut_never_fires() {
        let (server, mut rx) = recording_echo().await;
        let proxy = FaultProxy::start(server).await.unwrap();
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        proxy.cut_after_forwarding(b"COMMIT");
        proxy.disarm_cut();
        assert_eq!(echoed(&mut s, b"COMMIT").await, b"COMMIT");
        proxy.cut_after_forwarding(&b"COMMIT"[..]);
        // Two reads: the echo of the first proves it was forwarded alone.
        assert_eq!(echoed(&mut s, b"..CO").await, b"..CO");
        s.write_all(b"MMIT").await.unwrap();
        assert_cut(&mut s).await;
        assert_eq!(received(&mut rx, 14).await, b"COMMIT..COMMIT");
        assert_eq!(proxy.cuts(), 1);
    }
}
