//! Time limits for the routes the request timeout does not cover (docs/API.md, "Limits"): their
//! request bodies must arrive within `request_timeout_s` like any other (a body trickled a byte at
//! a time would otherwise hold the connection), and package hashing answers within
//! `attest_timeout_s`.

use super::error::ApiError;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::Frame;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Middleware: the request body fails once `limit` has passed since the request arrived, and the
/// answer is then `408 TIMEOUT`, whatever the handler (or rmcp, on `/mcp`) made of the failed read.
pub async fn body(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let expired = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + limit;
    let req = req.map(|inner| {
        Body::new(DeadlineBody {
            inner,
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            limit,
            expired: expired.clone(),
        })
    });
    let response = next.run(req).await;
    if expired.load(Ordering::Acquire) {
        let late = BodyTimedOut(limit).to_string();
        return ApiError::new(StatusCode::REQUEST_TIMEOUT, "TIMEOUT", late).into_response();
    }
    response
}

/// Middleware: package hashing that takes longer than `limit` is answered `408 TIMEOUT`; dropping
/// the request also gives up its place in the hashing queue (`attest_ops`).
pub async fn hashing(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "TIMEOUT",
            format!(
                "hashing the package took longer than its limit of {} s (attest_timeout_s); \
                 hash a smaller directory or raise the limit",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

/// The error a body yields when its deadline passes.
#[derive(Debug)]
pub struct BodyTimedOut(Duration);

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body took longer than {} s to arrive (request_timeout_s)",
            self.0.as_secs()
        )
    }
}

impl std::error::Error for BodyTimedOut {}

struct DeadlineBody {
    inner: Body,
    timer: Pin<Box<Sleep>>,
    limit: Duration,
    /// Set when the deadline failed the body, for [`body`] to answer 408.
    expired: Arc<AtomicBool>,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match this.timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.expired.store(true, Ordering::Release);
                Poll::Ready(Some(Err(Box::new(BodyTimedOut(this.limit)))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn a_body_that_stops_arriving_fails_at_its_deadline_and_says_so() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
        let body = DeadlineBody {
            inner: Body::from_stream(stream),
            timer: Box::pin(tokio::time::sleep(Duration::from_millis(100))),
            limit: Duration::from_millis(100),
            expired: Arc::new(AtomicBool::new(false)),
        };
        let expired = body.expired.clone();
        tx.send(Ok(Bytes::from_static(b"{"))).await.unwrap();
        let mut frames = Body::new(body).into_data_stream();
        assert_eq!(frames.next().await.unwrap().unwrap(), "{");
        assert!(!expired.load(Ordering::Acquire));
        let err = frames.next().await.unwrap().unwrap_err();
        assert!(err.to_string().contains("request_timeout_s"), "{err}");
        assert!(expired.load(Ordering::Acquire));
        drop(tx);
    }
}
