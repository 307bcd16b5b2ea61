//! `motcua size`: the fewest staff that meet service targets, each confirmed
//! with a stated one-sided confidence.
//!
//! The decision variables are the staff counts (integers ≥ 1) of chosen pools
//! in chosen units (or the servers of chosen stations of a network file); the
//! targets are `METRIC[@SCOPE] <= VALUE` or `>= VALUE`. The method:
//!
//! 1. **Start** (square-root staffing; Borst, Mandelbaum & Reiman 2004,
//!    "Dimensioning large call centers", *Operations Research* 52(1):17–34):
//!    per pool, the offered load `a` in servers of working time (arrival rate
//!    × visits × mean effort, over the pool's service hours) and the fewest
//!    `c ≥ 1` with `a / c < 1` and Erlang C `P(wait) ≤ 0.5`, which is
//!    `c ≈ a + β√a` with `β ≈ 0.5` in the Halfin–Whitt regime.
//! 2. **Up**, to a fixed point (the iterative staffing algorithm of Feldman,
//!    Mandelbaum, Massey & Whitt 2008, "Staffing of time-varying queues to
//!    achieve time-stable performance", *Management Science* 54(2):324–338):
//!    every unit is simulated at once with common random numbers (the same
//!    seed and replications at every evaluation); each scope that misses a
//!    target gets one more person in its busiest pool among those that can
//!    move the metric (the clerks for counter waits; for the other metrics
//!    also the pools of the units that resolve its liên thông dossiers).
//!    Repeat until no target is missed.
//! 3. **Down**: per (tier, pool), one person fewer in every unit of that
//!    tier at once. Units of one tier exchange no dossiers and their loads do
//!    not depend on each other's staff, so each unit's result is the result
//!    of removing its person alone (with the same random numbers). Units
//!    whose targets still hold keep the removal; for targets over several
//!    units (overall, a tier) the kept removals are cut back by bisection
//!    (most expensive, least busy first) to the largest set that still meets
//!    them. Rounds repeat until none is kept: the last round is the local
//!    minimality check (removing one person from any varied pool with more
//!    than one person breaks a target) and names the target that breaks.
//! 4. **Confirm**: the recommendation is run again with more replications;
//!    every target must hold with the one-sided Student-t bound at the
//!    stated confidence. If one does not, the search goes on from step 2
//!    with the larger number of replications.
//!
//! A target is met when the one-sided confidence bound of its mean over the
//! replications is on the right side of the value (the upper bound for
//! `<=`, the lower for `>=`); a scope with no observation of the metric (a
//! unit with no counter visit) meets it. When a missed target cannot be
//! helped because every pool that could move it is at the cap, sizing stops
//! and says which target fails where.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use rayon::prelude::*;
use serde::Serialize;

use crate::engine::{Discipline, Streams};
use crate::model::prepare::prepare;
use crate::model::scopes::{Scope, offered_online, scopes};
use crate::scenario::domain::{Scenario, Tier};
use crate::scenario::network::NetworkFile;

/// Which way a target points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Cmp {
    /// The metric must be at most the value.
    #[serde(rename = "<=")]
    AtMost,
    /// The metric must be at least the value.
    #[serde(rename = ">=")]
    AtLeast,
}

impl Cmp {
    fn symbol(self) -> &'static str {
        match self {
            Cmp::AtMost => "<=",
            Cmp::AtLeast => ">=",
        }
    }
}

/// Where a target applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Where {
    /// The whole scenario (every province), or the whole network.
    Overall,
    /// One tier, all its units together.
    Tier(Tier),
    /// One named unit (or network node).
    Unit(String),
    /// Each unit of a tier (every unit with `None`), or each node, separately.
    Each(Option<Tier>),
}

impl std::fmt::Display for Where {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Where::Overall => write!(f, "overall"),
            Where::Tier(t) => write!(f, "{}", t.name()),
            Where::Unit(u) => write!(f, "{u}"),
            Where::Each(None) => write!(f, "each-unit"),
            Where::Each(Some(t)) => write!(f, "each-{}", t.name()),
        }
    }
}

/// A service target: `METRIC[@SCOPE] <= VALUE` or `>= VALUE`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    /// As written (normalised: no spaces).
    pub text: String,
    /// The metric (a name of the metric catalogue, or of a network's node figures).
    pub metric: String,
    /// Where it applies.
    pub scope: Where,
    /// Which way.
    pub cmp: Cmp,
    /// The value.
    pub bound: f64,
}

fn parse_tier(s: &str) -> Option<Tier> {
    Tier::ALL.into_iter().find(|t| t.name() == s)
}

/// Parses a target such as `late_rate@each-unit<=0.03`. Scopes: `overall`
/// (the default), a tier (`commune`), a unit or node name, `each-unit` (or
/// `each-node`), `each-<tier>`.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let text: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .replace('≤', "<=")
        .replace('≥', ">=");
    let (lhs, cmp, rhs) = if let Some((l, r)) = text.split_once("<=") {
        (l, Cmp::AtMost, r)
    } else if let Some((l, r)) = text.split_once(">=") {
        (l, Cmp::AtLeast, r)
    } else {
        return Err(format!(
            "target `{s}`: expected METRIC[@SCOPE]<=VALUE or >=VALUE; hint: late_rate@each-unit<=0.03"
        ));
    };
    let bound: f64 = rhs
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| format!("target `{s}`: `{rhs}` is not a finite number"))?;
    let (metric, scope) = match lhs.split_once('@') {
        Some((m, sc)) => (m, sc),
        None => (lhs, "overall"),
    };
    if metric.is_empty() || scope.is_empty() {
        return Err(format!(
            "target `{s}`: the metric or the scope is empty; hint: late_rate@commune<=0.03"
        ));
    }
    let scope = match scope {
        "overall" => Where::Overall,
        "each-unit" | "each-node" => Where::Each(None),
        x => match (parse_tier(x), x.strip_prefix("each-").and_then(parse_tier)) {
            (Some(t), _) => Where::Tier(t),
            (_, Some(t)) => Where::Each(Some(t)),
            _ => Where::Unit(x.to_string()),
        },
    };
    Ok(Target {
        text: format!("{metric}@{scope}{}{rhs}", cmp.symbol()),
        metric: metric.to_string(),
        scope,
        cmp,
        bound,
    })
}

/// A group of decision variables: one unit (or network node).
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    /// Province (empty for a network).
    pub province: String,
    /// Unit or node name.
    pub name: String,
    /// Tier (none for a network node).
    pub tier: Option<Tier>,
}

/// One decision variable: the staff of one pool of one unit.
#[derive(Clone, Debug, Serialize)]
pub struct Var {
    /// Its group (index into [`Problem::groups`]).
    pub group: usize,
    /// Pool index (into [`Problem::pools`]).
    pub pool: usize,
    /// Staff in the scenario as given.
    pub current: u32,
    /// Offered load in servers of working time.
    pub offered: f64,
    /// The analytic start.
    pub start: u32,
    /// The most it may have.
    pub cap: u32,
}

/// One scope a target is checked on.
#[derive(Clone, Debug, Serialize)]
pub struct Instance {
    /// The target (index into the targets).
    pub target: usize,
    /// The scope's label (`overall`, a tier, `province/unit`, a node).
    pub scope: String,
    /// The unit, when the scope is one unit.
    pub group: Option<usize>,
    /// The groups whose staff can move it.
    pub deps: Vec<usize>,
}

/// What one replication of one staffing gave.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Per instance, the metric.
    pub values: Vec<f64>,
    /// Per variable, its pool's utilisation.
    pub busy: Vec<f64>,
    /// Engine events simulated.
    pub events: u64,
}

/// What a sizing problem is over: its groups (units or stations), decision
/// variables, the scopes its targets are checked on, and the targets.
#[derive(Clone, Debug)]
pub struct Space {
    /// The groups.
    pub groups: Vec<Group>,
    /// The decision variables.
    pub vars: Vec<Var>,
    /// The scopes the targets are checked on.
    pub instances: Vec<Instance>,
    /// The targets.
    pub targets: Vec<Target>,
}

/// A model whose staff can be sized: a one-stop scenario or a network file.
pub trait Problem: Sync {
    /// Names of the pool kinds.
    fn pools(&self) -> &[&'static str];
    /// The groups, variables, scopes and targets.
    fn space(&self) -> &Space;
    /// The groups.
    fn groups(&self) -> &[Group] {
        &self.space().groups
    }
    /// The decision variables.
    fn vars(&self) -> &[Var] {
        &self.space().vars
    }
    /// The scopes the targets are checked on.
    fn instances(&self) -> &[Instance] {
        &self.space().instances
    }
    /// The targets.
    fn targets(&self) -> &[Target] {
        &self.space().targets
    }
    /// Whether the pool kind can move the metric.
    fn relevant(&self, metric: &str, pool: usize) -> bool;
    /// Runs replications `reps` with staffing `x` (one value per variable).
    fn evaluate(&self, x: &[u32], reps: Range<u64>) -> Result<Vec<Sample>, String>;
    /// Simulated units of work one replication stands for (province-years, or network runs).
    fn unit_of_work(&self) -> &'static str;
}

/// The smallest `c ≥ 1` with `a / c < 1` and Erlang C `P(wait) ≤ 0.5`
/// (square-root staffing, Borst–Mandelbaum–Reiman 2004).
pub fn square_root_start(a: f64) -> u32 {
    if !(a.is_finite() && a > 0.0) {
        return 1;
    }
    let mut c = (a.floor() as u32).max(1);
    while f64::from(c) <= a || crate::theory::erlang_c(c, a) > 0.5 {
        c += 1;
    }
    c
}

fn cap_for(current: u32, start: u32, max_staff: Option<u32>) -> u32 {
    max_staff
        .unwrap_or_else(|| (3 * current.max(start)).max(10))
        .max(1)
}

// ---------------------------------------------------------------- scenario

/// The pools of a one-stop unit.
pub const POOLS: [&str; 3] = ["clerks", "specialists", "leaders"];

/// Sizing a one-stop scenario.
pub struct ScenarioProblem {
    space: Space,
    base: Scenario,
    discipline: Discipline,
    seed: u64,
    /// (province, unit) of each group.
    at: Vec<(usize, usize)>,
}

/// What to vary in a scenario.
#[derive(Clone, Debug, Default)]
pub struct ScenarioSpec {
    /// Pools to vary (indices into [`POOLS`]; all three when empty).
    pub pools: Vec<usize>,
    /// Units to vary: tiers or unit names (all units when empty).
    pub scope: Vec<String>,
    /// The most staff of any varied pool (default: 3 × max(current, start), at least 10).
    pub max_staff: Option<u32>,
}

fn metric_known(name: &str) -> bool {
    crate::model::metrics::lookup(name).is_some()
}

fn counter_metric(metric: &str) -> bool {
    metric.starts_with("counter_wait")
}

impl ScenarioProblem {
    /// Checks the targets and the varied pools against the scenario.
    pub fn new(
        base: Scenario,
        seed: u64,
        targets: Vec<Target>,
        spec: &ScenarioSpec,
    ) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let discipline = if base.model.edf {
            Discipline::Edf
        } else {
            Discipline::Fifo
        };
        let prepared = prepare(&base, discipline).map_err(|e| vec![e.to_string()])?;
        let mut groups = Vec::new();
        let mut at = Vec::new();
        let mut deps_of: Vec<Vec<usize>> = Vec::new();
        let mut first = Vec::new();
        for (pi, p) in base.provinces.iter().enumerate() {
            first.push(groups.len());
            for u in &p.units {
                groups.push(Group {
                    province: p.name.clone(),
                    name: u.name.clone(),
                    tier: Some(u.tier),
                });
                at.push((pi, groups.len() - 1 - first[pi]));
            }
            for u in 0..p.units.len() {
                let mut d = vec![first[pi] + u];
                for &(r, c) in &prepared.provinces[pi].pairs {
                    let g = first[pi] + c as usize;
                    if r as usize == u && !d.contains(&g) {
                        d.push(g);
                    }
                }
                deps_of.push(d);
            }
        }
        // Which units vary.
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        for s in &spec.scope {
            if parse_tier(s).is_none() && !names.contains(&s.as_str()) {
                errors.push(format!(
                    "--scope `{s}`: neither a tier nor a unit of the scenario; hint: commune, district, province or a unit name such as `{}`",
                    names.last().copied().unwrap_or("commune-1")
                ));
            }
        }
        let varied = |g: &Group| {
            spec.scope.is_empty()
                || spec
                    .scope
                    .iter()
                    .any(|s| parse_tier(s).is_some_and(|t| g.tier == Some(t)) || s == &g.name)
        };
        let pools: Vec<usize> = if spec.pools.is_empty() {
            vec![0, 1, 2]
        } else {
            spec.pools.clone()
        };
        let mut vars = Vec::new();
        for (gi, g) in groups.iter().enumerate() {
            if !varied(g) {
                continue;
            }
            let (pi, u) = at[gi];
            let unit = &base.provinces[pi].units[u];
            for &k in &pools {
                let current = unit.servers[k];
                let offered = prepared.provinces[pi].load[u][k] * f64::from(current);
                let start = square_root_start(offered);
                vars.push(Var {
                    group: gi,
                    pool: k,
                    current,
                    offered,
                    start,
                    cap: cap_for(current, start, spec.max_staff),
                });
            }
        }
        if vars.is_empty() && errors.is_empty() {
            errors.push("nothing to vary: --scope and --vary select no pool".into());
        }
        for v in &mut vars {
            if v.start > v.cap {
                v.start = v.cap;
            }
        }
        // The scopes of each target.
        let mut instances = Vec::new();
        for (ti, t) in targets.iter().enumerate() {
            if !metric_known(&t.metric) {
                let known: Vec<&str> = crate::model::metrics::METRICS
                    .iter()
                    .map(|m| m.name)
                    .collect();
                let close = crate::field::closest(&t.metric, known.iter().copied());
                errors.push(format!(
                    "target `{}`: unknown metric `{}`{}; `motcua schema outputs` lists them",
                    t.text,
                    t.metric,
                    close.map_or(String::new(), |c| format!(" (did you mean `{c}`?)"))
                ));
                continue;
            }
            let own = |gi: usize| {
                if counter_metric(&t.metric) {
                    vec![gi]
                } else {
                    deps_of[gi].clone()
                }
            };
            let label = |gi: usize| {
                if base.provinces.len() > 1 {
                    format!("{}/{}", groups[gi].province, groups[gi].name)
                } else {
                    groups[gi].name.clone()
                }
            };
            let before = instances.len();
            match &t.scope {
                Where::Overall => instances.push(Instance {
                    target: ti,
                    scope: "overall".into(),
                    group: None,
                    deps: (0..groups.len()).collect(),
                }),
                Where::Tier(tier) => {
                    let deps: Vec<usize> = (0..groups.len())
                        .filter(|&g| groups[g].tier == Some(*tier))
                        .flat_map(&own)
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    if !deps.is_empty() {
                        instances.push(Instance {
                            target: ti,
                            scope: tier.name().into(),
                            group: None,
                            deps,
                        });
                    }
                }
                Where::Unit(name) => {
                    for g in (0..groups.len()).filter(|&g| &groups[g].name == name) {
                        instances.push(Instance {
                            target: ti,
                            scope: label(g),
                            group: Some(g),
                            deps: own(g),
                        });
                    }
                    if instances.len() == before {
                        let close = crate::field::closest(name, names.iter().copied());
                        errors.push(format!(
                            "target `{}`: `{name}` is neither overall, a tier, each-unit, each-<tier> nor a unit of the scenario{}",
                            t.text,
                            close.map_or(String::new(), |c| format!(" (did you mean `{c}`?)"))
                        ));
                        continue;
                    }
                }
                Where::Each(tier) => {
                    for g in (0..groups.len())
                        .filter(|&g| tier.is_none_or(|t| groups[g].tier == Some(t)))
                    {
                        instances.push(Instance {
                            target: ti,
                            scope: label(g),
                            group: Some(g),
                            deps: own(g),
                        });
                    }
                    if instances.len() == before {
                        errors.push(format!(
                            "target `{}`: the scenario has no unit in that tier",
                            t.text
                        ));
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            base,
            discipline,
            seed,
            at,
            space: Space {
                groups,
                vars,
                instances,
                targets,
            },
        })
    }

    /// The scenario with staffing `x`.
    pub fn scenario_with(&self, x: &[u32]) -> Scenario {
        let mut sc = self.base.clone();
        for (v, &n) in self.space.vars.iter().zip(x) {
            let (pi, u) = self.at[v.group];
            sc.provinces[pi].units[u].servers[v.pool] = n;
        }
        sc
    }

    /// The scenario as given.
    pub fn base(&self) -> &Scenario {
        &self.base
    }
}

pub(crate) fn scope_value(sc: &Scenario, s: &Scope, metric: &str, tier: Option<Tier>) -> f64 {
    let per_year = 365.0 / f64::from(sc.horizon_days);
    if let Some((_, v)) = s.metrics(per_year).into_iter().find(|(n, _)| *n == metric) {
        return v;
    }
    s.index_metrics(offered_online(sc, tier), &sc.index)
        .into_iter()
        .find(|(n, _)| *n == metric)
        .map_or(f64::NAN, |(_, v)| v)
}

impl Problem for ScenarioProblem {
    fn pools(&self) -> &[&'static str] {
        &POOLS
    }
    fn space(&self) -> &Space {
        &self.space
    }
    fn relevant(&self, metric: &str, pool: usize) -> bool {
        if counter_metric(metric) {
            pool == 0
        } else if let Some(p) = metric.strip_prefix("utilisation_") {
            POOLS[pool] == p
        } else {
            true
        }
    }
    fn unit_of_work(&self) -> &'static str {
        "province-years"
    }
    fn evaluate(&self, x: &[u32], reps: Range<u64>) -> Result<Vec<Sample>, String> {
        let sc = self.scenario_with(x);
        let prepared = prepare(&sc, self.discipline).map_err(|e| e.to_string())?;
        let reps: Vec<u64> = reps.collect();
        reps.par_iter()
            .map(|&r| {
                let runs = prepared
                    .replication(self.seed, r)
                    .map_err(|e| e.to_string())?;
                // `scopes` lists the units in the groups' order (provinces, then their units).
                let s = scopes(&sc, &runs);
                let values = self
                    .space
                    .instances
                    .iter()
                    .map(|ins| {
                        let metric = self.space.targets[ins.target].metric.as_str();
                        match (&self.space.targets[ins.target].scope, ins.group) {
                            (_, Some(g)) => s.units.get(g).map_or(f64::NAN, |u| {
                                scope_value(&sc, &u.3, metric, self.space.groups[g].tier)
                            }),
                            (Where::Tier(t), None) => s
                                .tiers
                                .get(t)
                                .map_or(f64::NAN, |x| scope_value(&sc, x, metric, Some(*t))),
                            _ => scope_value(&sc, &s.overall, metric, None),
                        }
                    })
                    .collect();
                let busy = self
                    .space
                    .vars
                    .iter()
                    .map(|v| {
                        let (pi, u) = self.at[v.group];
                        let r = &runs[pi];
                        if r.capacity[u][v.pool] > 0.0 {
                            r.busy[u][v.pool] / r.capacity[u][v.pool]
                        } else {
                            0.0
                        }
                    })
                    .collect();
                Ok(Sample {
                    values,
                    busy,
                    events: runs.iter().map(|r| r.events).sum(),
                })
            })
            .collect()
    }
}

// ----------------------------------------------------------------- network

/// The figures a network target can name, per node (and `w` overall: the
/// network sojourn).
pub const NETWORK_METRICS: [&str; 6] = ["wq", "p_wait", "w", "lq", "l", "utilisation"];

/// Sizing the stations of a network file.
pub struct NetworkProblem {
    space: Space,
    path: std::path::PathBuf,
    table: toml::Table,
    file: NetworkFile,
    seed: u64,
    /// Node index of each group.
    nodes: Vec<usize>,
}

impl NetworkProblem {
    /// Checks the targets and the varied stations against the network file
    /// (`vary`: node names or `node[NAME].servers`; every station with a
    /// fixed server count when empty).
    pub fn new(
        path: &std::path::Path,
        text: &str,
        seed: Option<u64>,
        targets: Vec<Target>,
        vary: &[String],
        max_staff: Option<u32>,
    ) -> Result<Self, Vec<String>> {
        let table: toml::Table = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
        // Read with every fixed-server station made stable, so that a
        // network overloaded as given can still be sized.
        let mut roomy = table.clone();
        if let Some(toml::Value::Array(nodes)) = roomy.get_mut("node") {
            for n in nodes.iter_mut() {
                if let Some(t) = n.as_table_mut()
                    && t.contains_key("servers")
                {
                    t.insert("servers".into(), toml::Value::Integer(100_000));
                }
            }
        }
        let roomy = toml::to_string(&roomy).map_err(|e| vec![e.to_string()])?;
        let file =
            crate::scenario::network::parse(path, &roomy).map_err(|e| vec![e.to_string()])?;
        let mut errors = Vec::new();
        let net = &file.network;
        let raw_nodes = table.get("node").and_then(|n| n.as_array());
        let fixed = |name: &str| {
            raw_nodes.is_some_and(|a| {
                a.iter().any(|n| {
                    n.get("name").and_then(|x| x.as_str()) == Some(name)
                        && n.get("servers").is_some()
                        && n.get("schedule").is_none()
                })
            })
        };
        let mut groups = Vec::new();
        let mut nodes = Vec::new();
        for (i, n) in net.nodes().iter().enumerate() {
            if fixed(&n.name) {
                groups.push(Group {
                    province: String::new(),
                    name: n.name.clone(),
                    tier: None,
                });
                nodes.push(i);
            }
        }
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        let mut chosen: Vec<usize> = Vec::new();
        for v in vary {
            let name = v
                .strip_prefix("node[")
                .and_then(|s| s.strip_suffix("].servers"))
                .unwrap_or(v);
            match names.iter().position(|n| *n == name) {
                Some(g) => chosen.push(g),
                None => errors.push(format!(
                    "--vary `{v}`: no station with a fixed `servers` of that name; the stations are: {}",
                    names.join(", ")
                )),
            }
        }
        if vary.is_empty() {
            chosen = (0..groups.len()).collect();
        }
        let vars: Vec<Var> = chosen
            .iter()
            .map(|&g| {
                let i = nodes[g];
                let current = raw_nodes
                    .and_then(|a| {
                        a.iter().find(|n| {
                            n.get("name").and_then(|x| x.as_str()) == Some(groups[g].name.as_str())
                        })
                    })
                    .and_then(|n| n.get("servers"))
                    .and_then(|s| s.as_integer())
                    .map_or(1, |s| s.clamp(1, i64::from(u32::MAX)) as u32);
                let offered = net.offered_load(i);
                let start = square_root_start(offered);
                Var {
                    group: g,
                    pool: 0,
                    current,
                    offered,
                    start: start.min(cap_for(current, start, max_staff)),
                    cap: cap_for(current, start, max_staff),
                }
            })
            .collect();
        if vars.is_empty() && errors.is_empty() {
            errors.push("nothing to vary: the file has no station with a fixed `servers`".into());
        }
        let mut instances = Vec::new();
        for (ti, t) in targets.iter().enumerate() {
            if !NETWORK_METRICS.contains(&t.metric.as_str()) {
                errors.push(format!(
                    "target `{}`: unknown network metric `{}`; expected one of {}",
                    t.text,
                    t.metric,
                    NETWORK_METRICS.join(", ")
                ));
                continue;
            }
            match &t.scope {
                Where::Overall if t.metric == "w" => instances.push(Instance {
                    target: ti,
                    scope: "network".into(),
                    group: None,
                    deps: (0..groups.len()).collect(),
                }),
                Where::Overall | Where::Each(None) => {
                    for (g, gr) in groups.iter().enumerate() {
                        instances.push(Instance {
                            target: ti,
                            scope: gr.name.clone(),
                            group: Some(g),
                            deps: vec![g],
                        });
                    }
                }
                Where::Unit(name) => match names.iter().position(|n| n == name) {
                    Some(g) => instances.push(Instance {
                        target: ti,
                        scope: name.clone(),
                        group: Some(g),
                        deps: vec![g],
                    }),
                    None => errors.push(format!(
                        "target `{}`: no station `{name}`; the stations are: {}",
                        t.text,
                        names.join(", ")
                    )),
                },
                Where::Tier(_) | Where::Each(Some(_)) => errors.push(format!(
                    "target `{}`: a network has no tiers; use a node name, each-node or overall",
                    t.text
                )),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            path: path.to_path_buf(),
            seed: seed.unwrap_or(file.seed),
            table,
            file,
            nodes,
            space: Space {
                groups,
                vars,
                instances,
                targets,
            },
        })
    }

    /// The network file's text with staffing `x`.
    pub fn text_with(&self, x: &[u32]) -> String {
        let mut t = self.table.clone();
        if let Some(toml::Value::Array(nodes)) = t.get_mut("node") {
            for (v, &n) in self.space.vars.iter().zip(x) {
                let name = &self.space.groups[v.group].name;
                for node in nodes.iter_mut() {
                    if node.get("name").and_then(|s| s.as_str()) == Some(name.as_str())
                        && let Some(tab) = node.as_table_mut()
                    {
                        tab.insert("servers".into(), toml::Value::Integer(i64::from(n)));
                    }
                }
            }
        }
        toml::to_string(&t).unwrap_or_default()
    }

    /// The master seed used.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The network file as read.
    pub fn file(&self) -> &NetworkFile {
        &self.file
    }
}

impl Problem for NetworkProblem {
    fn pools(&self) -> &[&'static str] {
        &["servers"]
    }
    fn space(&self) -> &Space {
        &self.space
    }
    fn relevant(&self, _metric: &str, _pool: usize) -> bool {
        true
    }
    fn unit_of_work(&self) -> &'static str {
        "network runs"
    }
    fn evaluate(&self, x: &[u32], reps: Range<u64>) -> Result<Vec<Sample>, String> {
        let reps: Vec<u64> = reps.collect();
        let overloaded = self
            .space
            .vars
            .iter()
            .zip(x)
            .any(|(v, &c)| v.offered >= f64::from(c));
        if overloaded {
            // A station at or past its capacity has no steady state: every
            // target over it is missed.
            return Ok(reps
                .iter()
                .map(|_| Sample {
                    values: vec![f64::INFINITY; self.space.instances.len()],
                    busy: vec![1.0; self.space.vars.len()],
                    events: 0,
                })
                .collect());
        }
        let f = crate::scenario::network::parse(&self.path, &self.text_with(x))
            .map_err(|e| e.to_string())?;
        reps.par_iter()
            .map(|&r| {
                let res = crate::engine::run(&f.network, &f.run, Streams::new(self.seed, r))
                    .map_err(|e| e.to_string())?;
                let values = self
                    .space
                    .instances
                    .iter()
                    .map(|ins| {
                        let metric = self.space.targets[ins.target].metric.as_str();
                        let Some(g) = ins.group else {
                            return res.network_sojourn.mean();
                        };
                        let n = &res.nodes[self.nodes[g]];
                        match metric {
                            "wq" => n.wait.mean(),
                            "p_wait" => {
                                if n.wait.count() == 0 {
                                    f64::NAN
                                } else {
                                    n.waited as f64 / n.wait.count() as f64
                                }
                            }
                            "w" => n.sojourn.mean(),
                            "lq" => n.mean_queue,
                            "l" => n.mean_in_node,
                            _ => n.utilisation,
                        }
                    })
                    .collect();
                let busy = self
                    .space
                    .vars
                    .iter()
                    .map(|v| res.nodes[self.nodes[v.group]].utilisation)
                    .collect();
                Ok(Sample {
                    values,
                    busy,
                    events: res.events,
                })
            })
            .collect()
    }
}

// ------------------------------------------------------------------ search

/// How the search runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// One-sided confidence of every target (e.g. 0.95).
    pub confidence: f64,
    /// Replications of each search evaluation (≥ 2).
    pub replications: u64,
    /// Replications of the confirmation (≥ `replications`).
    pub confirm_replications: u64,
    /// Cost of one person per pool kind (the objective is the least total cost).
    pub cost: Vec<f64>,
    /// The most evaluations before giving up.
    pub max_evaluations: usize,
}

/// One instance's estimate.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// Replications with an observation.
    pub n: u64,
    /// Mean over replications.
    pub mean: f64,
    /// Two-sided interval at the confidence level, low end.
    pub ci_low: f64,
    /// Two-sided interval at the confidence level, high end.
    pub ci_high: f64,
    /// The one-sided bound compared with the target's value.
    pub one_sided: f64,
    /// Whether the target holds (no observation counts as held).
    pub met: bool,
}

impl Check {
    /// Whether the mean alone (without the confidence bound) meets the target.
    pub fn met_by_mean(&self, t: &Target) -> bool {
        match t.cmp {
            Cmp::AtMost => self.mean <= t.bound,
            Cmp::AtLeast => self.mean >= t.bound,
        }
    }
}

/// The estimate of one scope from its per-replication values, and whether
/// the target holds at `confidence` (one-sided Student-t bound).
pub fn check_values(values: &[f64], cmp: Cmp, bound: f64, confidence: f64) -> Check {
    let v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    let n = v.len() as u64;
    if v.iter().any(|x| x.is_infinite()) {
        // No steady state (an overloaded station): the metric is unbounded.
        return Check {
            n,
            mean: f64::INFINITY,
            ci_low: f64::INFINITY,
            ci_high: f64::INFINITY,
            one_sided: f64::INFINITY,
            met: cmp == Cmp::AtLeast,
        };
    }
    if n == 0 {
        return Check {
            n,
            mean: f64::NAN,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
            one_sided: f64::NAN,
            met: true,
        };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    let (one, two) = if n >= 2 {
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let se = (var / n as f64).sqrt();
        let df = (n - 1) as f64;
        (
            crate::stats::t_quantile(2.0 * confidence - 1.0, df) * se,
            crate::stats::t_quantile(confidence, df) * se,
        )
    } else {
        (f64::INFINITY, f64::INFINITY)
    };
    let one_sided = match cmp {
        Cmp::AtMost => mean + one,
        Cmp::AtLeast => mean - one,
    };
    Check {
        n,
        mean,
        ci_low: mean - two,
        ci_high: mean + two,
        one_sided,
        met: match cmp {
            Cmp::AtMost => one_sided <= bound,
            Cmp::AtLeast => one_sided >= bound,
        },
    }
}

/// The evaluations of one staffing.
#[derive(Clone, Debug)]
struct Stats {
    checks: Vec<Check>,
    busy: Vec<f64>,
}

impl Stats {
    fn failing(&self) -> Vec<usize> {
        (0..self.checks.len())
            .filter(|&i| !self.checks[i].met)
            .collect()
    }
}

/// One step of the search, for the log.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// `up`, `down`, `bisect` or `confirm`.
    pub phase: String,
    /// Replications of the evaluation.
    pub replications: u64,
    /// Total staff of the varied pools evaluated.
    pub staff: u64,
    /// Targets' scopes missed at that staffing.
    pub missed: usize,
    /// What the step concluded.
    pub what: String,
}

/// Why a person cannot be removed: the target that breaks without them.
#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    /// The target.
    pub target: String,
    /// Its scope.
    pub scope: String,
    /// The metric's mean without the person.
    pub mean: f64,
    /// Its one-sided bound without the person.
    pub one_sided: f64,
    /// Other removals made at the same time that could affect this scope
    /// (0: the person's removal alone).
    pub with_others: usize,
}

/// The outcome of sizing.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// Whether every target holds at the recommendation.
    pub feasible: bool,
    /// The recommended staff per variable (the last evaluated when not feasible).
    pub staff: Vec<u32>,
    /// Each instance at the recommendation (confirmation replications).
    pub checks: Vec<Check>,
    /// Each pool's utilisation at the recommendation.
    pub utilisation: Vec<f64>,
    /// Per variable: why one fewer breaks a target (`None` at 1 person, or
    /// when not feasible).
    pub evidence: Vec<Option<Evidence>>,
    /// Missed targets that no pool within the cap can help (infeasible).
    pub stuck: Vec<usize>,
    /// For each of `stuck`: true when staff stopped moving the metric (the
    /// last adds changed it by less than 1% of the target's value each),
    /// false when every pool that could help is at its cap.
    pub flat: Vec<bool>,
    /// The search log.
    pub log: Vec<Step>,
    /// Evaluations (distinct staffings simulated).
    pub evaluations: usize,
    /// Replications simulated in all.
    pub replications: u64,
    /// Engine events simulated in all.
    pub events: u64,
    /// Replications of the confirmation.
    pub confirm_replications: u64,
}

struct Evaluator<'a> {
    p: &'a dyn Problem,
    cache: HashMap<Vec<u32>, Vec<Sample>>,
    evaluations: usize,
    replications: u64,
    events: u64,
    confidence: f64,
    max_evaluations: usize,
    progress: &'a indicatif::ProgressBar,
}

impl Evaluator<'_> {
    fn stats(&mut self, x: &[u32], n: u64) -> Result<Stats, String> {
        let have = self.cache.get(x).map_or(0, |s| s.len() as u64);
        if have < n {
            if have == 0 {
                if self.evaluations >= self.max_evaluations {
                    return Err(format!(
                        "stopped after {} evaluations without an answer; hint: raise --max-evaluations or loosen the targets",
                        self.evaluations
                    ));
                }
                self.evaluations += 1;
            }
            let more = self.p.evaluate(x, have..n)?;
            self.replications += n - have;
            self.events += more.iter().map(|s| s.events).sum::<u64>();
            self.cache.entry(x.to_vec()).or_default().extend(more);
            self.progress.inc(1);
        }
        let samples = &self.cache[x][..n as usize];
        let ins = self.p.instances();
        let targets = self.p.targets();
        let checks = ins
            .iter()
            .enumerate()
            .map(|(i, inst)| {
                let t = &targets[inst.target];
                let v: Vec<f64> = samples.iter().map(|s| s.values[i]).collect();
                check_values(&v, t.cmp, t.bound, self.confidence)
            })
            .collect();
        let nv = self.p.vars().len();
        let busy = (0..nv)
            .map(|v| {
                let b: Vec<f64> = samples
                    .iter()
                    .map(|s| s.busy[v])
                    .filter(|x| x.is_finite())
                    .collect();
                if b.is_empty() {
                    0.0
                } else {
                    b.iter().sum::<f64>() / b.len() as f64
                }
            })
            .collect();
        Ok(Stats { checks, busy })
    }
}

/// Whether a missed target's metric has stopped moving with staff: over the
/// last four additions it improved by less than 1% of the target's value
/// per addition.
fn no_longer_moves(trail: &[f64], t: &Target) -> bool {
    const STEPS: usize = 4;
    if trail.len() <= STEPS {
        return false;
    }
    let (then, now) = (trail[trail.len() - 1 - STEPS], trail[trail.len() - 1]);
    let gain = match t.cmp {
        Cmp::AtMost => then - now,
        Cmp::AtLeast => now - then,
    };
    gain < 0.01 * t.bound.abs().max(f64::MIN_POSITIVE) * STEPS as f64
}

fn total(x: &[u32]) -> u64 {
    x.iter().map(|&v| u64::from(v)).sum()
}

/// Sizes the problem: the fewest staff (or least cost) meeting every target.
pub fn size(
    p: &dyn Problem,
    o: &Options,
    progress: &indicatif::ProgressBar,
) -> Result<Outcome, String> {
    size_with(p, o, progress, &|_| {})
}

/// [`size`], handing each step of the search to `on_step` as it is taken.
pub fn size_with(
    p: &dyn Problem,
    o: &Options,
    progress: &indicatif::ProgressBar,
    on_step: &dyn Fn(&Step),
) -> Result<Outcome, String> {
    let vars = p.vars();
    let ins = p.instances();
    let targets = p.targets();
    let cost = |v: usize| o.cost.get(vars[v].pool).copied().unwrap_or(1.0);
    let mut ev = Evaluator {
        p,
        cache: HashMap::new(),
        evaluations: 0,
        replications: 0,
        events: 0,
        confidence: o.confidence,
        max_evaluations: o.max_evaluations,
        progress,
    };
    let mut x: Vec<u32> = vars.iter().map(|v| v.start.clamp(1, v.cap)).collect();
    let mut log = Vec::new();
    let push = |log: &mut Vec<Step>, phase: &str, replications: u64, staff, missed, what| {
        let s = Step {
            phase: phase.into(),
            replications,
            staff,
            missed,
            what,
        };
        on_step(&s);
        log.push(s);
    };
    let mut reps = o.replications;
    let mut evidence: Vec<Option<Evidence>> = vec![None; vars.len()];
    // Variables of each (tier, pool) class, in a fixed order.
    let mut classes: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (i, v) in vars.iter().enumerate() {
        let tier = p.groups()[v.group].tier.map_or(0, Tier::rank);
        classes.entry((tier, v.pool)).or_default().push(i);
    }
    let has_aggregate = ins.iter().any(|i| i.group.is_none());
    let unit_instances_of = |g: usize| -> Vec<usize> {
        (0..ins.len())
            .filter(|&i| ins[i].group.is_some() && ins[i].deps.contains(&g))
            .collect()
    };
    let per_group: Vec<Vec<usize>> = (0..p.groups().len()).map(unit_instances_of).collect();
    // The variables whose staff can change the verdict on removing one from `v`.
    let near: Vec<Vec<usize>> = (0..vars.len())
        .map(|v| {
            let groups: std::collections::BTreeSet<usize> = per_group[vars[v].group]
                .iter()
                .flat_map(|&i| ins[i].deps.iter().copied())
                .chain(std::iter::once(vars[v].group))
                .collect();
            (0..vars.len())
                .filter(|&w| groups.contains(&vars[w].group))
                .collect()
        })
        .collect();
    let snapshot = |x: &[u32], v: usize| -> Vec<u32> { near[v].iter().map(|&w| x[w]).collect() };
    let mut verdict: Vec<Option<(Vec<u32>, u64)>> = vec![None; vars.len()];
    let mut skip_down = false;
    // Per instance, its mean at each up step where it was missed and got
    // more staff: a target whose metric has stopped moving is not helped
    // by staff (fixed delays, deadlines shorter than the work).
    let mut trail: Vec<Vec<f64>> = vec![Vec::new(); ins.len()];
    let mut flat: Vec<usize> = Vec::new();
    for _round in 0..6 {
        // Up, to a fixed point.
        loop {
            progress.set_message(format!("up: {} staff", total(&x)));
            let st = ev.stats(&x, reps)?;
            let failing = st.failing();
            for (t, c) in trail.iter_mut().zip(&st.checks) {
                if c.met {
                    t.clear();
                } else {
                    t.push(c.mean);
                }
            }
            if failing.is_empty() {
                push(
                    &mut log,
                    "up",
                    reps,
                    total(&x),
                    0,
                    "every target met".into(),
                );
                break;
            }
            let mut adds: Vec<usize> = Vec::new();
            let mut causes: Vec<usize> = Vec::new();
            let mut stuck = Vec::new();
            for &i in &failing {
                let metric = &targets[ins[i].target].metric;
                let mut cands: Vec<usize> = (0..vars.len())
                    .filter(|&v| {
                        ins[i].deps.contains(&vars[v].group)
                            && p.relevant(metric, vars[v].pool)
                            && x[v] < vars[v].cap
                    })
                    .collect();
                if cands.is_empty() {
                    stuck.push(i);
                    continue;
                }
                if no_longer_moves(&trail[i], &targets[ins[i].target]) {
                    if !flat.contains(&i) {
                        flat.push(i);
                    }
                    stuck.push(i);
                    continue;
                }
                // Busiest first; then the cheaper; then the first.
                cands.sort_by(|&a, &b| {
                    st.busy[b]
                        .total_cmp(&st.busy[a])
                        .then(cost(a).total_cmp(&cost(b)))
                        .then(a.cmp(&b))
                });
                let k = if ins[i].group.is_some() {
                    1
                } else {
                    let groups: std::collections::BTreeSet<usize> =
                        cands.iter().map(|&v| vars[v].group).collect();
                    groups.len().div_ceil(10).max(1)
                };
                for &v in cands.iter().take(k) {
                    if !adds.contains(&v) {
                        adds.push(v);
                        causes.push(i);
                    }
                }
            }
            push(
                &mut log,
                "up",
                reps,
                total(&x),
                failing.len(),
                format!(
                    "{} missed; {} pools get one more",
                    failing.len(),
                    adds.len()
                ),
            );
            // A flat metric already on the right side of the value misses only
            // for want of precision: more replications, not more staff.
            let close = stuck
                .iter()
                .any(|&i| flat.contains(&i) && st.checks[i].met_by_mean(&targets[ins[i].target]));
            if close && reps < o.confirm_replications {
                reps = o.confirm_replications;
                for t in &mut trail {
                    t.clear();
                }
                flat.clear();
                push(
                    &mut log,
                    "up",
                    reps,
                    total(&x),
                    failing.len(),
                    format!(
                        "a missed target's mean meets its value: {reps} replications from now on"
                    ),
                );
                continue;
            }
            if adds.is_empty() {
                return Ok(Outcome {
                    feasible: false,
                    staff: x,
                    checks: st.checks,
                    utilisation: st.busy,
                    evidence: vec![None; vars.len()],
                    flat: stuck.iter().map(|i| flat.contains(i)).collect(),
                    stuck,
                    log,
                    evaluations: ev.evaluations,
                    replications: ev.replications,
                    events: ev.events,
                    confirm_replications: reps,
                });
            }
            for (&v, &i) in adds.iter().zip(&causes) {
                x[v] += 1;
                // Without this person the target was missed here.
                evidence[v] = Some(Evidence {
                    target: targets[ins[i].target].text.clone(),
                    scope: ins[i].scope.clone(),
                    mean: st.checks[i].mean,
                    one_sided: st.checks[i].one_sided,
                    with_others: adds.len() - 1,
                });
                verdict[v] = None;
            }
        }
        if !skip_down {
            // Down, in rounds, until no removal holds.
            loop {
                let mut changed = false;
                for cand in classes.values() {
                    for &v in cand {
                        if x[v] == 1 {
                            evidence[v] = None;
                        }
                    }
                    // A removal already refused with the same staff around it
                    // (units are separable) is refused again without a run.
                    let cand: Vec<usize> = cand
                        .iter()
                        .copied()
                        .filter(|&v| {
                            x[v] > 1
                                && (has_aggregate
                                    || !verdict[v].as_ref().is_some_and(|(snap, r)| {
                                        *r == reps && *snap == snapshot(&x, v)
                                    }))
                        })
                        .collect();
                    if cand.is_empty() {
                        continue;
                    }
                    let mut y = x.clone();
                    for &v in &cand {
                        y[v] -= 1;
                    }
                    progress.set_message(format!("down: {} staff", total(&x)));
                    let sy = ev.stats(&y, reps)?;
                    let mut kept = Vec::new();
                    for &v in &cand {
                        let broken = per_group[vars[v].group]
                            .iter()
                            .copied()
                            .find(|&i| !sy.checks[i].met);
                        match broken {
                            Some(i) => {
                                evidence[v] = Some(Evidence {
                                    target: targets[ins[i].target].text.clone(),
                                    scope: ins[i].scope.clone(),
                                    mean: sy.checks[i].mean,
                                    one_sided: sy.checks[i].one_sided,
                                    with_others: 0,
                                });
                                verdict[v] = Some((snapshot(&x, v), reps));
                            }
                            None => kept.push(v),
                        }
                    }
                    let what = format!(
                        "{} of {} removals hold in their own units",
                        kept.len(),
                        cand.len()
                    );
                    push(&mut log, "down", reps, total(&y), sy.failing().len(), what);
                    if kept.is_empty() {
                        continue;
                    }
                    if !has_aggregate {
                        for &v in &kept {
                            x[v] -= 1;
                            evidence[v] = None;
                            verdict[v] = None;
                        }
                        changed = true;
                        continue;
                    }
                    // Targets over several units: the largest prefix of the kept
                    // removals (most expensive, least busy first) that meets all.
                    kept.sort_by(|&a, &b| {
                        cost(b)
                            .total_cmp(&cost(a))
                            .then(sy.busy[a].total_cmp(&sy.busy[b]))
                            .then(a.cmp(&b))
                    });
                    let minus = |m: usize| {
                        let mut z = x.clone();
                        for &v in &kept[..m] {
                            z[v] -= 1;
                        }
                        z
                    };
                    let mut lo = 0usize;
                    let mut hi_stats: Option<Stats> = None;
                    // Try all first: the common case.
                    let all = ev.stats(&minus(kept.len()), reps)?;
                    if all.failing().is_empty() {
                        lo = kept.len();
                    } else {
                        let mut hi = kept.len();
                        hi_stats = Some(all);
                        while hi - lo > 1 {
                            let mid = (lo + hi) / 2;
                            let s = ev.stats(&minus(mid), reps)?;
                            let ok = s.failing().is_empty();
                            push(
                                &mut log,
                                "bisect",
                                reps,
                                total(&minus(mid)),
                                s.failing().len(),
                                format!(
                                    "{mid} of {} removals: {}",
                                    kept.len(),
                                    if ok { "hold" } else { "break a target" }
                                ),
                            );
                            if ok {
                                lo = mid;
                            } else {
                                hi = mid;
                                hi_stats = Some(s);
                            }
                        }
                    }
                    if let Some(s) = &hi_stats
                        && let Some(i) = s.failing().first().copied()
                    {
                        for &v in &kept[lo..] {
                            evidence[v] = Some(Evidence {
                                target: targets[ins[i].target].text.clone(),
                                scope: ins[i].scope.clone(),
                                mean: s.checks[i].mean,
                                one_sided: s.checks[i].one_sided,
                                with_others: lo,
                            });
                        }
                    }
                    if lo > 0 {
                        for &v in &kept[..lo] {
                            evidence[v] = None;
                        }
                        x = minus(lo);
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
        }
        // Confirm with more replications.
        progress.set_message(format!("confirm: {} staff", total(&x)));
        let sc = ev.stats(&x, o.confirm_replications.max(reps))?;
        let missed = sc.failing().len();
        let what = if missed == 0 {
            "every target holds".into()
        } else {
            format!("{missed} missed: the search goes on with these replications")
        };
        push(
            &mut log,
            "confirm",
            o.confirm_replications.max(reps),
            total(&x),
            missed,
            what,
        );
        if missed == 0 {
            return Ok(Outcome {
                feasible: true,
                staff: x,
                checks: sc.checks,
                utilisation: sc.busy,
                evidence,
                stuck: Vec::new(),
                flat: Vec::new(),
                log,
                evaluations: ev.evaluations,
                replications: ev.replications,
                events: ev.events,
                confirm_replications: o.confirm_replications.max(reps),
            });
        }
        // Only the missed scopes get more staff, at these replications; the
        // removals refused so far stay refused (more replications only
        // widen what a removal breaks).
        reps = o.confirm_replications.max(reps);
        skip_down = true;
    }
    Err("no fixed point after 6 rounds of search and confirmation; hint: raise --replications so that the search and the confirmation agree".into())
}
