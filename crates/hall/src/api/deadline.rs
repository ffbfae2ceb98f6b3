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
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Middleware: the request body fails with [`BodyTimedOut`] once `limit` has passed since the
/// request arrived.
pub async fn body(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let deadline = Instant::now() + limit;
    next.run(req.map(|inner| {
        Body::new(DeadlineBody {
            inner,
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            limit,
        })
    }))
    .await
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

/// The error a body yields when its deadline passes: body readers map it to `408 TIMEOUT`.
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

impl BodyTimedOut {
    /// The timeout behind a body read error, if that is what it was.
    pub fn find<'a>(mut error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Self> {
        loop {
            if let Some(found) = error.downcast_ref::<Self>() {
                return Some(found);
            }
            error = error.source()?;
        }
    }
}

struct DeadlineBody {
    inner: Body,
    timer: Pin<Box<Sleep>>,
    limit: Duration,
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
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut(this.limit))))),
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
    async fn a_body_that_stops_arriving_fails_at_its_deadline_naming_the_limit() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
        let body = DeadlineBody {
            inner: Body::from_stream(stream),
            timer: Box::pin(tokio::time::sleep(Duration::from_millis(100))),
            limit: Duration::from_millis(100),
        };
        tx.send(Ok(Bytes::from_static(b"{"))).await.unwrap();
        let mut frames = Body::new(body).into_data_stream();
        assert_eq!(frames.next().await.unwrap().unwrap(), "{");
        let err = frames.next().await.unwrap().unwrap_err();
        let found = BodyTimedOut::find(&err).expect("the timeout is in the error's chain");
        assert!(found.to_string().contains("request_timeout_s"), "{found}");
        drop(tx);
    }
}
