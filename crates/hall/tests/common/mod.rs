//! A real hall on 127.0.0.1 (ephemeral port) over a temp data dir, driven with a blocking HTTP
//! client from the test thread.
#![allow(dead_code)] // each test binary uses a different subset

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct TestHall {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    agent: ureq::Agent,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub content_type: String,
}

pub const RULES: &str = r#"{"rules": [
  {"rule_id": "rr_doc", "match": {"capability_id": "cap.doc.summarize"},
   "decision": {"candidate_workers_ranked": [{"worker_species_id": "wrk.doc.summarizer", "score_hint": 1.0}]}}
]}"#;

pub fn worker_record(worker_id: &str) -> Value {
    json!({"worker_id": worker_id, "worker_species_id": "wrk.doc.summarizer",
           "capabilities": ["cap.doc.summarize"], "risk_tier": "low"})
}

/// Hand-places `worker_record(worker_id)` as `registry/<file>` of a data dir (before start).
pub fn place_worker(data_dir: &Path, file: &str, worker_id: &str) {
    let registry = data_dir.join("registry");
    std::fs::create_dir_all(&registry).unwrap();
    std::fs::write(registry.join(file), worker_record(worker_id).to_string()).unwrap();
}

pub fn route_input(correlation_id: &str) -> Value {
    json!({"capability_id": "cap.doc.summarize", "env": "dev", "data_label": "PUBLIC",
           "tenant_risk": "low", "qos_class": "P2", "tenant_id": "agent.test",
           "correlation_id": correlation_id, "request": {}})
}

impl TestHall {
    pub fn start() -> TestHall {
        Self::start_with(|_| {})
    }

    /// `prepare` may write files into the data dir before the hall starts.
    pub fn start_with(prepare: impl FnOnce(&Path)) -> TestHall {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rules.json"), RULES).unwrap();
        prepare(dir.path());
        Self::start_in(dir)
    }

    /// Stop `old` and start a new hall on the same data dir.
    pub fn restart(mut old: TestHall) -> TestHall {
        old.stop();
        let dir = std::mem::replace(&mut old.dir, tempfile::tempdir().unwrap());
        Self::start_in(dir)
    }

    /// A hall that also trades the single-use sign-in codes of `codes` (`POST /v1/session`).
    pub fn start_with_sign_in(codes: std::sync::Arc<hall::sign_in::SignInCodes>) -> TestHall {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rules.json"), RULES).unwrap();
        Self::serve_in(dir, Some(codes))
    }

    fn start_in(dir: tempfile::TempDir) -> TestHall {
        Self::serve_in(dir, None)
    }

    fn serve_in(
        dir: tempfile::TempDir,
        codes: Option<std::sync::Arc<hall::sign_in::SignInCodes>>,
    ) -> TestHall {
        let (mut config, _) = hall::Config::load_or_init(dir.path()).unwrap();
        config.file.listen = "127.0.0.1:0".parse().unwrap();
        let token = config.read_token().unwrap();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = hall::server::bind(config.file.listen).await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let hall = hall::Hall::open(config).await.unwrap();
                let stopped = async {
                    let _ = stop_rx.await;
                };
                hall::server::serve_with_sign_in(hall, listener, stopped, codes)
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(20)).unwrap();
        // No connection reuse: a server may close a connection after refusing a request without
        // reading its body, and a pooled reuse of it would fail spuriously.
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(0)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        let hall = TestHall {
            dir,
            addr,
            token,
            stop: Some(stop_tx),
            thread: Some(thread),
            agent,
        };
        hall.wait_until_ready();
        hall
    }

    fn wait_until_ready(&self) {
        for _ in 0..200 {
            if self.get_noauth("/health").status == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("hall did not become ready");
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    pub fn get(&self, path: &str) -> Reply {
        reply(
            self.agent
                .get(self.url(path))
                .header("Authorization", self.bearer())
                .call(),
        )
    }

    pub fn get_noauth(&self, path: &str) -> Reply {
        reply(self.agent.get(self.url(path)).call())
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        reply(
            self.agent
                .post(self.url(path))
                .header("Authorization", self.bearer())
                .send_json(body),
        )
    }

    /// PUT a JSON body with the bearer token.
    pub fn put(&self, path: &str, body: &Value) -> Reply {
        let bearer = self.bearer();
        self.request(
            "PUT",
            path,
            Some(&bearer),
            Some(body.to_string().as_bytes()),
        )
    }

    /// POST raw bytes with the given content type (malformed-input tests).
    pub fn post_raw(&self, path: &str, content_type: &str, body: &[u8]) -> Reply {
        reply(
            self.agent
                .post(self.url(path))
                .header("Authorization", self.bearer())
                .header("Content-Type", content_type)
                .send(body),
        )
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<&[u8]>,
    ) -> Reply {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path));
        if let Some(a) = auth {
            builder = builder.header("Authorization", a);
        }
        if body.is_some() {
            builder = builder.header("Content-Type", "application/json");
        }
        let req = builder
            .body(body.map(<[u8]>::to_vec).unwrap_or_default())
            .unwrap();
        reply(self.agent.run(req))
    }

    /// Open the event stream with a bearer header; returns a line reader.
    pub fn events(&self) -> SseReader {
        // The stream's whole life is bounded: a test waiting for an event that never comes fails
        // ("event stream ended") instead of hanging CI. Some tests read one stream from start to
        // end, which takes minutes on a loaded 2-core machine: just under nextest's 5-minute kill.
        let resp = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(280)))
            .build()
            .new_agent()
            .get(self.url("/v1/events"))
            .header("Authorization", self.bearer())
            .call()
            .unwrap();
        assert_eq!(resp.status(), 200);
        SseReader {
            lines: BufReader::new(Box::new(resp.into_body().into_reader())),
        }
    }

    /// POST a body of `len` bytes over a raw socket, writing from another thread, and return the
    /// status line and body of the response (the server may answer before the body is sent).
    pub fn post_oversized(&self, path: &str, len: usize) -> (u16, Value) {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(self.addr).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n",
            self.addr,
            self.bearer()
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let feeder = std::thread::spawn(move || {
            let chunk = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < len {
                if writer.write_all(&chunk).is_err() {
                    break; // the server answered and closed: expected
                }
                sent += chunk.len();
            }
        });
        let reply = read_response(stream);
        let _ = feeder.join();
        reply
    }

    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for TestHall {
    fn drop(&mut self) {
        self.stop();
    }
}

fn reply(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut resp = result.expect("request reaches the hall");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // An event stream never ends: report its status and headers only.
    if content_type.starts_with("text/event-stream") {
        return Reply {
            status,
            body: Value::Null,
            content_type,
        };
    }
    let text = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        body,
        content_type,
    }
}

pub struct SseReader {
    lines: BufReader<Box<dyn Read + Send>>,
}

impl SseReader {
    /// Next `(event, data)` pair, skipping keep-alive comments.
    pub fn next_event(&mut self) -> Option<(String, Value)> {
        let mut name = String::new();
        let mut data = String::new();
        loop {
            let mut line = String::new();
            if self.lines.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if !name.is_empty() || !data.is_empty() {
                    return Some((
                        name,
                        serde_json::from_str(&data).unwrap_or(Value::String(data)),
                    ));
                }
                continue;
            }
            if let Some(v) = line.strip_prefix("event:") {
                name = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            }
        }
    }

    /// Skip events until one named `name` arrives.
    pub fn wait_for(&mut self, name: &str) -> Value {
        loop {
            let (n, data) = self.next_event().expect("event stream ended");
            if n == name {
                return data;
            }
        }
    }
}

/// A config dir with a fresh `org.acme` signing key that the trust store trusts. The hall (and
/// `proctor attest`) read keys from `PROCTOR_CONFIG_DIR`: one value per test process, so only
/// the tests of one binary may call this.
/// The open alerts of `kind`, from `GET /v1/alerts`.
pub fn alerts_of(hall: &TestHall, kind: &str) -> Vec<Value> {
    let alerts = hall.get("/v1/alerts").body;
    alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == kind)
        .cloned()
        .collect()
}

pub fn setup_keys() -> tempfile::TempDir {
    let cfg = tempfile::tempdir().unwrap();
    std::env::set_var("PROCTOR_CONFIG_DIR", cfg.path());
    let ns = attest::Namespace::parse("org.acme").unwrap();
    let key = attest::KeyStore::new(cfg.path()).create(&ns).unwrap();
    let trust_path = cfg.path().join(attest::trust::TRUST_FILE);
    let mut trust = attest::TrustStore::load_or_default(&trust_path).unwrap();
    trust.trust(key.public()).unwrap();
    trust.save(&trust_path).unwrap();
    cfg
}

/// Poll `f` until it returns `Some`, for up to 10 s (file-watch reloads are asynchronous).
pub fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Write like an editor does: to a temp file, then rename over the target.
pub fn replace_file(path: &Path, text: &str) {
    let tmp = path.with_extension("swp~");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Read one HTTP/1.1 response (status and JSON body) from a raw socket.
pub fn read_response(stream: std::net::TcpStream) -> (u16, Value) {
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut content_length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body).unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// The fixture server's binary: `$MCP_FIXTURE` where set (./test sets it to the one its
/// `cargo test --workspace` build made with the test binaries), else built once per test process
/// with `cargo build -p hall --example mcp_fixture`. (That build resolves features for `hall`
/// alone, so after a workspace build it rebuilds rmcp, the ledger and more: minutes of CI.)
pub fn fixture() -> PathBuf {
    if let Some(bin) = std::env::var_os("MCP_FIXTURE") {
        let bin = PathBuf::from(bin);
        assert!(bin.is_file(), "MCP_FIXTURE={} missing", bin.display());
        return bin;
    }
    static BUILD: std::sync::Once = std::sync::Once::new();
    let exe = std::env::current_exe().unwrap();
    let debug_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let bin = debug_dir.join("examples").join("mcp_fixture");
    BUILD.call_once(|| {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "hall", "--example", "mcp_fixture"])
            // Not the test process's working directory: a test may move it (hardening_http).
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "building the fixture server failed");
    });
    assert!(bin.is_file(), "{} missing", bin.display());
    bin
}

pub type McpClient = rmcp::service::RunningService<rmcp::RoleClient, ()>;

/// The official Rust SDK's client on the hall's `/mcp`, with the hall's token.
pub async fn connect(hall: &TestHall) -> McpClient {
    connect_with(hall, &[]).await
}

/// [`connect`] sending `headers` (e.g. `Proctor-Env`) with every request.
pub async fn connect_with(hall: &TestHall, headers: &[(&'static str, &str)]) -> McpClient {
    use rmcp::ServiceExt;
    let headers = headers
        .iter()
        .map(|(k, v)| {
            (
                axum::http::HeaderName::from_static(k),
                axum::http::HeaderValue::from_str(v).unwrap(),
            )
        })
        .collect();
    let config =
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            hall.url("/mcp"),
        )
        .auth_header(hall.token.clone())
        .custom_headers(headers);
    hall::tls::install_crypto_provider();
    ().serve(rmcp::transport::StreamableHttpClientTransport::from_config(
        config,
    ))
    .await
    .expect("the MCP client connects")
}

pub fn call(name: &str, args: Value) -> rmcp::model::CallToolRequestParams {
    let args: serde_json::Map<String, Value> = serde_json::from_value(args).unwrap();
    rmcp::model::CallToolRequestParams::new(name.to_string()).with_arguments(args)
}
