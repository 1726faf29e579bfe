-- Staff sign-in for the browser console (issue 12): sessions, key expiry, password changes.
-- Timestamps are milliseconds since the Unix epoch (INTEGER); ids are text.

-- A browser session of a staff account. The cookie carries a 256-bit random id; only its SHA-256
-- digest is stored, so a copy of the database cannot be used to sign in. A session ends at the
-- earlier of its idle expiry (moved forward on use) and its absolute expiry, or when ended_at is
-- set (sign-out, password change or reset, account disabled).
CREATE TABLE staff_sessions (
    id_digest           TEXT PRIMARY KEY,
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    created_at          INTEGER NOT NULL,
    last_seen_at        INTEGER NOT NULL,
    idle_expires_at     INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    csrf_secret         TEXT NOT NULL,
    ended_at            INTEGER
);
CREATE INDEX staff_sessions_account ON staff_sessions (account_id, ended_at);

-- Personal keys issued with POST /api/v1/keys expire; organisation keys may have no expiry (NULL).
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
-- When the password was last set (creation, change or reset).
ALTER TABLE accounts ADD COLUMN password_changed_at INTEGER;
