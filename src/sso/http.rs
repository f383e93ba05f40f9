//! The HTTP client `openidconnect` is handed: Cameo's own outbound client for operator-set
//! hosts that take credentials ([`crate::outbound::credentialed_client`]: connect and total
//! timeouts, no redirects, so the client secret never follows a redirect elsewhere), with
//! every answer read through [`send_capped`]. The crate's own reqwest feature would pull in
//! a second reqwest; this adapter keeps one.
//!
//! The provider is the operator's choice (`oidc_issuer`), not a client's, so it is not held
//! to public addresses: a provider on the same network, or a test's on loopback, works.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse, http};

use crate::outbound::{OutboundError, credentialed_client, send_capped};

/// The most a discovery document, key set or token answer may weigh.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

pub struct ProviderHttp {
    client: reqwest::Client,
}

impl ProviderHttp {
    pub fn new(timeout: Duration) -> Result<ProviderHttp, String> {
        Ok(ProviderHttp {
            client: credentialed_client(timeout)?,
        })
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, OutboundError> {
        let request = reqwest::Request::try_from(request).map_err(|_| OutboundError::BadUrl)?;
        let builder = reqwest::RequestBuilder::from_parts(self.client.clone(), request);
        let fetched = send_capped(builder, MAX_ANSWER_BYTES).await?;
        let mut response = http::Response::builder().status(fetched.status);
        if let Some(content_type) = &fetched.content_type {
            response = response.header(http::header::CONTENT_TYPE, content_type.as_str());
        }
        response
            .body(fetched.body.to_vec())
            .map_err(|e| OutboundError::Connect(e.to_string()))
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = OutboundError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, OutboundError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
