//! Which units are free, by pool and zone, so "the nearest free unit" is a scan over zones, not
//! over units. Within a (pool, zone) the lowest unit index is taken: a fixed tie rule.

/// A bitset of free units per (pool, zone).
#[derive(Clone, Debug)]
pub struct FreeUnits {
    zones: usize,
    /// Words per zone for each pool.
    words: Vec<usize>,
    /// Index of each pool's first word.
    offsets: Vec<usize>,
    bits: Vec<u64>,
    /// Free units per (pool, zone), at `pool * zones + zone`.
    counts: Vec<u32>,
}

impl FreeUnits {
    /// `pool_sizes[p]` units in pool `p`.
    pub fn new(pool_sizes: &[u32], zones: usize) -> Self {
        let words: Vec<usize> = pool_sizes
            .iter()
            .map(|&n| (n as usize).div_ceil(64))
            .collect();
        let mut offsets = Vec::with_capacity(words.len());
        let mut total = 0;
        for &w in &words {
            offsets.push(total);
            total += w * zones;
        }
        Self {
            zones,
            words,
            offsets,
            bits: vec![0; total],
            counts: vec![0; pool_sizes.len() * zones],
        }
    }

    #[inline]
    fn word(&self, pool: usize, zone: usize, index: u32) -> usize {
        self.offsets[pool] + zone * self.words[pool] + (index as usize >> 6)
    }

    pub fn insert(&mut self, pool: usize, zone: usize, index: u32) {
        let word = self.word(pool, zone, index);
        let mask = 1u64 << (index & 63);
        debug_assert!(self.bits[word] & mask == 0, "unit freed twice");
        self.bits[word] |= mask;
        self.counts[pool * self.zones + zone] += 1;
    }

    pub fn remove(&mut self, pool: usize, zone: usize, index: u32) {
        let word = self.word(pool, zone, index);
        let mask = 1u64 << (index & 63);
        debug_assert!(self.bits[word] & mask != 0, "unit was not free");
        self.bits[word] &= !mask;
        self.counts[pool * self.zones + zone] -= 1;
    }

    #[inline]
    pub fn count(&self, pool: usize, zone: usize) -> u32 {
        self.counts[pool * self.zones + zone]
    }

    /// The lowest free unit index of a pool in a zone.
    #[inline]
    pub fn first(&self, pool: usize, zone: usize) -> Option<u32> {
        if self.count(pool, zone) == 0 {
            return None;
        }
        let start = self.offsets[pool] + zone * self.words[pool];
        self.bits[start..start + self.words[pool]]
            .iter()
            .enumerate()
            .find(|(_, w)| **w != 0)
            .map(|(i, w)| (i * 64) as u32 + w.trailing_zeros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_index_first_per_pool_and_zone() {
        let mut free = FreeUnits::new(&[130, 3], 2);
        assert_eq!(free.first(0, 1), None);
        free.insert(0, 1, 129);
        free.insert(0, 1, 70);
        free.insert(0, 0, 5);
        free.insert(1, 1, 2);
        assert_eq!(free.first(0, 1), Some(70));
        assert_eq!(free.count(0, 1), 2);
        free.remove(0, 1, 70);
        assert_eq!(free.first(0, 1), Some(129));
        assert_eq!(free.first(0, 0), Some(5));
        assert_eq!(free.first(1, 1), Some(2));
        assert_eq!(free.first(1, 0), None);
    }
}
