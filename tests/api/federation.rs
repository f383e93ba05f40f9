//! Federation: SRV discovery against a real DNS server on loopback, and the domain check.
