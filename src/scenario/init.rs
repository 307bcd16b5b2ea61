//! `motcua init`: a commented, runnable scenario for a province of a given
//! shape, with the calibrated baseline's defaults, each marked as an
//! assumption to replace.
//!
//! The baseline is the seed province (8 districts, 82 communes). A new shape
//! keeps its procedure catalogue and per-unit figures, and scales what
//! depends on the population served: the province tier's volume and staff by
//! the number of communes, a district's by the communes per district.

use super::domain::BASELINE;

/// Communes of the baseline province.
pub const BASE_COMMUNES: u32 = 82;
/// Districts of the baseline province.
pub const BASE_DISTRICTS: u32 = 8;

/// The shape of the province to write.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    /// The scenario's and province's name.
    pub name: String,
    /// Districts (0 with `two_tier`).
    pub districts: u32,
    /// Communes.
    pub communes: u32,
    /// Abolish the district tier as on 1 July 2025 (the districts' work and
    /// staff move to the communes and the province).
    pub two_tier: bool,
}

/// Why a shape cannot be written.
pub fn check(shape: &Shape) -> Result<(), String> {
    if !(1..=super::limits::MAX_UNITS_PER_TIER as u32).contains(&shape.communes) {
        return Err(format!(
            "--communes must be between 1 and {} (got {})",
            super::limits::MAX_UNITS_PER_TIER,
            shape.communes
        ));
    }
    if !(1..=super::limits::MAX_UNITS_PER_TIER as u32).contains(&shape.districts) {
        return Err(format!(
            "--districts must be between 1 and {} (got {}); for a province without districts use --two-tier",
            super::limits::MAX_UNITS_PER_TIER,
            shape.districts
        ));
    }
    // The scenario's own rule for names, so that what init accepts, run accepts.
    let mut errors = Vec::new();
    super::domain::check_name(&mut errors, "--name", &shape.name);
    if let Some(e) = errors.first() {
        return Err(format!("--name: {}", e.message));
    }
    Ok(())
}

/// `s` as a TOML string (quotes and backslashes escaped).
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The scenario text for `shape` (call [`check`] first).
pub fn template(shape: &Shape) -> String {
    let communes = f64::from(shape.communes);
    let districts = f64::from(shape.districts);
    let province_size = round2(communes / f64::from(BASE_COMMUNES)).max(0.01);
    let district_size =
        round2((communes / districts) / (f64::from(BASE_COMMUNES) / f64::from(BASE_DISTRICTS)))
            .max(0.01);
    let catalogue_start = BASELINE
        .find("[calendar]")
        .expect("the baseline has a calendar");
    let province_start = BASELINE
        .find("# ---------------------------------------------------------------- the province")
        .expect("the baseline marks its province");
    let body = &BASELINE[catalogue_start..province_start];
    let assumption = "# ASSUMPTION (the baseline's calibrated value for the seed province):\n# replace volume_per_unit, channels, the probabilities, the efforts and\n# handoff_days with your province's figures.\n[[procedure]]\n";
    let body = body.replace("[[procedure]]\n", assumption);
    let mut out = String::new();
    out.push_str(&format!(
        "# {name}: a province of {districts} districts and {communes} communes{two}, written by
# `motcua init`. It runs as it is, with the defaults of the calibrated
# baseline (the seed province of the 2022 report: 8 districts, 82 communes,
# about 870,000 dossiers a year, 4.2% late). Every line marked ASSUMPTION is
# such a default: replace it with your province's own figure. The reference
# of every field is docs/scenario.md (or `motcua schema scenario`).
#
# Scaled from the baseline by the population served (ASSUMPTION): the
# province tier's volume and staff by {communes}/82 communes (size
# {province_size}), each district's by its communes per district (size
# {district_size}); communes keep the baseline's per-commune figures.
name = {quoted}
# ASSUMPTION: the year simulated (after 30 warm-up days).
start = \"2022-01-01\"
warmup_days = 30
horizon_days = 365
replications = 10
seed = 1

",
        name = shape.name,
        quoted = quoted(&shape.name),
        districts = shape.districts,
        communes = shape.communes,
        two = if shape.two_tier {
            ", whose district tier is abolished (as on 1 July 2025)"
        } else {
            ""
        },
    ));
    out.push_str(&body);
    out.push_str(&format!(
        "# ---------------------------------------------------------------- the province
[[province]]
name = {quoted}

# ASSUMPTION: staff of the provincial centre, scaled from the seed province's
# 16 clerks, 72 specialists and 5 leaders by the size below.
[[province.tier]]
tier = \"province\"
staff = {{ clerks = 16, specialists = 72, leaders = 5 }}
[[province.tier.unit]]
name = \"province-1\"
size = {province_size}

# ASSUMPTION: staff of a district of the seed province's average size; each
# district here serves {per_district:.1} communes against the seed's 10.25.
[[province.tier]]
tier = \"district\"
staff = {{ clerks = 9, specialists = 49.4, leaders = 3.4 }}
",
        quoted = quoted(&shape.name),
        per_district = communes / districts,
    ));
    for d in 1..=shape.districts {
        out.push_str(&format!(
            "[[province.tier.unit]]\nname = \"district-{d}\"\nsize = {district_size}\n"
        ));
    }
    out.push_str(&format!(
        "
# ASSUMPTION: staff of a commune of average size (2 clerks, 3 specialists,
# 1 leader) and the spread of commune sizes.
[[province.tier]]
tier = \"commune\"
units = {communes}
size = {{ dist = \"lognormal\", mean = 1.0, sd = 0.4 }}
staff = {{ clerks = 2, specialists = 3, leaders = 1 }}
",
        communes = shape.communes
    ));
    if shape.two_tier {
        out.push_str(
            "
# The two-tier government of 1 July 2025: every district procedure moves to
# the communes (land ones to the province), district staff move 70% to the
# communes and 30% to the province. ASSUMPTION: the remap and the shares; see
# docs/reform.md (abolish_district).
[[reform]]
kind = \"abolish_district\"
default = \"commune\"
remap = { d-land = \"province\" }
to_communes = 0.7
",
        );
    }
    out
}
