-- What an API token may do, as space-separated scope names (`lookup`, `avatars:read`,
-- `avatars:write`; see `src/api/scopes.rs`). Tokens made before scopes existed could only look
-- up addresses and profiles, so they keep exactly that.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'lookup';
