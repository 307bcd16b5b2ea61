//! Results as a planner and an analyst see them: report.html in a real headless Chromium, every file in one schema read back by the `csv` crate and by pandas, and the report's structure pinned.
//!
//! The browser test needs Debian's `chromium`, and the pandas test Python
//! with pandas: `.ci/run` installs both and sets `MOTCUA_REQUIRE_BROWSER` and
//! `MOTCUA_REQUIRE_PANDAS`, so that in CI they cannot be skipped. Elsewhere,
//! without them, these tests say so on stderr and pass.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::motcua;

fn dir(name: &str) -> PathBuf {
    let d = crate::fresh_dir("report", name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The small fixture, renamed to a name with a comma, quotes and Vietnamese letters.
const AWKWARD: &str = "Tỉnh \"Ả\", 2025";

fn awkward_fixture(d: &Path) -> PathBuf {
    let text = std::fs::read_to_string("tests/fixtures/small.toml")
        .unwrap()
        .replace("name = \"small\"", &format!("name = {AWKWARD:?}"));
    let f = d.join("awkward.toml");
    std::fs::write(&f, text).unwrap();
    f
}

/// A run, a comparison and a sweep of the small fixture, each with its report.
fn outputs(d: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let fixture = awkward_fixture(d);
    let run = d.join("run");
    let o = motcua(&[
        "run",
        fixture.to_str().unwrap(),
        "--replications",
        "3",
        "--out",
        run.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let reform = d.join("plus-clerk.toml");
    std::fs::write(
        &reform,
        "extends = \"awkward.toml\"\nname = \"one more clerk, \\\"every\\\" commune\"\n[[reform]]\nkind = \"staffing\"\ntier = \"commune\"\npool = \"clerks\"\nadd = 1\n",
    )
    .unwrap();
    let cmp = d.join("compare");
    let o = motcua(&[
        "compare",
        fixture.to_str().unwrap(),
        reform.to_str().unwrap(),
        "--replications",
        "3",
        "--out",
        cmp.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sweep = d.join("sweep");
    let o = motcua(&[
        "sweep",
        "tests/fixtures/sweep.toml",
        "--out",
        sweep.to_str().unwrap(),
        "--report",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    (run, cmp, sweep)
}

/// The ids of the charts (`<svg class="chart" id=...>`) of a page, with their mark counts.
fn charts(html: &str) -> Vec<(String, usize)> {
    html.split("<svg class=\"chart\" id=\"")
        .skip(1)
        .map(|rest| {
            let id = rest.split('"').next().unwrap().to_string();
            let marks = rest
                .split("data-marks=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            (id, marks)
        })
        .collect()
}

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Loads `page` in headless Chromium: the DOM after loading, the console
/// and error log, and a full-page screenshot at `shot`.
fn browse(browser: &Path, page: &Path, shot: &Path, profile: &Path) -> (String, String) {
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let url = format!("file://{}", page.display());
    let dom = Command::new(browser)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.join("dom").display()))
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    let shot_run = Command::new(browser)
        .args(flags)
        .arg(format!(
            "--user-data-dir={}",
            profile.join("shot").display()
        ))
        .args([
            &format!("--screenshot={}", shot.display()),
            "--window-size=820,9000",
            "--hide-scrollbars",
            &url,
        ])
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&dom.stdout).into_owned(),
        format!("{}{}", stderr(&dom), stderr(&shot_run)),
    )
}

#[test]
fn the_reports_open_in_a_real_browser_with_every_chart_and_the_files_numbers() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("MOTCUA_REQUIRE_BROWSER").is_none(),
            "MOTCUA_REQUIRE_BROWSER is set but chromium is not installed"
        );
        eprintln!("skipped: no chromium (Debian package `chromium`); .ci/run installs it");
        return;
    };
    let d = dir("browser");
    let (run, cmp, sweep) = outputs(&d);
    let expected: [(&Path, &[&str]); 3] = [
        (
            &run,
            &[
                "late-rate-by-tier",
                "late-rate-by-unit",
                "monthly-late-rate",
                "monthly-766",
                "backlog",
                "utilisation",
                "turnaround",
                "counter-wait",
                "index-groups",
            ],
        ),
        (
            &cmp,
            &[
                "forest-late_rate",
                "forest-counter_wait_mean_min",
                "forest-i766_total",
                "monthly-late_rate-overall",
                "monthly-i766_total-commune",
            ],
        ),
        (
            &sweep,
            &[
                "sweep-late_rate-axis0",
                "sweep-late_rate-axis1",
                "heatmap-late_rate",
            ],
        ),
    ];
    for (folder, ids) in expected {
        let page = folder.join("report.html");
        let shot = folder.join("report.png");
        let (dom, log) = browse(&browser, &page, &shot, &d.join("profile"));
        // Loaded, with no console error (the page has no script at all).
        assert!(
            dom.contains("</html>"),
            "{}: the page did not load: {log}",
            page.display()
        );
        for bad in ["Uncaught", "CONSOLE(", "Failed to load", "net::ERR_"] {
            assert!(
                !log.contains(bad),
                "{}: {bad} in the browser log:\n{log}",
                page.display()
            );
        }
        assert!(!dom.contains("<script"), "no script");
        // Every chart present and not empty.
        let found = charts(&dom);
        for id in ids {
            let marks = found.iter().find(|(c, _)| c == id).map(|(_, m)| *m);
            assert!(
                marks.is_some_and(|m| m > 0),
                "{}: chart {id} missing or empty: {found:?}",
                page.display()
            );
        }
        // Vietnamese text survives the round trip.
        if folder == run.as_path() {
            assert!(
                dom.contains("Tỉnh &quot;Ả&quot;, 2025") || dom.contains("Tỉnh \"Ả\", 2025"),
                "the name is shown"
            );
        }
        let png = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(
            png > 20_000,
            "{}: the screenshot is {png} bytes",
            shot.display()
        );
    }
    // The key numbers on the page are those of summary.json, exactly.
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    for (id, value) in [
        ("fig-late-rate", &summary["overall"]["late_rate"]["mean"]),
        ("fig-on-time", &summary["overall"]["on_time_rate"]["mean"]),
        ("fig-766", &summary["index"]["i766"]["total"]["mean"]),
        (
            "fig-counter-wait",
            &summary["overall"]["counter_wait_mean_min"]["mean"],
        ),
        ("fig-received", &summary["overall"]["received"]["mean"]),
    ] {
        let shown: f64 = html
            .split(&format!("id=\"{id}\" data-value=\""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|x| x.parse().ok())
            .unwrap_or_else(|| panic!("no {id} on the page"));
        assert_eq!(shown.to_bits(), value.as_f64().unwrap().to_bits(), "{id}");
    }
}

/// Every CSV of the folders, with its expected header.
fn csv_files(run: &Path, cmp: &Path, sweep: &Path) -> Vec<(PathBuf, Vec<&'static str>)> {
    use motcua::report::csv::{COMPARISON, LONG, SUMMARY};
    let mut v = Vec::new();
    for name in ["metrics", "index", "timeseries"] {
        v.push((run.join(format!("{name}.csv")), LONG.to_vec()));
        v.push((run.join(format!("{name}_summary.csv")), SUMMARY.to_vec()));
    }
    v.push((cmp.join("comparison.csv"), COMPARISON.to_vec()));
    v.push((sweep.join("results.csv"), LONG.to_vec()));
    v.push((sweep.join("summary.csv"), SUMMARY.to_vec()));
    v
}

#[test]
fn every_file_follows_one_schema_and_reads_back_with_awkward_names() {
    let d = dir("schema");
    let (run, cmp, sweep) = outputs(&d);
    let files = csv_files(&run, &cmp, &sweep);
    for (f, header) in &files {
        let mut r = csv::Reader::from_path(f).unwrap();
        let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(h, *header, "{}", f.display());
        let mut n = 0;
        for rec in r.records() {
            let rec = rec.unwrap();
            assert_eq!(rec.len(), header.len(), "{}: {rec:?}", f.display());
            // Never a row without a value.
            let v = if header.contains(&"value") {
                "value"
            } else if header.contains(&"mean") {
                "mean"
            } else {
                "diff"
            };
            let k = header.iter().position(|c| *c == v).unwrap();
            assert!(
                !rec[k].is_empty(),
                "{}: a row with no {v}: {rec:?}",
                f.display()
            );
            n += 1;
        }
        assert!(n > 0, "{} is empty", f.display());
    }
    // The awkward name reads back whole.
    let mut r = csv::Reader::from_path(run.join("metrics.csv")).unwrap();
    let first = r.records().next().unwrap().unwrap();
    assert_eq!(&first[0], AWKWARD);
    // Tier and unit are named the same way in every file.
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let index = std::fs::read_to_string(run.join("index.csv")).unwrap();
    assert!(
        metrics.contains(",tiny,commune,commune-3,receiving,"),
        "province, tier and unit apart"
    );
    assert!(index.contains(",tiny,commune,commune-3,receiving,"));
    // The data dictionary lists every metric the files hold.
    let schema = std::fs::read_to_string(run.join("SCHEMA.md")).unwrap();
    for (f, header) in &files {
        let k = header.iter().position(|c| *c == "metric").unwrap();
        let mut r = csv::Reader::from_path(f).unwrap();
        for rec in r.records() {
            let metric = rec.unwrap()[k].to_string();
            assert!(
                schema.contains(&format!("| `{metric}` |")),
                "{}: `{metric}` is not in SCHEMA.md",
                f.display()
            );
        }
    }
    // pandas, as an analyst would read them.
    let pandas = Command::new("python3")
        .args(["-c", "import pandas"])
        .output();
    if !pandas.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("MOTCUA_REQUIRE_PANDAS").is_none(),
            "MOTCUA_REQUIRE_PANDAS is set but python3 cannot import pandas"
        );
        eprintln!("skipped the pandas part: no pandas (pip install pandas); .ci/run installs it");
        return;
    }
    let mut script = String::from("import pandas, sys\n");
    for (f, header) in &files {
        script.push_str(&format!(
            "df = pandas.read_csv({:?}, keep_default_na=False)\nassert list(df.columns) == {:?}, ({:?}, list(df.columns))\nassert len(df) > 0\n",
            f.display().to_string(),
            header,
            f.display().to_string()
        ));
    }
    script.push_str(&format!(
        "df = pandas.read_csv({:?})\nassert set(df['scenario']) == {{{:?}}}, set(df['scenario'])\n",
        run.join("metrics.csv").display().to_string(),
        AWKWARD
    ));
    script.push_str(&format!(
        "df = pandas.read_csv({:?})\nassert set(df['scenario']) == {{'one more clerk, \"every\" commune'}}, set(df['scenario'])\nprint('pandas ok')\n",
        cmp.join("comparison.csv").display().to_string()
    ));
    let o = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(o.status.success(), "pandas: {}", stderr(&o));
}

#[test]
fn the_report_structure_is_pinned_for_the_small_scenario() {
    let d = dir("golden");
    let out = d.join("run");
    let o = motcua(&[
        "run",
        "tests/fixtures/small.toml",
        "--replications",
        "2",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    // The skeleton: headings, charts with their mark counts, and table sizes.
    let mut skeleton = String::new();
    for line in html.lines() {
        if let Some(h) = line.strip_prefix("<h2>") {
            skeleton.push_str(&format!("section {}\n", h.trim_end_matches("</h2>")));
        }
    }
    for (id, marks) in charts(&html) {
        skeleton.push_str(&format!("chart {id}: {marks} marks\n"));
    }
    skeleton.push_str(&format!(
        "tables: {}\n",
        html.matches("<table class=\"numbers\">").count()
    ));
    insta::assert_snapshot!(skeleton);
}

#[test]
fn motcua_report_rebuilds_the_page_of_a_result_folder_from_its_files() {
    let d = dir("rebuild");
    let out = d.join("run");
    let o = motcua(&[
        "run",
        "tests/fixtures/small.toml",
        "--replications",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--no-report",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!out.join("report.html").exists());
    let o = motcua(&["report", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(charts(&html).len() >= 9);
    // Still one complete set: the manifest lists the report.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert!(
        m["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "report.html")
    );
    // --json prints the summary instead of the tables.
    let o = motcua(&[
        "run",
        "tests/fixtures/small.toml",
        "--replications",
        "2",
        "--out",
        d.join("j").to_str().unwrap(),
        "--json",
        "-q",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scenario"], "small");
    // `motcua schema` prints the data dictionary.
    let o = motcua(&["schema"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("| `late_rate` | fraction |") && text.contains("| `timeseries.csv` |"));
}
