-- Browsers that signed in successfully: their cookie's SHA-256, so that a
-- correct password from such a browser is checked even while someone else
-- is failing for the account (targeted lockout). Ended with the account.
CREATE TABLE staff_devices (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES staff_users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX staff_devices_user ON staff_devices (user_id);
CREATE INDEX staff_devices_expires ON staff_devices (expires_at);

-- A failure remembers the recognised browser it came from (NULL for
-- others), so such a browser is limited by its own failures only.
ALTER TABLE staff_login_failures ADD COLUMN device BLOB;
CREATE INDEX staff_login_failures_email_ip ON staff_login_failures (email, ip, at);
CREATE INDEX staff_login_failures_device ON staff_login_failures (device, at) WHERE device IS NOT NULL;
