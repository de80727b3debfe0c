-- A run remembers the digest of the runbook it started on (a resume against a changed file
-- opens read-only), and who drives it now: a lease (host, pid, session start, user, since,
-- heartbeat) so a second session neither takes a live run for interrupted nor drives it.
ALTER TABLE runbook_runs ADD COLUMN spec_digest TEXT;
ALTER TABLE runbook_runs ADD COLUMN lease_host TEXT;
ALTER TABLE runbook_runs ADD COLUMN lease_pid BIGINT;
ALTER TABLE runbook_runs ADD COLUMN lease_session_ms BIGINT;
ALTER TABLE runbook_runs ADD COLUMN lease_user TEXT;
ALTER TABLE runbook_runs ADD COLUMN lease_since_ms BIGINT;
ALTER TABLE runbook_runs ADD COLUMN lease_heartbeat_ms BIGINT;
