-- Gravatar v3's short profile facts beside the name, text and links: each a single line,
-- empty when not given (bounded and validated by the web form before it is stored).
ALTER TABLE profiles ADD COLUMN location TEXT NOT NULL DEFAULT '';
ALTER TABLE profiles ADD COLUMN job_title TEXT NOT NULL DEFAULT '';
ALTER TABLE profiles ADD COLUMN company TEXT NOT NULL DEFAULT '';
ALTER TABLE profiles ADD COLUMN pronouns TEXT NOT NULL DEFAULT '';
ALTER TABLE profiles ADD COLUMN pronunciation TEXT NOT NULL DEFAULT '';
ALTER TABLE profiles ADD COLUMN avatar_alt_text TEXT NOT NULL DEFAULT '';
