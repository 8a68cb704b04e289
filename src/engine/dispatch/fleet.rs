//! The fleet: every unit, what state it is in, where it is, and which units are free, by pool
//! and zone. Shift rules (which days and hours a block of a pool works) are here too; the
//! dispatch model turns them into events.

use super::free_units::FreeUnits;
use crate::scenario::{AfterClear, KINDS, PoolId, ResponderKind, Scenario, UnitId, ZoneId};

const MINUTES_PER_DAY: f64 = 1440.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitState {
    OffDuty,
    Free,
    OnCall,
    Returning,
}

#[derive(Clone, Debug)]
pub struct Unit {
    pub pool: u16,
    pub index_in_pool: u32,
    pub kind: ResponderKind,
    pub home: ZoneId,
    /// Where it is (or, on a call, where it will be when it clears).
    pub zone: ZoneId,
    pub state: UnitState,
    /// Shift blocks covering now; on duty by schedule while > 0.
    pub active_blocks: u8,
    /// Its pool drives back to base after a call (`after_clear = "return"`), kept here so a
    /// clear reads it with the unit.
    pub returns_to_base: bool,
    /// When it was sent to its call (or, returning, when it cleared).
    pub busy_since: f64,
    /// When it came on duty.
    pub duty_since: f64,
    /// Slot of the call it is on.
    pub call_slot: u32,
    /// Its on-scene time is over and it is taking the person somewhere (outcome time): its
    /// next clear is the real one.
    pub after_scene: bool,
    /// Where it is taking the person, when it is (see [`Trip`]).
    pub trip: Trip,
}

/// A unit's work after the scene: when the scene ended, which preference list it follows and
/// how far down it is, what follows, and the minutes it adds at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Trip {
    pub scene_ended: f64,
    /// The list it follows: booking (a jail) when true, else treatment.
    pub booking: bool,
    /// Position in that list of the facility it is driving to.
    pub stop: u16,
    /// After the treatment leg, the person is booked (a booking leg follows).
    pub then_booking: bool,
    /// Minutes added after the last handover (arrest paperwork, reports).
    pub extra_minutes: f64,
}

/// Every unit of a scenario, indexed by [`UnitId`], and the free ones by (pool, zone).
#[derive(Clone, Debug)]
pub struct Fleet {
    pub units: Vec<Unit>,
    /// Global unit id of each pool's first unit.
    pool_first_unit: Vec<u32>,
    /// Pools of each kind, in scenario order.
    pools_of_kind: [Vec<usize>; KINDS],
    free: FreeUnits,
    free_by_kind: [u32; KINDS],
    /// Units on duty by schedule (not counting those finishing a call after their shift).
    scheduled_by_kind: [u32; KINDS],
}

impl Fleet {
    /// Every unit off duty at its home zone.
    pub fn new(scenario: &Scenario) -> Self {
        let mut units = Vec::new();
        let mut pool_first_unit = Vec::with_capacity(scenario.pools.len());
        let mut pools_of_kind: [Vec<usize>; KINDS] = Default::default();
        for (p, pool) in scenario.pools.iter().enumerate() {
            pool_first_unit.push(units.len() as u32);
            pools_of_kind[pool.kind.index()].push(p);
            for i in 0..pool.count {
                let home = pool.home_zone(i);
                units.push(Unit {
                    pool: p as u16,
                    index_in_pool: i,
                    kind: pool.kind,
                    home,
                    zone: home,
                    state: UnitState::OffDuty,
                    active_blocks: 0,
                    returns_to_base: pool.after_clear == AfterClear::Return,
                    busy_since: 0.0,
                    duty_since: 0.0,
                    call_slot: u32::MAX,
                    after_scene: false,
                    trip: Trip::default(),
                });
            }
        }
        let pool_sizes: Vec<u32> = scenario.pools.iter().map(|p| p.count).collect();
        Self {
            units,
            pool_first_unit,
            pools_of_kind,
            free: FreeUnits::new(&pool_sizes, scenario.zones.len()),
            free_by_kind: [0; KINDS],
            scheduled_by_kind: [0; KINDS],
        }
    }

    #[inline]
    pub fn unit(&self, unit: u32) -> &Unit {
        &self.units[unit as usize]
    }

    #[inline]
    pub fn unit_mut(&mut self, unit: u32) -> &mut Unit {
        &mut self.units[unit as usize]
    }

    /// The unit ids of a pool (units of a shift block are the first `count` of its pool).
    pub fn pool_units(&self, pool: usize, count: u32) -> std::ops::Range<u32> {
        let first = self.pool_first_unit[pool];
        first..first + count
    }

    /// Free units of `kind`.
    #[inline]
    pub fn free_count(&self, kind: ResponderKind) -> u32 {
        self.free_by_kind[kind.index()]
    }

    /// Units of `kind` on duty by schedule.
    #[inline]
    pub fn scheduled_count(&self, kind: ResponderKind) -> u32 {
        self.scheduled_by_kind[kind.index()]
    }

    pub fn free_by_kind(&self) -> [u32; KINDS] {
        self.free_by_kind
    }

    pub fn scheduled_by_kind(&self) -> [u32; KINDS] {
        self.scheduled_by_kind
    }

    /// Counts a unit in or out of its kind's scheduled units.
    #[inline]
    pub fn add_scheduled(&mut self, kind: ResponderKind, on: bool) {
        let count = &mut self.scheduled_by_kind[kind.index()];
        if on {
            *count += 1;
        } else {
            *count -= 1;
        }
    }

    /// Pools of `kind`, in scenario order.
    #[inline]
    pub fn pools_of(&self, kind: ResponderKind) -> &[usize] {
        &self.pools_of_kind[kind.index()]
    }

    /// The lowest free unit of `pool` in `zone`.
    #[inline]
    pub fn first_free(&self, pool: usize, zone: usize) -> Option<UnitId> {
        self.free
            .first(pool, zone)
            .map(|index| UnitId(self.pool_first_unit[pool] + index))
    }

    /// Whether `unit` is free.
    #[inline]
    pub fn is_free(&self, unit: u32) -> bool {
        self.units
            .get(unit as usize)
            .is_some_and(|u| u.state == UnitState::Free)
    }

    /// Marks a unit free where it is.
    #[inline]
    pub fn make_free(&mut self, unit: u32) {
        let u = &mut self.units[unit as usize];
        u.state = UnitState::Free;
        let (pool, zone, index) = (u.pool as usize, usize::from(u.zone.0), u.index_in_pool);
        self.free.insert(pool, zone, index);
        self.free_by_kind[u.kind.index()] += 1;
    }

    /// Takes a free unit out of the free set (its new state is the caller's to set).
    #[inline]
    pub fn take_from_free(&mut self, unit: u32) {
        let u = &self.units[unit as usize];
        self.free
            .remove(u.pool as usize, usize::from(u.zone.0), u.index_in_pool);
        self.free_by_kind[u.kind.index()] -= 1;
    }

    pub fn pool_id(&self, unit: u32) -> PoolId {
        PoolId(self.units[unit as usize].pool)
    }
}

/// The first day after `after` on which block `block` of pool `pool` works.
pub fn next_shift_day(scenario: &Scenario, pool: usize, block: usize, after: i64) -> Option<i64> {
    let spec = &scenario.pools[pool].shifts[block];
    (after + 1..after + 8).find(|&day| spec.days[scenario.weekday_of_day(day)])
}

/// The minute a block starts on `day`.
#[inline]
pub fn shift_start_minute(scenario: &Scenario, pool: usize, block: usize, day: i64) -> f64 {
    day as f64 * MINUTES_PER_DAY + scenario.pools[pool].shifts[block].start_minute_of_day
}

/// The first start of a shift block that is still on at time 0 or later, as (day, minute):
/// the search starts from the day before, so a block running past midnight into day 0 is on.
pub fn first_shift_start(scenario: &Scenario, pool: usize, block: usize) -> Option<(i64, f64)> {
    let length = scenario.pools[pool].shifts[block].length_minutes;
    let day = next_shift_day(scenario, pool, block, -2)?;
    let start = shift_start_minute(scenario, pool, block, day);
    let day = if start + length <= 0.0 {
        next_shift_day(scenario, pool, block, day)?
    } else {
        day
    };
    Some((day, shift_start_minute(scenario, pool, block, day).max(0.0)))
}
