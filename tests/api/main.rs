//! Integration tests: each test starts the real server on 127.0.0.1:0 with its own temporary
//! data directory and database, and talks HTTP to it (or runs the real `cameo` binary). Built
//! twice: `api` on SQLite files, `api_postgres` on a PostgreSQL cluster ([`postgres`]).

mod accounts;
mod api_tokens;
mod attack_accounts;
mod attack_images;
mod attack_probes;
mod avatar_defaults;
mod avatar_photos;
mod backup;
mod bad_input;
mod browser;
mod change_feed;
mod chromium;
mod cli;
mod crash;
mod database_restart;
mod dns_server;
mod export;
mod failover;
mod federation;
mod fuzz_corpus;
mod garage;
mod gravatar;
mod helpers;
mod hostile_images;
mod lookup_api;
mod migrate_store;
mod observability;
mod phone_gateways;
mod phone_identities;
mod photo_bucket;
mod postgres;
mod profiles;
mod proxy;
mod purge;
mod routes;
mod security_headers;
mod smtp;
mod store_rules;
mod two_nodes;
mod ui_chromium;
mod whatsapp_fakes;
