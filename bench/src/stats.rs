//! What one measurement step saw: end-to-end latency in an HDR histogram (with several nodes,
//! also apart for messages sent on the receiver's node and on another one), and per
//! (receiver, sender) sequence tracking that tells delivered, duplicated, out-of-order and lost
//! messages apart.

use crate::wire::Marker;
use hdrhistogram::Histogram;

/// Sequence state of one sender as one receiver sees it: the next expected number and a
/// bitmap of the 64 numbers below it (bit `i` = `next - 1 - i` arrived).
#[derive(Clone, Copy, Default)]
struct Seq {
    next: u64,
    seen: u64,
}

pub struct Stats {
    pub step: u32,
    pub latency_us: Histogram<u64>,
    /// With several nodes: latency of messages whose sender is on the receiver's node, and on
    /// another node (client i is on node i mod nodes).
    pub same_node_us: Histogram<u64>,
    pub cross_node_us: Histogram<u64>,
    nodes: usize,
    pub delivered: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub errors: u64,
    /// Messages of an earlier step that arrived after it was closed.
    pub stale: u64,
    /// When the step's first and latest messages arrived (µs on the fleet's clock).
    pub first_arrival_us: Option<u64>,
    pub last_arrival_us: u64,
    senders: usize,
    seqs: Vec<Seq>,
}

impl Stats {
    pub fn new(receivers: usize, senders: usize, nodes: usize) -> Self {
        let histogram =
            || Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds");
        Self {
            step: 0,
            latency_us: histogram(),
            same_node_us: histogram(),
            cross_node_us: histogram(),
            nodes: nodes.max(1),
            delivered: 0,
            duplicates: 0,
            out_of_order: 0,
            errors: 0,
            stale: 0,
            first_arrival_us: None,
            last_arrival_us: 0,
            senders: senders.max(1),
            seqs: vec![Seq::default(); receivers * senders.max(1)],
        }
    }

    /// Clears everything for a new step.
    pub fn reset(&mut self, step: u32) {
        self.step = step;
        self.latency_us.reset();
        self.same_node_us.reset();
        self.cross_node_us.reset();
        self.delivered = 0;
        self.duplicates = 0;
        self.out_of_order = 0;
        self.errors = 0;
        self.first_arrival_us = None;
        self.last_arrival_us = 0;
        self.seqs.iter_mut().for_each(|s| *s = Seq::default());
    }

    /// Records one received message.
    pub fn record(&mut self, receiver: usize, marker: Marker, now_us: u64) {
        if marker.step != self.step {
            self.stale += 1;
            return;
        }
        let Some(seq) = self
            .seqs
            .get_mut(receiver * self.senders + marker.sender as usize)
        else {
            self.errors += 1;
            return;
        };
        if marker.seq >= seq.next {
            if marker.seq > seq.next {
                self.out_of_order += 1;
            }
            let shift = marker.seq + 1 - seq.next;
            seq.seen = if shift >= 64 {
                1
            } else {
                (seq.seen << shift) | 1
            };
            seq.next = marker.seq + 1;
        } else {
            let back = seq.next - 1 - marker.seq;
            if back < 64 && seq.seen & (1 << back) != 0 {
                self.duplicates += 1;
                return;
            }
            if back < 64 {
                seq.seen |= 1 << back;
            }
            self.out_of_order += 1;
        }
        self.delivered += 1;
        self.first_arrival_us.get_or_insert(now_us);
        self.last_arrival_us = now_us;
        let latency = now_us.saturating_sub(marker.sent_us).max(1);
        let _ = self.latency_us.record(latency);
        if self.nodes > 1 {
            let same = receiver % self.nodes == marker.sender as usize % self.nodes;
            let path = if same {
                &mut self.same_node_us
            } else {
                &mut self.cross_node_us
            };
            let _ = path.record(latency);
        }
    }

    pub fn percentile_us(&self, quantile: f64) -> u64 {
        self.latency_us.value_at_quantile(quantile)
    }

    /// Seconds from the first to the latest arrival: for a server that keeps up, about the
    /// step's length; for one that falls behind, longer.
    pub fn arrival_secs(&self) -> f64 {
        self.first_arrival_us
            .map_or(0.0, |first| (self.last_arrival_us - first) as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(seq: u64) -> Marker {
        Marker {
            step: 1,
            sender: 0,
            seq,
            sent_us: 0,
        }
    }

    #[test]
    fn tells_in_order_gaps_late_arrivals_and_duplicates_apart() {
        let mut stats = Stats::new(1, 1, 1);
        stats.reset(1);
        for seq in [0, 1, 3, 2, 2, 4] {
            stats.record(0, marker(seq), 10);
        }
        assert_eq!(stats.delivered, 5);
        assert_eq!(stats.duplicates, 1);
        assert_eq!(stats.out_of_order, 2, "3 overtook 2, then 2 arrived late");
        stats.record(
            0,
            Marker {
                step: 0,
                ..marker(9)
            },
            10,
        );
        assert_eq!(stats.stale, 1);
    }

    #[test]
    fn with_two_nodes_tells_same_node_and_cross_node_latency_apart() {
        let mut stats = Stats::new(2, 2, 2);
        stats.reset(1);
        let from = |sender, sent_us| Marker {
            step: 1,
            sender,
            seq: 0,
            sent_us,
        };
        stats.record(0, from(0, 1_000), 2_000); // node 0 → node 0
        stats.record(1, from(0, 1_000), 9_000); // node 0 → node 1
        stats.record(1, from(1, 1_000), 3_000); // node 1 → node 1
        assert_eq!(stats.same_node_us.len(), 2);
        assert_eq!(stats.cross_node_us.len(), 1);
        assert!(stats.cross_node_us.min() >= 7_900);
    }
}
