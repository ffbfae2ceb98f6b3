//! A throwaway PostgreSQL server for tests and benchmarks (feature `testing`): Debian's
//! `initdb` and `pg_ctl` (`/usr/lib/postgresql/<version>/bin`, installed by `scripts/setup`)
//! on a fresh temp dir, listening on a free 127.0.0.1 port with its unix socket in that dir,
//! trust authentication for the `postgres` user. Stopped on drop, also while a test panics.
//!
//! PostgreSQL refuses to run as root, and tests and CI run as root: then the server runs as
//! the `postgres` user (`runuser`), and the temp dir is handed to it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct TempPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    /// Server settings beyond the fixed ones (`name=value`), kept for restarts.
    settings: Vec<String>,
}

impl TempPostgres {
    /// initdb and start; panics with the tool's output when PostgreSQL is not installed or
    /// does not start (a test cannot go on without it).
    pub fn start() -> TempPostgres {
        TempPostgres::start_with(&[])
    }

    /// [`TempPostgres::start`] with more server settings (`name=value`, as for `postgres -c`).
    pub fn start_with(settings: &[&str]) -> TempPostgres {
        let bin = find_bin().expect(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: \
             install the `postgresql` package (scripts/setup does in test mode)",
        );
        let dir = tempfile::Builder::new()
            .prefix("proctor-pg-")
            .tempdir()
            .expect("temp dir");
        // SAFETY: geteuid has no preconditions.
        let as_postgres = unsafe { libc::geteuid() } == 0;
        if as_postgres {
            chown_to_postgres(dir.path());
        }
        let port = free_port();
        let pg = TempPostgres {
            dir,
            bin,
            port,
            as_postgres,
            settings: settings.iter().map(|s| s.to_string()).collect(),
        };
        let data = pg.data_dir();
        pg.run_checked(
            "initdb",
            &[
                "-D",
                data.to_str().expect("utf-8 temp path"),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        pg.start_server();
        pg
    }

    /// `postgresql://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stop the server (fast shutdown: connections are cut, as in an outage).
    pub fn stop_server(&self) {
        self.pg_ctl(&["stop", "-m", "fast", "-w"]);
    }

    /// Start it again after [`TempPostgres::stop_server`], on the same port and data.
    pub fn start_server(&self) {
        let log = self.dir.path().join("server.log");
        let socket_dir = self
            .dir
            .path()
            .to_str()
            .expect("utf-8 temp path")
            .to_string();
        let mut options = format!(
            "-p {} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off",
            self.port
        );
        for setting in &self.settings {
            options.push_str(" -c ");
            options.push_str(setting);
        }
        let out = self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "60",
            "-l",
            log.to_str().expect("utf-8 temp path"),
            "-o",
            &options,
        ]);
        if !out.status.success() {
            panic!(
                "pg_ctl start failed: {}\n{}\nserver log:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        self.wait_accepting(Duration::from_secs(30));
    }

    fn wait_accepting(&self, deadline: Duration) {
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < deadline,
                "PostgreSQL did not accept connections on port {} within {deadline:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl(&self, args: &[&str]) -> Output {
        let data = self.data_dir();
        let mut all = vec!["-D", data.to_str().expect("utf-8 temp path")];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all)
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let path = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        // pg_ctl's server inherits these: keep the server's output out of the test's pipes.
        cmd.args(args)
            .stdin(std::process::Stdio::null())
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()))
    }

    fn run_checked(&self, tool: &str, args: &[&str]) {
        let out = self.run(tool, args);
        assert!(
            out.status.success(),
            "{tool} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        // Immediate: nothing to keep; the temp dir goes next.
        self.pg_ctl(&["stop", "-m", "immediate", "-w"]);
    }
}

fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| Some(e.ok()?.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn chown_to_postgres(dir: &Path) {
    let out = Command::new("id")
        .args(["-u", "postgres"])
        .output()
        .expect("id -u postgres");
    let uid: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a `postgres` user (the postgresql package creates it)");
    std::os::unix::fs::chown(dir, Some(uid), None).expect("chown the temp dir to postgres");
}
