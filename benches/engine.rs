//! Criterion benches of the engine: the event queue and the M/M/c reference run.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use motcua::engine::{Dist, EventQueue, NetworkBuilder, RunConfig, Streams, run, unit};

fn queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue");
    for &size in &[10usize, 1_000, 100_000] {
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(
            BenchmarkId::new("pop_push_hold", size),
            &size,
            |b, &size| {
                let mut rng = Streams::new(1, 0).stream("bench", &[]);
                let mut q: EventQueue<u64> = EventQueue::with_capacity(size + 1);
                for i in 0..size as u64 {
                    q.push(unit(&mut rng) * 100.0, i);
                }
                b.iter(|| {
                    let (t, _, e) = q.pop().unwrap_or((0.0, 0, 0));
                    q.push(t + unit(&mut rng) * 100.0, black_box(e));
                });
            },
        );
    }
    // The bucketed queue as the one-stop model uses it: one-unit buckets
    // holding about 33 events each, every event re-placed a random time
    // ahead, so each pop costs a share of sorting its bucket.
    for &size in &[1_000usize, 100_000] {
        let span = size as f64 / 33.0;
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(
            BenchmarkId::new("bucketed_pop_push_hold", size),
            &size,
            |b, &size| {
                let mut rng = Streams::new(1, 0).stream("bench", &[]);
                let mut q: EventQueue<u64> = EventQueue::with_buckets(1.0);
                for i in 0..size as u64 {
                    q.push(unit(&mut rng) * span, i);
                }
                b.iter(|| {
                    let (t, _, e) = q.pop().unwrap_or((0.0, 0, 0));
                    q.push(t + unit(&mut rng) * span, black_box(e));
                });
            },
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
