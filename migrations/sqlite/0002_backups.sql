-- Backup verifications: one row per verification run of one backup.
CREATE TABLE backup_verifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms BIGINT NOT NULL,
    started_ms BIGINT NOT NULL,
    backup_id TEXT NOT NULL,
    service TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    ok BIGINT NOT NULL,
    summary TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    report_json TEXT NOT NULL
);
CREATE INDEX backup_verifications_backup ON backup_verifications (backup_id, id);
CREATE INDEX backup_verifications_at ON backup_verifications (at_ms);
