//! Where a node is in an outbox table, and which sequence numbers it has not
//! seen yet.
//!
//! On PostgreSQL a sequence number is taken when a row is inserted, but rows
//! become visible when their transaction commits, which may be in another
//! order: seq 11 can be readable while seq 10 is still in flight. Reading
//! only `seq > last` would then skip 10 forever. The cursor remembers such
//! holes and asks for them again until they appear or grow too old (a
//! rolled-back insert leaves a hole that is never filled).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Holes older than this are given up: no write transaction runs this long.
pub const PATIENCE: Duration = Duration::from_secs(30);
/// Bound on remembered holes, so a pathological jump cannot exhaust memory.
const MAX_MISSING: usize = 10_000;

#[derive(Debug)]
pub struct Cursor {
    high: i64,
    missing: BTreeMap<i64, Instant>,
}

impl Cursor {
    /// Starts after `head`, the highest sequence number already committed.
    pub fn new(head: i64) -> Cursor {
        Cursor { high: head, missing: BTreeMap::new() }
    }

    /// The highest sequence number seen; new rows are read after it.
    pub fn high(&self) -> i64 {
        self.high
    }

    /// Records a row read from the table; true when it is new to this node.
    pub fn observe(&mut self, seq: i64, now: Instant) -> bool {
        if seq > self.high {
            let first_hole = (self.high + 1).max(seq - MAX_MISSING as i64);
            for hole in first_hole..seq {
                self.missing.insert(hole, now);
            }
            self.high = seq;
            while self.missing.len() > MAX_MISSING {
                self.missing.pop_first();
            }
            true
        } else {
            self.missing.remove(&seq).is_some()
        }
    }

    /// The holes to look for again, oldest first.
    pub fn holes(&self) -> Vec<i64> {
        self.missing.keys().copied().collect()
    }

    pub fn has_holes(&self) -> bool {
        !self.missing.is_empty()
    }

    /// Forgets holes first seen more than `patience` ago.
    pub fn expire(&mut self, now: Instant, patience: Duration) {
        self.missing.retain(|_, seen| now.duration_since(*seen) < patience);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_rows_leave_no_holes() {
        let now = Instant::now();
        let mut c = Cursor::new(5);
        assert!(!c.observe(5, now), "rows up to the head are old");
        assert!(c.observe(6, now));
        assert!(c.observe(7, now));
        assert!(!c.observe(7, now), "a row is new only once");
        assert_eq!(c.high(), 7);
        assert!(!c.has_holes());
    }

    #[test]
    fn a_late_commit_is_delivered_once_when_it_appears() {
        let now = Instant::now();
        let mut c = Cursor::new(0);
        assert!(c.observe(1, now));
        assert!(c.observe(4, now), "4 committed before 2 and 3");
        assert_eq!(c.holes(), vec![2, 3]);
        assert!(c.observe(3, now));
        assert!(!c.observe(3, now));
        assert_eq!(c.holes(), vec![2]);
        assert!(c.observe(2, now));
        assert!(!c.has_holes());
        assert_eq!(c.high(), 4);
    }

    #[test]
    fn holes_are_given_up_after_the_patience() {
        let start = Instant::now();
        let mut c = Cursor::new(0);
        c.observe(3, start);
        c.expire(start + Duration::from_secs(1), Duration::from_secs(2));
        assert_eq!(c.holes(), vec![1, 2]);
        c.expire(start + Duration::from_secs(3), Duration::from_secs(2));
        assert!(!c.has_holes());
        assert!(!c.observe(1, start), "an expired hole that fills late is not replayed");
    }

    #[test]
    fn holes_are_bounded() {
        let now = Instant::now();
        let mut c = Cursor::new(0);
        c.observe(1_000_000, now);
        let holes = c.holes();
        assert_eq!(holes.len(), MAX_MISSING);
        assert_eq!(holes[0], 1_000_000 - MAX_MISSING as i64);
    }
}
