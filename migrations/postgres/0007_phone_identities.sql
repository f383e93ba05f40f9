-- Phone identities and WhatsApp gateway copies (src/phone.rs, src/gateways/).
--
-- `kind` gains 'phone' (an E.164 number, digest = SHA-256 of it) and 'whatsapp_group' (a
-- group chat id `ID@g.us`, only ever written by a gateway lookup). An address also records
-- where its photo came from: `photo_source` NULL when its owner or the operator set it,
-- 'gowa' or 'greenapi' for a copy a gateway lookup kept, with `photo_source_id` telling
-- whether the picture changed (GoWA's avatar id, else the SHA-256 of the image bytes).
ALTER TABLE addresses DROP CONSTRAINT addresses_kind_check;
ALTER TABLE addresses ADD CONSTRAINT addresses_kind_check
    CHECK (kind IN ('email', 'openid', 'phone', 'whatsapp_group'));
ALTER TABLE addresses ADD COLUMN photo_source TEXT
    CHECK (photo_source IN ('gowa', 'greenapi'));
ALTER TABLE addresses ADD COLUMN photo_source_id TEXT;
