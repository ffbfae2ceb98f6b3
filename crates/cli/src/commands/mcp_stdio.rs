//! `proctor mcp`'s stdin and stdout, read and written on the bridge's own thread.
//!
//! `tokio::io::stdin()` and `stdout()` hand every read and write to a blocking-pool thread, so
//! each message crossed threads twice more (4 more context switches per call, measured). An MCP
//! client that launches a server gives it pipes or sockets (Node's `child_process` socket
//! pairs, Python's `subprocess` pipes), which the runtime polls like any socket, so the bridge
//! uses them in non-blocking mode. A terminal or a file keeps tokio's blocking reads and
//! writes: a terminal's mode is shared with the shell, and a file cannot be polled.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;

pub(crate) type Reader = Box<dyn AsyncRead + Send + Unpin>;
pub(crate) type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// The bridge's stdin.
pub(crate) fn stdin() -> Reader {
    match polled(io::stdin().as_fd()) {
        Some(Polled::Pipe(file)) => match pipe::Receiver::from_file(file) {
            Ok(pipe) => Box::new(pipe),
            Err(_) => Box::new(tokio::io::stdin()),
        },
        Some(Polled::Socket(socket)) => Box::new(socket),
        None => Box::new(tokio::io::stdin()),
    }
}

/// The bridge's stdout. Nothing else may write to it: only MCP JSON-RPC goes there.
pub(crate) fn stdout() -> Writer {
    match polled(io::stdout().as_fd()) {
        Some(Polled::Pipe(file)) => match pipe::Sender::from_file(file) {
            Ok(pipe) => Box::new(pipe),
            Err(_) => Box::new(tokio::io::stdout()),
        },
        Some(Polled::Socket(socket)) => Box::new(socket),
        None => Box::new(tokio::io::stdout()),
    }
}

enum Polled {
    Pipe(File),
    Socket(tokio::net::UnixStream),
}

/// A duplicate of `fd` the runtime can poll, if it is a pipe or a socket.
fn polled(fd: BorrowedFd<'_>) -> Option<Polled> {
    let file = File::from(fd.try_clone_to_owned().ok()?);
    let kind = file.metadata().ok()?.file_type();
    if kind.is_fifo() {
        return Some(Polled::Pipe(file));
    }
    if !kind.is_socket() {
        return None;
    }
    let socket = std::os::unix::net::UnixStream::from(OwnedFd::from(file));
    socket.set_nonblocking(true).ok()?;
    tokio::net::UnixStream::from_std(socket)
        .ok()
        .map(Polled::Socket)
}
