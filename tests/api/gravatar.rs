//! The Gravatar fallback against a local fake upstream.
