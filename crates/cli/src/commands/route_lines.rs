//! `proctor route`'s JSONL stream: read in batches of whole lines and decided either on this
//! thread, line by line into the sink, or on worker threads, each batch into a buffer of its
//! own, printed in input order.
//!
//! Deciding, not printing, is the cost of a line (parse, decide, serialize: a few µs for a
//! ~2 KB answer), so a batch is decided away from the thread that reads and prints. Workers
//! never print: the reading thread hands them batches, keeps the answers' receivers in input
//! order, and prints a batch only when every batch before it has been printed, so the output
//! is the same bytes in the same order whatever the number of threads (decision ids and
//! timestamps aside, which are fresh per decision either way). With `--db` every decision is
//! recorded through the ledger's queue in input order, so that path stays on one thread.

use super::route::{decide_line, Emit};
use super::route_sink::Sink;
use crate::exit::CliError;
use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Mutex;
use std::thread;
use wcp::Router;

/// Batches waiting for or being decided, per worker: enough that a worker finding its next
/// batch ready never waits for the printer, few enough to bound memory (a batch of input is
/// one read of the input buffer, its output about six times that).
const QUEUED_PER_WORKER: usize = 2;

/// Whole input lines and what deciding them gave.
#[derive(Default)]
struct Batch {
    /// Whole lines, each with its `\n` (the input's last line may have none).
    input: Vec<u8>,
    /// The 1-based number of the batch's first line (error objects name their line).
    first_line: usize,
    /// The batch's output lines, in order.
    output: Vec<u8>,
    /// Lines that could not be parsed.
    bad: usize,
}

impl Batch {
    /// Each line with its number. A line keeps its `\n`: the parser's error positions count it.
    fn lines(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let input = &self.input[..];
        let mut start = 0;
        let mut ends = memchr::memchr_iter(b'\n', input).map(|at| at + 1);
        std::iter::from_fn(move || {
            let end = ends
                .next()
                .or((start < input.len()).then_some(input.len()))?;
            let line = &input[start..end];
            start = end;
            Some(line)
        })
        .zip(self.first_line..)
        .map(|(line, number)| (number, line))
    }

    /// Decides every line into `output` (a worker's job).
    fn decide(&mut self, router: &Router) -> Result<(), CliError> {
        let mut output = std::mem::take(&mut self.output);
        output.clear();
        let mut bad = 0;
        for (number, line) in self.lines() {
            bad += decide_line(router, line, number, &mut output)?;
        }
        self.output = output;
        self.bad = bad;
        Ok(())
    }
}

/// The input cut into batches of whole lines.
struct Batches<R> {
    reader: R,
    /// A line begun in the last read, not yet complete.
    carry: Vec<u8>,
    next_line: usize,
    at_end: bool,
}

impl<R: BufRead> Batches<R> {
    fn new(reader: R, first_line: usize) -> Self {
        Batches {
            reader,
            carry: Vec::new(),
            next_line: first_line,
            at_end: false,
        }
    }

    /// Fills `batch` with the next whole lines: what the next read of the input gives, cut
    /// after its last `\n` (a line longer than that takes more reads). Taking what one read
    /// gives keeps a slow producer's lines moving; a file gives full buffers. `false` once
    /// the input has ended and every line was handed out.
    fn fill(&mut self, batch: &mut Batch) -> Result<bool, CliError> {
        batch.input.clear();
        batch.input.append(&mut self.carry);
        while !self.at_end {
            let read = self.reader.fill_buf().map_err(CliError::io)?;
            if read.is_empty() {
                self.at_end = true;
                break;
            }
            let (n, has_newline) = (read.len(), read.contains(&b'\n'));
            batch.input.extend_from_slice(read);
            self.reader.consume(n);
            if has_newline {
                let end = memchr::memrchr(b'\n', &batch.input).map_or(0, |at| at + 1);
                self.carry.extend_from_slice(&batch.input[end..]);
                batch.input.truncate(end);
                break;
            }
        }
        batch.first_line = self.next_line;
        self.next_line += batch.lines().count();
        Ok(!batch.input.is_empty())
    }
}

/// Decides every line of `reader` (line numbers from `first_line`) into `sink`, on up to
/// `threads` threads; returns the number of lines that could not be parsed.
pub fn route_lines(
    router: &Router,
    reader: impl BufRead,
    first_line: usize,
    sink: &mut Sink<impl Write>,
    threads: usize,
) -> Result<usize, CliError> {
    let mut batches = Batches::new(reader, first_line);
    let mut batch = Batch::default();
    if !batches.fill(&mut batch)? {
        return Ok(0);
    }
    // Workers pay off only for more than one batch, and a recording sink keeps its order
    // through the ledger's queue: one thread then.
    if threads > 1 && !batches.at_end && !sink.records() {
        return route_on_workers(router, batches, batch, sink, threads);
    }
    let mut bad = 0;
    loop {
        for (number, line) in batch.lines() {
            bad += decide_line(router, line, number, sink)?;
        }
        if !batches.fill(&mut batch)? {
            return Ok(bad);
        }
    }
}

/// A batch to decide, and where to send it back decided.
type Job = (Batch, SyncSender<Result<Batch, CliError>>);

fn route_on_workers(
    router: &Router,
    mut batches: Batches<impl BufRead>,
    first: Batch,
    sink: &mut Sink<impl Write>,
    threads: usize,
) -> Result<usize, CliError> {
    let (jobs, queue) = mpsc::sync_channel::<Job>(threads * QUEUED_PER_WORKER);
    let queue = Mutex::new(queue);
    thread::scope(|scope| {
        // Owned here, so that any early return closes the queue and the workers stop.
        let jobs = jobs;
        for _ in 0..threads {
            scope.spawn(|| work(router, &queue));
        }
        // Answers in input order; the printer waits on the oldest.
        let mut in_order: VecDeque<Receiver<Result<Batch, CliError>>> = VecDeque::new();
        let mut bad = 0;
        let mut print_oldest = |in_order: &mut VecDeque<Receiver<_>>| {
            let oldest = in_order.pop_front().expect("a batch is in flight");
            let batch: Batch = oldest
                .recv()
                .map_err(|_| CliError::runtime("a routing thread stopped"))??;
            sink.lines(&batch.output)?;
            bad += batch.bad;
            Ok::<Batch, CliError>(batch)
        };
        let mut next = Some(first);
        // A read that fails ends the input; the lines decided before it are printed first,
        // as on one thread.
        let mut read_error = None;
        while let Some(batch) = next.take() {
            let (answer, receiver) = mpsc::sync_channel(1);
            jobs.send((batch, answer))
                .map_err(|_| CliError::runtime("the routing threads stopped"))?;
            in_order.push_back(receiver);
            // Reuse a printed batch's buffers once enough are in flight.
            let mut spare = if in_order.len() > threads * QUEUED_PER_WORKER {
                print_oldest(&mut in_order)?
            } else {
                Batch::default()
            };
            match batches.fill(&mut spare) {
                Ok(true) => next = Some(spare),
                Ok(false) => {}
                Err(e) => read_error = Some(e),
            }
        }
        // No more jobs: the workers stop once the queue is empty.
        drop(jobs);
        while !in_order.is_empty() {
            print_oldest(&mut in_order)?;
        }
        read_error.map_or(Ok(bad), Err)
    })
}

/// A worker: decides batches from the queue until it closes.
fn work(router: &Router, queue: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job, never while deciding.
        let job = queue.lock().map(|q| q.recv());
        let Ok(Ok((mut batch, answer))) = job else {
            return;
        };
        let decided = batch.decide(router).map(|()| batch);
        // The printer may have stopped on an error: nobody needs this batch then.
        let _ = answer.send(decided);
    }
}

/// A batch's output is a plain buffer of whole lines.
impl Emit for Vec<u8> {
    fn decision(&mut self, decision: wcp::RouteDecision) -> Result<(), CliError> {
        wcp::wire::write_decision(self, &decision);
        self.push(b'\n');
        Ok(())
    }

    fn ready(&mut self, value: &serde_json::Value) -> Result<(), CliError> {
        // A `Value` always serializes.
        serde_json::to_writer(&mut *self, value).expect("a JSON value serializes");
        self.push(b'\n');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    fn batches_of(input: &[u8], capacity: usize) -> Vec<(usize, Vec<Vec<u8>>)> {
        let mut batches = Batches::new(BufReader::with_capacity(capacity, input), 7);
        let mut out = Vec::new();
        let mut batch = Batch::default();
        while batches.fill(&mut batch).unwrap() {
            let lines = batch.lines().map(|(_, l)| l.to_vec()).collect();
            out.push((batch.first_line, lines));
        }
        out
    }

    #[test]
    fn batches_are_whole_lines_numbered_in_order() {
        let input = b"a\nbb\n\nccc\r\nlast without newline";
        for capacity in 1..=input.len() + 1 {
            let got = batches_of(input, capacity);
            let lines: Vec<Vec<u8>> = got.iter().flat_map(|(_, l)| l.clone()).collect();
            assert_eq!(
                lines,
                [
                    &b"a\n"[..],
                    b"bb\n",
                    b"\n",
                    b"ccc\r\n",
                    b"last without newline"
                ],
                "{capacity}"
            );
            let mut number = 7;
            for (first, lines) in &got {
                assert_eq!(*first, number, "{capacity}");
                number += lines.len();
            }
        }
        assert!(batches_of(b"", 4).is_empty());
        assert_eq!(batches_of(b"x\n", 64), [(7, vec![b"x\n".to_vec()])]);
    }
}
