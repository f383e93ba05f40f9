//! A real DNS server inside the test process (hickory-server, in-memory zone): it serves one
//! zone, given as zone-file text, on 127.0.0.1 over UDP and TCP on one ephemeral port.
//!
//! Records can be added after start ([`TestDns::add_records`]), because a test usually needs
//! the DNS address to start Cameo and Cameo's port to write the SRV records.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::{LowerName, Name};
use hickory_proto::serialize::txt::Parser;
use hickory_server::Server;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};

pub struct TestDns {
    pub addr: SocketAddr,
    origin: Name,
    zone: Arc<InMemoryZoneHandler>,
}

/// The SOA and NS every test zone needs, so a test writes only the records it cares about.
pub fn zone_head(origin: &str) -> String {
    format!(
        "$ORIGIN {origin}.\n$TTL 3600\n\
         @ IN SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 60\n\
         @ IN NS ns.{origin}.\n\
         ns IN A 127.0.0.1\n"
    )
}

/// Starts a DNS server authoritative for `origin` (e.g. `example.test`) with `zone_text`
/// (a whole zone file, SOA included; see [`zone_head`]). Names outside the zone are REFUSED.
pub async fn start_dns_server(origin: &str, zone_text: &str) -> TestDns {
    let origin = Name::from_ascii(format!("{origin}.")).expect("origin is a name");
    let (parsed_origin, records) = Parser::new(zone_text, None, Some(origin.clone()))
        .parse()
        .expect("zone text parses");
    let zone = InMemoryZoneHandler::new(
        parsed_origin.clone(),
        records,
        ZoneType::Primary,
        AxfrPolicy::Deny,
    )
    .expect("zone loads");
    let zone = Arc::new(zone);
    let mut catalog = Catalog::new();
    let handler: Arc<dyn ZoneHandler> = zone.clone();
    catalog.upsert(LowerName::from(&parsed_origin), vec![handler]);

    let (udp, tcp) = bind_udp_and_tcp_on_one_port().await;
    let addr = udp.local_addr().expect("udp address");
    let mut server = Server::new(catalog);
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(5), 4096);
    // The server's tasks end when it is dropped: keep it alive for the rest of the test.
    tokio::spawn(async move {
        let _ = server.block_until_done().await;
    });
    TestDns {
        addr,
        origin: parsed_origin,
        zone,
    }
}

impl TestDns {
    /// Adds records written as zone-file lines, relative to the zone's origin.
    pub async fn add_records(&self, lines: &str) {
        let text = format!("$ORIGIN {}\n$TTL 3600\n{lines}\n", self.origin);
        let (_, records) = Parser::new(text, None, Some(self.origin.clone()))
            .parse()
            .expect("records parse");
        for record_set in records.into_values() {
            for record in record_set.records_without_rrsigs() {
                assert!(
                    self.zone.upsert(record.clone(), 1).await,
                    "record {record} added"
                );
            }
        }
    }
}

/// UDP and TCP on the same ephemeral port, as a real DNS server has.
async fn bind_udp_and_tcp_on_one_port() -> (tokio::net::UdpSocket, tokio::net::TcpListener) {
    for _ in 0..20 {
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("udp bind");
        let addr = udp.local_addr().expect("udp address");
        if let Ok(tcp) = tokio::net::TcpListener::bind(addr).await {
            return (udp, tcp);
        }
    }
    panic!("no port free for both UDP and TCP");
}
