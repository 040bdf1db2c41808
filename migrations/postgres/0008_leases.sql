-- Leases: which node runs a task that must run once in the cluster (expiring ephemeral
-- rooms, sweeping files). A node holds a lease until `expires_at` and renews it while it
-- runs the task; when it stops renewing, another node takes it over.
CREATE TABLE leases (
    name       TEXT   PRIMARY KEY,
    holder     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
