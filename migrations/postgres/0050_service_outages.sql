-- Services: each check's outages (first failed probe until the next good one; end NULL
-- while still down), kept as transitions rather than every probe, so this month's
-- availability survives a restart of toban.
CREATE TABLE service_outages (
    service TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT,
    PRIMARY KEY (service, start_ms)
);
