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
