//! Which unit goes: the zones a unit may come from for each call zone, nearest first, and the
//! read-only [`FleetView`] a policy looks at (as a [`FleetQuery`]) when it picks a unit. The
//! default pick, used by every built-in policy, is [`FleetView::nearest_free`]: the free unit with the shortest mean
//! travel time (ties: lower zone index, then lower pool index, then lower unit index).

use super::fleet::Fleet;
use crate::policy::FleetQuery;
use crate::scenario::{PoolId, ResponderKind, Scenario, UnitId, ZoneId};

/// For each call zone, every zone, nearest (by mean travel time) first.
#[derive(Clone, Debug)]
pub struct ZoneOrder {
    nearest_first: Vec<Vec<usize>>,
}

impl ZoneOrder {
    pub fn new(scenario: &Scenario) -> Self {
        let zones = scenario.zones.len();
        let nearest_first = (0..zones)
            .map(|to| {
                let mut from: Vec<usize> = (0..zones).collect();
                from.sort_by(|&a, &b| {
                    let ta = scenario
                        .travel
                        .mean_minutes(ZoneId(a as u16), ZoneId(to as u16));
                    let tb = scenario
                        .travel
                        .mean_minutes(ZoneId(b as u16), ZoneId(to as u16));
                    ta.total_cmp(&tb).then(a.cmp(&b))
                });
                from
            })
            .collect();
        Self { nearest_first }
    }

    /// The zones units may come from for a call in `zone`, nearest first.
    #[inline]
    pub fn from(&self, zone: ZoneId) -> &[usize] {
        &self.nearest_first[usize::from(zone.0)]
    }
}

/// What a policy may see of the fleet when it picks a unit: free units by kind, pool and zone,
/// where each unit is, and the zones nearest each call zone.
#[derive(Clone, Copy)]
pub struct FleetView<'a> {
    fleet: &'a Fleet,
    zones: &'a ZoneOrder,
}

impl<'a> FleetView<'a> {
    pub(crate) fn new(fleet: &'a Fleet, zones: &'a ZoneOrder) -> Self {
        Self { fleet, zones }
    }

    /// The free unit of `kind` with the shortest mean travel time to `zone`.
    #[inline]
    pub fn nearest_free(&self, kind: ResponderKind, zone: ZoneId) -> Option<UnitId> {
        if self.fleet.free_count(kind) == 0 {
            return None;
        }
        let pools = self.fleet.pools_of(kind);
        for &from in self.zones.from(zone) {
            for &pool in pools {
                if let Some(unit) = self.fleet.first_free(pool, from) {
                    return Some(unit);
                }
            }
        }
        None
    }
}

/// The engine's answer to a policy's questions. `nearest_free` is also an inherent method: the
/// default pick calls it directly, with no dynamic dispatch.
impl FleetQuery for FleetView<'_> {
    fn nearest_free(&self, kind: ResponderKind, zone: ZoneId) -> Option<UnitId> {
        FleetView::nearest_free(self, kind, zone)
    }

    fn free_in_zone(&self, kind: ResponderKind, zone: ZoneId) -> Option<UnitId> {
        self.fleet
            .pools_of(kind)
            .iter()
            .find_map(|&pool| self.fleet.first_free(pool, usize::from(zone.0)))
    }

    fn free_count(&self, kind: ResponderKind) -> u32 {
        self.fleet.free_count(kind)
    }

    fn on_duty_count(&self, kind: ResponderKind) -> u32 {
        self.fleet.scheduled_count(kind)
    }

    fn zones_nearest(&self, zone: ZoneId) -> &[usize] {
        self.zones.from(zone)
    }

    fn zone_of(&self, unit: UnitId) -> ZoneId {
        self.fleet.unit(unit.0).zone
    }

    fn home_of(&self, unit: UnitId) -> ZoneId {
        self.fleet.unit(unit.0).home
    }

    fn pool_of(&self, unit: UnitId) -> PoolId {
        self.fleet.pool_id(unit.0)
    }

    fn kind_of(&self, unit: UnitId) -> ResponderKind {
        self.fleet.unit(unit.0).kind
    }

    fn is_free(&self, unit: UnitId) -> bool {
        self.fleet.is_free(unit.0)
    }
}
