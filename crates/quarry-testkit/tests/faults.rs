//! The fault proxy and the silent server do what they say.

#![allow(clippy::expect_used)] // test helpers fail loudly

use std::time::{Duration, Instant};

use quarry_testkit::{FaultProxy, SilentServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An echo server on a random port.
async fn echo_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0_u8; 1024];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

async fn round_trip(s: &mut TcpStream, within: Duration) -> std::io::Result<Option<Vec<u8>>> {
    s.write_all(b"ping").await?;
    let mut buf = [0_u8; 4];
    match tokio::time::timeout(within, s.read_exact(&mut buf)).await {
        Ok(Ok(_)) => Ok(Some(buf.to_vec())),
        Ok(Err(e)) => Err(e),
        Err(_) => Ok(None),
    }
}

#[tokio::test]
async fn passes_then_blackholes_then_passes_again() {
    let proxy = FaultProxy::start(echo_server().await).await.expect("proxy");
    let mut s = TcpStream::connect(proxy.addr()).await.expect("connect");
    assert_eq!(round_trip(&mut s, Duration::from_secs(2)).await.expect("io"), Some(b"ping".to_vec()));
    proxy.blackhole();
    assert_eq!(round_trip(&mut s, Duration::from_millis(300)).await.expect("io"), None, "silent");
    proxy.pass();
    let mut buf = [0_u8; 4];
    tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut buf)).await.expect("released").expect("io");
    assert_eq!(&buf, b"ping");
    assert_eq!(proxy.connections(), 1);
}

#[tokio::test]
async fn close_all_ends_with_eof_and_reset_all_with_a_reset() {
    let proxy = FaultProxy::start(echo_server().await).await.expect("proxy");
    let mut s = TcpStream::connect(proxy.addr()).await.expect("connect");
    round_trip(&mut s, Duration::from_secs(2)).await.expect("io");
    proxy.close_all();
    let mut buf = [0_u8; 4];
    let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await.expect("closed in time");
    assert_eq!(n.expect("a clean close"), 0);

    let mut s = TcpStream::connect(proxy.addr()).await.expect("connect");
    round_trip(&mut s, Duration::from_secs(2)).await.expect("io");
    proxy.reset_all();
    let read = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await.expect("ended in time");
    let err = read.expect_err("an RST, not a clean close");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
}

#[tokio::test]
async fn refuses_new_connections_and_delays_traffic() {
    let proxy = FaultProxy::start(echo_server().await).await.expect("proxy");
    proxy.refuse_new(true);
    let mut s = TcpStream::connect(proxy.addr()).await.expect("the listener still accepts");
    let mut buf = [0_u8; 4];
    let read = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await.expect("closed at once");
    assert!(matches!(read, Ok(0) | Err(_)));
    proxy.refuse_new(false);
    proxy.delay(Duration::from_millis(150));
    let mut s = TcpStream::connect(proxy.addr()).await.expect("connect");
    let started = Instant::now();
    assert!(round_trip(&mut s, Duration::from_secs(2)).await.expect("io").is_some());
    assert!(started.elapsed() >= Duration::from_millis(300), "both directions delayed: {:?}", started.elapsed());
}

#[tokio::test]
async fn silent_server_completes_the_handshake_then_never_answers() {
    let server = SilentServer::start().await.expect("server");
    let (client, connection) =
        tokio_postgres::connect(&server.url(), tokio_postgres::NoTls).await.expect("the handshake completes");
    tokio::spawn(connection);
    let query = client.simple_query("SELECT 1");
    assert!(tokio::time::timeout(Duration::from_millis(300), query).await.is_err(), "no answer ever comes");
}
