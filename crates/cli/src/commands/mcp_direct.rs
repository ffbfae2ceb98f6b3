//! `proctor mcp`'s short path for `tools/call`, the one request an agent sends at volume.
//!
//! rmcp serves the stdio client, and an rmcp client holds the hall session, so every request
//! otherwise crosses two service loops, a task per request and the Streamable HTTP worker, with
//! a (de)serialisation at each step. Once that session exists, [`Front`] (the stdio transport
//! rmcp's server reads from) takes each `tools/call` before rmcp's service sees it and sends it
//! as one POST on the same session (same URL, token, session id, protocol version and
//! `Proctor-*` headers, as [`Capturing`] saw rmcp's client send them); the hall answers it as
//! JSON (its own direct path, `hall::mcp::direct`) and the answer goes back to stdout through
//! the same transport. Everything else, and any call before the session exists, goes through
//! rmcp as before, which also connects, reconnects and says what is wrong.
//!
//! A `notifications/cancelled` for a call sent here drops its POST (the hall ends a call whose
//! client left) and still goes on to rmcp.

use super::mcp_bridge::Shared;
use http::{HeaderName, HeaderValue};
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, ClientRequest, ErrorData, RequestId,
    ServerJsonRpcMessage,
};
use rmcp::transport::streamable_http_client::{
    StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};
use rmcp::transport::Transport;
use rmcp::RoleServer;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

/// A POST on the hall's session, as rmcp's client last sent one.
#[derive(Clone)]
pub(crate) struct SessionPost {
    uri: Arc<str>,
    session_id: Arc<str>,
    auth: Option<String>,
    /// The `Proctor-*` headers and `Mcp-Protocol-Version`.
    headers: HashMap<HeaderName, HeaderValue>,
}

impl SessionPost {
    /// End the session (DELETE), as rmcp's client would on close.
    pub(crate) async fn end(&self, http: &reqwest::Client) {
        let _ = self.on_session(http.delete(self.uri.as_ref())).send().await;
    }

    /// A request on this session: its id, token and headers.
    fn on_session(&self, mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request = request.header("mcp-session-id", self.session_id.as_ref());
        if let Some(token) = &self.auth {
            request = request.bearer_auth(token);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request
    }
}

/// rmcp's HTTP client (reqwest), noting how it addresses the session.
#[derive(Clone)]
pub(crate) struct Capturing {
    http: reqwest::Client,
    seen: Arc<Mutex<Option<SessionPost>>>,
}

impl Capturing {
    pub(crate) fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            seen: Arc::default(),
        }
    }

    /// The session's POST, once rmcp has sent one on an established session.
    pub(crate) fn session(&self) -> Option<SessionPost> {
        self.seen.lock().expect("session lock").clone()
    }

    fn note(
        &self,
        uri: &Arc<str>,
        session_id: &Option<Arc<str>>,
        auth: &Option<String>,
        headers: &HashMap<HeaderName, HeaderValue>,
    ) {
        if let Some(session_id) = session_id {
            *self.seen.lock().expect("session lock") = Some(SessionPost {
                uri: uri.clone(),
                session_id: session_id.clone(),
                auth: auth.clone(),
                headers: headers.clone(),
            });
        }
    }
}

type Posted = Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>>;

impl StreamableHttpClient for Capturing {
    type Error = reqwest::Error;

    fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> impl Future<Output = Posted> + Send + '_ {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
    }

    fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> impl Future<Output = Posted> + Send + '_ {
        let mut limits = StreamableHttpResponseLimits::default();
        limits.max_sse_event_size = max_sse_event_size;
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            limits,
        )
    }

    fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> impl Future<Output = Posted> + Send + '_ {
        self.note(&uri, &session_id, &auth_header, &custom_headers);
        self.http.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            limits,
        )
    }

    fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> impl Future<Output = Result<(), StreamableHttpError<reqwest::Error>>> + Send + '_ {
        *self.seen.lock().expect("session lock") = None;
        self.http
            .delete_session(uri, session_id, auth_header, custom_headers)
    }

    fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> impl Future<
        Output = Result<
            futures_util::stream::BoxStream<'static, Result<sse_stream::Sse, sse_stream::Error>>,
            StreamableHttpError<reqwest::Error>,
        >,
    > + Send
           + '_ {
        self.http
            .get_stream(uri, session_id, last_event_id, auth_header, custom_headers)
    }

    fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> impl Future<
        Output = Result<
            futures_util::stream::BoxStream<'static, Result<sse_stream::Sse, sse_stream::Error>>,
            StreamableHttpError<reqwest::Error>,
        >,
    > + Send
           + '_ {
        self.http.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            auth_header,
            custom_headers,
            max_sse_event_size,
        )
    }
}

/// The stdio transport rmcp's server reads from, taking `tools/call` off its path.
pub(crate) struct Front<T> {
    inner: T,
    shared: Arc<Shared>,
    answers: mpsc::UnboundedSender<ServerJsonRpcMessage>,
    answered: mpsc::UnboundedReceiver<ServerJsonRpcMessage>,
    /// Calls sent here and not answered yet, to drop on the client's cancel.
    running: Arc<Mutex<HashMap<RequestId, AbortHandle>>>,
}

impl<T> Front<T> {
    pub(crate) fn new(inner: T, shared: Arc<Shared>) -> Self {
        let (answers, answered) = mpsc::unbounded_channel();
        Self {
            inner,
            shared,
            answers,
            answered,
            running: Arc::default(),
        }
    }

    /// The message for rmcp's service, or `None` when it was sent to the hall here.
    fn take(&self, message: ClientJsonRpcMessage) -> Option<ClientJsonRpcMessage> {
        match &message {
            ClientJsonRpcMessage::Request(request)
                if matches!(request.request, ClientRequest::CallToolRequest(_)) =>
            {
                let Some(post) = self.shared.session_post() else {
                    return Some(message);
                };
                let id = request.id.clone();
                self.spawn_call(post, id, message);
                None
            }
            ClientJsonRpcMessage::Notification(n) => {
                if let ClientNotification::CancelledNotification(c) = &n.notification {
                    if let Some(id) = &c.params.request_id {
                        if let Some(call) = self.running.lock().expect("running lock").remove(id) {
                            call.abort();
                        }
                    }
                }
                Some(message)
            }
            _ => Some(message),
        }
    }

    fn spawn_call(&self, post: SessionPost, id: RequestId, message: ClientJsonRpcMessage) {
        let shared = self.shared.clone();
        let answers = self.answers.clone();
        let running = self.running.clone();
        let key = id.clone();
        // Held while the task is registered, so it cannot unregister before it is in the table.
        let mut table = self.running.lock().expect("running lock");
        let task = tokio::spawn(async move {
            let answer = match send(&shared.http, &post, &message, &id).await {
                Ok(answer) => answer,
                Err(problem) => {
                    ServerJsonRpcMessage::error(problem.into_error(&shared).await, Some(id.clone()))
                }
            };
            running.lock().expect("running lock").remove(&id);
            let _ = answers.send(answer);
        });
        table.insert(key, task.abort_handle());
    }
}

impl<T: Transport<RoleServer>> Transport<RoleServer> for Front<T> {
    type Error = T::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            tokio::select! {
                // Each answer is written by a task of its own, under the inner transport's write
                // lock, so a receive cancelled by rmcp's service loop never loses one.
                Some(answer) = self.answered.recv() => {
                    tokio::spawn(self.inner.send(answer));
                }
                message = self.inner.receive() => {
                    if let Some(message) = self.take(message?) {
                        return Some(message);
                    }
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        for (_, call) in self.running.lock().expect("running lock").drain() {
            call.abort();
        }
        self.inner.close().await
    }
}

/// Why a call sent here got no answer from the hall.
enum Problem {
    /// The hall is gone (refused, reset, or it no longer knows the session).
    Lost(String),
    TooLarge,
    /// An answer the bridge cannot pass on.
    Garbled(String),
}

impl Problem {
    async fn into_error(self, shared: &Arc<Shared>) -> ErrorData {
        match self {
            Problem::Lost(why) => shared.lost(&why).await,
            Problem::TooLarge => super::mcp_bridge::too_large(),
            Problem::Garbled(why) => ErrorData::internal_error(
                format!("the Proctor hall's answer could not be read: {why}"),
                None,
            ),
        }
    }
}

/// One `tools/call` as a POST on the session; its answer (JSON, or the event that carries it).
async fn send(
    http: &reqwest::Client,
    post: &SessionPost,
    message: &ClientJsonRpcMessage,
    id: &RequestId,
) -> Result<ServerJsonRpcMessage, Problem> {
    let body = serde_json::to_vec(message).map_err(|e| Problem::Garbled(e.to_string()))?;
    let response = post
        .on_session(http.post(post.uri.as_ref()))
        .header(http::header::ACCEPT, "application/json, text/event-stream")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| Problem::Lost(e.to_string()))?;
    let status = response.status();
    if status == reqwest::StatusCode::PAYLOAD_TOO_LARGE {
        return Err(Problem::TooLarge);
    }
    if !status.is_success() {
        // 404: the hall no longer holds the session (it restarted); 401: another hall.
        return Err(Problem::Lost(format!("HTTP {status}")));
    }
    let is_events = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let body = response
        .bytes()
        .await
        .map_err(|e| Problem::Lost(e.to_string()))?;
    if !is_events {
        return serde_json::from_slice(&body).map_err(|e| Problem::Garbled(e.to_string()));
    }
    // An event stream (a hall that answers through its session): the event holding the answer.
    let text = std::str::from_utf8(&body).map_err(|e| Problem::Garbled(e.to_string()))?;
    text.split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            serde_json::from_str::<ServerJsonRpcMessage>(&data.join("\n")).ok()
        })
        .find(|m| match m {
            ServerJsonRpcMessage::Response(r) => &r.id == id,
            ServerJsonRpcMessage::Error(e) => e.id.as_ref() == Some(id),
            _ => false,
        })
        .ok_or_else(|| Problem::Garbled("no answer in its event stream".into()))
}
