-- XP is read only all-time (levels, VIP tiers, `rooms check`): a gift adds
-- to the wealth_xp and charm_xp counters of period 'all' only, and the
-- daily, weekly and monthly XP rows written before are not read by anything.
DELETE FROM gift_counters WHERE board IN ('wealth_xp', 'charm_xp') AND period <> 'all';
