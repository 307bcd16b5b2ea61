//! The documented limits on what files and the command line may ask for, so that no input can exhaust memory, run unbounded or overflow arithmetic.
//!
//! Each limit is checked where the input is validated, and its error names
//! the field, the limit and the value given. The README's "Limits and
//! guarantees" section lists them; a test checks that it does.

/// Largest scenario, reform, sweep, network or stored-benchmark file read, bytes (4 MiB).
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// Most units in one tier of one province (the country has 3,321 communes).
pub const MAX_UNITS_PER_TIER: i64 = 20_000;

/// Most units in a whole scenario.
pub const MAX_UNITS: usize = 50_000;

/// Most provinces in a scenario.
pub const MAX_PROVINCES: usize = 1_000;

/// Most procedures in a catalogue.
pub const MAX_PROCEDURES: usize = 2_000;

/// Most (unit, procedure) pairs in one province: the compiled network and
/// its arrival mix grow with them.
pub const MAX_UNIT_PROCEDURES: usize = 500_000;

/// Most (node, class) pairs of a network file.
pub const MAX_NETWORK_CELLS: usize = 1_000_000;

/// Most replications of a run, comparison, sweep point or network run.
pub const MAX_REPLICATIONS: u64 = 10_000;

/// Most tally memory a `run` may hold for all its replications, bytes (4 GiB).
pub const MAX_TALLY_BYTES: u64 = 4 << 30;

/// Largest staff count of one pool of one unit.
pub const MAX_SERVERS: f64 = 100_000.0;

/// Most values of an empirical distribution.
pub const MAX_EMPIRICAL_VALUES: usize = crate::engine::MAX_EMPIRICAL_VALUES;

/// Largest memory bound `model.max_in_flight` (dossiers in flight in one province; about 2 GiB).
pub const MAX_IN_FLIGHT: i64 = 20_000_000;

/// Most dossiers (or customers) one replication may expect to create.
pub const MAX_EXPECTED_ARRIVALS: f64 = 2.0e8;

/// Longest mean effort of one task, working minutes (a working year: 250 days × 450 minutes).
pub const MAX_EFFORT_MINUTES: f64 = 112_500.0;

/// Longest mean delay (in-tray, supplement, transfer), days (ten years).
pub const MAX_DELAY_DAYS: f64 = 3_650.0;

/// Longest mean liên thông transfer, working minutes (a working year).
pub const MAX_TRANSFER_MINUTES: f64 = 112_500.0;

/// Lowest productivity of a transition shock (effort is divided by it).
pub const MIN_PRODUCTIVITY: f64 = 0.05;

/// Longest transition shock, weeks (ten years).
pub const MAX_SHOCK_WEEKS: i64 = 520;

/// Largest backlog a transition shock moves in, dossiers.
pub const MAX_BACKLOG: f64 = 1.0e7;

/// Most sweep points without `--force`.
pub const MAX_POINTS_UNFORCED: usize = 1_000_000;

/// Most sweep points even with `--force` (grid or Latin hypercube).
pub const MAX_POINTS: usize = 10_000_000;

/// Longest name of a scenario, province, unit or procedure, characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Longest horizon of a network file, time units (with its arrival rates it must also stay under [`MAX_EXPECTED_ARRIVALS`]).
pub const MAX_NETWORK_HORIZON: f64 = 1.0e12;

/// The limits as (name, value, what it bounds), for the README and `--help` texts.
pub fn table() -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "file size",
            format!("{} MiB", MAX_FILE_BYTES >> 20),
            "scenario, reform, sweep, network and stored-benchmark files; regular files only",
        ),
        (
            "units per tier",
            MAX_UNITS_PER_TIER.to_string(),
            "`units` of one tier of one province",
        ),
        ("units", MAX_UNITS.to_string(), "units in a whole scenario"),
        (
            "unit × procedure pairs",
            MAX_UNIT_PROCEDURES.to_string(),
            "units of one province times the procedures of the catalogue",
        ),
        (
            "network size",
            MAX_NETWORK_CELLS.to_string(),
            "nodes × classes of a network file",
        ),
        (
            "provinces",
            MAX_PROVINCES.to_string(),
            "provinces in a scenario",
        ),
        (
            "procedures",
            MAX_PROCEDURES.to_string(),
            "procedures in a catalogue",
        ),
        (
            "replications",
            MAX_REPLICATIONS.to_string(),
            "of a run, comparison, sweep point or network run",
        ),
        (
            "tally memory",
            format!("{} GiB", MAX_TALLY_BYTES >> 30),
            "what `run` holds for all its replications (about 0.9 MB per baseline replication)",
        ),
        (
            "staff",
            MAX_SERVERS.to_string(),
            "servers of one pool of one unit",
        ),
        (
            "empirical values",
            MAX_EMPIRICAL_VALUES.to_string(),
            "values of one empirical distribution",
        ),
        (
            "dossiers in flight",
            MAX_IN_FLIGHT.to_string(),
            "`model.max_in_flight`, the memory bound of one province (about 2 GiB)",
        ),
        (
            "expected arrivals",
            format!("{MAX_EXPECTED_ARRIVALS:e}"),
            "dossiers (or customers) one replication expects, warm-up included",
        ),
        (
            "mean effort",
            format!("{MAX_EFFORT_MINUTES} minutes"),
            "of one desk, appraisal or approval task (a working year)",
        ),
        (
            "mean delay",
            format!("{MAX_DELAY_DAYS} days"),
            "in-tray and supplement delays (ten years)",
        ),
        (
            "mean transfer",
            format!("{MAX_TRANSFER_MINUTES} minutes"),
            "liên thông transfers",
        ),
        (
            "shock productivity",
            format!("≥ {MIN_PRODUCTIVITY}"),
            "a transition shock divides effort by it",
        ),
        (
            "shock length",
            format!("{MAX_SHOCK_WEEKS} weeks"),
            "a transition shock",
        ),
        (
            "shock backlog",
            format!("{MAX_BACKLOG:e} dossiers"),
            "a transition shock",
        ),
        (
            "sweep points",
            format!("{MAX_POINTS_UNFORCED} ({MAX_POINTS} with --force)"),
            "grid or Latin hypercube",
        ),
        (
            "names",
            format!("{MAX_NAME_CHARS} characters"),
            "scenario, province, unit and procedure names",
        ),
        (
            "network horizon",
            format!("{MAX_NETWORK_HORIZON:e} time units"),
            "`run.horizon` of a network file",
        ),
    ]
}
