//! Working time: office hours per weekday, Vietnamese public holidays, the 15:00 cut-off and working-day deadlines.
//!
//! Simulated time is minutes since 00:00 of the calendar's start date. A
//! *working day* is a day with office hours that is not a public holiday (or
//! is a make-up working day). Working time is the union of the office
//! periods of working days.
//!
//! Deadline convention: a dossier received on a working day before the
//! cut-off (15:00) starts its clock that day; received later, or on a day
//! off, it starts on the next working day. A deadline of `n` working days
//! falls at the close of office on the `n`-th working day after the
//! clock-start day (`n = 0`: the close of the clock-start day itself). So a
//! 3-day procedure received on Monday at 10:00 is due on Thursday at close.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// Minutes in a day.
pub const DAY: f64 = 1440.0;

/// One open period of a day, in minutes after midnight: `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    /// Opening, minutes after midnight.
    pub start: u16,
    /// Closing, minutes after midnight (> start).
    pub end: u16,
}

impl Period {
    /// A period from `h1:m1` to `h2:m2`.
    pub const fn hm(h1: u16, m1: u16, h2: u16, m2: u16) -> Self {
        Self {
            start: h1 * 60 + m1,
            end: h2 * 60 + m2,
        }
    }
}

/// A public holiday (or make-up working day) with where its date comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holiday {
    /// The date.
    pub date: NaiveDate,
    /// What it is.
    pub name: &'static str,
    /// The source of the date.
    pub source: &'static str,
}

const ANNOUNCED: &str = "government announcement of the year's holiday schedule for civil servants";
const DERIVED: &str = "derived from Labour Code 2019 art. 112 (statutory days, compensation for weekly rest days); no announcement used";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    // The table below only holds valid dates; `from_ymd_opt` fails only on invalid ones.
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
}

/// The working days off of Vietnam's public holidays for civil servants,
/// 2022–2027: New Year, Tết (the lunar new year), Hùng Kings'
/// commemoration (10th day of the 3rd lunar month), Reunification Day
/// (30 April), Labour Day (1 May) and National Day (2 September and an
/// adjacent day), each with its compensatory and swapped days. Weekends are
/// not listed (they are off anyway).
pub fn vietnam_holidays() -> Vec<Holiday> {
    let mut v = Vec::new();
    let mut add = |dates: &[NaiveDate], name: &'static str, source: &'static str| {
        for &date in dates {
            v.push(Holiday { date, name, source });
        }
    };
    // 2022. New Year on Saturday → Monday 3 Jan. Tết 31 Jan–4 Feb. Hùng Kings
    // on Sunday 10 Apr → Monday 11 Apr. 30/4–1/5 on the weekend → 2–3 May. National Day 1–2 Sep.
    add(&[d(2022, 1, 3)], "new year (compensatory)", ANNOUNCED);
    add(
        &[
            d(2022, 1, 31),
            d(2022, 2, 1),
            d(2022, 2, 2),
            d(2022, 2, 3),
            d(2022, 2, 4),
        ],
        "tet",
        ANNOUNCED,
    );
    add(&[d(2022, 4, 11)], "hung kings (compensatory)", ANNOUNCED);
    add(
        &[d(2022, 5, 2), d(2022, 5, 3)],
        "30 april, 1 may (compensatory)",
        ANNOUNCED,
    );
    add(&[d(2022, 9, 1), d(2022, 9, 2)], "national day", ANNOUNCED);
    // 2023. New Year on Sunday → Monday 2 Jan. Tết 20–26 Jan. Hùng Kings (Sat 29 Apr),
    // 30/4 (Sun), 1/5 (Mon) → off 1–3 May. National Day 1 Sep (Fri), 2 Sep (Sat) → Monday 4 Sep.
    add(&[d(2023, 1, 2)], "new year (compensatory)", ANNOUNCED);
    add(
        &[
            d(2023, 1, 20),
            d(2023, 1, 23),
            d(2023, 1, 24),
            d(2023, 1, 25),
            d(2023, 1, 26),
        ],
        "tet",
        ANNOUNCED,
    );
    add(
        &[d(2023, 5, 1), d(2023, 5, 2), d(2023, 5, 3)],
        "hung kings, 30 april, 1 may",
        ANNOUNCED,
    );
    add(&[d(2023, 9, 1), d(2023, 9, 4)], "national day", ANNOUNCED);
    // 2024. Tết 8–14 Feb. Hùng Kings Thu 18 Apr. 29 Apr swapped with Sat 4 May. National Day 2–3 Sep.
    add(&[d(2024, 1, 1)], "new year", ANNOUNCED);
    add(
        &[
            d(2024, 2, 8),
            d(2024, 2, 9),
            d(2024, 2, 12),
            d(2024, 2, 13),
            d(2024, 2, 14),
        ],
        "tet",
        ANNOUNCED,
    );
    add(&[d(2024, 4, 18)], "hung kings", ANNOUNCED);
    add(
        &[d(2024, 4, 29), d(2024, 4, 30), d(2024, 5, 1)],
        "30 april, 1 may (29 april swapped)",
        ANNOUNCED,
    );
    add(&[d(2024, 9, 2), d(2024, 9, 3)], "national day", ANNOUNCED);
    // 2025. Tết 27–31 Jan. Hùng Kings Mon 7 Apr. 2 May swapped with Sat 26 Apr. National Day 1–2 Sep.
    add(&[d(2025, 1, 1)], "new year", ANNOUNCED);
    add(
        &[
            d(2025, 1, 27),
            d(2025, 1, 28),
            d(2025, 1, 29),
            d(2025, 1, 30),
            d(2025, 1, 31),
        ],
        "tet",
        ANNOUNCED,
    );
    add(&[d(2025, 4, 7)], "hung kings", ANNOUNCED);
    add(
        &[d(2025, 4, 30), d(2025, 5, 1), d(2025, 5, 2)],
        "30 april, 1 may (2 may swapped)",
        ANNOUNCED,
    );
    add(&[d(2025, 9, 1), d(2025, 9, 2)], "national day", ANNOUNCED);
    // 2026. Tết 16–20 Feb (announced: off Sat 14 – Sun 22 Feb). Hùng Kings Sun 26 Apr → Mon 27 Apr.
    add(&[d(2026, 1, 1)], "new year", ANNOUNCED);
    add(
        &[
            d(2026, 2, 16),
            d(2026, 2, 17),
            d(2026, 2, 18),
            d(2026, 2, 19),
            d(2026, 2, 20),
        ],
        "tet",
        ANNOUNCED,
    );
    add(&[d(2026, 4, 27)], "hung kings (compensatory)", DERIVED);
    add(&[d(2026, 4, 30), d(2026, 5, 1)], "30 april, 1 may", DERIVED);
    add(
        &[d(2026, 9, 1), d(2026, 9, 2)],
        "national day (adjacent day taken as 1 sep)",
        DERIVED,
    );
    // 2027. Lunar new year Sat 6 Feb: statutory 5–9 Feb, weekend days compensated on 10–11 Feb.
    add(&[d(2027, 1, 1)], "new year", DERIVED);
    add(
        &[
            d(2027, 2, 5),
            d(2027, 2, 8),
            d(2027, 2, 9),
            d(2027, 2, 10),
            d(2027, 2, 11),
        ],
        "tet",
        DERIVED,
    );
    add(&[d(2027, 4, 16)], "hung kings", DERIVED);
    add(
        &[d(2027, 4, 30), d(2027, 5, 3)],
        "30 april, 1 may (compensatory)",
        DERIVED,
    );
    add(
        &[d(2027, 9, 2), d(2027, 9, 3)],
        "national day (adjacent day taken as 3 sep)",
        DERIVED,
    );
    v
}

/// Saturdays worked in exchange for a weekday off (swaps in the announced schedules).
pub fn vietnam_make_up_days() -> Vec<Holiday> {
    vec![
        Holiday {
            date: d(2024, 5, 4),
            name: "make-up for 29 april",
            source: ANNOUNCED,
        },
        Holiday {
            date: d(2025, 4, 26),
            name: "make-up for 2 may",
            source: ANNOUNCED,
        },
    ]
}

/// The first and last year the built-in holiday table covers.
pub const HOLIDAY_YEARS: (i32, i32) = (2022, 2027);

/// A working calendar.
#[derive(Clone, Debug)]
pub struct WorkCalendar {
    start: NaiveDate,
    /// Office periods per weekday, Monday first.
    week: [Vec<Period>; 7],
    holidays: BTreeSet<NaiveDate>,
    make_up: BTreeSet<NaiveDate>,
    /// Make-up days use the office periods of this weekday (Monday by default).
    make_up_pattern: usize,
    cutoff: u16,
    /// Precomputed week pattern of days `0..CACHE_DAYS` (index into `week`, or 7 for a day off).
    cache: Vec<u8>,
    /// Working time of days `0..CACHE_DAYS` laid out for constant-time arithmetic.
    table: Table,
}

/// The open intervals and working days of the cached days, so that working
/// time arithmetic walks a flat array instead of days and weekday patterns.
/// Times outside the cached days take the day-by-day path.
#[derive(Clone, Debug, Default)]
struct Table {
    /// Open intervals as absolute minutes `[start, end)`, in order.
    open: Vec<(f64, f64)>,
    /// Index into `open` of each day's first interval (`CACHE_DAYS + 1` entries).
    day_first: Vec<u32>,
    /// Working minutes before each interval (integers, so sums are exact).
    before: Vec<f64>,
    /// Working days before each day (`CACHE_DAYS + 1` entries).
    ordinal: Vec<u32>,
    /// The working days in order.
    working: Vec<u32>,
    /// The close of office of each working day (`close_of(working[k])`),
    /// so that an appointment is three table reads, not a walk.
    close: Vec<f64>,
}

/// Below 2^52 minutes (8.6 billion years, past any run) [`WorkCalendar::day_of`]
/// is worked out in integers; from there on, by the division.
const EXACT_DAY_LIMIT: f64 = 4_503_599_627_370_496.0;

/// Days whose pattern is precomputed (about 16 years); later days are computed on demand.
const CACHE_DAYS: i64 = 6000;

/// The day no walk goes past (about 56 years after the start, far after the
/// end of any run, whose horizon and warm-up are at most 11 years): an
/// answer that would lie later is this day's midnight instead, so that no
/// input, however large, makes working-time arithmetic loop for long.
pub const FAR_DAY: i64 = CACHE_DAYS + 40 * 366;

/// [`FAR_DAY`]'s midnight, minutes: later than any event of any run.
pub const FAR: f64 = FAR_DAY as f64 * DAY;
const NO_PERIODS: &[Period] = &[];

/// Default office hours: Monday–Friday 07:30–11:30 and 13:30–17:00.
pub fn default_week(saturday_morning: bool) -> [Vec<Period>; 7] {
    let day = vec![Period::hm(7, 30, 11, 30), Period::hm(13, 30, 17, 0)];
    let sat = if saturday_morning {
        vec![Period::hm(7, 30, 11, 30)]
    } else {
        vec![]
    };
    [
        day.clone(),
        day.clone(),
        day.clone(),
        day.clone(),
        day,
        sat,
        vec![],
    ]
}

impl WorkCalendar {
    /// A calendar starting at `start` with the given week, holidays and make-up days, and the 15:00 cut-off.
    pub fn new(
        start: NaiveDate,
        week: [Vec<Period>; 7],
        holidays: impl IntoIterator<Item = NaiveDate>,
        make_up: impl IntoIterator<Item = NaiveDate>,
    ) -> Self {
        let mut cal = Self {
            start,
            week,
            holidays: holidays.into_iter().collect(),
            make_up: make_up.into_iter().collect(),
            make_up_pattern: 0,
            cutoff: 15 * 60,
            cache: Vec::new(),
            table: Table::default(),
        };
        cal.rebuild();
        cal
    }

    /// Recomputes the cached day patterns and the working-time table.
    fn rebuild(&mut self) {
        self.cache = (0..CACHE_DAYS).map(|d| self.pattern_uncached(d)).collect();
        let mut t = Table::default();
        let mut worked = 0.0;
        for day in 0..CACHE_DAYS {
            t.day_first.push(t.open.len() as u32);
            t.ordinal.push(t.working.len() as u32);
            let base = day as f64 * DAY;
            let periods = self.periods(day);
            if let Some(last) = periods.last() {
                t.working.push(day as u32);
                t.close.push(base + f64::from(last.end));
            }
            for p in periods {
                t.open
                    .push((base + f64::from(p.start), base + f64::from(p.end)));
                t.before.push(worked);
                worked += f64::from(p.end - p.start);
            }
        }
        t.day_first.push(t.open.len() as u32);
        t.ordinal.push(t.working.len() as u32);
        t.before.push(worked);
        self.table = t;
    }

    /// The first cached open interval that ends after `t`, if `t` falls in
    /// the cached days and such an interval exists.
    #[inline]
    fn interval_after(&self, t: f64) -> Option<usize> {
        let day = Self::day_of(t);
        if !(0..CACHE_DAYS).contains(&day) {
            return None;
        }
        let open = &self.table.open;
        let mut i = self.table.day_first[day as usize] as usize;
        while let Some(&(_, e)) = open.get(i) {
            if e > t {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// Working minutes from time 0 to `t`, if `t` falls in the cached days.
    #[inline]
    fn worked_until(&self, t: f64) -> Option<f64> {
        let i = self.interval_after(t)?;
        Some(self.table.before[i] + (t - self.table.open[i].0).max(0.0))
    }

    /// The week pattern of day `day`: an index into the weekly periods, or 7 for a day off.
    fn pattern_uncached(&self, day: i64) -> u8 {
        let date = self.date(day);
        if self.make_up.contains(&date) {
            return self.make_up_pattern as u8;
        }
        if self.holidays.contains(&date) {
            return 7;
        }
        date.weekday().num_days_from_monday() as u8
    }

    /// Vietnam's default: Monday–Friday office hours, optional Saturday
    /// morning, the built-in public holidays and make-up days, 15:00 cut-off.
    pub fn vietnam(start: NaiveDate, saturday_morning: bool) -> Self {
        Self::new(
            start,
            default_week(saturday_morning),
            vietnam_holidays().into_iter().map(|h| h.date),
            vietnam_make_up_days().into_iter().map(|h| h.date),
        )
    }

    /// Opens (or closes) Saturday mornings, 07:30–11:30, keeping the rest of the calendar.
    pub fn set_saturday_morning(&mut self, open: bool) {
        self.week[5] = if open {
            vec![Period::hm(7, 30, 11, 30)]
        } else {
            vec![]
        };
        self.rebuild();
    }

    /// Sets the cut-off, minutes after midnight (default 900 = 15:00).
    pub fn with_cutoff(mut self, minutes: u16) -> Self {
        self.cutoff = minutes;
        self
    }

    /// The start date (time 0 is its midnight).
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// The date of day index `day` (0 = the start date), saturating at the
    /// first and last dates the calendar library knows.
    pub fn date(&self, day: i64) -> NaiveDate {
        Duration::try_days(day)
            .and_then(|d| self.start.checked_add_signed(d))
            .unwrap_or(if day > 0 {
                NaiveDate::MAX
            } else {
                NaiveDate::MIN
            })
    }

    /// The day index of `t` minutes: `⌊t / DAY⌋`, exactly, which is also
    /// what the floating-point division gives (it cannot round a time
    /// before midnight up to the next day: a `t` below `k·DAY` is below it
    /// by at least its own ulp, and that ulp divided by `DAY` is more than
    /// half the spacing of the floats below `k`, since `DAY` ≥ 2^10; tested).
    ///
    /// The day of a time is asked about four times an event, so it is worked
    /// out in integers: for `0 ≤ t < 2^52`, `⌊t / DAY⌋ = ⌊⌊t⌋ / DAY⌋` (`DAY` is
    /// a whole number of minutes) and `⌊t⌋` is the truncation, so the day
    /// is one conversion and an integer division by a constant (a multiply
    /// and a shift). Negative times and times past 2^52 minutes are divided.
    #[inline]
    pub fn day_of(t: f64) -> i64 {
        if (0.0..EXACT_DAY_LIMIT).contains(&t) {
            // Truncation is the floor here (t is not negative).
            return ((t as i64 as u64) / DAY as u64) as i64;
        }
        crate::engine::floor_i64(t / DAY)
    }

    /// The office periods of day `day` (empty on a day off).
    #[inline]
    pub fn periods(&self, day: i64) -> &[Period] {
        let k = match usize::try_from(day).ok().and_then(|d| self.cache.get(d)) {
            Some(&k) => k,
            None => self.pattern_uncached(day),
        };
        match self.week.get(usize::from(k)) {
            Some(p) => p,
            None => NO_PERIODS,
        }
    }

    /// Whether day `day` has office hours.
    pub fn is_working_day(&self, day: i64) -> bool {
        !self.periods(day).is_empty()
    }

    /// Whether the office is open at `t`.
    pub fn is_open(&self, t: f64) -> bool {
        let day = Self::day_of(t);
        let m = t - day as f64 * DAY;
        self.periods(day)
            .iter()
            .any(|p| f64::from(p.start) <= m && m < f64::from(p.end))
    }

    /// The first instant at or after `t` when the office is open.
    #[inline]
    pub fn next_open(&self, t: f64) -> f64 {
        match self.interval_after(t) {
            Some(i) => t.max(self.table.open[i].0),
            None => self.next_open_by_days(t),
        }
    }

    fn next_open_by_days(&self, t: f64) -> f64 {
        let mut day = Self::day_of(t);
        if day >= FAR_DAY {
            return t.max(FAR);
        }
        let mut m = t - day as f64 * DAY;
        while day < FAR_DAY {
            for p in self.periods(day) {
                if m < f64::from(p.end) {
                    return day as f64 * DAY + m.max(f64::from(p.start));
                }
            }
            day += 1;
            m = 0.0;
        }
        FAR
    }

    /// The instant `minutes` of working time after `t` (working time
    /// elapses only while the office is open).
    #[inline]
    pub fn add_working_minutes(&self, t: f64, minutes: f64) -> f64 {
        let mut left = minutes.max(0.0);
        if !left.is_finite() {
            return t.max(FAR);
        }
        let Some(mut i) = self.interval_after(t) else {
            return self.add_working_minutes_by_days(t, left);
        };
        let open = &self.table.open;
        let mut from = t.max(open[i].0);
        for _ in 0..4 {
            let e = open[i].1;
            if from + left <= e {
                return from + left;
            }
            left -= e - from;
            i += 1;
            match open.get(i) {
                Some(&(s, _)) => from = s,
                None => return self.add_working_minutes_by_days(e, left),
            }
        }
        // Days ahead: find the interval by the cumulative working minutes.
        // It is the first `j` whose end (`before[j + 1]`) reaches the target,
        // so a target at an interval's end gives that end, as above.
        // The target is mostly a few days ahead: gallop from `i` (1, 2, 4,
        // ... intervals on) to bracket it, then search the bracket. Any
        // search gives the same `j`; this one reads a few nearby entries
        // instead of halving the whole table's remainder (a chain of
        // dependent loads across it).
        let before = &self.table.before;
        let target = before[i] + left;
        let rest = &before[i + 1..];
        let mut end = 1;
        while end < rest.len() && rest[end - 1] < target {
            end *= 2;
        }
        let start = end / 2;
        let end = end.min(rest.len());
        let j = i + start + rest[start..end].partition_point(|&b| b < target);
        match open.get(j) {
            Some(&(s, _)) => s + (target - before[j]),
            None => {
                let last = open.len() - 1;
                let done = before[open.len()];
                self.add_working_minutes_by_days(open[last].1, target - done)
            }
        }
    }

    fn add_working_minutes_by_days(&self, t: f64, minutes: f64) -> f64 {
        let mut left = minutes.max(0.0);
        let mut day = Self::day_of(t);
        if day >= FAR_DAY || !t.is_finite() {
            return t.max(FAR);
        }
        let mut m = t - day as f64 * DAY;
        while day < FAR_DAY {
            for p in self.periods(day) {
                let (s, e) = (f64::from(p.start), f64::from(p.end));
                if m >= e {
                    continue;
                }
                let from = m.max(s);
                if from + left <= e {
                    return day as f64 * DAY + from + left;
                }
                left -= e - from;
                m = e;
            }
            day += 1;
            m = 0.0;
        }
        FAR
    }

    /// Working minutes in `[a, b)` (0 when `b ≤ a`).
    #[inline]
    pub fn working_minutes_between(&self, a: f64, b: f64) -> f64 {
        if b <= a {
            return 0.0;
        }
        match (self.worked_until(a), self.worked_until(b)) {
            (Some(wa), Some(wb)) => wb - wa,
            _ => self.working_minutes_between_by_days(a, b),
        }
    }

    fn working_minutes_between_by_days(&self, a: f64, b: f64) -> f64 {
        let (da, db) = (Self::day_of(a).max(-FAR_DAY), Self::day_of(b).min(FAR_DAY));
        let mut total = 0.0;
        for day in da..=db {
            let base = day as f64 * DAY;
            for p in self.periods(day) {
                let s = (base + f64::from(p.start)).max(a);
                let e = (base + f64::from(p.end)).min(b);
                if e > s {
                    total += e - s;
                }
            }
        }
        total
    }

    /// The `n`-th working day after day `day` (`n = 0`: `day` itself if it is a working day, else the next one).
    #[inline]
    pub fn add_working_days(&self, day: i64, n: u32) -> i64 {
        if let Ok(d) = usize::try_from(day)
            && let Some(&k) = self.table.ordinal.get(d)
            && let Some(&w) = self.table.working.get(k as usize + n as usize)
        {
            return i64::from(w);
        }
        self.add_working_days_by_days(day, n)
    }

    fn add_working_days_by_days(&self, day: i64, n: u32) -> i64 {
        let mut d = day.min(FAR_DAY);
        while !self.is_working_day(d) && d < FAR_DAY {
            d += 1;
        }
        let mut left = n;
        while left > 0 && d < FAR_DAY {
            d += 1;
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The day the deadline clock starts for a dossier received at `t`: that
    /// day if it is a working day and `t` is before the cut-off, else the next working day.
    pub fn clock_start_day(&self, t: f64) -> i64 {
        let day = Self::day_of(t);
        if self.is_working_day(day) && self.before_cutoff(t, day) {
            day
        } else {
            self.add_working_days(day + 1, 0)
        }
    }

    /// Whether `t`, on day `day`, is before that day's cut-off for starting the clock.
    #[inline]
    fn before_cutoff(&self, t: f64, day: i64) -> bool {
        t - day as f64 * DAY < f64::from(self.cutoff)
    }

    /// The close of office on day `day` (its last period's end; midnight for a day off).
    pub fn close_of(&self, day: i64) -> f64 {
        day as f64 * DAY + self.periods(day).last().map_or(0.0, |p| f64::from(p.end))
    }

    /// The appointment time for a dossier received complete at `t` with a deadline of `n` working days.
    ///
    /// Within the cached days it is read from the table: the clock starts
    /// on the `ordinal[day]`-th working day if `day` is one and `t` is
    /// before the cut-off, else on the `ordinal[day + 1]`-th, and the
    /// appointment is the close of the working day `n` on. The same answer
    /// as the walk below it (tested).
    #[inline]
    pub fn appointment(&self, t: f64, n: u32) -> f64 {
        let day = Self::day_of(t);
        if let Ok(d) = usize::try_from(day)
            && let (Some(&k), Some(&k_next)) =
                (self.table.ordinal.get(d), self.table.ordinal.get(d + 1))
        {
            let working = k_next > k;
            let first = if working && self.before_cutoff(t, day) {
                k
            } else {
                k_next
            };
            if let Some(&close) = self.table.close.get(first as usize + n as usize) {
                return close;
            }
        }
        self.appointment_by_days(t, n)
    }

    fn appointment_by_days(&self, t: f64, n: u32) -> f64 {
        self.close_of(self.add_working_days(self.clock_start_day(t), n))
    }

    /// The open periods in `[from, to)` as absolute (start, end) minutes, for building capacity schedules.
    pub fn open_intervals(&self, from: f64, to: f64) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        for day in Self::day_of(from)..=Self::day_of(to) {
            let base = day as f64 * DAY;
            for p in self.periods(day) {
                let s = (base + f64::from(p.start)).max(from);
                let e = (base + f64::from(p.end)).min(to);
                if e > s {
                    out.push((s, e));
                }
            }
        }
        out
    }

    /// Weekday of day `day`.
    pub fn weekday(&self, day: i64) -> Weekday {
        self.date(day).weekday()
    }

    /// Day of year (1-based) and month (1–12) of day `day`, for seasonal profiles.
    pub fn month(&self, day: i64) -> u32 {
        self.date(day).month()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal() -> WorkCalendar {
        // Monday 10 January 2022 (Monday 3 January is the New Year compensatory holiday).
        WorkCalendar::vietnam(d(2022, 1, 10), false)
    }

    fn at(day: i64, h: u16, m: u16) -> f64 {
        day as f64 * DAY + f64::from(h * 60 + m)
    }

    #[test]
    fn the_holiday_table_lists_only_weekdays_and_covers_every_year() {
        let hs = vietnam_holidays();
        for h in &hs {
            assert!(
                h.date.weekday().num_days_from_monday() < 5,
                "{h:?} falls on a weekend"
            );
        }
        for y in HOLIDAY_YEARS.0..=HOLIDAY_YEARS.1 {
            let tet = hs
                .iter()
                .filter(|h| h.date.year() == y && h.name == "tet")
                .count();
            assert_eq!(tet, 5, "tết of {y} must be five working days");
        }
        for m in vietnam_make_up_days() {
            assert_eq!(m.date.weekday(), Weekday::Sat);
        }
    }

    #[test]
    fn a_three_day_procedure_received_monday_morning_is_due_thursday_at_close() {
        let c = cal();
        assert_eq!(c.appointment(at(0, 10, 0), 3), at(3, 17, 0));
    }

    #[test]
    fn a_dossier_received_after_the_cut_off_starts_its_clock_the_next_working_day() {
        let c = cal();
        assert_eq!(c.clock_start_day(at(0, 14, 59)), 0);
        assert_eq!(c.clock_start_day(at(0, 15, 0)), 1);
        // Friday 14 Jan after 15:00 → Monday 17 Jan.
        assert_eq!(c.clock_start_day(at(4, 16, 0)), 7);
        assert_eq!(c.appointment(at(4, 16, 0), 0), at(7, 17, 0));
    }

    #[test]
    fn deadlines_skip_tet() {
        // Received Friday 28 Jan 2022 (day 18) with 2 working days: Tết runs
        // 31 Jan–4 Feb, so the clock counts Mon 7 and Tue 8 Feb.
        let c = cal();
        let due = c.appointment(at(18, 9, 0), 2);
        assert_eq!(c.date(WorkCalendar::day_of(due)), d(2022, 2, 8));
    }

    #[test]
    fn working_minutes_skip_lunch_nights_and_weekends() {
        let c = cal();
        // Monday 11:00 + 60 working minutes → 13:30 + 30 = 14:00.
        assert_eq!(c.add_working_minutes(at(0, 11, 0), 60.0), at(0, 14, 0));
        // Friday 16:30 + 60 → Monday 08:00.
        assert_eq!(c.add_working_minutes(at(4, 16, 30), 60.0), at(7, 8, 0));
        assert_eq!(c.working_minutes_between(at(0, 0, 0), at(1, 0, 0)), 450.0);
        assert_eq!(c.next_open(at(5, 12, 0)), at(7, 7, 30));
    }

    #[test]
    fn saturday_morning_opening_adds_a_half_day() {
        let c = WorkCalendar::vietnam(d(2022, 1, 10), true);
        assert_eq!(
            c.working_minutes_between(at(0, 0, 0), at(7, 0, 0)),
            5.0 * 450.0 + 240.0
        );
    }

    #[test]
    fn new_year_compensatory_monday_is_a_day_off() {
        let c = WorkCalendar::vietnam(d(2022, 1, 3), false);
        assert!(!c.is_working_day(0));
        assert_eq!(c.clock_start_day(at(0, 9, 0)), 1);
    }

    #[test]
    fn a_make_up_saturday_is_a_working_day() {
        let c = WorkCalendar::vietnam(d(2024, 5, 4), false);
        assert!(c.is_working_day(0));
        assert!(!c.is_working_day(1));
    }

    /// A small deterministic generator for the property tests.
    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        *seed >> 11
    }

    #[test]
    fn property_adding_working_days_is_monotone_and_lands_on_working_days() {
        let c = cal();
        let mut s = 1;
        for _ in 0..20_000 {
            let day = (lcg(&mut s) % 1800) as i64;
            let n = (lcg(&mut s) % 30) as u32;
            let a = c.add_working_days(day, n);
            let b = c.add_working_days(day, n + 1);
            assert!(c.is_working_day(a) && c.is_working_day(b));
            assert!(b > a && a >= day);
            // Exactly n working days lie strictly between the start working day and a.
            let start = c.add_working_days(day, 0);
            let between = (start + 1..=a).filter(|&x| c.is_working_day(x)).count() as u32;
            assert_eq!(between, n);
            // Later receipt never gives an earlier appointment.
            let t = day as f64 * DAY + (lcg(&mut s) % 1440) as f64;
            assert!(c.appointment(t, n) <= c.appointment(t + 60.0, n));
            assert!(c.appointment(t, n) < c.appointment(t, n + 1));
        }
    }

    #[test]
    fn property_working_time_arithmetic_is_consistent() {
        let c = cal();
        let mut s = 7;
        for _ in 0..20_000 {
            let t = (lcg(&mut s) % (1800 * 1440)) as f64 + 0.25;
            let m = (lcg(&mut s) % 5000) as f64;
            let u = c.add_working_minutes(t, m);
            assert!(u >= t);
            // The working minutes between t and t + m working minutes are m.
            assert!(
                (c.working_minutes_between(t, u) - m).abs() < 1e-6,
                "t {t}, m {m}"
            );
            // The end lies inside (or at the close of) an open period.
            if m > 0.0 {
                assert!(c.is_open(u - 1e-6));
            }
            let o = c.next_open(t);
            assert!(o >= t && c.is_open(o));
            assert_eq!(c.working_minutes_between(t, o), 0.0);
        }
    }

    #[test]
    fn the_day_of_a_time_is_what_the_division_gives_at_every_boundary() {
        // The division's floor, and for 0 ≤ t < 2^52 the exact one too:
        // d·DAY ≤ t < (d + 1)·DAY, both products exact (d < 2^42).
        let by_division = |t: f64| crate::engine::floor_i64(t / DAY);
        let check = |t: f64| {
            let d = WorkCalendar::day_of(t);
            assert_eq!(d, by_division(t), "t {t:e}");
            if (0.0..EXACT_DAY_LIMIT).contains(&t) {
                assert!(
                    d as f64 * DAY <= t && t < (d + 1) as f64 * DAY,
                    "t {t:e}: day {d}"
                );
            }
        };
        let mut s = 7;
        for _ in 0..200_000 {
            // Random times over 40 years, and each day's start and end to a few ulps.
            let t = (lcg(&mut s) % 21_000_000_000) as f64 / 1000.0;
            check(t);
            let day = (lcg(&mut s) % 15_000) as f64;
            for edge in [day * DAY, (day + 1.0) * DAY] {
                let mut x = edge;
                let mut y = edge;
                for _ in 0..4 {
                    check(x);
                    check(y);
                    x = x.next_up();
                    y = y.next_down();
                }
            }
        }
        for t in [
            0.0,
            -0.0,
            -1e-300,
            -1.0,
            -1440.0,
            -1441.0,
            5e-324,
            1e15,
            1.6e15,
            EXACT_DAY_LIMIT - 1.0,
            EXACT_DAY_LIMIT,
            1e300,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ] {
            check(t);
        }
    }

    #[test]
    fn the_table_answers_as_the_day_by_day_walk_does_including_past_the_cached_days() {
        for c in [cal(), WorkCalendar::vietnam(d(2022, 1, 10), true)] {
            let mut s = 11;
            for i in 0..50_000 {
                // Mostly fine-grained times; one in ten near the end of the cached days.
                let day = if i % 10 == 0 {
                    CACHE_DAYS - 40 + (lcg(&mut s) % 80) as i64
                } else {
                    (lcg(&mut s) % 1800) as i64
                };
                let t = day as f64 * DAY + (lcg(&mut s) % 1_440_000) as f64 / 1000.0;
                // Mostly up to 12 working days; one in seven up to 125
                // (a long search through the table of intervals).
                let m = if i % 7 == 0 {
                    (lcg(&mut s) % 6_000_000) as f64 / 100.0
                } else {
                    (lcg(&mut s) % 600_000) as f64 / 100.0
                };
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * a.abs().max(1.0);
                let u = c.add_working_minutes(t, m);
                assert!(close(u, c.add_working_minutes_by_days(t, m)), "t {t} m {m}");
                assert!(close(c.next_open(t), c.next_open_by_days(t)), "t {t}");
                let b = t + m * 3.0;
                assert!(
                    close(
                        c.working_minutes_between(t, b),
                        c.working_minutes_between_by_days(t, b)
                    ),
                    "t {t} b {b}"
                );
                let n = (lcg(&mut s) % 40) as u32;
                assert_eq!(
                    c.add_working_days(day, n),
                    c.add_working_days_by_days(day, n)
                );
                assert_eq!(
                    c.appointment(t, n),
                    c.appointment_by_days(t, n),
                    "t {t} n {n}"
                );
                // Each day's cut-off and midnight, and a hair either side.
                for edge in [day as f64 * DAY + f64::from(c.cutoff), day as f64 * DAY] {
                    for x in [edge.next_down(), edge, edge.next_up()] {
                        assert_eq!(c.appointment(x, n), c.appointment_by_days(x, n), "t {x}");
                    }
                }
            }
        }
    }
}
