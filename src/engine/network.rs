//! A generic open queueing network: classes, sources, service and delay stations, probabilistic routing; validated and ready to run.

use serde::{Deserialize, Serialize};

use super::arrival::{ArrivalGen, Arrivals};
use super::dist::{Dist, DistError, Sampler};

/// Index of a node in its network.
pub type NodeId = usize;
/// Index of a customer class in its network.
pub type ClassId = usize;

/// The order in which waiting customers are served at a station.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discipline {
    /// First come, first served.
    #[default]
    Fifo,
    /// Lowest class priority number first, FIFO within a priority (non-preemptive).
    Priority,
    /// Earliest due time first, FIFO among equal due times (non-preemptive).
    Edf,
}

/// One piece of a cyclic capacity schedule.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacitySegment {
    /// Length of the piece in time units (> 0).
    pub duration: f64,
    /// Servers on duty during the piece.
    pub servers: u32,
}

/// What a node does with a customer.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// A queue in front of `servers` identical servers.
    Station {
        /// Servers (used when there is no schedule).
        servers: u32,
        /// Queue discipline.
        discipline: Discipline,
        /// Optional cyclic capacity schedule starting at time 0; when capacity
        /// drops, customers in service finish (non-preemptive) and no new
        /// service starts until a server is free within the new capacity.
        schedule: Option<Vec<CapacitySegment>>,
    },
    /// Infinitely many servers: every customer is delayed by its service time, with no queue.
    Delay,
}

/// A node: a station or a delay, with its service-time distribution per class.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Unique name.
    pub name: String,
    /// Station or delay.
    pub kind: NodeKind,
    /// Service (or delay) time per class, indexed by [`ClassId`].
    pub service: Vec<Dist>,
}

/// A customer class.
#[derive(Clone, Debug, PartialEq)]
pub struct Class {
    /// Unique name.
    pub name: String,
    /// Priority for [`Discipline::Priority`]: lower is served first.
    pub priority: i32,
    /// Optional due time after arrival, for [`Discipline::Edf`]; without it the due time is infinite.
    pub due: Option<Dist>,
}

/// A source of customers from outside the network.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// Unique name.
    pub name: String,
    /// Class of the customers it creates.
    pub class: ClassId,
    /// Node they enter.
    pub node: NodeId,
    /// Arrival process.
    pub arrivals: Arrivals,
}

/// Where a customer goes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// To this node.
    Node(NodeId),
    /// Out of the network (a sink).
    Exit,
}

/// One routing branch: go to `to` with probability `p`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Branch {
    /// Destination.
    pub to: Target,
    /// Probability in [0, 1].
    pub p: f64,
}

/// Why a network cannot be run. The scenario layer adds the file and field path.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum NetworkError {
    /// The network has no source or no node.
    #[error("the network needs at least one node and one source")]
    Empty,
    /// A distribution's parameters are invalid.
    #[error("{place}: {error}")]
    Dist {
        /// Which distribution (e.g. `node desk, class default, service`).
        place: String,
        /// What is wrong.
        error: DistError,
    },
    /// A station can never serve anyone.
    #[error(
        "node {node}: a station needs at least one server (or a schedule with servers on duty)"
    )]
    NoServers {
        /// Node name.
        node: String,
    },
    /// A schedule piece is invalid.
    #[error("node {node}: schedule[{index}].duration must be a finite number > 0 (got {duration})")]
    Schedule {
        /// Node name.
        node: String,
        /// Piece index.
        index: usize,
        /// The bad duration.
        duration: f64,
    },
    /// A routing probability outside [0, 1] or a set of branches summing past 1.
    #[error("node {node}, class {class}: {message}")]
    Routing {
        /// Node name.
        node: String,
        /// Class name.
        class: String,
        /// What is wrong.
        message: String,
    },
    /// An index out of range (a programming error in a network builder).
    #[error("{what} index {index} is out of range")]
    Index {
        /// What kind of index.
        what: &'static str,
        /// The index.
        index: usize,
    },
    /// Customers of a class can circulate forever.
    #[error(
        "class {class}: the routing has a loop that customers never leave (the traffic equations have no solution); give the loop an exit"
    )]
    NeverExits {
        /// Class name.
        class: String,
    },
    /// A station's offered load is at least its capacity: its queue would grow without bound.
    #[error(
        "node {node}: offered load {load:.3} of capacity (ρ = {rho:.3} ≥ 1): the queue would grow without bound; add servers, shorten service or lower arrival rates"
    )]
    Unstable {
        /// Node name.
        node: String,
        /// Offered load in busy servers.
        load: f64,
        /// Utilisation ρ = load / mean capacity.
        rho: f64,
    },
}

/// Per (node, class) routing table, compiled for fast sampling.
#[derive(Clone, Debug)]
pub(crate) enum RouteTable {
    Exit,
    Always(Target),
    Random { cum: Vec<f64>, targets: Vec<Target> },
}

/// A validated network, with samplers built and ready to run.
#[derive(Clone, Debug)]
pub struct Network {
    classes: Vec<Class>,
    nodes: Vec<Node>,
    sources: Vec<Source>,
    routes: Vec<Vec<Vec<Branch>>>,
    /// Service samplers, flattened: index `node * n_classes + class`.
    pub(crate) service: Vec<Sampler>,
    pub(crate) due: Vec<Option<Sampler>>,
    pub(crate) arrivals: Vec<ArrivalGen>,
    /// Routing tables, flattened: index `node * n_classes + class`.
    pub(crate) tables: Vec<RouteTable>,
    pub(crate) n_classes: usize,
    lambda: Vec<Vec<f64>>,
}

impl Network {
    /// Validates and compiles a network. `routes[node][class]` lists the
    /// branches out of `node` for `class`; the probability left over goes to
    /// the exit. Every error is reported, not just the first. An unstable
    /// network (some station with ρ ≥ 1) is rejected here, before it runs.
    pub fn new(
        classes: Vec<Class>,
        nodes: Vec<Node>,
        sources: Vec<Source>,
        routes: Vec<Vec<Vec<Branch>>>,
    ) -> Result<Self, Vec<NetworkError>> {
        Self::new_checked(classes, nodes, sources, routes, true)
    }

    /// As [`Network::new`]; with `check_stability` false an overloaded
    /// network is accepted (for models that route with their own
    /// [`crate::engine::Router`], where the probability tables do not describe
    /// the load, and that report overload themselves).
    pub fn new_checked(
        classes: Vec<Class>,
        nodes: Vec<Node>,
        sources: Vec<Source>,
        routes: Vec<Vec<Vec<Branch>>>,
        check_stability: bool,
    ) -> Result<Self, Vec<NetworkError>> {
        let mut errors = Vec::new();
        if nodes.is_empty() || sources.is_empty() || classes.is_empty() {
            return Err(vec![NetworkError::Empty]);
        }
        let (nn, nc) = (nodes.len(), classes.len());
        let dist_err = |place: String, es: Vec<DistError>, errors: &mut Vec<NetworkError>| {
            for error in es {
                errors.push(NetworkError::Dist {
                    place: place.clone(),
                    error,
                });
            }
        };

        let mut service = Vec::with_capacity(nn);
        for node in &nodes {
            if node.service.len() != nc {
                errors.push(NetworkError::Index {
                    what: "service class",
                    index: node.service.len(),
                });
                continue;
            }
            let mut per_class = Vec::with_capacity(nc);
            for (k, d) in node.service.iter().enumerate() {
                match d.sampler() {
                    Ok(s) => per_class.push(s),
                    Err(es) => dist_err(
                        format!("node {}, class {}, service", node.name, classes[k].name),
                        es,
                        &mut errors,
                    ),
                }
            }
            service.push(per_class);
            if let NodeKind::Station {
                servers, schedule, ..
            } = &node.kind
            {
                match schedule {
                    None if *servers == 0 => errors.push(NetworkError::NoServers {
                        node: node.name.clone(),
                    }),
                    Some(segs) => {
                        for (i, s) in segs.iter().enumerate() {
                            if !(s.duration.is_finite() && s.duration > 0.0) {
                                errors.push(NetworkError::Schedule {
                                    node: node.name.clone(),
                                    index: i,
                                    duration: s.duration,
                                });
                            }
                        }
                        if segs.iter().all(|s| s.servers == 0) {
                            errors.push(NetworkError::NoServers {
                                node: node.name.clone(),
                            });
                        }
                    }
                    None => {}
                }
            }
        }

        let mut due = Vec::with_capacity(nc);
        for c in &classes {
            match c.due.as_ref().map(Dist::sampler) {
                None => due.push(None),
                Some(Ok(s)) => due.push(Some(s)),
                Some(Err(es)) => dist_err(format!("class {}, due", c.name), es, &mut errors),
            }
        }

        let mut arrivals = Vec::with_capacity(sources.len());
        for s in &sources {
            if s.class >= nc {
                errors.push(NetworkError::Index {
                    what: "class",
                    index: s.class,
                });
            }
            if s.node >= nn {
                errors.push(NetworkError::Index {
                    what: "node",
                    index: s.node,
                });
            }
            match s.arrivals.generator() {
                Ok(g) => arrivals.push(g),
                Err(es) => dist_err(format!("source {}, arrivals", s.name), es, &mut errors),
            }
        }

        let mut tables = Vec::with_capacity(nn);
        if routes.len() != nn {
            errors.push(NetworkError::Index {
                what: "routing node",
                index: routes.len(),
            });
        }
        for (i, per_class) in routes.iter().enumerate().take(nn) {
            let mut row = Vec::with_capacity(nc);
            if per_class.len() != nc {
                errors.push(NetworkError::Index {
                    what: "routing class",
                    index: per_class.len(),
                });
            }
            for (k, branches) in per_class.iter().enumerate().take(nc) {
                let bad = |message: String| NetworkError::Routing {
                    node: nodes[i].name.clone(),
                    class: classes[k].name.clone(),
                    message,
                };
                let mut sum = 0.0;
                for (b, br) in branches.iter().enumerate() {
                    if !(br.p.is_finite() && (0.0..=1.0).contains(&br.p)) {
                        errors.push(bad(format!(
                            "branch {b}: probability must be in [0, 1] (got {})",
                            br.p
                        )));
                    }
                    if let Target::Node(j) = br.to
                        && j >= nn
                    {
                        errors.push(NetworkError::Index {
                            what: "node",
                            index: j,
                        });
                    }
                    sum += br.p;
                }
                if sum > 1.0 + 1e-9 {
                    errors.push(bad(format!(
                        "branch probabilities sum to {sum}, more than 1; lower them (what is left below 1 exits the network)"
                    )));
                }
                row.push(compile_route(branches));
            }
            tables.push(row);
        }
        if !errors.is_empty() {
            return Err(errors);
        }

        let mut net = Self {
            n_classes: classes.len(),
            classes,
            nodes,
            sources,
            routes,
            service: service.into_iter().flatten().collect(),
            due,
            arrivals,
            tables: tables.into_iter().flatten().collect(),
            lambda: Vec::new(),
        };
        net.lambda = net.solve_traffic()?;
        if !check_stability {
            return Ok(net);
        }
        let unstable: Vec<_> = (0..nn)
            .filter_map(|i| {
                let rho = net.utilisation(i)?;
                (rho >= 1.0).then(|| NetworkError::Unstable {
                    node: net.nodes[i].name.clone(),
                    load: net.offered_load(i),
                    rho,
                })
            })
            .collect();
        if unstable.is_empty() {
            Ok(net)
        } else {
            Err(unstable)
        }
    }

    // Matrix code reads best with explicit indices.
    #[allow(clippy::needless_range_loop)]
    /// Solves the traffic equations λ_k = λ0_k + P_kᵀ λ_k for each class by
    /// Gaussian elimination with partial pivoting.
    fn solve_traffic(&self) -> Result<Vec<Vec<f64>>, Vec<NetworkError>> {
        let (nn, nc) = (self.nodes.len(), self.classes.len());
        let mut lambda = vec![vec![0.0; nc]; nn];
        for k in 0..nc {
            let mut b = vec![0.0; nn];
            for s in self.sources.iter().filter(|s| s.class == k) {
                b[s.node] += s.arrivals.mean_rate();
            }
            // A = I − Pᵀ, with P[i][j] the probability of moving i → j.
            let mut a = vec![vec![0.0; nn]; nn];
            for (i, row) in a.iter_mut().enumerate() {
                row[i] = 1.0;
            }
            for i in 0..nn {
                for br in &self.routes[i][k] {
                    if let Target::Node(j) = br.to {
                        a[j][i] -= br.p;
                    }
                }
            }
            let x = gauss(a, b).filter(|x| x.iter().all(|v| v.is_finite() && *v >= -1e-9));
            match x {
                Some(x) => x
                    .iter()
                    .enumerate()
                    .for_each(|(i, v)| lambda[i][k] = v.max(0.0)),
                None => {
                    return Err(vec![NetworkError::NeverExits {
                        class: self.classes[k].name.clone(),
                    }]);
                }
            }
        }
        Ok(lambda)
    }

    /// Long-run arrival rate at node `i` for class `k` (from the traffic equations).
    pub fn arrival_rate(&self, i: NodeId, k: ClassId) -> f64 {
        self.lambda[i][k]
    }

    /// Offered load at node `i`: `Σ_k λ_ik · E[S_ik]`, in busy servers.
    pub fn offered_load(&self, i: NodeId) -> f64 {
        (0..self.classes.len())
            .map(|k| self.lambda[i][k] * self.nodes[i].service[k].mean())
            .sum()
    }

    /// Time-average capacity of station `i` (servers), `None` for a delay.
    pub fn mean_capacity(&self, i: NodeId) -> Option<f64> {
        match &self.nodes[i].kind {
            NodeKind::Delay => None,
            NodeKind::Station {
                servers,
                schedule: None,
                ..
            } => Some(f64::from(*servers)),
            NodeKind::Station {
                schedule: Some(s), ..
            } => {
                let period: f64 = s.iter().map(|p| p.duration).sum();
                Some(
                    s.iter()
                        .map(|p| p.duration * f64::from(p.servers))
                        .sum::<f64>()
                        / period,
                )
            }
        }
    }

    /// Long-run utilisation ρ of station `i` (offered load over mean capacity), `None` for a delay.
    pub fn utilisation(&self, i: NodeId) -> Option<f64> {
        self.mean_capacity(i).map(|c| self.offered_load(i) / c)
    }

    /// The classes.
    pub fn classes(&self) -> &[Class] {
        &self.classes
    }

    /// The nodes.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The sources.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// The routing branches of `node` for `class`.
    pub fn routes(&self, node: NodeId, class: ClassId) -> &[Branch] {
        &self.routes[node][class]
    }

    /// The index of the node called `name`.
    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.name == name)
    }
}

fn compile_route(branches: &[Branch]) -> RouteTable {
    let live: Vec<_> = branches.iter().filter(|b| b.p > 0.0).collect();
    let total: f64 = live.iter().map(|b| b.p).sum();
    if live.is_empty() {
        return RouteTable::Exit;
    }
    if live.len() == 1 && total >= 1.0 {
        return RouteTable::Always(live[0].to);
    }
    let mut cum = Vec::with_capacity(live.len());
    let mut acc = 0.0;
    for b in &live {
        acc += b.p;
        cum.push(acc);
    }
    RouteTable::Random {
        cum,
        targets: live.iter().map(|b| b.to).collect(),
    }
}

/// Solves `a x = b`; `None` if `a` is singular.
#[allow(clippy::needless_range_loop)] // matrix code reads best with explicit indices
fn gauss(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n).max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))?;
        if a[piv][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for r in col + 1..n {
            let f = a[r][col] / a[col][col];
            if f != 0.0 {
                for c in col..n {
                    a[r][c] -= f * a[col][c];
                }
                b[r] -= f * b[col];
            }
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

/// A convenience builder for networks written in code (validation cases,
/// benchmarks, compilers of richer models).
#[derive(Clone, Debug, Default)]
pub struct NetworkBuilder {
    classes: Vec<Class>,
    nodes: Vec<Node>,
    sources: Vec<Source>,
    routes: Vec<Vec<Vec<Branch>>>,
}

impl NetworkBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a class; returns its id. Add all classes before nodes.
    pub fn class(&mut self, name: &str, priority: i32, due: Option<Dist>) -> ClassId {
        self.classes.push(Class {
            name: name.into(),
            priority,
            due,
        });
        self.classes.len() - 1
    }

    /// Adds a FIFO station with `servers` servers and the same service for every class.
    pub fn station(&mut self, name: &str, servers: u32, service: Dist) -> NodeId {
        self.node(
            name,
            NodeKind::Station {
                servers,
                discipline: Discipline::Fifo,
                schedule: None,
            },
            service,
        )
    }

    /// Adds a node of any kind with the same service for every class.
    pub fn node(&mut self, name: &str, kind: NodeKind, service: Dist) -> NodeId {
        let nc = self.classes.len().max(1);
        if self.classes.is_empty() {
            self.class("default", 0, None);
        }
        self.nodes.push(Node {
            name: name.into(),
            kind,
            service: vec![service; nc],
        });
        self.routes.push(vec![Vec::new(); nc]);
        self.nodes.len() - 1
    }

    /// Sets the service of `class` at `node`.
    pub fn service(&mut self, node: NodeId, class: ClassId, service: Dist) -> &mut Self {
        self.nodes[node].service[class] = service;
        self
    }

    /// Adds a source of `class` customers into `node`.
    pub fn source(
        &mut self,
        name: &str,
        class: ClassId,
        node: NodeId,
        arrivals: Arrivals,
    ) -> &mut Self {
        self.sources.push(Source {
            name: name.into(),
            class,
            node,
            arrivals,
        });
        self
    }

    /// Adds a Poisson source of the first class into `node`.
    pub fn poisson(&mut self, node: NodeId, rate: f64) -> &mut Self {
        let name = format!("source{}", self.sources.len());
        self.source(&name, 0, node, Arrivals::Poisson { rate })
    }

    /// Routes `class` customers leaving `from` to `to` with probability `p`.
    pub fn route(&mut self, from: NodeId, class: ClassId, to: NodeId, p: f64) -> &mut Self {
        self.routes[from][class].push(Branch {
            to: Target::Node(to),
            p,
        });
        self
    }

    /// Validates and compiles the network.
    pub fn build(self) -> Result<Network, Vec<NetworkError>> {
        Network::new(self.classes, self.nodes, self.sources, self.routes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_equations_give_jackson_arrival_rates() {
        let mut b = NetworkBuilder::new();
        let c = b.station("commune", 3, Dist::exponential(1.0));
        let d = b.station("district", 2, Dist::exponential(1.0));
        let p = b.station("province", 2, Dist::exponential(1.0));
        b.poisson(c, 2.0).poisson(d, 0.8).poisson(p, 0.5);
        b.route(c, 0, d, 0.3).route(d, 0, p, 0.5);
        let net = b.build().unwrap();
        assert!((net.arrival_rate(d, 0) - 1.4).abs() < 1e-12);
        assert!((net.arrival_rate(p, 0) - 1.2).abs() < 1e-12);
    }

    #[test]
    fn an_overloaded_station_is_rejected_before_it_runs() {
        let mut b = NetworkBuilder::new();
        let s = b.station("desk", 2, Dist::exponential(1.0));
        b.poisson(s, 2.5);
        let e = b.build().unwrap_err();
        assert!(matches!(&e[0], NetworkError::Unstable { rho, .. } if (*rho - 1.25).abs() < 1e-12));
        assert!(e[0].to_string().contains("grow without bound"));
    }

    #[test]
    fn a_loop_without_exit_is_rejected() {
        let mut b = NetworkBuilder::new();
        let x = b.station("x", 1, Dist::exponential(0.1));
        let y = b.station("y", 1, Dist::exponential(0.1));
        b.poisson(x, 0.1).route(x, 0, y, 1.0).route(y, 0, x, 1.0);
        assert!(matches!(
            b.build().unwrap_err()[0],
            NetworkError::NeverExits { .. }
        ));
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let mut b = NetworkBuilder::new();
        let x = b.station("x", 0, Dist::exponential(-1.0));
        b.poisson(x, 0.5).route(x, 0, x, 1.5);
        let e = b.build().unwrap_err();
        assert!(e.len() >= 3, "{e:?}");
    }
}
