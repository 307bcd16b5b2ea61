//! The generic discrete-event kernel: event queue, random streams, distributions, arrival processes, networks and the run loop.
//!
//! The engine knows nothing of dossiers, tiers or files. Richer models
//! compile into a [`Network`] and, where probability tables are not enough,
//! drive the kernel with their own [`Router`].

mod arrival;
mod dist;
mod network;
mod queue;
mod sim;
mod stream;

pub use arrival::{ArrivalGen, Arrivals, RateProfile, Segment};
pub use dist::{Dist, DistError, Sampler, unit};
pub use network::{
    Branch, CapacitySegment, Class, ClassId, Discipline, Network, NetworkBuilder, NetworkError,
    Node, NodeId, NodeKind, Source, Target,
};
pub use queue::{EventQueue, order_key, order_key_time, time_bits};
pub use sim::{
    Customer, NodeResult, Router, RunConfig, RunError, RunResult, TableRouter, run, run_with,
};
pub use stream::{Stream, Streams, label_hash, mix64};
