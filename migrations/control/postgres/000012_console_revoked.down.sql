DROP TABLE console_revoked;
