//! Opening a connection's socket, and a socket that reads before it waits.
//!
//! tokio's sockets read only once the runtime has seen the socket become
//! readable: after a read that did not fill the buffer they take the next
//! one to block, and wait for the runtime's I/O driver to say otherwise.
//! For a round trip to the server that means the task always goes to
//! sleep after sending its request, and is woken through the I/O driver
//! (on a multi-threaded runtime, often from another thread) even when the
//! answer is in the socket by the time it would look: the server, woken by
//! the request, often answers before the sending thread gets that far.
//! sqlx reads first, and was 1.3x faster than Quarry on a one-row `SELECT`
//! with the same CPU time (`docs/performance.md`).
//!
//! [`EagerSocket`] reads first too. It holds two handles on one socket:
//! tokio's, registered with the runtime, for waiting, and a standard one
//! for reading and writing without asking the runtime. A read that would
//! block is followed by tokio's usual wait, through `try_io`, so that no
//! readiness event is ever lost. [`crate::io::Io`] then polls the
//! connection once more right after a request went out, which is when the
//! answer may already be there.
//!
//! Quarry opens these sockets itself ([`connect`]), as tokio-postgres
//! would: each host in turn, each of its addresses in turn, with the
//! connection string's connect timeout, keepalives and TCP user timeout.
//! Connection strings that ask for more (`hostaddr`, `target_session_attrs`,
//! `load_balance_hosts`) are opened by tokio-postgres ([`opens_itself`]).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use quarry_core::{Error, ErrorKind};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio_postgres::config::{Host, LoadBalanceHosts, TargetSessionAttrs};
use tokio_postgres::tls::NoTlsStream;
use tokio_postgres::{Client, Config, Connection, NoTls};

use crate::error;

/// The most one read takes from the socket. Answers to one statement are
/// usually far smaller; a large result is read in pieces of this size.
const READ_CHUNK: usize = 16 * 1024;

/// The runtime's handle on a socket: what [`Eager`] waits with.
trait Registered: Sized {
    /// The standard library's handle on the same kind of socket.
    type Std;
    /// This socket, and a duplicate of it to read and write through,
    /// non-blocking.
    fn duplicate(self) -> io::Result<(Self, Self::Std)>;
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    fn try_io<T>(&self, interest: Interest, f: impl FnOnce() -> io::Result<T>) -> io::Result<T>;
}

macro_rules! registered {
    ($($ty:ty => $std:ty),*) => {$(
        impl Registered for $ty {
            type Std = $std;
            fn duplicate(self) -> io::Result<(Self, $std)> {
                let std = self.into_std()?;
                let io = std.try_clone()?;
                // Shared with the original on Unix (one open file); said
                // again for systems where a duplicate may not share it.
                io.set_nonblocking(true)?;
                Ok((<$ty>::from_std(std)?, io))
            }
            fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                <$ty>::poll_read_ready(self, cx)
            }
            fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                <$ty>::poll_write_ready(self, cx)
            }
            fn try_io<T>(&self, interest: Interest, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
                <$ty>::try_io(self, interest, f)
            }
        }
    )*};
}

registered!(tokio::net::TcpStream => std::net::TcpStream);
#[cfg(unix)]
registered!(tokio::net::UnixStream => std::os::unix::net::UnixStream);

/// One socket: `registered` to wait, `io` (the same socket, duplicated) to
/// read and write.
#[derive(Debug)]
struct Eager<R, S> {
    registered: R,
    io: S,
    /// What each read reads into, zeroed once, then copied to the caller's
    /// buffer. Safe code cannot read into the caller's uninitialised
    /// buffer, and zeroing it before each read cost 12 k instructions a
    /// one-row `SELECT` (three reads, most of them finding nothing); this
    /// copies only the bytes read.
    stash: Box<[u8]>,
    /// Set after each write of at least one byte (see [`EagerSocket::sent_flag`]).
    sent: Arc<AtomicBool>,
}

/// Read what `io` has into `buf`, through `stash`.
fn read_into<S>(mut io: &S, stash: &mut [u8], buf: &mut ReadBuf<'_>) -> io::Result<()>
where
    for<'a> &'a S: Read,
{
    let room = buf.remaining().min(stash.len());
    let n = io.read(&mut stash[..room])?;
    buf.put_slice(&stash[..n]);
    Ok(())
}

fn would_block(result: &io::Result<()>) -> bool {
    matches!(result, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

impl<R: Registered<Std = S>, S> Eager<R, S>
where
    for<'a> &'a S: Read + Write,
{
    fn new(stream: R) -> io::Result<Self> {
        let (registered, io) = stream.duplicate()?;
        Ok(Eager { registered, io, stash: vec![0; READ_CHUNK].into_boxed_slice(), sent: Arc::default() })
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        // Through `try_io` when the runtime saw the socket readable, so
        // that a read that would block clears that readiness, as tokio's
        // own reads do. Otherwise read anyway: this is the read tokio
        // would not have tried. (Skipping it after a read that emptied the
        // socket saved system calls but made a 10,000-row result 13%
        // slower: its rows arrive while they are read.)
        let mut tried = false;
        let mut first = self.registered.try_io(Interest::READABLE, || {
            tried = true;
            read_into(&self.io, &mut self.stash, buf)
        });
        if would_block(&first) && !tried {
            first = read_into(&self.io, &mut self.stash, buf);
        }
        if !would_block(&first) {
            return Poll::Ready(first);
        }
        // Nothing there: wait as tokio does. A read that finds the socket
        // empty after the runtime said it was readable clears that
        // readiness, so that the wait after it registers this task.
        loop {
            ready!(self.registered.poll_read_ready(cx))?;
            let read = self.registered.try_io(Interest::READABLE, || read_into(&self.io, &mut self.stash, buf));
            if !would_block(&read) {
                return Poll::Ready(read);
            }
        }
    }

    fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.registered.poll_write_ready(cx))?;
            match self.registered.try_io(Interest::WRITABLE, || (&self.io).write(data)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                done => {
                    if matches!(done, Ok(n) if n > 0) {
                        self.sent.store(true, Ordering::Release);
                    }
                    return Poll::Ready(done);
                }
            }
        }
    }
}

/// A connection's socket, TCP or Unix-domain, that reads before it waits
/// (see the module's documentation).
#[derive(Debug)]
pub(crate) struct EagerSocket(Stream);

#[derive(Debug)]
enum Stream {
    Tcp(Eager<tokio::net::TcpStream, std::net::TcpStream>),
    #[cfg(unix)]
    Unix(Eager<tokio::net::UnixStream, std::os::unix::net::UnixStream>),
}

impl EagerSocket {
    /// A flag set each time the socket writes: the connection's driver
    /// clears it to learn whether a poll sent a request.
    pub(crate) fn sent_flag(&self) -> Arc<AtomicBool> {
        match &self.0 {
            Stream::Tcp(s) => s.sent.clone(),
            #[cfg(unix)]
            Stream::Unix(s) => s.sent.clone(),
        }
    }
}

impl AsyncRead for EagerSocket {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            Stream::Tcp(s) => s.poll_read(cx, buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for EagerSocket {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match &self.0 {
            Stream::Tcp(s) => s.poll_write(cx, data),
            #[cfg(unix)]
            Stream::Unix(s) => s.poll_write(cx, data),
        }
    }

    /// Writes go straight to the socket: nothing to flush.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(match &self.0 {
            Stream::Tcp(s) => s.io.shutdown(std::net::Shutdown::Write),
            #[cfg(unix)]
            Stream::Unix(s) => s.io.shutdown(std::net::Shutdown::Write),
        })
    }
}

/// Where a connection went: cancel requests go to the same place.
#[derive(Clone, Debug)]
pub(crate) enum Peer {
    /// A server's TCP address.
    Tcp(SocketAddr),
    /// A server's Unix-domain socket.
    #[cfg(unix)]
    Unix(std::path::PathBuf),
}

impl Peer {
    /// Ask the server to cancel what the session of `token` runs, over a
    /// new connection to this peer.
    pub(crate) async fn cancel(
        &self,
        token: &tokio_postgres::CancelToken,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        match self {
            Peer::Tcp(addr) => {
                let stream = tokio::net::TcpStream::connect(addr).await?;
                Ok(token.cancel_query_raw(stream, NoTls).await?)
            }
            #[cfg(unix)]
            Peer::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(path).await?;
                Ok(token.cancel_query_raw(stream, NoTls).await?)
            }
        }
    }
}

/// Whether [`connect`] opens connections for `config`: it names at least
/// one host and no `hostaddr`, gives no port, one port, or one per host,
/// accepts any server (`target_session_attrs=any`) and tries the hosts in
/// order (no `load_balance_hosts`). tokio-postgres opens the others, and
/// refuses the ones that are wrong (no host, a port count that matches
/// nothing) with its own errors.
pub(crate) fn opens_itself(config: &Config) -> bool {
    let (hosts, ports) = (config.get_hosts().len(), config.get_ports().len());
    hosts > 0
        && config.get_hostaddrs().is_empty()
        && config.get_target_session_attrs() == TargetSessionAttrs::Any
        && config.get_load_balance_hosts() == LoadBalanceHosts::Disable
        && (ports <= 1 || ports == hosts)
}

/// A connection opened by Quarry.
pub(crate) struct Opened {
    pub(crate) client: Client,
    /// tokio-postgres's half that does the I/O, over an [`EagerSocket`].
    pub(crate) connection: Connection<EagerSocket, NoTlsStream>,
    /// Where it went.
    pub(crate) peer: Peer,
    /// The socket's [`EagerSocket::sent_flag`].
    pub(crate) sent: Arc<AtomicBool>,
}

/// Open a connection as tokio-postgres would for a configuration that
/// [`opens_itself`]: each host in turn (each port with its host, or the
/// one port for all, or 5432), each of a host name's addresses in turn,
/// until one connects and completes the startup; the last failure if none
/// does.
pub(crate) async fn connect(config: &Config) -> Result<Opened, Error> {
    let ports = config.get_ports();
    let mut last = None;
    for (i, host) in config.get_hosts().iter().enumerate() {
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        let candidates = match host {
            Host::Tcp(name) => match tokio::net::lookup_host((name.as_str(), port)).await {
                Ok(addrs) => addrs.map(Peer::Tcp).collect(),
                Err(e) => {
                    last = Some(io_error(e));
                    continue;
                }
            },
            #[cfg(unix)]
            Host::Unix(dir) => vec![Peer::Unix(dir.join(format!(".s.PGSQL.{port}")))],
        };
        for peer in candidates {
            match connect_to(config, &peer).await {
                Ok((client, connection, sent)) => return Ok(Opened { client, connection, peer, sent }),
                Err(e) => last = Some(e),
            }
        }
    }
    Err(last.unwrap_or_else(|| Error::new(ErrorKind::Connect, "connecting: could not resolve any addresses")))
}

/// Open the socket to `peer` (within the connect timeout) and run the
/// startup and authentication over it.
async fn connect_to(
    config: &Config,
    peer: &Peer,
) -> Result<(Client, Connection<EagerSocket, NoTlsStream>, Arc<AtomicBool>), Error> {
    let socket = with_timeout(config.get_connect_timeout().copied(), open(config, peer)).await?;
    let sent = socket.sent_flag();
    let (client, connection) = config.connect_raw(socket, NoTls).await.map_err(error::from_connect)?;
    Ok((client, connection, sent))
}

async fn open(config: &Config, peer: &Peer) -> Result<EagerSocket, Error> {
    match peer {
        Peer::Tcp(addr) => {
            let stream = tokio::net::TcpStream::connect(addr).await.map_err(io_error)?;
            configure_tcp(config, &stream).map_err(io_error)?;
            Eager::new(stream).map(|s| EagerSocket(Stream::Tcp(s))).map_err(io_error)
        }
        #[cfg(unix)]
        Peer::Unix(path) => {
            let stream = tokio::net::UnixStream::connect(path).await.map_err(io_error)?;
            Eager::new(stream).map(|s| EagerSocket(Stream::Unix(s))).map_err(io_error)
        }
    }
}

/// `TCP_NODELAY`, and the connection string's TCP user timeout and
/// keepalives, as tokio-postgres sets them.
fn configure_tcp(config: &Config, stream: &tokio::net::TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let socket = socket2::SockRef::from(stream);
    #[cfg(target_os = "linux")]
    if let Some(timeout) = config.get_tcp_user_timeout() {
        socket.set_tcp_user_timeout(Some(*timeout))?;
    }
    if config.get_keepalives() {
        let mut keepalive = socket2::TcpKeepalive::new().with_time(config.get_keepalives_idle());
        #[cfg(not(any(target_os = "aix", target_os = "redox", target_os = "solaris", target_os = "openbsd")))]
        if let Some(interval) = config.get_keepalives_interval() {
            keepalive = keepalive.with_interval(interval);
        }
        #[cfg(not(any(
            target_os = "aix",
            target_os = "redox",
            target_os = "solaris",
            target_os = "windows",
            target_os = "openbsd"
        )))]
        if let Some(retries) = config.get_keepalives_retries() {
            keepalive = keepalive.with_retries(retries);
        }
        socket.set_tcp_keepalive(&keepalive)?;
    }
    Ok(())
}

async fn with_timeout<T>(timeout: Option<Duration>, open: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    match timeout {
        Some(timeout) => tokio::time::timeout(timeout, open)
            .await
            .unwrap_or_else(|_| Err(io_error(io::Error::new(io::ErrorKind::TimedOut, "connection timed out")))),
        None => open.await,
    }
}

/// An I/O failure while connecting: transient (refused, unreachable).
fn io_error(e: io::Error) -> Error {
    Error::new(ErrorKind::Connect, format!("connecting: {e}")).with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opens(url: &str) -> bool {
        opens_itself(&url.parse().expect("a valid connection string"))
    }

    #[test]
    fn quarry_opens_named_hosts_tried_in_order_and_leaves_the_rest_to_tokio_postgres() {
        assert!(opens("postgres://u@localhost:5432/db"));
        assert!(opens("postgres://u@a:1,b:2/db?connect_timeout=2&keepalives_idle=30"));
        assert!(opens("postgres://u@a,b:7/db"), "one port for every host");
        assert!(opens("host=/var/run/postgresql user=u dbname=db"));
        assert!(opens("host=/tmp,db.example port=5433 user=u"));

        assert!(!opens("postgres://u@a,b/db?target_session_attrs=read-write"));
        assert!(!opens("host=db.example hostaddr=10.0.0.1 user=u"));
        assert!(!opens("postgres://u@a,b/db?load_balance_hosts=random"));
        assert!(!opens("user=u dbname=db"), "no host: tokio-postgres says what is missing");
    }
}
