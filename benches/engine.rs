//! Criterion benches of the engine: the event queue and the M/M/c reference run.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use motcua::engine::{Dist, EventQueue, NetworkBuilder, RunConfig, Streams, run, unit};

/// Holds a queue made by `new` at `size` pending events: each pop re-places its event a
/// uniform time in `[0, span)` after it (the classic hold model).
fn hold(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    size: usize,
    span: f64,
    new: impl Fn() -> EventQueue<u64>,
) {
    g.throughput(Throughput::Elements(1));
    g.bench_with_input(BenchmarkId::new(name, size), &size, |b, &size| {
        let mut rng = Streams::new(1, 0).stream("bench", &[]);
        let mut q = new();
        for i in 0..size as u64 {
            q.push(unit(&mut rng) * span, i);
        }
        b.iter(|| {
            let (t, _, e) = q.pop().unwrap_or((0.0, 0, 0));
            q.push(t + unit(&mut rng) * span, black_box(e));
        });
    });
}

fn queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue");
    for size in [10usize, 1_000, 100_000] {
        hold(&mut g, "pop_push_hold", size, 100.0, || {
            EventQueue::with_capacity(size + 1)
        });
    }
    // The bucketed queue as the one-stop model uses it: one-unit buckets
    // holding about 33 events each, so each pop costs a share of sorting
    // its bucket.
    for size in [1_000usize, 100_000] {
        hold(
            &mut g,
            "bucketed_pop_push_hold",
            size,
            size as f64 / 33.0,
            || EventQueue::with_buckets(1.0),
        );
    }
    g.finish();
}

fn mmc(c: &mut Criterion) {
    let mut b = NetworkBuilder::new();
    let s = b.station("station", 10, Dist::exponential(1.0));
    b.poisson(s, 9.0);
    let net = b.build().expect("valid network");
    let mut g = c.benchmark_group("engine");
    g.sample_size(20);
    let n = 1_000_000u64;
    g.throughput(Throughput::Elements(n));
    g.bench_function("mmc_c10_1e6_customers", |bch| {
        bch.iter(|| run(&net, &RunConfig::customers(n), Streams::new(1, 0)).expect("runs"))
    });
    g.finish();
}

criterion_group!(benches, queue, mmc);
criterion_main!(benches);
