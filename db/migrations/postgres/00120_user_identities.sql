-- Single sign-on identities: the OpenID Connect issuer and subject each console user signs in as, so that a later sign-in with the same email but another subject is refused.
-- +goose Up
CREATE TABLE user_identities (
	user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	issuer       TEXT   NOT NULL,
	subject      TEXT   NOT NULL,
	created_unix BIGINT NOT NULL,
	PRIMARY KEY (issuer, subject),
	UNIQUE (user_id, issuer) -- one subject per user and provider
);

-- +goose Down
DROP TABLE user_identities;
