//! Network files: a TOML description of a generic queueing network (classes, nodes, sources, routing, run settings).
//!
//! ```toml
//! name = "mm1"
//! [run]
//! horizon = 100000.0     # time units
//! warmup = 1000.0
//! replications = 10
//! seed = 1
//!
//! [[node]]
//! name = "desk"
//! servers = 1
//! service = { dist = "exponential", mean = 1.0 }
//! route = [{ to = "back-office", p = 0.3 }]   # the rest leaves the network
//!
//! [[source]]
//! node = "desk"
//! arrivals = { process = "poisson", rate = 0.9 }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::{FieldError, Origin, ScenarioError, parse_table, read, typed, typed_array};
use crate::engine::{
    Arrivals, Branch, CapacitySegment, Class, Discipline, Dist, Network, NetworkError, Node,
    NodeKind, RunConfig, Source, Target,
};

/// Run settings of a network file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    /// Length of each replication, time units.
    pub horizon: f64,
    /// Warm-up cut, time units (default 0).
    #[serde(default)]
    pub warmup: f64,
    /// Replications (default 10).
    #[serde(default = "default_replications")]
    pub replications: u64,
    /// Master seed (default 1).
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_replications() -> u64 {
    10
}
fn default_seed() -> u64 {
    1
}

/// A class entry.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    /// Unique name.
    pub name: String,
    /// Lower is served first under the `priority` discipline.
    #[serde(default)]
    pub priority: i32,
    /// Due time after arrival, for `edf` queues.
    pub due: Option<Dist>,
}

/// Station or delay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawKind {
    /// A queue with servers.
    #[default]
    Station,
    /// Infinitely many servers.
    Delay,
}

/// A routing branch.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    /// Destination node name.
    pub to: String,
    /// Probability.
    pub p: f64,
    /// Only for this class (default: every class).
    pub class: Option<String>,
}

/// A node entry.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    /// Unique name.
    pub name: String,
    /// `station` (default) or `delay`.
    #[serde(default)]
    pub kind: RawKind,
    /// Servers of a station (ignored when a schedule is given).
    pub servers: Option<u32>,
    /// Queue discipline of a station.
    #[serde(default)]
    pub discipline: Discipline,
    /// Cyclic capacity schedule.
    pub schedule: Option<Vec<CapacitySegment>>,
    /// Service (or delay) time for every class.
    pub service: Option<Dist>,
    /// Per-class service overrides.
    #[serde(default)]
    pub service_by_class: BTreeMap<String, Dist>,
    /// Routing branches.
    #[serde(default)]
    pub route: Vec<RawRoute>,
}

/// A source entry.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    /// Name (default `source<i>`).
    pub name: Option<String>,
    /// Node entered.
    pub node: String,
    /// Class (default: the first class).
    pub class: Option<String>,
    /// Arrival process.
    pub arrivals: Arrivals,
}

/// A validated network file, ready to replicate.
#[derive(Clone, Debug)]
pub struct NetworkFile {
    /// Name of the network.
    pub name: String,
    /// The network.
    pub network: Network,
    /// When each replication stops and starts tallying.
    pub run: RunConfig,
    /// Replications.
    pub replications: u64,
    /// Master seed.
    pub seed: u64,
}

/// Reads and validates a network file.
pub fn load(path: &Path) -> Result<NetworkFile, ScenarioError> {
    let text = read(path, Origin::Named)?;
    parse(path, &text)
}

/// Parses and validates network-file text; `path` names the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<NetworkFile, ScenarioError> {
    let mut table = parse_table(path, text, Origin::Named)?;
    let mut errors = Vec::new();
    let invalid = |errors| ScenarioError::Invalid {
        path: path.to_owned(),
        errors,
    };

    if let Some(toml::Value::Table(r)) = table.get_mut("run")
        && !r.contains_key("horizon")
    {
        errors.push(FieldError::new(
            "run.horizon",
            "missing: this field is required",
        ));
        // A stand-in, so that the rest of [run] is still checked; the file is refused anyway.
        r.insert("horizon".into(), toml::Value::Float(1.0));
    }
    let name = match table.remove("name") {
        Some(v) => typed::<String>("name", v, &mut errors),
        None => path.file_stem().map(|s| s.to_string_lossy().into_owned()),
    }
    .unwrap_or_default();
    let _description = table.remove("description");
    let run = match table.remove("run") {
        Some(v) => typed::<RawRun>("run", v, &mut errors),
        None => {
            errors.push(FieldError::new(
                "run",
                "missing: add a [run] table with at least `horizon`",
            ));
            None
        }
    };
    // Every required key of every entry, all at once (serde stops at the first).
    for (key, required) in [
        ("class", &["name"][..]),
        ("node", &["name"][..]),
        ("source", &["node", "arrivals"][..]),
    ] {
        if let Some(toml::Value::Array(items)) = table.get_mut(key) {
            for (i, item) in items.iter_mut().enumerate() {
                let missing = super::missing_keys(item, required);
                if !missing.is_empty() {
                    for m in &missing {
                        errors.push(FieldError::new(
                            format!("{key}[{i}].{m}"),
                            "missing: this field is required",
                        ));
                    }
                    *item = toml::Value::Table(toml::Table::new());
                }
            }
        }
    }
    let classes: Vec<Option<RawClass>> = typed_array(&mut table, "class", &mut errors);
    let nodes: Vec<Option<RawNode>> = typed_array(&mut table, "node", &mut errors);
    let sources: Vec<Option<RawSource>> = typed_array(&mut table, "source", &mut errors);
    for key in table.keys() {
        errors.push(FieldError::new(
            key.clone(),
            "unknown key; expected one of `name`, `description`, `run`, `class`, `node`, `source`",
        ));
    }

    if let Some(r) = &run {
        if !(r.horizon.is_finite() && r.horizon > 0.0) {
            errors.push(FieldError::new(
                "run.horizon",
                format!("must be a finite number > 0 (got {})", r.horizon),
            ));
        }
        if !(r.warmup.is_finite() && r.warmup >= 0.0 && r.warmup < r.horizon) {
            errors.push(FieldError::new(
                "run.warmup",
                format!(
                    "must be ≥ 0 and less than the horizon (got {}, horizon {})",
                    r.warmup, r.horizon
                ),
            ));
        }
        if !(1..=super::limits::MAX_REPLICATIONS).contains(&r.replications) {
            errors.push(FieldError::new(
                "run.replications",
                format!(
                    "must be between 1 and {} (got {})",
                    super::limits::MAX_REPLICATIONS,
                    r.replications
                ),
            ));
        }
        if r.horizon > super::limits::MAX_NETWORK_HORIZON {
            errors.push(FieldError::new(
                "run.horizon",
                format!(
                    "must be at most {:e} time units (got {})",
                    super::limits::MAX_NETWORK_HORIZON,
                    r.horizon
                ),
            ));
        }
    }
    if nodes.is_empty() {
        errors.push(FieldError::new(
            "node",
            "the network needs at least one [[node]]",
        ));
    }
    if sources.is_empty() {
        errors.push(FieldError::new(
            "source",
            "the network needs at least one [[source]]",
        ));
    }

    // Classes: a single default class when none is given.
    let classes: Vec<RawClass> = if classes.is_empty() {
        vec![RawClass {
            name: "default".into(),
            priority: 0,
            due: None,
        }]
    } else {
        classes.into_iter().flatten().collect()
    };
    let class_ix = unique_names(
        classes.iter().map(|c| c.name.as_str()),
        "class",
        &mut errors,
    );
    for (i, c) in classes.iter().enumerate() {
        if let Some(d) = &c.due {
            dist_errors(&format!("class[{i}].due"), d, &mut errors);
        }
    }
    let node_ix = unique_names(
        nodes
            .iter()
            .map(|n| n.as_ref().map_or("", |n| n.name.as_str())),
        "node",
        &mut errors,
    );

    let nc = classes.len();
    if nodes.len().saturating_mul(nc) > super::limits::MAX_NETWORK_CELLS {
        errors.push(FieldError::new(
            "node",
            format!(
                "{} nodes × {nc} classes is over the limit of {} (node, class) pairs",
                nodes.len(),
                super::limits::MAX_NETWORK_CELLS
            ),
        ));
        return Err(invalid(errors));
    }
    let mut built_nodes = Vec::new();
    let mut routes = Vec::new();
    for (i, raw) in nodes.iter().enumerate() {
        let Some(raw) = raw else { continue };
        let at = |f: &str| format!("node[{i}].{f}");
        let kind = match raw.kind {
            RawKind::Delay => {
                if raw.servers.is_some() || raw.schedule.is_some() {
                    errors.push(FieldError::new(
                        at("kind"),
                        "a delay has no servers or schedule; remove them or use kind = \"station\"",
                    ));
                }
                NodeKind::Delay
            }
            RawKind::Station => {
                match (&raw.servers, &raw.schedule) {
                    (None, None) => errors.push(FieldError::new(
                        at("servers"),
                        "missing: a station needs `servers` (≥ 1) or a `schedule`",
                    )),
                    (Some(0), None) => {
                        errors.push(FieldError::new(at("servers"), "must be ≥ 1 (got 0)"))
                    }
                    _ => {}
                }
                if let Some(s) = &raw.schedule {
                    if s.is_empty() {
                        errors.push(FieldError::new(
                            at("schedule"),
                            "must list at least one segment",
                        ));
                    }
                    for (j, seg) in s.iter().enumerate() {
                        if !(seg.duration.is_finite() && seg.duration > 0.0) {
                            errors.push(FieldError::new(
                                at(&format!("schedule[{j}].duration")),
                                format!("must be a finite number > 0 (got {})", seg.duration),
                            ));
                        }
                    }
                    if !s.is_empty() && s.iter().all(|seg| seg.servers == 0) {
                        errors.push(FieldError::new(
                            at("schedule"),
                            "has no servers on duty in any segment",
                        ));
                    }
                }
                NodeKind::Station {
                    servers: raw.servers.unwrap_or(0),
                    discipline: raw.discipline,
                    schedule: raw.schedule.clone(),
                }
            }
        };
        if let Some(d) = &raw.service {
            dist_errors(&at("service"), d, &mut errors);
        }
        for (cname, d) in &raw.service_by_class {
            if !class_ix.contains_key(cname.as_str()) {
                errors.push(unknown(
                    &at(&format!("service_by_class.{cname}")),
                    "class",
                    cname,
                    &class_ix,
                ));
            }
            dist_errors(&at(&format!("service_by_class.{cname}")), d, &mut errors);
        }
        let mut service = Vec::with_capacity(nc);
        for c in &classes {
            match raw.service_by_class.get(&c.name).or(raw.service.as_ref()) {
                Some(d) => service.push(d.clone()),
                None => {
                    errors.push(FieldError::new(
                        at("service"),
                        format!(
                            "missing for class `{}`: give `service` or `service_by_class.{}`",
                            c.name, c.name
                        ),
                    ));
                    service.push(Dist::constant(0.0));
                }
            }
        }
        let mut per_class: Vec<Vec<Branch>> = vec![Vec::new(); nc];
        for (j, r) in raw.route.iter().enumerate() {
            let f = at(&format!("route[{j}]"));
            if !(r.p.is_finite() && (0.0..=1.0).contains(&r.p)) {
                errors.push(FieldError::new(
                    format!("{f}.p"),
                    format!("must be a probability in [0, 1] (got {})", r.p),
                ));
            }
            let to = if r.to == "exit" {
                Some(Target::Exit)
            } else {
                match node_ix.get(r.to.as_str()) {
                    Some(&k) => Some(Target::Node(k)),
                    None => {
                        errors.push(unknown(&format!("{f}.to"), "node", &r.to, &node_ix));
                        None
                    }
                }
            };
            let which: Vec<usize> = match &r.class {
                None => (0..nc).collect(),
                Some(cn) => match class_ix.get(cn.as_str()) {
                    Some(&k) => vec![k],
                    None => {
                        errors.push(unknown(&format!("{f}.class"), "class", cn, &class_ix));
                        vec![]
                    }
                },
            };
            if let Some(to) = to {
                for k in which {
                    per_class[k].push(Branch { to, p: r.p });
                }
            }
        }
        for (k, branches) in per_class.iter().enumerate() {
            let sum: f64 = branches.iter().map(|b| b.p).sum();
            if sum > 1.0 + 1e-9 {
                errors.push(FieldError::new(
                    at("route"),
                    format!(
                        "probabilities for class `{}` sum to {sum}, more than 1; lower them (what is left below 1 leaves the network)",
                        classes[k].name
                    ),
                ));
            }
        }
        built_nodes.push(Node {
            name: raw.name.clone(),
            kind,
            service,
        });
        routes.push(per_class);
    }

    let mut built_sources = Vec::new();
    for (i, raw) in sources.iter().enumerate() {
        let Some(raw) = raw else { continue };
        let at = |f: &str| format!("source[{i}].{f}");
        let node = node_ix.get(raw.node.as_str()).copied();
        if node.is_none() {
            errors.push(unknown(&at("node"), "node", &raw.node, &node_ix));
        }
        let class = match &raw.class {
            None => Some(0),
            Some(c) => {
                let k = class_ix.get(c.as_str()).copied();
                if k.is_none() {
                    errors.push(unknown(&at("class"), "class", c, &class_ix));
                }
                k
            }
        };
        if let Err(es) = raw.arrivals.validate() {
            for e in es {
                errors.push(FieldError::new(
                    at(&format!("arrivals.{}", e.field)),
                    e.message,
                ));
            }
        }
        if let (Some(node), Some(class)) = (node, class) {
            built_sources.push(Source {
                name: raw.name.clone().unwrap_or_else(|| format!("source{i}")),
                class,
                node,
                arrivals: raw.arrivals.clone(),
            });
        }
    }

    if let Some(r) = &run
        && errors.is_empty()
    {
        let expected: f64 = built_sources
            .iter()
            .map(|s| s.arrivals.mean_rate() * r.horizon)
            .sum();
        if expected.is_nan() || expected > super::limits::MAX_EXPECTED_ARRIVALS {
            errors.push(FieldError::new(
                "source",
                format!(
                    "one replication would create about {expected:.3e} customers, over the limit of {:e}; lower the rates or run.horizon",
                    super::limits::MAX_EXPECTED_ARRIVALS
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let Some(run) = run else {
        return Err(invalid(errors));
    };
    let classes = classes
        .into_iter()
        .map(|c| Class {
            name: c.name,
            priority: c.priority,
            due: c.due,
        })
        .collect();
    let network = Network::new(classes, built_nodes, built_sources, routes)
        .map_err(|es| invalid(es.into_iter().map(|e| engine_error(e, &node_ix)).collect()))?;
    Ok(NetworkFile {
        name,
        network,
        run: RunConfig::horizon(run.horizon, run.warmup),
        replications: run.replications,
        seed: run.seed,
    })
}

/// Places an engine error at the field it comes from.
fn engine_error(e: NetworkError, node_ix: &HashMap<&str, usize>) -> FieldError {
    let node_field = |name: &str| {
        node_ix
            .get(name)
            .map_or_else(|| "node".to_string(), |i| format!("node[{i}]"))
    };
    match &e {
        NetworkError::Unstable { node, .. } | NetworkError::NoServers { node } => {
            FieldError::new(node_field(node), strip_node(&e.to_string()))
        }
        NetworkError::NeverExits { .. } => FieldError::new("node.route", e.to_string()),
        _ => FieldError::new("", e.to_string()),
    }
}

fn strip_node(s: &str) -> String {
    s.split_once(": ")
        .map_or(s.to_string(), |(_, rest)| rest.to_string())
}

fn dist_errors(field: &str, d: &Dist, errors: &mut Vec<FieldError>) {
    if let Err(es) = d.validate() {
        for e in es {
            errors.push(FieldError::new(format!("{field}.{}", e.field), e.message));
        }
    }
}

fn unique_names<'a>(
    names: impl Iterator<Item = &'a str>,
    what: &str,
    errors: &mut Vec<FieldError>,
) -> HashMap<&'a str, usize> {
    let mut ix = HashMap::new();
    for (i, n) in names.enumerate() {
        if n.is_empty() {
            continue;
        }
        if n == "exit" {
            errors.push(FieldError::new(
                format!("{what}[{i}].name"),
                "`exit` is reserved for leaving the network; choose another name",
            ));
        }
        if let Some(first) = ix.insert(n, i) {
            errors.push(FieldError::new(
                format!("{what}[{i}].name"),
                format!("duplicate name `{n}` (already used by {what}[{first}])"),
            ));
        }
    }
    ix
}

fn unknown(field: &str, what: &str, name: &str, known: &HashMap<&str, usize>) -> FieldError {
    let mut names: Vec<_> = known.keys().copied().collect();
    names.sort_unstable();
    FieldError::new(
        field,
        format!(
            "unknown {what} `{name}`; expected one of: {}",
            names.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "two-stage"
[run]
horizon = 1000.0
warmup = 100.0
replications = 3
[[node]]
name = "desk"
servers = 2
service = { dist = "exponential", mean = 1.0 }
route = [{ to = "office", p = 0.5 }]
[[node]]
name = "office"
kind = "delay"
service = { dist = "constant", value = 3.0 }
[[source]]
node = "desk"
arrivals = { process = "poisson", rate = 1.0 }
"#;

    #[test]
    fn a_valid_network_file_is_read() {
        let f = parse(Path::new("x.toml"), GOOD).unwrap();
        assert_eq!(f.name, "two-stage");
        assert_eq!(f.network.nodes().len(), 2);
        assert_eq!(f.replications, 3);
        assert!((f.network.arrival_rate(1, 0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn every_error_in_a_file_is_reported_with_its_field_path() {
        let bad = r#"
[run]
horizon = -5.0
[[node]]
name = "desk"
servers = 0
service = { dist = "exponential", mean = -1.0 }
route = [{ to = "nowhere", p = 1.5 }]
[[node]]
name = "office"
servers = "two"
[[source]]
node = "desk"
arrivals = { process = "poisson", rate = 0.0 }
"#;
        let e = parse(Path::new("bad.toml"), bad).unwrap_err().to_string();
        for needle in [
            "bad.toml: run.horizon: must be a finite number > 0 (got -5)",
            "bad.toml: node[0].servers: must be ≥ 1 (got 0)",
            "bad.toml: node[0].service.mean: must be a finite number > 0 (got -1)",
            "bad.toml: node[0].route[0].to: unknown node `nowhere`",
            "bad.toml: node[0].route[0].p: must be a probability in [0, 1] (got 1.5)",
            "bad.toml: node[1].servers: invalid type: string \"two\"",
            "bad.toml: source[0].arrivals.rate: must be a finite number > 0 (got 0)",
        ] {
            assert!(e.contains(needle), "missing {needle:?} in:\n{e}");
        }
    }

    #[test]
    fn an_unstable_network_is_reported_at_its_node() {
        let text = GOOD.replace("rate = 1.0", "rate = 2.5");
        let e = parse(Path::new("x.toml"), &text).unwrap_err().to_string();
        assert!(e.contains("x.toml: node[0]: offered load"), "{e}");
        assert!(e.contains("grow without bound"), "{e}");
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let e = parse(Path::new("y.toml"), "[run\nhorizon = 1")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("y.toml: not valid TOML"), "{e}");
        assert!(e.contains("line 1"), "{e}");
    }
}
