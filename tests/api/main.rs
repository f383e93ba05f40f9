//! Integration tests: each test starts the real server on 127.0.0.1:0 with its own temporary
//! data directory and SQLite file, and talks HTTP to it (or runs the real `cameo` binary).

mod accounts;
mod avatar_defaults;
mod avatar_photos;
mod bad_input;
mod browser;
mod chromium;
mod cli;
mod dns_server;
mod federation;
mod gravatar;
mod helpers;
mod smtp;
mod ui_chromium;
