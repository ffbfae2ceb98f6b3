//! Running the HTTP API until a shutdown signal: in-flight requests are drained (hyper's graceful
//! shutdown), event streams are told to end, then the hall flushes and closes the ledger.
//!
//! The accept loop is ours rather than `axum::serve`'s because that one installs no timer, which
//! leaves hyper's header read timeout inert: a client trickling a request head (slowloris) would
//! hold its connection, and a file descriptor, forever, and hold up shutdown.

use crate::api::{self, auth::Tickets, guard::Guarded, AppState, Limits};
use crate::error::HallError;
use crate::hall::Hall;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Bind `addr` (port 0 picks a free port; the bound address is in the returned listener).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, HallError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| HallError::Config(format!("cannot listen on {addr}: {e}")))
}

/// Serve `hall` on `listener` until `shutdown` resolves, then close the hall.
pub async fn serve(
    hall: Hall,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HallError> {
    serve_with_sign_in(hall, listener, shutdown, None).await
}

/// [`serve`], accepting the codes of `sign_in` at `POST /v1/session` (`crate::sign_in`).
pub async fn serve_with_sign_in(
    hall: Hall,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    sign_in: Option<Arc<crate::sign_in::SignInCodes>>,
) -> Result<(), HallError> {
    let config = hall.config();
    let token = config.read_token()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let state = AppState {
        hall: hall.clone(),
        token: token.into(),
        tickets: Arc::new(Tickets::default()),
        shutdown: stop_rx,
    };
    let limits = Limits {
        body_bytes: config.file.body_limit_bytes,
        timeout: Duration::from_secs(config.file.request_timeout_s),
    };
    let mut app = api::router(state, &limits, config.ui_dir.as_deref());
    if let Some(codes) = sign_in {
        app = app.layer(axum::Extension(codes));
    }
    let addr = listener
        .local_addr()
        .map_err(|e| HallError::Config(e.to_string()))?;
    tracing::info!(%addr, "hall listening");
    let url_file = announce(&hall, addr)?;
    let shutdown = async move {
        shutdown.await;
        tracing::info!("shutting down: draining in-flight requests");
        // Event streams end on this signal, so that draining does not wait on them forever.
        let _ = stop_tx.send(true);
    };
    accept_until(listener, addr, app, limits.timeout, shutdown).await;
    // Before the lock is released: a hall started after it may write its own hall.url.
    url_file.remove();
    hall.close().await;
    Ok(())
}

/// Serve connections until `shutdown` resolves, then stop accepting and let every open
/// connection finish the request it is on (idle keep-alive connections close at once).
/// `header_timeout` bounds how long a client may take to send a request's head.
pub(crate) async fn accept_until(
    listener: TcpListener,
    listen: SocketAddr,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small JSON answers on keep-alive connections: don't let Nagle hold them back.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        // Host and Origin are checked against the address this connection came to.
        let local = match tcp.local_addr() {
            Ok(local) => local,
            Err(e) => {
                tracing::debug!(error = %e, "connection without a local address");
                continue;
            }
        };
        let service = TowerToHyperService::new(Guarded::new(app.clone(), listen, local));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Write `<data dir>/hall.url` so client commands find this hall, and note the URL in the data
/// dir's lock file. [`serve`] does it; a caller that tells the world it is ready before `serve`
/// runs (e.g. by printing the address) calls it first.
pub fn announce(hall: &Hall, addr: SocketAddr) -> Result<UrlFile, HallError> {
    let path = hall.config().data_dir.join(crate::config::URL_FILE);
    let content = format!("http://{addr}\n");
    crate::config::write_atomic(&path, content.as_bytes(), None)?;
    hall.announce_url(content.trim_end())?;
    Ok(UrlFile { path, content })
}

/// A `hall.url` this hall wrote.
pub struct UrlFile {
    path: std::path::PathBuf,
    content: String,
}

impl UrlFile {
    /// Remove the file, unless it no longer says what this hall wrote there: then it is
    /// another hall's (or the user's) and stays.
    fn remove(self) {
        if std::fs::read_to_string(&self.path).is_ok_and(|now| now == self.content) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called (inside a
/// runtime), not when it is first awaited: a signal that comes after the hall announced itself
/// but before serving began would otherwise kill it without its clean shutdown.
#[cfg(unix)]
pub fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{signal, Signal, SignalKind};
    async fn received(signal: std::io::Result<Signal>) {
        match signal {
            Ok(mut s) => drop(s.recv().await),
            Err(_) => std::future::pending().await,
        }
    }
    // The arguments are evaluated, so the handlers installed, right here.
    let int = received(signal(SignalKind::interrupt()));
    let term = received(signal(SignalKind::terminate()));
    async move {
        tokio::select! {
            () = int => {},
            () = term => {},
        }
    }
}

#[cfg(not(unix))]
pub fn shutdown_signal() -> impl Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
