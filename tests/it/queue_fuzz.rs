//! The event queue driven against a `BTreeMap` oracle with a million seeded random operations.

use std::collections::BTreeMap;

use motcua::engine::{EventQueue, Streams, time_bits, unit};
use rand::Rng;

#[test]
fn event_queue_agrees_with_a_btreemap_oracle_over_a_million_operations() {
    fuzz(EventQueue::new(), 2024, GROWING);
}

#[test]
fn a_small_event_queue_agrees_with_the_oracle_while_events_move_between_its_run_and_its_heap() {
    // Pops outnumber pushes, so the queue stays short: new events are
    // inserted into the sorted run, spill into the heap when the run is
    // full, and pop from whichever holds the earliest.
    fuzz(EventQueue::new(), 77, SHORT);
    for (width, seed) in [(0.5, 78), (40.0, 79)] {
        fuzz(EventQueue::with_buckets(width), seed, SHORT);
    }
}

#[test]
fn bucketed_event_queue_agrees_with_a_btreemap_oracle_over_a_million_operations() {
    // Buckets narrower than, similar to and wider than the typical gap; the
    // narrowest make the rare long delays land beyond the bucket ring.
    for (width, seed) in [(0.05, 4), (0.5, 1), (3.0, 2), (40.0, 3)] {
        fuzz(EventQueue::with_buckets(width), seed, GROWING);
    }
}

/// Shares of the operations in percent: below the first a push, below the
/// second a replacement of the top, else a pop.
type Mix = (u64, u64);
/// A queue that grows to hundreds of thousands of events.
const GROWING: Mix = (55, 70);
/// A queue that stays short (tens of events).
const SHORT: Mix = (38, 58);

fn fuzz(mut q: EventQueue<u64>, seed: u64, (push, replace): Mix) {
    let mut rng = Streams::new(seed, 0).stream("queue-fuzz", &[]);
    // The oracle orders by (total-order time bits, insertion sequence).
    let mut oracle: BTreeMap<(u64, u64), (f64, u64)> = BTreeMap::new();
    let mut next_payload = 0u64;
    let mut now = 0.0f64;
    let mut pops = 0u64;
    let mut max_len = 0;
    for _ in 0..1_000_000 {
        let r = rng.next_u64();
        if r % 100 < push || oracle.is_empty() {
            // Push: many exact ties (coarse grid) and some fine-grained times,
            // sometimes at the current time, rarely far ahead, never in the past.
            let dt = match r % 5 {
                0 => 0.0,
                1 => (rng.next_u64() % 8) as f64 * 0.5,
                2 if r.is_multiple_of(7) => unit(&mut rng) * 5_000.0,
                3 if r.is_multiple_of(97) => unit(&mut rng) * 100_000.0,
                2 => unit(&mut rng) * 200.0,
                _ => unit(&mut rng) * 10.0,
            };
            let t = now + dt;
            let seq = q.push(t, next_payload);
            oracle.insert((time_bits(t), seq), (t, next_payload));
            next_payload += 1;
        } else if r % 100 < replace {
            // Peek, then replace the top by a follow-up no earlier than it (a
            // service completion starting the next service).
            let top = q.peek().expect("queue and oracle both non-empty");
            let ((_, seq), (t, payload)) = oracle.pop_first().expect("oracle non-empty");
            assert_eq!((top.0.to_bits(), top.1, top.2), (t.to_bits(), seq, payload));
            now = t;
            let t2 = now + unit(&mut rng) * if r.is_multiple_of(2) { 3.0 } else { 300.0 };
            let seq2 = q.replace_top(t2, next_payload);
            oracle.insert((time_bits(t2), seq2), (t2, next_payload));
            next_payload += 1;
            pops += 1;
        } else {
            let got = q.pop().expect("queue and oracle both non-empty");
            let ((_, seq), (t, payload)) = oracle.pop_first().expect("oracle non-empty");
            assert_eq!(got.0.to_bits(), t.to_bits(), "pop {pops}: time");
            assert_eq!(got.1, seq, "pop {pops}: sequence");
            assert_eq!(got.2, payload, "pop {pops}: payload");
            now = t;
            pops += 1;
        }
        assert_eq!(q.len(), oracle.len());
        max_len = max_len.max(q.len());
    }
    while let Some(got) = q.pop() {
        let (_, (t, payload)) = oracle.pop_first().expect("oracle non-empty");
        assert_eq!((got.0.to_bits(), got.2), (t.to_bits(), payload));
    }
    assert!(oracle.is_empty());
    assert!(pops > 300_000, "{pops} pops");
    assert!(
        max_len > 16,
        "the queue never outgrew the sorted run: {max_len}"
    );
}

#[test]
fn peek_key_matches_the_next_pop() {
    let mut q = EventQueue::new();
    for (i, t) in [3.0, 1.0, 2.0, 1.0].into_iter().enumerate() {
        q.push(t, i);
    }
    while let Some(k) = q.peek_key() {
        let (t, s, _) = q.pop().unwrap();
        assert_eq!((k.0.to_bits(), k.1), (t.to_bits(), s));
    }
}
