//! The future-event set: a binary heap ordered by (time with `total_cmp`, insertion sequence).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

/// Maps an `f64` to a `u64` whose unsigned order is exactly [`f64::total_cmp`]'s order.
#[inline]
pub fn time_bits(t: f64) -> u64 {
    let b = t.to_bits() as i64;
    // The transform `total_cmp` applies (flip the magnitude bits of negatives),
    // then a sign-bit flip so that unsigned comparison matches signed.
    ((b ^ ((((b >> 63) as u64) >> 1) as i64)) as u64) ^ (1 << 63)
}

/// The inverse of [`time_bits`].
#[inline]
fn bits_time(k: u64) -> f64 {
    let b = (k ^ (1 << 63)) as i64;
    f64::from_bits((b ^ ((((b >> 63) as u64) >> 1) as i64)) as u64)
}

/// One scheduled event: its ordering key as (time bits, sequence) and its payload.
#[derive(Clone, Copy, Debug)]
struct Entry<E> {
    hi: u64,
    lo: u64,
    event: E,
}

impl<E> Entry<E> {
    #[inline(always)]
    fn key(&self) -> u128 {
        (u128::from(self.hi) << 64) | u128::from(self.lo)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<E> Eq for Entry<E> {}
/// The heap only asks `<=`/`<`; answering them with one wide compare (rather
/// than through a three-way `Ordering`) halves the cost of a sift.
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
    #[inline(always)]
    fn lt(&self, other: &Self) -> bool {
        other.key() < self.key()
    }
    #[inline(always)]
    fn le(&self, other: &Self) -> bool {
        other.key() <= self.key()
    }
    #[inline(always)]
    fn gt(&self, other: &Self) -> bool {
        other.lt(self)
    }
    #[inline(always)]
    fn ge(&self, other: &Self) -> bool {
        other.le(self)
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that `std`'s max-heap pops the earliest key first.
    #[inline(always)]
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// A priority queue of events keyed by time.
///
/// Ordering contract: events pop in increasing time compared with
/// [`f64::total_cmp`]; events with equal times pop in the order they were
/// pushed. The sequence counter is shared with [`EventQueue::reserve_seq`], so
/// items kept outside the heap (a source's next arrival) can be merged into
/// the same total order.
///
/// It is `std`'s binary heap over 24-byte entries whose key packs
/// (time bits, sequence) into one `u128` comparison, beside a short sorted
/// run that takes new events while it holds fewer than [`SMALL_RUN`] and the
/// heap is empty: a small event set lives there and never sifts. With a bucket width
/// ([`EventQueue::with_buckets`]) it becomes a hierarchical calendar queue:
/// the events of the current time bucket are in a sorted run (the bucket's
/// events as it was opened, sorted once: popping them costs no sift) and a
/// heap (events placed in the current bucket after it was opened);
/// later events of the current block of [`BLOCK_BUCKETS`] buckets wait
/// unsorted in one vector per bucket; later blocks wait in a ring of
/// [`RING_BLOCKS`] vectors, one per block, and blocks beyond the ring in an
/// ordered map. When the run and the heap are empty the next bucket is
/// sorted into the run, and when the block runs dry the next block is
/// spread over the buckets. Buckets partition time and keys are unique, so
/// the order is exactly the plain heap's; only the current bucket's events
/// are ever compared, and placing an event is a division and
/// a push onto one of few, recently used vectors (distant delays touch the
/// same few block vectors, not one cold vector per bucket). Times must not be
/// negative in bucket mode.
#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    /// Events placed in the current bucket after it was opened (in
    /// plain-heap mode, every event).
    heap: BinaryHeap<Entry<E>>,
    /// The current bucket's events as it was opened, sorted latest first
    /// (the next one is at the end): popping them costs no sift. In
    /// plain-heap mode, up to [`SMALL_RUN`] events inserted in order.
    sorted: Vec<Entry<E>>,
    next_seq: u64,
    /// Buckets per time unit (0 in plain-heap mode: every time is in bucket 0).
    per_unit: f64,
    /// Index of the current bucket: the heap holds the events of buckets up to it, nothing else does.
    cur: i64,
    /// The later buckets of the current block, at `bucket mod BLOCK_BUCKETS` (empty in plain-heap mode).
    buckets: Vec<Vec<Entry<E>>>,
    /// Which of `buckets` hold events, one bit each.
    bucket_bits: u64,
    /// Blocks `block + 1 ..= block + RING_BLOCKS`, at `block mod RING_BLOCKS`.
    ring: Vec<Vec<Entry<E>>>,
    /// Which ring slots hold events, one bit per slot.
    ring_bits: Vec<u64>,
    /// Blocks placed when they were beyond the ring.
    overflow: BTreeMap<i64, Vec<Entry<E>>>,
    far_len: usize,
    /// Packed keys of the bucket being sorted (see [`sort_run`]).
    scratch: Vec<u64>,
}

/// Buckets per block of a bucketed [`EventQueue`] (one bit each in a `u64`).
pub const BLOCK_BUCKETS: usize = 64;
const BLOCK_SHIFT: u32 = BLOCK_BUCKETS.trailing_zeros();
/// Longest sorted run that events placed in the current bucket are inserted
/// into (beyond it they go to the heap).
pub const SMALL_RUN: usize = 16;
/// Blocks held in the ring of a bucketed [`EventQueue`]; later ones wait in an ordered map.
pub const RING_BLOCKS: usize = 4096;

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty queue with room for `n` events.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            heap: BinaryHeap::with_capacity(n),
            sorted: Vec::new(),
            next_seq: 0,
            per_unit: 0.0,
            cur: 0,
            buckets: Vec::new(),
            bucket_bits: 0,
            ring: Vec::new(),
            ring_bits: Vec::new(),
            overflow: BTreeMap::new(),
            far_len: 0,
            scratch: Vec::new(),
        }
    }

    /// An empty hierarchical queue whose buckets are `width` time units wide
    /// (`f64::INFINITY`: a plain heap).
    pub fn with_buckets(width: f64) -> Self {
        let mut q = Self::with_capacity(64);
        if width.is_finite() && width > 0.0 {
            q.per_unit = 1.0 / width;
            q.buckets = vec![Vec::new(); BLOCK_BUCKETS];
            q.ring = vec![Vec::new(); RING_BLOCKS];
            q.ring_bits = vec![0; RING_BLOCKS / 64];
        }
        q
    }

    /// Takes the next insertion sequence number without pushing anything.
    #[inline]
    pub fn reserve_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    /// The bucket of `time`. Membership is decided by this one monotone
    /// function everywhere, so buckets partition time exactly whatever the
    /// rounding of `time × per_unit`.
    #[inline(always)]
    fn bucket_of(&self, time: f64) -> i64 {
        super::floor_i64(time * self.per_unit)
    }

    /// Places an event in plain-heap mode: into the sorted run while it is
    /// short and the heap empty (one step of insertion sort, and popping it
    /// later costs no sift), else into the heap (so a large event set soon
    /// lives in the heap alone, as before). A small event set (an M/M/c queue's busy
    /// servers) then never sifts, and its pops mispredict no branches of a
    /// heap's sift. (Bucketed queues open each bucket as a sorted run of
    /// about 30 events and leave the later ones to the heap: inserting
    /// there measured 0.4% more instructions and no faster.)
    #[inline(always)]
    fn place_near(&mut self, entry: Entry<E>) {
        if self.heap.is_empty() && self.sorted.len() < SMALL_RUN {
            self.sorted.push(entry);
            insert_last(&mut self.sorted, entry);
        } else {
            self.heap.push(entry);
        }
    }

    #[inline(always)]
    fn place(&mut self, entry: Entry<E>, time: f64) {
        if self.per_unit == 0.0 {
            self.place_near(entry);
            return;
        }
        let k = self.bucket_of(time);
        if k <= self.cur {
            self.heap.push(entry);
        } else {
            self.place_far(entry.hi, entry.lo, entry.event, k);
        }
    }

    /// Places an event in a later bucket, block or the overflow. The entry
    /// comes as its parts, which travel in registers: a whole `Entry` is
    /// passed through memory, and reading it back as one 16-byte load from
    /// the caller's two 8-byte stores stalls on store forwarding.
    #[inline(never)]
    fn place_far(&mut self, hi: u64, lo: u64, event: E, k: i64) {
        let entry = Entry { hi, lo, event };
        let (block, cur_block) = (k >> BLOCK_SHIFT, self.cur >> BLOCK_SHIFT);
        if block == cur_block {
            let b = (k & (BLOCK_BUCKETS as i64 - 1)) as usize;
            self.buckets[b].push(entry);
            self.bucket_bits |= 1 << b;
        } else if block - cur_block <= RING_BLOCKS as i64 {
            let slot = block.rem_euclid(RING_BLOCKS as i64) as usize;
            self.ring[slot].push(entry);
            self.ring_bits[slot / 64] |= 1 << (slot % 64);
        } else {
            self.overflow.entry(block).or_default().push(entry);
        }
        self.far_len += 1;
    }

    /// Moves the next non-empty bucket into the heap when the heap is empty.
    #[inline(always)]
    fn refill(&mut self) {
        // `far_len` first: a plain heap has no far events, so it stops there.
        if self.far_len > 0 && self.heap.is_empty() && self.sorted.is_empty() {
            self.refill_slow();
        }
    }

    /// The first occupied ring slot at or after `from`, if any.
    fn first_in_ring(&self, from: usize) -> Option<usize> {
        let mut w = from / 64;
        let mut bits = self.ring_bits.get(w)? & (!0u64 << (from % 64));
        loop {
            if bits != 0 {
                return Some(w * 64 + bits.trailing_zeros() as usize);
            }
            w += 1;
            bits = *self.ring_bits.get(w)?;
        }
    }

    /// Spreads the next non-empty block over the buckets; returns its number.
    fn next_block(&mut self) -> Option<i64> {
        let cur_block = self.cur >> BLOCK_SHIFT;
        // Ring slots are scanned from the one after the current block's, wrapping round once.
        let start = (cur_block + 1).rem_euclid(RING_BLOCKS as i64) as usize;
        let ring_next = self
            .first_in_ring(start)
            .or_else(|| self.first_in_ring(0).filter(|&s| s < start))
            .map(|s| {
                let ahead = (s + RING_BLOCKS - start) % RING_BLOCKS;
                (cur_block + 1 + ahead as i64, s)
            });
        let over_next = self.overflow.first_key_value().map(|(&b, _)| b);
        let block = match (ring_next, over_next) {
            (Some((a, _)), Some(b)) => a.min(b),
            (Some((a, _)), None) => a,
            (None, Some(b)) => b,
            (None, None) => return None,
        };
        // A block can have events in both places: placed beyond the ring
        // first, then in the ring once the ring reached it.
        let mut events = Vec::new();
        if let Some((a, slot)) = ring_next
            && a == block
        {
            events = std::mem::take(&mut self.ring[slot]);
            self.ring_bits[slot / 64] &= !(1 << (slot % 64));
        }
        if over_next == Some(block)
            && let Some((_, more)) = self.overflow.pop_first()
        {
            events.extend(more);
        }
        for e in events {
            let k = self.bucket_of(bits_time(e.hi));
            let b = (k & (BLOCK_BUCKETS as i64 - 1)) as usize;
            self.buckets[b].push(e);
            self.bucket_bits |= 1 << b;
        }
        Some(block)
    }

    #[cold]
    #[inline(never)]
    fn refill_slow(&mut self) {
        // The next bucket of the current block, else the first of the next block.
        let after = (self.cur & (BLOCK_BUCKETS as i64 - 1)) as u32 + 1;
        let mut bits = if after < 64 {
            self.bucket_bits & (!0u64 << after)
        } else {
            0
        };
        let mut first = self.cur >> BLOCK_SHIFT << BLOCK_SHIFT;
        if bits == 0 {
            let Some(block) = self.next_block() else {
                return;
            };
            first = block << BLOCK_SHIFT;
            bits = self.bucket_bits;
        }
        let b = bits.trailing_zeros() as usize;
        let mut events = std::mem::take(&mut self.buckets[b]);
        self.bucket_bits &= !(1 << b);
        self.far_len -= events.len();
        self.cur = first + b as i64;
        sort_run(&mut events, &mut self.scratch, &mut self.sorted);
        // The emptied buffer goes back to the bucket just taken: the 64
        // buckets keep their buffers from block to block.
        events.clear();
        self.buckets[b] = events;
    }

    /// Schedules `event` at `time`; returns its sequence number.
    #[inline]
    pub fn push(&mut self, time: f64, event: E) -> u64 {
        let seq = self.reserve_seq();
        self.place(
            Entry {
                hi: time_bits(time),
                lo: seq,
                event,
            },
            time,
        );
        seq
    }

    /// The earliest event with its packed order key (see [`order_key`]),
    /// left in place, as [`EventQueue::peek`] leaves it.
    #[inline]
    pub fn peek_keyed(&mut self) -> Option<(u128, E)> {
        self.refill();
        self.top().map(|e| (e.key(), e.event))
    }

    /// Whether the earliest event is the sorted run's next one (else the heap's top).
    #[inline(always)]
    fn top_is_sorted(&self) -> bool {
        match (self.sorted.last(), self.heap.peek()) {
            (Some(a), Some(b)) => a.key() < b.key(),
            (a, _) => a.is_some(),
        }
    }

    /// The earliest event (after a refill).
    #[inline(always)]
    fn top(&self) -> Option<&Entry<E>> {
        if self.top_is_sorted() {
            self.sorted.last()
        } else {
            self.heap.peek()
        }
    }

    /// Removes the earliest event (after a refill).
    #[inline(always)]
    fn remove_top(&mut self) -> Option<Entry<E>> {
        if self.top_is_sorted() {
            self.sorted.pop()
        } else {
            self.heap.pop()
        }
    }

    /// The earliest event as (time, sequence, event), left in place. The
    /// caller then either [`EventQueue::pop_top`]s it or
    /// [`EventQueue::replace_top`]s it with its follow-up.
    #[inline]
    pub fn peek(&mut self) -> Option<(f64, u64, E)> {
        self.refill();
        self.top().map(|e| (bits_time(e.hi), e.lo, e.event))
    }

    /// Events that may pop soon after the earliest one (the sorted run's
    /// next two, else the heap top's children; not necessarily next), for
    /// prefetching.
    #[inline]
    pub fn upcoming(&self) -> impl Iterator<Item = E> + '_ {
        let n = self.sorted.len();
        let (run, skip) = if n >= 2 {
            (&self.sorted[n.saturating_sub(3)..n - 1], 0)
        } else {
            (self.heap.as_slice(), 1)
        };
        run.iter().skip(skip).take(2).map(|e| e.event)
    }

    /// Removes the earliest event (after [`EventQueue::peek`]).
    #[inline]
    pub fn pop_top(&mut self) {
        self.remove_top();
    }

    /// Replaces the earliest event (after [`EventQueue::peek`]) by a new one
    /// at `time`, not earlier than the replaced one; returns its sequence
    /// number. Equivalent to `pop` then `push`, with one sift instead of
    /// two when the new event stays in the current bucket, and the same
    /// order: the new event gets the next sequence number.
    #[inline(always)]
    pub fn replace_top(&mut self, time: f64, event: E) -> u64 {
        let seq = self.reserve_seq();
        let entry = Entry {
            hi: time_bits(time),
            lo: seq,
            event,
        };
        if self.per_unit == 0.0 {
            if self.heap.is_empty() {
                // The top is the run's earliest: insert into its slot in place.
                insert_last(&mut self.sorted, entry);
            } else if !self.top_is_sorted()
                && let Some(mut top) = self.heap.peek_mut()
            {
                *top = entry;
            } else {
                self.sorted.pop();
                self.heap.push(entry);
            }
            return seq;
        }
        let k = self.bucket_of(time);
        if k <= self.cur {
            if !self.top_is_sorted()
                && let Some(mut top) = self.heap.peek_mut()
            {
                *top = entry;
                return seq;
            }
            self.sorted.pop();
            self.heap.push(entry);
        } else {
            self.remove_top();
            self.place_far(entry.hi, entry.lo, entry.event, k);
        }
        seq
    }

    /// The (time, sequence) key of the earliest event, if any.
    #[inline]
    pub fn peek_key(&mut self) -> Option<(f64, u64)> {
        self.refill();
        self.top().map(|e| (bits_time(e.hi), e.lo))
    }

    /// Removes and returns the earliest event as (time, sequence, event).
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, u64, E)> {
        self.refill();
        self.remove_top().map(|e| (bits_time(e.hi), e.lo, e.event))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len() + self.sorted.len() + self.far_len
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Puts `entry` in its place in `run` (sorted latest first) whose last slot
/// is free: one step of insertion sort, the earlier events moving up by one.
#[inline(always)]
fn insert_last<E: Copy>(run: &mut [Entry<E>], entry: Entry<E>) {
    // The entry is the newest (its sequence number the largest): it pops
    // after every event of an equal time, so only times need comparing.
    debug_assert!(run[..run.len() - 1].iter().all(|e| e.lo < entry.lo));
    let k = entry.hi;
    let mut j = run.len() - 1;
    while j > 0 && run[j - 1].hi <= k {
        run[j] = run[j - 1];
        j -= 1;
    }
    run[j] = entry;
}

/// Moves `events` into `out` (empty) sorted latest first, so that the next
/// event is at the end. Keys are unique, so the order is the heap's exactly.
///
/// A bucket's times share their sign, exponent and high mantissa bits, so
/// the offset of each time's bits from the bucket's smallest usually fits in
/// a `u64` beside the event's index in the bucket: sorting those plain
/// integers takes half the instructions of sorting the 24-byte entries by
/// their `u128` key. Equal times (which the packed key orders by index) are then put in
/// sequence order. When the offsets do not fit (a bucket straddling zero or
/// a power of two far from the bucket width), the entries are sorted whole.
fn sort_run<E: Copy>(events: &mut [Entry<E>], scratch: &mut Vec<u64>, out: &mut Vec<Entry<E>>) {
    debug_assert!(out.is_empty());
    let n = events.len();
    let (lo, hi) = events
        .iter()
        .fold((u64::MAX, 0), |(lo, hi), e| (lo.min(e.hi), hi.max(e.hi)));
    let index_bits = usize::BITS - n.leading_zeros();
    if n < 2 || index_bits >= 32 || (hi - lo) >> (64 - index_bits) != 0 {
        events.sort_unstable_by_key(|e| std::cmp::Reverse(e.key()));
        out.extend_from_slice(events);
        return;
    }
    let mask = (1u64 << index_bits) - 1;
    scratch.clear();
    scratch.extend(
        events
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.hi - lo) << index_bits) | i as u64),
    );
    scratch.sort_unstable();
    // Runs of equal times: order them by sequence. They are rare, so a
    // quick scan of neighbours looks for any before the runs are sought.
    if scratch.windows(2).any(|w| (w[0] ^ w[1]) <= mask) {
        let mut i = 0;
        while i + 1 < n {
            let t = scratch[i] >> index_bits;
            let mut j = i + 1;
            while j < n && scratch[j] >> index_bits == t {
                j += 1;
            }
            if j - i > 1 {
                scratch[i..j].sort_unstable_by_key(|&k| events[(k & mask) as usize].lo);
            }
            i = j;
        }
    }
    out.extend(scratch.iter().rev().map(|&k| events[(k & mask) as usize]));
}

/// The queue's total order as one integer: (time bits, sequence) packed into a
/// `u128`, so that `order_key(a) < order_key(b)` exactly when `a` pops first.
#[inline(always)]
pub fn order_key(time: f64, seq: u64) -> u128 {
    (u128::from(time_bits(time)) << 64) | u128::from(seq)
}

/// The time of a packed order key.
#[inline(always)]
pub fn order_key_time(key: u128) -> f64 {
    bits_time((key >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        for i in 0..5 {
            q.push(1.0, i);
        }
        q.push(0.5, 99);
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|e| e.2)).collect();
        assert_eq!(order, vec![99, 0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_bucket_is_sorted_latest_first_with_equal_times_in_sequence_order() {
        // Packed path (one bucket's times) and whole-entry path (times from
        // zero to one: their bits span most of the range).
        for times in [
            vec![600.25, 600.5, 600.25, 600.0, 600.75, 600.5, 600.25],
            vec![0.0, 1.0, 1e-300, 0.5, 0.0, 1e-300, 0.5],
        ] {
            let mut events: Vec<Entry<usize>> = times
                .iter()
                .enumerate()
                .map(|(i, &t)| Entry {
                    hi: time_bits(t),
                    // Sequence numbers not in index order, so an index tie-break would show.
                    lo: 100 - i as u64 * 7 % 11,
                    event: i,
                })
                .collect();
            let mut want = events.clone();
            want.sort_unstable_by_key(|e| std::cmp::Reverse(e.key()));
            let mut out = Vec::new();
            sort_run(&mut events, &mut Vec::new(), &mut out);
            let order = |v: &[Entry<usize>]| v.iter().map(|e| e.event).collect::<Vec<_>>();
            assert_eq!(order(&out), order(&want), "times {times:?}");
        }
    }

    #[test]
    fn time_bits_round_trip() {
        for t in [-3.5, -0.0, 0.0, 1e-300, 7.25, f64::INFINITY] {
            assert_eq!(bits_time(time_bits(t)).to_bits(), t.to_bits());
        }
    }

    #[test]
    fn time_bits_order_is_total_cmp_order() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -0.0,
            0.0,
            1e-300,
            1.0,
            2.5,
            1e300,
            f64::INFINITY,
        ];
        for a in xs {
            for b in xs {
                assert_eq!(
                    time_bits(a).cmp(&time_bits(b)),
                    a.total_cmp(&b),
                    "{a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn negative_zero_sorts_before_positive_zero_as_total_cmp_says() {
        let mut q = EventQueue::new();
        q.push(0.0, "pos");
        q.push(-0.0, "neg");
        assert_eq!(q.pop().map(|e| e.2), Some("neg"));
    }
}
