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
