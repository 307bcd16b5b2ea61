//! Results are bit-identical for a given seed at any thread count.

use std::process::Command;

use indicatif::ProgressBar;
use motcua::engine::{Dist, NetworkBuilder, RunConfig};
use motcua::experiment::{run_replications, summarise};

fn fingerprint(threads: usize) -> String {
    let mut b = NetworkBuilder::new();
    let c = b.station("commune", 3, Dist::exponential(1.0));
    let d = b.station("district", 2, Dist::Lognormal { mean: 1.0, sd: 0.8 });
    let p = b.node(
        "records",
        motcua::engine::NodeKind::Delay,
        Dist::Erlang { k: 3, mean: 2.0 },
    );
    b.poisson(c, 2.0).poisson(d, 0.8);
    b.route(c, 0, d, 0.3).route(d, 0, p, 0.5);
    let net = b.build().unwrap();
    let results = run_replications(
        &net,
        &RunConfig::horizon(20_000.0, 500.0),
        7,
        8,
        threads,
        &ProgressBar::hidden(),
    )
    .unwrap();
    // Debug formatting prints every f64 exactly (shortest round-trip form).
    format!("{results:?}\n{:?}", summarise(&results, &[], 7, 0.95))
}

#[test]
fn replications_are_bit_identical_with_one_and_with_several_threads() {
    let one = fingerprint(1);
    assert_eq!(one, fingerprint(2));
    assert_eq!(one, fingerprint(4));
}

#[test]
fn network_command_output_is_byte_identical_at_one_and_two_threads() {
    let run = |threads: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args([
                "network",
                "scenarios/validation/jackson.toml",
                "--replications",
                "6",
                "--json",
                "--threads",
                threads,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    assert_eq!(run("1"), run("2"));
}
