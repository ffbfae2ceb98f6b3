//! OTLP export (`[otel] endpoint` in config.toml; docs/observability.md): every recorded decision
//! as an OTLP log record, every MCP `tools/call` as a span, sent to an OpenTelemetry collector over
//! HTTP with protobuf bodies.
//!
//! Protobuf rather than JSON: it is OTLP/HTTP's default encoding, the one every collector and
//! vendor endpoint accepts, and smaller on the wire. Routes are never slowed: decisions come from
//! the event bus (a [`DecisionEvent`] per recorded decision, read by a task of this module, so the
//! route path is untouched), and both signals go through the SDK's batch processors, which queue
//! in memory (bounded; records beyond it are dropped) and export from a thread of their own. A
//! collector that is down or slow costs a warning in the log at most once a minute, nothing more.

use crate::error::HallError;
use crate::events::{DecisionEvent, EventBus, HallEvent};
use crate::hall::Hall;
use opentelemetry::logs::{AnyValue, LogRecord, Logger, LoggerProvider, Severity};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Span, SpanKind, Status, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider, SpanData, SpanExporter,
};
use opentelemetry_sdk::Resource;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

/// The instrumentation scope of everything this module exports.
const SCOPE: &str = "proctor";
/// How long one export may take before the batch processor gives up on it.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the batch processors export. The SDK's default for spans is 5 s; a call's span
/// arrives about as soon as its decision's log record (the logs' default) with this.
const EXPORT_EVERY: Duration = Duration::from_secs(1);
/// At most one warning about export trouble per this long.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// `[otel]` in config.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtelConfig {
    /// The collector's OTLP/HTTP base URL (`http://collector:4318`): logs are sent to
    /// `<endpoint>/v1/logs`, spans to `<endpoint>/v1/traces`, as `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub endpoint: String,
}

impl OtelConfig {
    /// A bad endpoint stops the start with an error naming the key, rather than exporting nowhere.
    pub fn validate(&self) -> Result<(), String> {
        let bad = |why: &str| Err(format!("otel.endpoint: {:?} {why}", self.endpoint));
        let Ok(uri) = self.endpoint.parse::<axum::http::Uri>() else {
            return bad("is not a URL");
        };
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return bad("must start with http:// or https://");
        }
        if uri.host().is_none_or(str::is_empty) {
            return bad("names no host");
        }
        if uri.query().is_some() {
            return bad(
                "must not have a query: it is the base URL /v1/logs and /v1/traces go under",
            );
        }
        Ok(())
    }

    fn signal_url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint.trim_end_matches('/'))
    }
}

/// A running export: the two SDK providers and the task that turns decisions into log records.
pub(crate) struct Otel {
    logs: SdkLoggerProvider,
    traces: SdkTracerProvider,
    tracer: SdkTracer,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Otel {
    /// Build the exporters and start reading decisions off `bus`. Must run inside a tokio runtime.
    pub(crate) fn start(
        config: &OtelConfig,
        bus: &EventBus,
        hall_name: &str,
    ) -> Result<Otel, HallError> {
        let resource = Resource::builder()
            .with_service_name("proctor")
            .with_attributes([
                KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
                // The hall key's name: stable per data dir, and says nothing about the machine.
                KeyValue::new("service.instance.id", hall_name.to_string()),
            ])
            .build();
        let warnings = Arc::new(Warnings::default());
        let failed = |e: opentelemetry_otlp::ExporterBuildError| {
            HallError::Config(format!("[otel]: cannot start the OTLP exporter: {e}"))
        };
        crate::tls::install_crypto_provider();
        let log_url = config.signal_url("/v1/logs");
        let log_exporter = opentelemetry_otlp::LogExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(&log_url)
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(failed)?;
        let span_url = config.signal_url("/v1/traces");
        let span_exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(&span_url)
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(failed)?;
        let logs = SdkLoggerProvider::builder()
            .with_resource(resource.clone())
            .with_batch_exporter(Warned::new(log_exporter, log_url, warnings.clone()))
            .build();
        let spans = Warned::new(span_exporter, span_url, warnings.clone());
        let every = BatchConfigBuilder::default().with_scheduled_delay(EXPORT_EVERY);
        let traces = SdkTracerProvider::builder()
            .with_resource(resource)
            .with_span_processor(
                BatchSpanProcessor::builder(spans)
                    .with_batch_config(every.build())
                    .build(),
            )
            .build();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(export_decisions(
            bus.subscribe(),
            logs.logger(SCOPE),
            stopped,
            warnings,
        ));
        Ok(Otel {
            tracer: traces.tracer(SCOPE),
            logs,
            traces,
            stop: Mutex::new(Some(stop)),
            task: Mutex::new(Some(task)),
        })
    }

    /// Export what was decided until now, then stop. The collector gets [`EXPORT_TIMEOUT`] per
    /// signal; whatever it did not take by then is dropped (and warned about).
    pub(crate) async fn shutdown(&self) {
        if let Some(stop) = self.stop.lock().expect("otel stop").take() {
            let _ = stop.send(());
        }
        let task = self.task.lock().expect("otel task").take();
        if let Some(task) = task {
            let _ = task.await;
        }
        let (logs, traces) = (self.logs.clone(), self.traces.clone());
        // The providers' shutdown waits for their export threads: blocking work.
        let _ = tokio::task::spawn_blocking(move || {
            let _ = logs.shutdown();
            let _ = traces.shutdown();
        })
        .await;
    }

    /// One MCP call as a span: `tools/call <tool>` (the MCP semantic conventions), a child of the
    /// client's `traceparent` when its `_meta` carried one, else the root of a new trace.
    fn mcp_span(&self, start: &McpCallStart, end: &McpCallEnd<'_>, outcome: &str) {
        let mut attributes = vec![
            KeyValue::new("mcp.method.name", "tools/call"),
            KeyValue::new("gen_ai.operation.name", "execute_tool"),
            KeyValue::new("gen_ai.tool.name", end.tool.to_string()),
            KeyValue::new("mcp.session.id", end.session_id.to_string()),
            KeyValue::new("proctor.mcp.server", end.server.to_string()),
            KeyValue::new("proctor.mcp.outcome", outcome.to_string()),
            KeyValue::new("proctor.decision_id", end.decision_id.to_string()),
        ];
        if outcome != "ok" {
            attributes.push(KeyValue::new("error.type", outcome.to_string()));
        }
        let mut span = self
            .tracer
            .span_builder(format!("tools/call {}", end.tool))
            .with_kind(SpanKind::Server)
            .with_start_time(start.wall)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &start.parent);
        if outcome != "ok" {
            span.set_status(Status::error(outcome.to_string()));
        }
        span.end_with_timestamp(start.wall + start.at.elapsed());
    }
}

/// Where an MCP call began: its clock, and the trace it continues.
pub(crate) struct McpCallStart {
    at: Instant,
    wall: SystemTime,
    parent: Context,
}

impl McpCallStart {
    /// Now, under the W3C `traceparent` (and `tracestate`) of the call's `_meta`, if any.
    pub(crate) fn now(meta: Option<&rmcp::model::MetaObject>) -> Self {
        let carrier: HashMap<String, String> = meta
            .into_iter()
            .flat_map(|m| {
                [
                    ("traceparent", m.get_traceparent()),
                    ("tracestate", m.get_tracestate()),
                ]
            })
            .filter_map(|(k, v)| Some((k.to_string(), v?.to_string())))
            .collect();
        McpCallStart {
            at: Instant::now(),
            wall: SystemTime::now(),
            // An absent or malformed traceparent extracts as an empty context: a new trace.
            parent: TraceContextPropagator::new().extract(&carrier),
        }
    }
}

/// How an MCP call ended (what its outcome record says).
pub(crate) struct McpCallEnd<'a> {
    pub server: &'a str,
    pub tool: &'a str,
    pub outcome: crate::mcp::call::Outcome,
    pub decision_id: &'a str,
    pub session_id: &'a str,
}

impl Hall {
    /// An MCP call's outcome: its latency into `GET /metrics`, its span to the collector.
    pub(crate) fn observe_mcp_call(&self, start: &McpCallStart, end: McpCallEnd<'_>) {
        // The outcome's name as its ledger record spells it (serde), in one place.
        let outcome = serde_json::to_value(end.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        self.metrics()
            .mcp_call(end.server, end.tool, &outcome, start.at.elapsed());
        if let Some(otel) = self.otel() {
            otel.mcp_span(start, &end, &outcome);
        }
    }
}

/// Turn each recorded decision into a log record until told to stop, then drain what the bus
/// still holds.
async fn export_decisions(
    mut events: broadcast::Receiver<HallEvent>,
    logger: SdkLogger,
    mut stop: oneshot::Receiver<()>,
    warnings: Arc<Warnings>,
) {
    loop {
        tokio::select! {
            biased;
            event = events.recv() => match event {
                Ok(HallEvent::Decision(d)) => emit_decision(&logger, &d),
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => warnings.warn(
                    "decisions were not exported: the exporter fell behind the event bus",
                    &format!("{n} decisions skipped"),
                ),
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = &mut stop => break,
        }
    }
    while let Ok(event) = events.try_recv() {
        if let HallEvent::Decision(d) = event {
            emit_decision(&logger, &d);
        }
    }
}

/// A decision as an OTLP log record: event `proctor.decision`, INFO when allowed, WARN when
/// denied, the decision's ids as `proctor.*` attributes.
fn emit_decision(logger: &SdkLogger, d: &DecisionEvent) {
    let mut record = logger.create_log_record();
    let recorded = chrono::DateTime::parse_from_rfc3339(&d.recorded_at)
        .map(SystemTime::from)
        .unwrap_or_else(|_| SystemTime::now());
    record.set_timestamp(recorded);
    record.set_observed_timestamp(SystemTime::now());
    record.set_event_name("proctor.decision");
    let (severity, text, outcome) = if d.denied {
        (Severity::Warn, "WARN", "denied")
    } else {
        (Severity::Info, "INFO", "allowed")
    };
    record.set_severity_number(severity);
    record.set_severity_text(text);
    let body = match &d.deny_code {
        Some(code) => format!("{outcome} {} for {}: {code}", d.capability_id, d.tenant_id),
        None => format!("{outcome} {} for {}", d.capability_id, d.tenant_id),
    };
    record.set_body(AnyValue::from(body));
    let text_attributes = [
        ("proctor.outcome", Some(outcome.to_string())),
        ("proctor.decision_id", Some(d.decision_id.clone())),
        ("proctor.correlation_id", Some(d.correlation_id.clone())),
        ("proctor.capability_id", Some(d.capability_id.clone())),
        ("proctor.tenant_id", Some(d.tenant_id.clone())),
        ("proctor.env", Some(d.env.clone())),
        ("proctor.deny_code", d.deny_code.clone()),
        ("proctor.matched_rule_id", Some(d.matched_rule_id.clone())),
        (
            "proctor.worker_species_id",
            d.selected_worker_species_id.clone(),
        ),
        ("proctor.ledger.hash", Some(d.hash.clone())),
    ];
    for (key, value) in text_attributes {
        if let Some(value) = value {
            record.add_attribute(key, value);
        }
    }
    record.add_attribute(
        "proctor.ledger.seq",
        i64::try_from(d.seq).unwrap_or(i64::MAX),
    );
    record.add_attribute("proctor.dry_run", d.dry_run);
    logger.emit(record);
}

/// Export trouble, in the log at most once per [`WARN_EVERY`], saying how many were held back: a
/// collector that is down must not flood the hall's log with a line per batch.
#[derive(Debug, Default)]
struct Warnings {
    /// When the last warning was logged, and how many have been held back since.
    state: Mutex<(Option<Instant>, u64)>,
}

impl Warnings {
    fn warn(&self, what: &str, error: &dyn std::fmt::Display) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if state.0.is_some_and(|last| now - last < WARN_EVERY) {
            state.1 += 1;
            return;
        }
        let held_back = std::mem::take(&mut state.1);
        state.0 = Some(now);
        drop(state);
        tracing::warn!(%error, held_back, "OTLP export: {what}; routing is not affected");
    }
}

/// An OTLP exporter that reports failed exports through [`Warnings`] (the SDK itself only
/// reports them through its internal logs, which the hall does not turn on).
#[derive(Debug)]
struct Warned<E> {
    inner: E,
    url: String,
    warnings: Arc<Warnings>,
}

impl<E> Warned<E> {
    fn new(inner: E, url: String, warnings: Arc<Warnings>) -> Self {
        Warned {
            inner,
            url,
            warnings,
        }
    }

    fn check(&self, result: OTelSdkResult) -> OTelSdkResult {
        if let Err(e) = &result {
            let what = format!("sending to {} failed", self.url);
            self.warnings.warn(&what, e);
        }
        result
    }
}

impl<E: LogExporter> LogExporter for Warned<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        self.check(self.inner.export(batch).await)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: SpanExporter> SpanExporter for Warned<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.check(self.inner.export(batch).await)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(e: &str) -> Result<(), String> {
        OtelConfig { endpoint: e.into() }.validate()
    }

    #[test]
    fn endpoints_are_http_base_urls() {
        assert!(endpoint("http://127.0.0.1:4318").is_ok());
        assert!(endpoint("https://otel.example/base/").is_ok());
        for bad in [
            "",
            "collector:4318",
            "ftp://x",
            "http://",
            "http://x/?a=1",
            "not a url",
        ] {
            let err = endpoint(bad).unwrap_err();
            assert!(err.starts_with("otel.endpoint: "), "{bad}: {err}");
        }
        let c = OtelConfig {
            endpoint: "http://c:4318/".into(),
        };
        assert_eq!(c.signal_url("/v1/logs"), "http://c:4318/v1/logs");
    }

    #[test]
    fn warnings_are_held_back_within_the_interval_and_counted() {
        let w = Warnings::default();
        for _ in 0..3 {
            w.warn("sending failed", &"connection refused");
        }
        let (last, held_back) = *w.state.lock().unwrap();
        assert!(last.is_some());
        assert_eq!(held_back, 2, "the first is logged, the next two held back");
    }

    #[test]
    fn a_traceparent_in_meta_is_the_parent() {
        use opentelemetry::trace::TraceContextExt;
        let mut meta = rmcp::model::MetaObject::new();
        meta.set_traceparent("00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01");
        let start = McpCallStart::now(Some(&meta));
        let parent = start.parent.span().span_context().clone();
        assert!(parent.is_remote());
        assert_eq!(
            parent.trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(parent.span_id().to_string(), "00f067aa0ba902b7");
        meta.set_traceparent("garbage");
        let start = McpCallStart::now(Some(&meta));
        assert!(!start.parent.span().span_context().is_valid());
        assert!(!McpCallStart::now(None)
            .parent
            .span()
            .span_context()
            .is_valid());
    }
}
