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
mod cli_operator;
mod crash;
mod database_restart;
mod dns_server;
mod export;
mod failover;
mod federation;
mod first_avatar;
mod fuzz_corpus;
mod garage;
mod gravatar;
mod helpers;
mod hostile_images;
mod lookup_api;
mod migrate_store;
mod observability;
mod photo_bucket;
mod postgres;
mod postgres_tls;
mod profiles;
mod proxy;
mod purge;
mod routes;
mod security_headers;
mod smtp;
mod store_rules;
mod two_nodes;
mod ui_chromium;
mod ui_first_avatar;
mod ui_your_data;
mod your_data;
