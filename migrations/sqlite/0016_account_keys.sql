-- End-to-end encryption (issue 18, see docs/e2ee.md): an account's public keys and its private
-- keys wrapped twice (by a key from its password, by its recovery key) in its browser. The
-- server cannot open the wrapped documents; it hands them back to the account on a new device.
CREATE TABLE account_keys (
    user_id          BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    agreement_public TEXT   NOT NULL,
    signing_public   TEXT   NOT NULL,
    password_wrapped TEXT   NOT NULL,
    recovery_wrapped TEXT   NOT NULL,
    fingerprint      TEXT   NOT NULL,
    updated_at       BIGINT NOT NULL
);
