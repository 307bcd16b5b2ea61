//! Integration tests: one binary, grouped by subject (ripgrep style).

mod cli;
mod determinism;
mod engine;
mod model;
mod queue_fuzz;
mod reform;
mod sweep;
mod theory;
