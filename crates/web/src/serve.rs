//! Serving connections: HTTP/1.1 with a header-read timeout (a client that
//! sends half a request is cut off, so slow clients cannot hold connections
//! open), each request told the address it came from (for throttling), and
//! a graceful stop that finishes the requests in flight.

use crate::layers::Limits;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long requests in flight get to finish once a stop is asked for, unless configured.
pub const DRAIN: Duration = Duration::from_secs(10);

/// How a stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Connections still busy when the drain time ran out (0: every request was answered).
    pub abandoned: usize,
}

/// Serves `app` on `listener` until `stop` completes, then stops accepting
/// and lets requests in flight finish (up to `drain`). Connections that are
/// open but idle are closed; a request read but not yet answered is answered.
pub async fn serve(listener: TcpListener, app: Router, limits: &Limits, drain: Duration, stop: impl Future<Output = ()>) -> std::io::Result<Stopped> {
    let graceful = GracefulShutdown::new();
    // Counted by hand: the graceful watcher does not say how many it gave up on.
    let open = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read).keep_alive(true);
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait, and keep serving those already connected.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let service = app.clone().map_request(move |mut request: axum::http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            request
        });
        let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        let open = open.clone();
        open.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
            open.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        });
    }
    // Closing the listener first: new clients are refused at once instead of waiting in the backlog.
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown()).await.is_err() {
        let abandoned = open.load(std::sync::atomic::Ordering::SeqCst);
        tracing::warn!("{abandoned} connections still busy after {} s were abandoned", drain.as_secs());
        return Ok(Stopped { abandoned: abandoned.max(1) });
    }
    Ok(Stopped { abandoned: 0 })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use axum::routing::get;
    use std::time::Instant;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// Reads until the server closes the connection or `limit` passes;
    /// answers how long the close took, or `None` if it stayed open.
    async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
        let started = Instant::now();
        let mut buffer = [0u8; 1024];
        loop {
            match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buffer)).await {
                Err(_) => return None,
                Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
                Ok(Ok(_)) => continue,
            }
        }
    }

    #[tokio::test]
    async fn half_sent_requests_are_cut_off_at_the_header_timeout_while_others_are_served() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let limits = Limits { header_read: Duration::from_secs(1), ..Limits::default() };
        let app = Router::new().route("/", get(|| async { "served" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            serve(listener, app, &limits, Duration::from_secs(5), async {
                let _ = stopped.await;
            })
            .await
        });

        // Slow clients: each sends the start of a request and then nothing.
        let mut slow = Vec::new();
        for n in 0..200 {
            let mut stream = TcpStream::connect(address).await.expect("connect");
            stream.write_all(format!("GET /?slow={n} HTTP/1.1\r\nHost: test\r\nX-Half: ").as_bytes()).await.expect("half a request");
            slow.push(stream);
        }

        // Meanwhile a well-behaved client is answered at once.
        let mut client = TcpStream::connect(address).await.expect("connect");
        client.write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").await.expect("request");
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_millis(900), client.read_to_string(&mut answer)).await.expect("answered before the slow ones time out").expect("read");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("served"), "{answer}");

        // Every half-sent request is closed by the header timeout (1 s), not
        // held open: allow scheduling slack, but far less than forever.
        for (n, stream) in slow.iter_mut().enumerate() {
            let closed = closed_within(stream, Duration::from_secs(5)).await;
            assert!(closed.is_some(), "slow client {n} is still connected 5 s after sending half a request");
        }

        stop.send(()).expect("stop");
        let stopped = server.await.expect("join").expect("served");
        assert_eq!(stopped.abandoned, 0, "nothing was left to cut off at the stop");
    }
}
