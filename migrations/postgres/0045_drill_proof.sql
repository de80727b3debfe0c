-- A drill records what proves it (each table of the dump and its rows, compared with the
-- restored count) and two times: machine time (the steps' own) and wall time (duration_ms,
-- operator pauses included; the same for a headless drill).
ALTER TABLE restore_drills ADD COLUMN machine_ms BIGINT;
ALTER TABLE restore_drills ADD COLUMN interactive BIGINT NOT NULL DEFAULT 0;
ALTER TABLE restore_drills ADD COLUMN proof TEXT NOT NULL DEFAULT '';
