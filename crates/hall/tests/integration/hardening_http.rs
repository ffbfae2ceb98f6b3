//! The HTTP surface's hardening (issue 16, part 3), each through a real hall on a real socket:
//! the UI served only from the binary (or a dev dir it never leaves), Host and Origin checks
//! (DNS rebinding), bounded work (slow bodies, hashing time limit, event stream cap) and strict
//! query decoding. Raw sockets where a client library would fix the Host header for us.

use crate::common;

use common::TestHall;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

struct Raw {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// One request over a fresh connection, exactly as written (`headers` are complete lines), and
/// the whole answer (the connection is closed after it).
fn raw(addr: SocketAddr, method: &str, target: &str, headers: &[String], body: &[u8]) -> Raw {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    read_all(stream)
}

fn read_all(mut stream: TcpStream) -> Raw {
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    Raw {
        status,
        head,
        body: bytes[split + 4..].to_vec(),
    }
}

fn host(hall: &TestHall) -> String {
    format!("Host: {}", hall.addr)
}

/// `GET path` of the UI with only a Host header, as a browser without a session sends it.
fn get_ui(hall: &TestHall, path: &str) -> Raw {
    raw(hall.addr, "GET", path, &[host(hall)], b"")
}

fn auth(hall: &TestHall) -> String {
    format!("Authorization: {}", hall.bearer())
}

fn with_config(toml: &'static str) -> TestHall {
    TestHall::start_with(move |dir| std::fs::write(dir.join("config.toml"), toml).unwrap())
}

// ---- 1. The web UI ----

/// The built UI this test binary's hall embedded, if `ui/dist` existed when it was compiled.
fn built_index() -> Option<Vec<u8>> {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/dist/index.html");
    std::fs::read(dist).ok()
}

#[test]
fn the_ui_comes_from_the_binary_never_from_the_working_directory() {
    let hall = TestHall::start();
    // Someone who can write to the directory the hall was started in plants a UI there, with a
    // link to the hall's token.
    let planted = tempfile::tempdir().unwrap();
    let dist = planted.path().join("ui/dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "PLANTED").unwrap();
    std::os::unix::fs::symlink(hall.data().join("api-token"), dist.join("token.txt")).unwrap();
    let before = std::env::current_dir().unwrap();
    std::env::set_current_dir(planted.path()).unwrap();
    let started = TestHall::start();
    std::env::set_current_dir(before).unwrap();

    let h = host(&started);
    for path in ["/", "/token.txt", "/workers"] {
        let r = raw(started.addr, "GET", path, std::slice::from_ref(&h), b"");
        let text = String::from_utf8_lossy(&r.body);
        assert!(!text.contains("PLANTED"), "{path}: served the planted UI");
        assert!(!text.contains(&hall.token), "{path}: served the token");
    }
    let index = raw(started.addr, "GET", "/", &[h], b"");
    match built_index() {
        Some(built) => {
            assert_eq!(index.status, 200);
            assert_eq!(index.body, built, "the embedded index.html");
        }
        None => {
            assert_eq!(index.status, 404);
            assert!(index.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("npm --prefix ui run build"));
        }
    }
}

#[test]
fn the_embedded_ui_has_content_types_cache_headers_and_a_client_route_fallback() {
    let Some(built) = built_index() else {
        eprintln!("ui/dist was not built when this test was compiled: nothing embedded to check");
        return;
    };
    let hall = TestHall::start();
    let h = host(&hall);
    let index = get_ui(&hall, "/");
    assert_eq!(index.header("content-type").as_deref(), Some("text/html"));
    assert_eq!(index.header("cache-control").as_deref(), Some("no-cache"));
    // A client-side route gets index.html; a missing file does not.
    let route = get_ui(&hall, "/settings");
    assert_eq!(
        (route.status, route.body.as_slice()),
        (200, built.as_slice())
    );
    let gone = get_ui(&hall, "/assets/gone-123.js");
    assert_eq!((gone.status, gone.code().as_str()), (404, "NOT_FOUND"));
    // Every hashed asset index.html names is served, immutable, with its type.
    let text = String::from_utf8_lossy(&built).into_owned();
    let assets: Vec<&str> = text
        .split('"')
        .filter(|s| s.starts_with("./assets/"))
        .collect();
    assert!(!assets.is_empty(), "index.html names its assets");
    for asset in assets {
        let r = get_ui(&hall, &asset[1..]);
        assert_eq!(r.status, 200, "{asset}");
        let want = if asset.ends_with(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert_eq!(r.header("content-type").as_deref(), Some(want), "{asset}");
        assert_eq!(
            r.header("cache-control").as_deref(),
            Some("public, max-age=31536000, immutable"),
            "{asset}"
        );
    }
    let post = raw(hall.addr, "POST", "/", &[h], b"");
    assert_eq!(
        (post.status, post.code().as_str()),
        (405, "METHOD_NOT_ALLOWED")
    );
}

#[test]
fn a_dev_ui_dir_never_serves_through_links_that_leave_it() {
    let ui = tempfile::tempdir().unwrap();
    std::fs::write(ui.path().join("index.html"), "<p>dev</p>").unwrap();
    std::fs::create_dir(ui.path().join("assets")).unwrap();
    std::fs::write(ui.path().join("assets/app-1.js"), "1").unwrap();
    let ui_path = ui.path().to_path_buf();
    let hall = TestHall::start_with(move |dir| {
        let toml = format!("ui_dir = {:?}\n", ui_path.display().to_string());
        std::fs::write(dir.join("config.toml"), toml).unwrap();
    });
    std::os::unix::fs::symlink(hall.data().join("api-token"), ui.path().join("token.txt")).unwrap();
    std::os::unix::fs::symlink(hall.data(), ui.path().join("data")).unwrap();
    for path in ["/token.txt", "/data/api-token"] {
        let r = get_ui(&hall, path);
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "OUTSIDE_UI_DIR"),
            "{path}"
        );
        assert!(
            !String::from_utf8_lossy(&r.body).contains(&hall.token),
            "{path}"
        );
    }
    for path in [
        "/../api-token",
        "/%2e%2e/api-token",
        "/assets/..%2f..%2fapi-token",
    ] {
        let r = get_ui(&hall, path);
        assert!(r.status >= 400, "{path}: {}", r.status);
        assert!(
            !String::from_utf8_lossy(&r.body).contains(&hall.token),
            "{path}"
        );
    }
    let js = get_ui(&hall, "/assets/app-1.js");
    assert_eq!((js.status, js.body.as_slice()), (200, &b"1"[..]));
    assert_eq!(
        js.header("content-type").as_deref(),
        Some("text/javascript")
    );
    let route = get_ui(&hall, "/decisions");
    assert_eq!(
        (route.status, route.body.as_slice()),
        (200, &b"<p>dev</p>"[..])
    );
}

// ---- 2. Host and Origin ----

#[test]
fn a_foreign_host_is_refused_on_every_route_and_our_names_are_not() {
    let hall = TestHall::start();
    let port = hall.addr.port();
    let a = auth(&hall);
    let routes = [
        ("GET", "/"),
        ("GET", "/health"),
        ("GET", "/v1/workers"),
        ("GET", "/v1/events"),
        ("POST", "/mcp"),
    ];
    for foreign in [
        format!("Host: evil.example:{port}"),
        "Host: evil.example".to_string(),
        format!("Host: 127.0.0.1:{}", port + 1),
        "Host: localhost".to_string(),
    ] {
        for (method, path) in routes {
            let r = raw(hall.addr, method, path, &[foreign.clone(), a.clone()], b"");
            assert_eq!(r.status, 421, "{method} {path} with {foreign}");
            assert_eq!(r.code(), "MISDIRECTED_HOST", "{method} {path}");
            assert!(r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("http://127.0.0.1:{port}")));
        }
    }
    // Two Host headers, or none (HTTP/1.1 requires one), or an absolute target naming another.
    let two = raw(
        hall.addr,
        "GET",
        "/health",
        &[host(&hall), "Host: evil.example".into()],
        b"",
    );
    assert_eq!(two.status, 421);
    assert_eq!(raw(hall.addr, "GET", "/health", &[], b"").status, 421);
    let absolute = raw(
        hall.addr,
        "GET",
        "http://evil.example/health",
        &[host(&hall)],
        b"",
    );
    assert_eq!(absolute.status, 421);
    for ours in [
        format!("Host: 127.0.0.1:{port}"),
        format!("Host: localhost:{port}"),
        format!("Host: LOCALHOST:{port}"),
        format!("Host: [::1]:{port}"),
    ] {
        let r = raw(
            hall.addr,
            "GET",
            "/health",
            std::slice::from_ref(&ours),
            b"",
        );
        assert_eq!(r.status, 200, "{ours}");
        let w = raw(
            hall.addr,
            "GET",
            "/v1/workers",
            &[ours.clone(), a.clone()],
            b"",
        );
        assert_eq!(w.status, 200, "{ours}");
    }
}

#[test]
fn a_foreign_origin_cannot_change_state() {
    let hall = TestHall::start();
    let port = hall.addr.port();
    let (h, a) = (host(&hall), auth(&hall));
    let json = "Content-Type: application/json".to_string();
    let body = common::route_input("origin-check").to_string();
    for foreign in [
        "Origin: http://evil.example".to_string(),
        format!("Origin: http://evil.example:{port}"),
        format!("Origin: http://127.0.0.1:{}", port + 1),
        format!("Origin: https://127.0.0.1:{port}"),
        "Origin: null".into(),
    ] {
        let headers = [h.clone(), a.clone(), json.clone(), foreign.clone()];
        let r = raw(hall.addr, "POST", "/v1/route", &headers, body.as_bytes());
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "FOREIGN_ORIGIN"),
            "{foreign}"
        );
        let t = raw(hall.addr, "PUT", "/v1/settings/thresholds", &headers, b"{}");
        assert_eq!(t.status, 403, "{foreign}");
        // Reads are not state changes (and CORS keeps their answers from the page).
        let g = raw(hall.addr, "GET", "/v1/workers", &headers[..2], b"");
        assert_eq!(g.status, 200, "{foreign}");
    }
    let refused = hall.get("/v1/decisions");
    assert_eq!(refused.body["decisions"].as_array().map(Vec::len), Some(0));
    for ours in [
        format!("Origin: http://127.0.0.1:{port}"),
        format!("Origin: http://localhost:{port}"),
    ] {
        let headers = [h.clone(), a.clone(), json.clone(), ours.clone()];
        let r = raw(hall.addr, "POST", "/v1/route", &headers, body.as_bytes());
        assert_eq!(r.status, 200, "{ours}: {:?}", r.json());
    }
}

/// A hall of its own on `ip` (port 0), stopped on drop.
struct Bound {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Bound {
    fn on(ip: std::net::IpAddr) -> Bound {
        let dir = tempfile::tempdir().unwrap();
        let (mut config, _) = hall::Config::load_or_init(dir.path()).unwrap();
        config.file.listen = SocketAddr::new(ip, 0);
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async move {
                let listener = hall::server::bind(config.file.listen).await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let hall = hall::Hall::open(config).await.unwrap();
                hall::server::serve(hall, listener, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(20)).unwrap();
        Bound {
            addr,
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        }
    }
}

impl Drop for Bound {
    fn drop(&mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        let _ = self.thread.take().map(|t| t.join());
    }
}

/// This machine's address on its default route, if it has one that is not loopback.
fn lan_ip() -> Option<std::net::IpAddr> {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    probe.connect("192.0.2.1:9").ok()?; // TEST-NET-1: nothing is sent
    let ip = probe.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn a_hall_bound_to_a_lan_address_or_everywhere_answers_to_its_own_address() {
    let Some(ip) = lan_ip() else {
        eprintln!("no non-loopback address on this machine: nothing to bind to");
        return;
    };
    let lan = Bound::on(ip);
    let port = lan.addr.port();
    let ok = raw(
        lan.addr,
        "GET",
        "/health",
        &[format!("Host: {}", lan.addr)],
        b"",
    );
    assert_eq!(ok.status, 200);
    let foreign = raw(
        lan.addr,
        "GET",
        "/health",
        &[format!("Host: evil.example:{port}")],
        b"",
    );
    assert_eq!(foreign.status, 421);

    let everywhere = Bound::on("0.0.0.0".parse().unwrap());
    let port = everywhere.addr.port();
    let dialled = SocketAddr::new(ip, port);
    for name in [
        format!("{ip}:{port}"),
        format!("0.0.0.0:{port}"),
        format!("localhost:{port}"),
    ] {
        let r = raw(dialled, "GET", "/health", &[format!("Host: {name}")], b"");
        assert_eq!(r.status, 200, "{name}");
    }
    let other = raw(
        dialled,
        "GET",
        "/health",
        &[format!("Host: 192.0.2.7:{port}")],
        b"",
    );
    assert_eq!(other.status, 421);
}

// ---- 3. Bounded work ----

#[test]
fn slow_bodies_time_out_on_the_routes_without_a_request_timeout() {
    let hall = with_config("request_timeout_s = 1\n");
    let (h, a) = (host(&hall), auth(&hall));
    let json = "Content-Type: application/json".to_string();
    let accept = "Accept: application/json, text/event-stream".to_string();
    for (path, extra) in [
        ("/v1/attest/hash", None),
        ("/v1/workers/org.acme.w/verify", None),
        ("/mcp", Some(accept)),
    ] {
        let mut stream = TcpStream::connect(hall.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        let mut head = format!("POST {path} HTTP/1.1\r\nConnection: close\r\n{h}\r\n{a}\r\n{json}\r\nContent-Length: 100\r\n");
        if let Some(extra) = &extra {
            head.push_str(&format!("{extra}\r\n"));
        }
        head.push_str("\r\n{\"");
        let started = Instant::now();
        stream.write_all(head.as_bytes()).unwrap(); // and the rest never comes
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let waited = started.elapsed();
        assert!(
            waited < Duration::from_secs(8),
            "{path}: the hall waited {waited:?} for a body"
        );
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 408"), "{path}: {text}");
        assert!(text.contains("\"TIMEOUT\""), "{path}: {text}");
        assert!(text.contains("request_timeout_s"), "{path}: {text}");
    }
}

/// A package of one sparse file of `len` bytes: free to make (no disk), slow to hash.
fn sparse_package(len: u64) -> tempfile::TempDir {
    let package = tempfile::tempdir().unwrap();
    let blob = std::fs::File::create(package.path().join("blob")).unwrap();
    blob.set_len(len).unwrap();
    package
}

#[test]
fn package_hashing_stops_answering_at_its_time_limit() {
    let hall = with_config("attest_timeout_s = 1\n");
    // Big enough that hashing it takes well over a second in a test build.
    let package = sparse_package(128 << 20);
    let body = serde_json::json!({"path": package.path()});
    let started = Instant::now();
    let r = hall.post("/v1/attest/hash", &body);
    let waited = started.elapsed();
    assert_eq!(r.status, 408, "{:?}", r.body);
    assert_eq!(r.body["error"]["code"], "TIMEOUT");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("limit of 1 s (attest_timeout_s)"),
        "{message}"
    );
    assert!(waited < Duration::from_secs(5), "answered after {waited:?}");
}

#[test]
fn hashing_whose_request_ended_stops_and_frees_its_slot() {
    let hall = with_config("attest_timeout_s = 1\n");
    // Far too big to hash in the seconds this test allows.
    let package = sparse_package(64 << 30);
    let body = serde_json::json!({"path": package.path()});
    // Fill every hashing slot with a request that times out.
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| assert_eq!(hall.post("/v1/attest/hash", &body).status, 408));
        }
    });
    // Their hashing stopped with them: a small package is hashed at once, not after 64 GiB.
    let small = tempfile::tempdir().unwrap();
    std::fs::write(small.path().join("a.txt"), b"a").unwrap();
    let started = Instant::now();
    let r = hall.post(
        "/v1/attest/hash",
        &serde_json::json!({"path": small.path()}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "waited {:?} for a slot",
        started.elapsed()
    );
}

#[test]
fn event_streams_beyond_the_cap_are_refused_with_429_until_one_closes() {
    let hall = with_config("sse_max_subscribers = 2\n");
    let (h, a) = (host(&hall), auth(&hall));
    let open = || {
        let mut s = TcpStream::connect(hall.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let head = format!("GET /v1/events HTTP/1.1\r\n{h}\r\n{a}\r\n\r\n");
        s.write_all(head.as_bytes()).unwrap();
        let mut first = [0u8; 12];
        s.read_exact(&mut first).unwrap();
        (s, String::from_utf8_lossy(&first).into_owned())
    };
    let (first, status) = open();
    assert_eq!(status, "HTTP/1.1 200");
    let (_second, status) = open();
    assert_eq!(status, "HTTP/1.1 200");
    let third = hall.get("/v1/events");
    assert_eq!(third.status, 429, "{:?}", third.body);
    assert_eq!(third.body["error"]["code"], "TOO_MANY_SUBSCRIBERS");
    assert!(third.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("sse_max_subscribers"));
    // A client that leaves gives its place back.
    drop(first);
    common::wait_for("a freed event stream slot", || {
        let (s, status) = open();
        (status == "HTTP/1.1 200").then_some(s)
    });
}

// ---- 4. Query decoding ----

#[test]
fn query_values_that_are_not_utf8_or_badly_escaped_are_400_naming_the_parameter() {
    let hall = TestHall::start();
    for (path, param) in [
        ("/v1/decisions?tenant_id=%ff", "tenant_id"),
        ("/v1/decisions?limit=5&worker=%C3%28", "worker"),
        ("/v1/alerts?open=%zz", "open"),
        ("/v1/hall-events?worker_id=abc%", "worker_id"),
        ("/v1/stats?since=%e2%82", "since"),
        ("/v1/mcp/calls?server=%ff", "server"),
    ] {
        let r = hall.get(path);
        assert_eq!(r.status, 400, "{path}: {:?}", r.body);
        assert_eq!(r.body["error"]["code"], "INVALID_QUERY", "{path}");
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("\"{param}\"")),
            "{path}: {message}"
        );
    }
    // Escaped UTF-8 is fine.
    let ok = hall.get("/v1/decisions?tenant_id=agent%2Et%C3%A9st");
    assert_eq!(ok.status, 200, "{:?}", ok.body);
}
