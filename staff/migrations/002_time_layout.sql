-- Every stored time is now sqlitedb.TimeLayout (milliseconds, as SQLite's
-- strftime('%Y-%m-%dT%H:%M:%fZ') writes it) instead of nanoseconds.
UPDATE staff_users SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at),
    disabled_at = strftime('%Y-%m-%dT%H:%M:%fZ', disabled_at),
    last_login_at = strftime('%Y-%m-%dT%H:%M:%fZ', last_login_at);
UPDATE staff_sessions SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at),
    last_seen_at = strftime('%Y-%m-%dT%H:%M:%fZ', last_seen_at),
    expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', expires_at);
UPDATE staff_tokens SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at),
    last_used_at = strftime('%Y-%m-%dT%H:%M:%fZ', last_used_at),
    revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', revoked_at);
UPDATE staff_login_failures SET at = strftime('%Y-%m-%dT%H:%M:%fZ', at);
UPDATE staff_audit SET at = strftime('%Y-%m-%dT%H:%M:%fZ', at);
