//! The analytic suite at the quick size (the same cases `motcua validate` runs at the reference size).

use indicatif::ProgressBar;
use motcua::experiment::validate::{Size, run_suite, suite};

#[test]
fn every_analytic_case_lies_in_its_confidence_interval_and_within_five_percent() {
    let cases = suite(Size::Quick);
    let report = run_suite(&cases, Size::Quick, 1, 0, &ProgressBar::hidden()).unwrap();
    let failed: Vec<_> = report.rows.iter().filter(|r| !r.pass).collect();
    assert!(failed.is_empty(), "failed checks: {failed:#?}");
    assert!(report.rows.len() >= 20);
    for case in [
        "M/M/1 rho=0.5",
        "M/M/1 rho=0.9",
        "M/M/10 lambda=9",
        "M/M/3 rho=0.7",
        "M/D/1 rho=0.9",
    ] {
        assert!(
            report.rows.iter().any(|r| r.case == case),
            "missing case {case}"
        );
    }
    assert!(report.rows.iter().any(|r| r.case.starts_with("M/G/1")));
    assert!(report.rows.iter().any(|r| r.case.starts_with("Jackson")));
    assert!(report.rows.iter().any(|r| r.case.starts_with("Little")));
}

#[test]
fn the_hand_written_reference_loop_agrees_with_erlang_c() {
    // The loop `bench` measures the engine against must be a correct M/M/c.
    let (customers, events, waits) =
        motcua::experiment::bench::reference_loop(10, 7.0, 1.0, 1_000_000);
    assert_eq!(customers, 1_000_000);
    assert!(events > 2 * customers - 100 && events < 2 * customers + 100);
    let wq = waits / customers as f64;
    let exact = motcua::theory::mmc(10, 7.0, 1.0).wq;
    assert!(
        (wq - exact).abs() / exact < 0.05,
        "reference loop Wq {wq} against Erlang C {exact}"
    );
}
