-- When each WhatsApp gateway may next be called (Unix milliseconds), shared by every node so
-- the minimum interval between calls holds for the whole service, not once per node
-- (src/gateways/pacer.rs, store::throttles::reserve_turn).
CREATE TABLE gateway_turns (
    gateway       TEXT   PRIMARY KEY,
    next_start_ms BIGINT NOT NULL
);
