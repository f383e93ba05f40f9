//! Choosing an avatar server from SRV records (RFC 2782, as Libravatar clients do it).
