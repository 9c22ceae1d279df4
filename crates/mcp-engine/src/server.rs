//! Running the transports: bind, serve, and shut down gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::dispatch::Engine;
use crate::transport::http::{router, HttpConfig};

/// Serve Streamable HTTP on `listener` until `shutdown` resolves, then stop accepting,
/// end long-lived streams gracefully and let in-flight requests finish (bounded by
/// `drain_timeout`).
pub async fn serve_http(
    engine: Engine,
    config: HttpConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_timeout: Duration,
) -> std::io::Result<()> {
    let app = router(engine.clone(), config);
    let token = engine.shutdown_token().clone();
    let signalled = tokio_util::sync::CancellationToken::new();
    let signalled2 = signalled.clone();
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(
        async move {
            shutdown.await;
            tracing::info!("shutting down: draining in-flight requests");
            token.cancel();
            signalled2.cancel();
        },
    );
    tokio::select! {
        r = server => r,
        _ = async { signalled.cancelled().await; tokio::time::sleep(drain_timeout).await } => {
            tracing::warn!("drain timeout reached; closing remaining connections");
            Ok(())
        }
    }
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
