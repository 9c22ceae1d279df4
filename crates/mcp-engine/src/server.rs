//! Running the transports: bind, serve, and shut down gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::dispatch::Engine;
use crate::transport::http::{router, HttpConfig};

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// How long in-flight requests may finish after shutdown begins.
    pub drain_timeout: Duration,
    /// How long a connection may take to send a request head — the first one, or the next
    /// one on an idle keep-alive connection — before it is closed: a slowloris client (a
    /// head that never ends, or a connection that never speaks) cannot hold descriptors
    /// forever. `None` disables it. Keep it above the idle timeout of a proxy's upstream
    /// keep-alive pool (nginx `keepalive_timeout` in `upstream`, see `deploy/`), so the
    /// proxy, not the server, ends idle pooled connections.
    pub header_read_timeout: Option<Duration>,
    /// Largest request head (request line and headers) a connection may send; a larger one
    /// is answered `431` and the connection closed. hyper's own ceiling is ~400 KB, far
    /// more than any MCP client sends, so each connection could pin that much memory
    /// (nginx's default is 32 KB). hyper needs at least 8 KiB; smaller values are raised.
    pub max_head_bytes: usize,
}

impl ServeOptions {
    /// The default head timeout (`deploy/` keeps nginx's upstream keep-alive below it).
    pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(60);
    /// The default request-head limit.
    pub const MAX_HEAD_BYTES: usize = 64 * 1024;
    /// hyper's floor for its read buffer.
    const MIN_HEAD_BYTES: usize = 8 * 1024;
}

impl From<Duration> for ServeOptions {
    /// Only the drain timeout given: the default head timeout.
    fn from(drain_timeout: Duration) -> Self {
        ServeOptions {
            drain_timeout,
            header_read_timeout: Some(Self::HEADER_READ_TIMEOUT),
            max_head_bytes: Self::MAX_HEAD_BYTES,
        }
    }
}

/// Serve Streamable HTTP on `listener` until `shutdown` resolves, then stop accepting,
/// end long-lived streams gracefully and let in-flight requests finish (bounded by
/// `drain_timeout`).
///
/// Connections are served with hyper's HTTP/1.1 connection directly (MCP clients speak
/// HTTP/1.1 to the server; TLS and HTTP/2 end at the proxy in front): no protocol sniffing
/// and no HTTP/2 state per connection, which keeps an idle server-push stream small.
pub async fn serve_http(
    engine: Engine,
    config: HttpConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: impl Into<ServeOptions>,
) -> std::io::Result<()> {
    let app = router(engine.clone(), config);
    serve_router(app, engine, listener, shutdown, options).await
}

/// [`serve_http`] for a router built by the caller (e.g. with shared session stores,
/// [`crate::transport::http::router_with_stores`]).
pub async fn serve_router(
    app: axum::Router,
    engine: Engine,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: impl Into<ServeOptions>,
) -> std::io::Result<()> {
    let ServeOptions { drain_timeout, header_read_timeout, max_head_bytes } = options.into();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .max_buf_size(max_head_bytes.max(ServeOptions::MIN_HEAD_BYTES));
    let token = engine.shutdown_token().clone();
    // Every connection task holds a receiver; `closed()` resolves when all are gone.
    let (live_tx, live_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, remote) = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = io.set_nodelay(true);
        let app = app.clone();
        let service = service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(remote));
            app.clone().oneshot(req.map(Body::new))
        });
        let token = token.clone();
        let live = live_rx.clone();
        let builder = builder.clone();
        tokio::spawn(async move {
            let conn = builder.serve_connection(TokioIo::new(io), service).with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::trace!("connection from {remote} ended: {e}");
                    }
                }
                _ = token.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(live);
        });
    }
    tracing::info!("shutting down: draining in-flight requests");
    token.cancel();
    drop(listener);
    drop(live_rx);
    tokio::select! {
        _ = live_tx.closed() => {}
        _ = tokio::time::sleep(drain_timeout) => {
            tracing::warn!("drain timeout reached; closing remaining connections");
        }
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
