-- Erasure looks for a person in the payloads of reconciliation reports
-- (store.TypeReport), which name people in their items rather than in the
-- person fields. This index lists only those records, so the search reads
-- the reports and nothing else instead of scanning every partition, and it
-- costs nothing on the insert of any other record. Created on the
-- partitioned table, it is built on every partition, and ATTACH builds it
-- on the partitions made later (partition.go).
CREATE INDEX records_reports ON records (type) WHERE type = 'idsync.reconcile.report';
