-- Acknowledgements and toban-side silences of alarms (CloudWatch and local ones; an
-- Alertmanager alert is silenced in Alertmanager itself, but acknowledged here too), and the
-- append-only audit of every ack, silence and lift. Times are Unix milliseconds.
CREATE TABLE alarm_acks (
    id BIGSERIAL PRIMARY KEY,
    alarm_key TEXT NOT NULL,
    alarm_name TEXT NOT NULL,
    kind TEXT NOT NULL,            -- 'ack' (holds until the state changes) or 'silence'
    note TEXT NOT NULL,
    who TEXT NOT NULL,
    ssh_client TEXT,
    at_ms BIGINT NOT NULL,
    until_ms BIGINT,               -- silences: the end
    state TEXT NOT NULL,           -- the alarm's state when acknowledged
    state_since_ms BIGINT NOT NULL, -- and since when it was in it
    cleared_ms BIGINT,             -- lifted early, or ended by a state change
    cleared_why TEXT
);
CREATE INDEX alarm_acks_open ON alarm_acks (cleared_ms, alarm_key);

CREATE TABLE alarm_audit (
    id BIGSERIAL PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    alarm_key TEXT NOT NULL,
    action TEXT NOT NULL,          -- ack, silence, unsilence, ack_ended, remote_silence, remote_expire
    detail TEXT NOT NULL,
    who TEXT NOT NULL,
    ssh_client TEXT
);
CREATE INDEX alarm_audit_at ON alarm_audit (at_ms);
