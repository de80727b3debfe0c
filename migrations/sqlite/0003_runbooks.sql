-- Runbook runs (the engine's state after every transition, for resume), the append-only
-- audit log of what was done, restore drills (measured RTO), and follow-ups runbooks put on
-- the calendar. Booleans are 0/1 integers so one query serves SQLite and PostgreSQL.
CREATE TABLE runbook_runs (
    run_id TEXT PRIMARY KEY,
    runbook TEXT NOT NULL,
    status TEXT NOT NULL,
    dry_run BIGINT NOT NULL,
    drill BIGINT NOT NULL,
    started_ms BIGINT NOT NULL,
    finished_ms BIGINT,
    updated_ms BIGINT NOT NULL,
    run_user TEXT NOT NULL,
    ssh_client TEXT,
    state_json TEXT NOT NULL
);
CREATE INDEX runbook_runs_started ON runbook_runs (started_ms);
CREATE INDEX runbook_runs_status ON runbook_runs (status);

CREATE TABLE runbook_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    event TEXT NOT NULL,
    step_id TEXT,
    detail TEXT NOT NULL,
    exit_code BIGINT,
    duration_ms BIGINT,
    digest TEXT,
    tail TEXT,
    dry_run BIGINT NOT NULL,
    run_user TEXT NOT NULL,
    ssh_client TEXT
);
CREATE INDEX runbook_audit_run ON runbook_audit (run_id, id);

CREATE TABLE restore_drills (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    runbook TEXT NOT NULL,
    backup TEXT,
    started_ms BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    ok BIGINT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX restore_drills_started ON restore_drills (started_ms);

CREATE TABLE followups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    note TEXT,
    due_ms BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    created_by_run TEXT,
    done_ms BIGINT
);
CREATE INDEX followups_due ON followups (due_ms);
