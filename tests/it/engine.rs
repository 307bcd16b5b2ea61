//! Engine behaviour beyond the validation suite: disciplines, schedules, delays, warm-up and memory.

use motcua::engine::{
    Arrivals, CapacitySegment, Customer, Discipline, Dist, NetworkBuilder, NodeId, NodeKind,
    Router, RunConfig, Streams, Target, run, run_with,
};
use motcua::stats::{Summary, Tally};

fn mean_over(reps: u64, f: impl Fn(u64) -> f64) -> Summary {
    let v: Vec<f64> = (0..reps).map(f).collect();
    Summary::from_values(&v, 0.99)
}

fn two_class_station(discipline: Discipline, due: [Option<Dist>; 2]) -> motcua::engine::Network {
    let mut b = NetworkBuilder::new();
    let [d0, d1] = due;
    let hi = b.class("high", 0, d0);
    let lo = b.class("low", 1, d1);
    let s = b.node(
        "desk",
        NodeKind::Station {
            servers: 1,
            discipline,
            schedule: None,
        },
        Dist::exponential(1.0),
    );
    b.source("high", hi, s, Arrivals::Poisson { rate: 0.4 });
    b.source("low", lo, s, Arrivals::Poisson { rate: 0.4 });
    b.build().unwrap()
}

/// A router that sends everyone out and tallies each class's sojourn at the node.
struct PerClass(Vec<Tally>);

impl Router for PerClass {
    fn route(&mut self, _node: NodeId, c: &mut Customer, now: f64) -> Target {
        if c.created >= 1.0e3 {
            self.0[c.class as usize].add(now - c.arrived);
        }
        Target::Exit
    }
}

/// Mean wait per class (sojourn − mean service 1) over replications.
fn class_waits(net: &motcua::engine::Network, seed: u64) -> [Summary; 2] {
    let mut w = [Vec::new(), Vec::new()];
    for r in 0..10 {
        let mut router = PerClass(vec![Tally::new(); 2]);
        run_with(
            net,
            &mut router,
            &RunConfig::horizon(2.0e5, 1.0e3),
            Streams::new(seed, r),
        )
        .unwrap();
        for (wk, tally) in w.iter_mut().zip(&router.0) {
            wk.push(tally.mean() - 1.0);
        }
    }
    [
        Summary::from_values(&w[0], 0.99),
        Summary::from_values(&w[1], 0.99),
    ]
}

#[test]
fn non_preemptive_priority_matches_cobhams_formula() {
    // M/M/1 with two classes of λ = 0.4 each, μ = 1: W0 = Σλ·E[S²]/2 = 0.8,
    // Wq(high) = W0/(1 − ρ1) = 4/3, Wq(low) = W0/((1 − ρ1)(1 − ρ)) = 20/3.
    let net = two_class_station(Discipline::Priority, [None, None]);
    let [hi, lo] = class_waits(&net, 5);
    assert!(
        hi.contains(4.0 / 3.0) && (hi.mean / (4.0 / 3.0) - 1.0).abs() < 0.05,
        "{hi:?}"
    );
    assert!(
        lo.contains(20.0 / 3.0) && (lo.mean / (20.0 / 3.0) - 1.0).abs() < 0.05,
        "{lo:?}"
    );
}

#[test]
fn earliest_deadline_first_serves_tight_deadlines_first() {
    // A tight due time (1) always precedes a loose one (100) that arrived less
    // than 99 time units earlier, so the tight class waits about as the high
    // class of a priority queue and the loose one as the low class.
    let net = two_class_station(
        Discipline::Edf,
        [Some(Dist::constant(1.0)), Some(Dist::constant(100.0))],
    );
    let [tight, loose] = class_waits(&net, 6);
    assert!(tight.mean < 1.6 && loose.mean > 6.0, "{tight:?} {loose:?}");
}

#[test]
fn earliest_deadline_first_with_equal_due_offsets_is_exactly_fifo() {
    let fifo = two_class_station(Discipline::Fifo, [None, None]);
    let due = Some(Dist::constant(10.0));
    let edf = two_class_station(Discipline::Edf, [due.clone(), due]);
    let cfg = RunConfig::horizon(5.0e4, 0.0);
    for r in 0..3 {
        let a = run(&fifo, &cfg, Streams::new(8, r)).unwrap();
        let b = run(&edf, &cfg, Streams::new(8, r)).unwrap();
        assert_eq!(
            a.nodes[0].wait.mean().to_bits(),
            b.nodes[0].wait.mean().to_bits()
        );
    }
}

#[test]
fn a_capacity_schedule_halves_capacity_when_servers_are_off_half_the_time() {
    let mut b = NetworkBuilder::new();
    let s = b.node(
        "desk",
        NodeKind::Station {
            servers: 0,
            discipline: Discipline::Fifo,
            schedule: Some(vec![
                CapacitySegment {
                    duration: 8.0,
                    servers: 2,
                },
                CapacitySegment {
                    duration: 8.0,
                    servers: 0,
                },
            ]),
        },
        Dist::exponential(0.5),
    );
    b.poisson(s, 1.0);
    let net = b.build().unwrap();
    assert!((net.mean_capacity(s).unwrap() - 1.0).abs() < 1e-12);
    assert!((net.utilisation(s).unwrap() - 0.5).abs() < 1e-12);
    let u = mean_over(8, |r| {
        run(&net, &RunConfig::horizon(1.6e5, 1.6e3), Streams::new(10, r))
            .unwrap()
            .nodes[0]
            .utilisation
    });
    // Utilisation = busy-server time / server-on-duty time = offered load / mean capacity.
    assert!(u.contains(0.5) && (u.mean - 0.5).abs() < 0.01, "{u:?}");
}

#[test]
fn a_delay_node_holds_lambda_times_mean_delay_customers() {
    // M/G/∞: L = λ E[S] whatever the delay distribution.
    let mut b = NetworkBuilder::new();
    let d = b.node(
        "transfer",
        NodeKind::Delay,
        Dist::Triangular {
            min: 1.0,
            mode: 2.0,
            max: 6.0,
        },
    );
    b.poisson(d, 5.0);
    let net = b.build().unwrap();
    let l = mean_over(8, |r| {
        run(&net, &RunConfig::horizon(2.0e4, 100.0), Streams::new(12, r))
            .unwrap()
            .nodes[0]
            .mean_in_node
    });
    assert!(l.contains(5.0 * 3.0), "{l:?}");
}

/// One clerk (mean service 0.5) with Poisson arrivals at rate 1.
fn one_desk() -> motcua::engine::Network {
    let mut b = NetworkBuilder::new();
    let s = b.station("desk", 1, Dist::exponential(0.5));
    b.poisson(s, 1.0);
    b.build().unwrap()
}

#[test]
fn the_warm_up_cut_drops_what_happened_before_it() {
    let net = one_desk();
    let r = run(&net, &RunConfig::horizon(1000.0, 400.0), Streams::new(1, 0)).unwrap();
    assert!((r.window - 600.0).abs() < 1e-9);
    // About 600 arrivals in the window, not 1000.
    assert!((r.network_arrivals as f64 - 600.0).abs() < 5.0 * 600f64.sqrt());
}

#[test]
fn a_horizon_before_the_warm_up_stops_the_run_there_without_a_window() {
    let net = one_desk();
    let r = run(&net, &RunConfig::horizon(300.0, 400.0), Streams::new(1, 0)).unwrap();
    assert_eq!(r.end_time, 300.0);
    // No reset happened: the window is the whole run and every arrival counts.
    assert_eq!(r.window, 300.0);
    let all = run(&net, &RunConfig::horizon(300.0, 0.0), Streams::new(1, 0)).unwrap();
    assert_eq!(r.network_arrivals, all.network_arrivals);
    assert_eq!(r.events, all.events);
}

#[test]
fn events_at_the_horizon_itself_are_processed_and_later_ones_are_not() {
    // Constant gaps of 1: arrivals at 1, 2, ..., and a horizon of exactly 5.
    let mut b = NetworkBuilder::new();
    let s = b.node("wait", NodeKind::Delay, Dist::constant(100.0));
    let gaps = Arrivals::Renewal {
        interarrival: Dist::constant(1.0),
    };
    b.source("clock", 0, s, gaps);
    let net = b.build().unwrap();
    let r = run(&net, &RunConfig::horizon(5.0, 0.0), Streams::new(1, 0)).unwrap();
    assert_eq!(r.network_arrivals, 5);
    assert_eq!(r.end_time, 5.0);
}

#[test]
fn without_sojourn_tallies_the_waits_are_empty_and_everything_else_is_unchanged() {
    let mut b = NetworkBuilder::new();
    let s = b.station("desk", 2, Dist::exponential(1.5));
    let d = b.node("tray", NodeKind::Delay, Dist::exponential(3.0));
    b.route(s, 0, d, 1.0);
    b.poisson(s, 1.0);
    let net = b.build().unwrap();
    let on = RunConfig::horizon(5_000.0, 500.0);
    let off = RunConfig {
        sojourn_tallies: false,
        ..on
    };
    let (a, z) = (
        run(&net, &on, Streams::new(3, 0)).unwrap(),
        run(&net, &off, Streams::new(3, 0)).unwrap(),
    );
    assert!(a.nodes[0].wait.count() > 1_000 && a.network_sojourn.count() > 1_000);
    for n in &z.nodes {
        assert_eq!((n.wait.count(), n.sojourn.count(), n.waited), (0, 0, 0));
    }
    assert_eq!(z.network_sojourn.count(), 0);
    // Counts, time averages, busy times and the event sequence are the same.
    for (x, y) in a.nodes.iter().zip(&z.nodes) {
        assert_eq!((x.arrivals, x.departures), (y.arrivals, y.departures));
        for (p, q) in [
            (x.mean_queue, y.mean_queue),
            (x.mean_in_node, y.mean_in_node),
            (x.busy_time, y.busy_time),
        ] {
            assert_eq!(p.to_bits(), q.to_bits());
        }
    }
    assert_eq!((a.events, a.customers), (z.events, z.customers));
    assert_eq!(a.mean_in_network.to_bits(), z.mean_in_network.to_bits());
}

#[test]
fn memory_does_not_grow_with_the_number_of_customers_simulated() {
    let mut b = NetworkBuilder::new();
    let s = b.station("desk", 10, Dist::exponential(1.0));
    b.poisson(s, 9.0);
    let net = b.build().unwrap();
    let small = run(&net, &RunConfig::customers(100_000), Streams::new(1, 0)).unwrap();
    let large = run(&net, &RunConfig::customers(2_000_000), Streams::new(1, 0)).unwrap();
    // The arena holds the customers in flight at once (tens here), not the
    // customers simulated; 20x more customers must not mean 20x the memory.
    assert!(large.peak_in_flight < 500, "{}", large.peak_in_flight);
    assert!(large.peak_in_flight < 4 * small.peak_in_flight.max(50));
}

#[test]
fn an_overloaded_run_stops_at_its_memory_bound_with_a_clear_error() {
    // A schedule with almost no capacity passes the long-run check only
    // barely; bound in-flight customers tightly to see the guard act.
    let mut b = NetworkBuilder::new();
    let s = b.station("desk", 1, Dist::exponential(0.99));
    b.poisson(s, 1.0);
    let net = b.build().unwrap();
    let mut cfg = RunConfig::horizon(1.0e6, 0.0);
    cfg.max_in_flight = 50;
    let e = run(&net, &cfg, Streams::new(1, 0)).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("more than 50 customers") && msg.contains("desk"),
        "{msg}"
    );
}

#[test]
fn results_do_not_depend_on_the_event_queue_bucket_width() {
    let mut b = NetworkBuilder::new();
    let desk = b.station("desk", 3, Dist::exponential(1.0));
    let wait = b.node(
        "citizen",
        NodeKind::Delay,
        Dist::Lognormal {
            mean: 50.0,
            sd: 80.0,
        },
    );
    b.poisson(desk, 2.0)
        .route(desk, 0, wait, 0.3)
        .route(wait, 0, desk, 1.0);
    let net = b.build().unwrap();
    let plain = run(&net, &RunConfig::horizon(2.0e4, 100.0), Streams::new(4, 0)).unwrap();
    for width in [0.7, 10.0, 1440.0] {
        let mut cfg = RunConfig::horizon(2.0e4, 100.0);
        cfg.bucket_width = width;
        let bucketed = run(&net, &cfg, Streams::new(4, 0)).unwrap();
        assert_eq!(
            format!("{plain:?}"),
            format!("{bucketed:?}"),
            "width {width}"
        );
    }
}
