//! Where `proctor route` writes its answers: straight to stdout, or — with `--db` — through the
//! ledger first, so a decision is printed only once its record is durable. The rule, the
//! record and the answer are the hall's own ([`hall::decision_record`], [`hall::answer`]):
//! a recorded decision is printed with its evidence receipt, exactly as `POST /v1/route`
//! answers it, and an unrecorded one is replaced by its [`hall::Withheld`] error line.
//!
//! Recorded decisions are pipelined: up to `IN_FLIGHT` appends wait in a queue while the
//! ledger's writer commits them in batches, and lines leave in input order.

use crate::exit::CliError;
use ledger::{Ledger, Receipt};
use std::collections::VecDeque;
use std::io::Write;
use tokio::sync::oneshot;
use wcp::RouteDecision;

/// How many decisions may wait for their group commit at once.
const IN_FLIGHT: usize = 4096;

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
    ledger: Option<Ledger>,
    queue: VecDeque<Line>,
    /// Decisions that could not be recorded (printed as DENY_LEDGER_UNAVAILABLE errors).
    pub unrecorded: usize,
}

impl<W: Write> Sink<W> {
    pub fn new(out: W, ledger: Option<Ledger>) -> Self {
        Sink {
            out,
            ledger,
            queue: VecDeque::new(),
            unrecorded: 0,
        }
    }

    pub fn decision(&mut self, decision: RouteDecision) -> Result<(), CliError> {
        let Some(ledger) = &self.ledger else {
            return self.ready(&decision);
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
    pub fn ready(&mut self, value: &impl serde::Serialize) -> Result<(), CliError> {
        let mut line = serde_json::to_vec(value)
            .map_err(|e| CliError::runtime(format!("writing output: {e}")))?;
        line.push(b'\n');
        if self.queue.is_empty() {
            return self.out.write_all(&line).map_err(CliError::io);
        }
        self.queue.push_back(Line::Ready(line));
        Ok(())
    }

    /// Wait for every pending record, print what is left, and close the ledger (which
    /// commits anything still queued).
    pub fn finish(mut self) -> Result<usize, CliError> {
        self.drain(0)?;
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
                } => match hall::answer(&decision, json, wait(ack)) {
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
            self.out.write_all(&bytes).map_err(CliError::io)?;
        }
        Ok(())
    }
}

fn wait(ack: Result<Ack, String>) -> Result<Receipt, String> {
    ack?.blocking_recv()
        .map_err(|_| "the ledger writer stopped".to_string())?
        .map_err(|e| e.to_string())
}
