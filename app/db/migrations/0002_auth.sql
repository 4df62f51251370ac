-- Users mirrored from the group IdP on every login (unique by issuer and subject).
CREATE TABLE IF NOT EXISTS users (
    id            bigserial PRIMARY KEY,
    issuer        text NOT NULL,
    subject       text NOT NULL,
    email         citext,
    email_verified boolean NOT NULL DEFAULT false,
    name          text,
    locale        text,
    groups        text[] NOT NULL DEFAULT '{}',
    roles         text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    UNIQUE (issuer, subject)
);
CREATE INDEX IF NOT EXISTS users_email ON users (email);
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log (action, at);
