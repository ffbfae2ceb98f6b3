//! Proctor desktop shell (placeholder while the hall lands).
pub fn run() {}
