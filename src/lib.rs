//! motcua: a parallel discrete-event simulator for the capacity planning of
//! public-service one-stop desks ("một cửa").
//!
//! The crate is layered so that data flows one way: a scenario file is read
//! and validated ([`scenario`]), compiled into a generic queueing network and
//! run by the discrete-event kernel ([`engine`]), replicated in parallel
//! ([`experiment`]), summarised ([`stats`]) and written out ([`report`]).
//! The kernel knows nothing of dossiers, tiers or files; it is checked on its
//! own against queueing theory ([`theory`]).
//!
//! # Time and event ordering contract
//!
//! - Simulated time is an `f64` count of time units since the start of the
//!   run (the one-stop model uses minutes; the validation networks use any
//!   consistent unit). Times are compared with [`f64::total_cmp`], so the
//!   order is total and never depends on `NaN` handling; the kernel never
//!   schedules a `NaN` or negative time.
//! - Events are processed in increasing time. Events scheduled for the
//!   *same* time are processed in the order in which they were scheduled
//!   (their insertion sequence number): first scheduled, first processed.
//!   This holds across every kind of event, including the next arrival of a
//!   source, which the kernel keeps outside the event heap for speed but
//!   stamps with a sequence number from the same counter when it is drawn.
//! - A run is a pure function of its network, its run configuration and its
//!   seed: no global random number generator, no wall-clock input, no
//!   dependence on the thread that runs it.
//!
//! # Randomness contract
//!
//! Every random purpose (the arrivals of one source, the service times of one
//! node, the routing decisions of one node, ...) draws from its own stream,
//! derived by hashing (master seed, replication, purpose label, indices); see
//! [`engine::Streams`]. Adding a stream, a node or a thread never changes the
//! draws of another stream, so results are bit-identical at any thread count.

pub mod calendar;
pub mod commands;
pub mod engine;
pub mod experiment;
pub mod field;
pub mod hash;
pub mod index;
pub mod model;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod theory;
