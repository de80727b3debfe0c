-- The operations calendar: what operators recorded against an occurrence of a duty (done
-- with a note, skipped with a reason, snoozed until a time), with who (account and SSH
-- client) and the runbook run that did it. Duties themselves live in config and presets;
-- follow-ups are the one-off duties, and may name a runbook action that doing them runs.
CREATE TABLE duty_events (
    id BIGSERIAL PRIMARY KEY,
    duty_id TEXT NOT NULL,
    occurrence_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    recorded_ms BIGINT NOT NULL,
    by_user TEXT NOT NULL,
    ssh_client TEXT,
    note TEXT,
    until_ms BIGINT,
    run_id TEXT
);
CREATE INDEX duty_events_duty ON duty_events (duty_id, occurrence_ms);
CREATE INDEX duty_events_occurrence ON duty_events (occurrence_ms);

-- A runbook name and parameters as JSON: {"name": "...", "params": {...}}.
ALTER TABLE followups ADD COLUMN action_json TEXT;

-- When toban first saw each configured duty: occurrences before it are not counted as
-- overdue or missed (a new install is not behind on a year of drills), and a duty counted
-- from its last completion that was never done is due on that first day.
CREATE TABLE duty_tracking (
    duty_id TEXT PRIMARY KEY,
    since_ms BIGINT NOT NULL
);
