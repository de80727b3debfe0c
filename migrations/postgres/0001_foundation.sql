-- Host samples kept for trends, and local alarm transitions.
CREATE TABLE host_samples (
    id BIGSERIAL PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    cpu_pct DOUBLE PRECISION NOT NULL,
    mem_used BIGINT NOT NULL,
    mem_total BIGINT NOT NULL,
    load1 DOUBLE PRECISION NOT NULL,
    load5 DOUBLE PRECISION NOT NULL,
    load15 DOUBLE PRECISION NOT NULL,
    cores BIGINT NOT NULL,
    disks_json TEXT NOT NULL
);
CREATE INDEX host_samples_at ON host_samples (at_ms);

CREATE TABLE alarm_transitions (
    id BIGSERIAL PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    alarm_key TEXT NOT NULL,
    from_severity TEXT NOT NULL,
    to_severity TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX alarm_transitions_at ON alarm_transitions (at_ms);
-- active_alarms() looks up the latest transition per key.
CREATE INDEX alarm_transitions_key_at ON alarm_transitions (alarm_key, at_ms);
