//! Where `proctor route` writes its answers: straight to stdout, or — with `--db` — through the
//! ledger first, so a decision is printed only once its record is durable. The rule, the
//! record and the answer are the hall's own ([`hall::decision_record`], [`hall::answer`]):
//! a recorded decision is printed with its evidence receipt, exactly as `POST /v1/route`
//! answers it, and an unrecorded one is replaced by its [`hall::Withheld`] error line.
//!
//! Recorded decisions are pipelined: up to `IN_FLIGHT` appends wait in a queue while the
//! ledger's writer commits them in batches, and lines leave in input order.
//!
//! Output lines are gathered in one reused buffer and handed to stdout in blocks of about
//! `BLOCK` bytes (always whole lines); a decision that needs no recording is written straight
//! into it by [`wcp::wire::write_decision`] (serde_json's exact bytes, no intermediate
//! `Vec` per line).

use super::route::Emit;
use crate::exit::CliError;
use ledger::{Ledger, Receipt};
use serde_json::Value;
use std::collections::VecDeque;
use std::io::Write;
use tokio::sync::oneshot;
use wcp::RouteDecision;

/// How many decisions may wait for their group commit at once.
const IN_FLIGHT: usize = 4096;

/// Output is written to stdout once this many bytes of whole lines are pending (the size of
/// the `BufWriter` this replaced, so output reaches a pipe as often as before).
const BLOCK: usize = 64 << 10;

type Ack = oneshot::Receiver<ledger::Result<Receipt>>;

enum Line {
    /// Ready to print (errors, or decisions when nothing is recorded).
    Ready(Vec<u8>),
    /// Waiting for its ledger receipt.
    Recording {
        decision: Box<RouteDecision>,
        json: String,
        ack: Result<Ack, String>,
    },
}

pub struct Sink<W: Write> {
    out: W,
    /// Whole lines not yet written to `out`.
    pending: Vec<u8>,
    ledger: Option<Ledger>,
    queue: VecDeque<Line>,
    /// Decisions that could not be recorded (printed as DENY_LEDGER_UNAVAILABLE errors).
    pub unrecorded: usize,
}

impl<W: Write> Sink<W> {
    pub fn new(out: W, ledger: Option<Ledger>) -> Self {
        Sink {
            out,
            pending: Vec::with_capacity(BLOCK + wcp::wire::DECISION_SIZE_HINT),
            ledger,
            queue: VecDeque::new(),
            unrecorded: 0,
        }
    }

    /// Whether decisions are recorded (`--db`) before they are printed.
    pub fn records(&self) -> bool {
        self.ledger.is_some()
    }

    /// Whole lines decided elsewhere, with nothing to record (a batch of a JSONL input):
    /// printed after the pending ones, as they are.
    pub fn lines(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        debug_assert!(
            self.ledger.is_none(),
            "recorded lines go through `decision`"
        );
        self.write_pending()?;
        self.out.write_all(bytes).map_err(CliError::io)
    }

    /// Hands the pending lines to `out` once there are a block's worth.
    fn write_full_blocks(&mut self) -> Result<(), CliError> {
        if self.pending.len() >= BLOCK {
            self.write_pending()?;
        }
        Ok(())
    }

    fn write_pending(&mut self) -> Result<(), CliError> {
        let result = self.out.write_all(&self.pending);
        self.pending.clear();
        result.map_err(CliError::io)
    }

    /// Wait for every pending record, print what is left, and close the ledger (which
    /// commits anything still queued).
    pub fn finish(mut self) -> Result<usize, CliError> {
        self.drain(0)?;
        self.write_pending()?;
        self.out.flush().map_err(CliError::io)?;
        if let Some(ledger) = self.ledger.take() {
            ledger.close();
        }
        Ok(self.unrecorded)
    }

    /// Print queued lines, in order, until at most `keep` wait.
    fn drain(&mut self, keep: usize) -> Result<(), CliError> {
        while self.queue.len() > keep {
            let line = self.queue.pop_front().expect("queue is longer than keep");
            let bytes = match line {
                Line::Ready(bytes) => bytes,
                Line::Recording {
                    decision,
                    json,
                    ack,
                    // Unsigned: a --db ledger has no hall (and no hall key) behind it.
                } => match hall::answer(&decision, json, wait(ack), None) {
                    Ok(routed) => {
                        let mut line = routed.into_response_bytes();
                        line.push(b'\n');
                        line
                    }
                    Err(withheld) => {
                        // Fail closed: an unrecorded decision is never handed out.
                        self.unrecorded += 1;
                        let mut line = withheld.error_body().to_string().into_bytes();
                        line.push(b'\n');
                        line
                    }
                },
            };
            self.pending.extend_from_slice(&bytes);
            self.write_full_blocks()?;
        }
        Ok(())
    }
}

impl<W: Write> Emit for Sink<W> {
    fn decision(&mut self, decision: RouteDecision) -> Result<(), CliError> {
        let Some(ledger) = &self.ledger else {
            wcp::wire::write_decision(&mut self.pending, &decision);
            self.pending.push(b'\n');
            return self.write_full_blocks();
        };
        let json = hall::serialize_decision(&decision);
        let ack = hall::decision_record(&decision, json.clone())
            .and_then(|record| ledger.submit_record(record))
            .map_err(|e| e.to_string());
        self.queue.push_back(Line::Recording {
            decision: Box::new(decision),
            json,
            ack,
        });
        self.drain(IN_FLIGHT)
    }

    /// A line that needs no recording (an error object, or a decision without `--db`).
    fn ready(&mut self, value: &Value) -> Result<(), CliError> {
        let mut line = serde_json::to_vec(value)
            .map_err(|e| CliError::runtime(format!("writing output: {e}")))?;
        line.push(b'\n');
        if self.queue.is_empty() {
            self.pending.extend_from_slice(&line);
            return self.write_full_blocks();
        }
        self.queue.push_back(Line::Ready(line));
        Ok(())
    }
}

/// A run that stops early (an unreadable input, a failed write) still prints the lines it
/// decided before, as a `BufWriter` would on drop; errors here have been reported already.
impl<W: Write> Drop for Sink<W> {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let _ = self.out.write_all(&self.pending);
            let _ = self.out.flush();
        }
    }
}

fn wait(ack: Result<Ack, String>) -> Result<Receipt, String> {
    ack?.blocking_recv()
        .map_err(|_| "the ledger writer stopped".to_string())?
        .map_err(|e| e.to_string())
}
