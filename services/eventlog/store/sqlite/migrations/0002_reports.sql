-- Erasure looks for a person in the payloads of reconciliation reports
-- (store.TypeReport), which name people in their items rather than in the
-- person fields. This index lists only those records, so the search reads
-- the reports and nothing else instead of scanning the whole table, and it
-- costs nothing on the insert of any other record. Its WHERE is repeated
-- as a literal by the queries (sqlite.go), which SQLite needs to use it.
CREATE INDEX records_reports ON records (type) WHERE type = 'idsync.reconcile.report';
