//! The domain check: what a Libravatar client would find for a domain, email or OpenID.
