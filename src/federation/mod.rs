//! Libravatar federation: SRV discovery of a domain's avatar server and the domain check
//! (PROTOCOL.md "Federation").
//!
//! - [`srv`]: picking the target from SRV records, exactly as Libravatar clients do (pure).
//! - [`resolver`]: hickory-resolver against the configured DNS servers, with TTL caching.
//! - [`check`]: the domain check behind `/tools/check` and `cameo check-domain`.

pub mod check;
pub mod resolver;
pub mod srv;

use crate::config::Config;
use crate::outbound::Outbound;

/// Discovery and checks, shared by the web handlers, the CLI and (later) the lookup API.
pub struct Federation {
    pub resolver: resolver::SrvResolver,
    pub outbound: Outbound,
    pub allow_private_probe: bool,
}

impl Federation {
    pub fn new(config: &Config, outbound: Outbound) -> Result<Federation, String> {
        Ok(Federation {
            resolver: resolver::SrvResolver::new(&config.dns_servers)?,
            outbound,
            allow_private_probe: config.allow_private_probe,
        })
    }
}
