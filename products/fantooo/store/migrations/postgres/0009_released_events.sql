-- A chat handed back by its operator is announced like one taken away, so
-- sockets that followed it re-check their access.
ALTER TABLE realtime_events DROP CONSTRAINT realtime_events_kind_check;
ALTER TABLE realtime_events ADD CONSTRAINT realtime_events_kind_check
  CHECK (kind IN ('typing', 'receipt', 'balance', 'queue', 'assigned', 'idle_warning', 'taken_away', 'admin_alert', 'edited', 'released'));
