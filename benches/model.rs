//! Criterion benches of the one-stop model: one province-year of the baseline, and a small sweep of replications.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use motcua::engine::Discipline;
use motcua::model::prepare::prepare;
use motcua::scenario::domain::baseline;

fn province_year(c: &mut Criterion) {
    let sc = baseline().expect("the embedded baseline is valid");
    let p = prepare(&sc, Discipline::Fifo).expect("it compiles");
    let mut g = c.benchmark_group("model");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    g.bench_function("province_year_one_thread", |b| {
        b.iter(|| p.replication(sc.seed, 0).expect("runs"))
    });
    g.bench_function("four_replications_all_threads", |b| {
        b.iter(|| {
            motcua::experiment::run::replications(
                &p,
                sc.seed,
                4,
                0,
                &indicatif::ProgressBar::hidden(),
            )
            .expect("runs")
        })
    });
    g.finish();
}

criterion_group!(benches, province_year);
criterion_main!(benches);
