-- Console sessions signed out before their cookie expires: the cookie is
-- sealed and stateless, so a copy of it (a shared machine, a stolen
-- laptop) would stay valid until expiry without this list. Keyed by the
-- SHA-256 of the session's random id (the id itself is never stored);
-- rows are swept once the session would have expired anyway.
CREATE TABLE console_revoked (
  sid_hash     VARCHAR(64) PRIMARY KEY,
  expires_unix BIGINT      NOT NULL
);
