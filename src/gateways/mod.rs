//! WhatsApp gateways as avatar providers for phone numbers and chats: [`gowa`] (seed 003)
//! and [`greenapi`] (seed 004), asked by `/api/v1/lookup?phone=…` after `local`.
//!
//! WhatsApp's picture URLs expire (hours to two days), so a found picture is fetched at
//! once through the SSRF-safe client and the bounded intake and kept as the chat's photo
//! ([`keep`]); Cameo serves its copy from `/avatar/SHA256(E.164)`, which does not expire.
//!
//! Gateways get banned when they ask too fast, so each one is asked through a [`Pacer`]
//! (a concurrency limit and a minimum interval between calls), and what it said is
//! remembered per chat: a found avatar for `gateway_positive_ttl_s`, "no avatar" for
//! `gateway_negative_ttl_s`. Concurrent lookups of one chat share one call (the cache's
//! single-flight `try_get_with`); failures are not remembered.

pub mod gowa;
pub mod greenapi;
mod keep;
pub mod pacer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::config::{Config, GatewaySettings};
use crate::imaging::ImageBudget;
use crate::outbound::{Outbound, OutboundError, send_capped};
use crate::phone::ChatId;
use crate::photo_store::PhotoBucket;
use crate::store::Db;
pub use pacer::{Busy, Pacer};

/// Largest gateway API answer read (a URL and a few fields).
const MAX_ANSWER_BYTES: usize = 64 << 10;
/// Chats whose answers are remembered, per gateway.
const MAX_REMEMBERED: u64 = 100_000;

/// Which gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GatewayKind {
    Gowa,
    GreenApi,
}

impl GatewayKind {
    /// Its provider name, also the `photo_source` of its copies.
    pub fn name(self) -> &'static str {
        match self {
            GatewayKind::Gowa => "gowa",
            GatewayKind::GreenApi => "greenapi",
        }
    }
}

/// What a gateway's API said, read by [`gowa::read_answer`] or [`greenapi::read_answer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayAnswer {
    /// A (temporary) picture URL, and GoWA's picture id.
    Avatar {
        url: String,
        id: Option<String>,
    },
    NoAvatar,
    TimedOut,
    /// Why, for the log (never a credential, a URL or the number).
    Failed(String),
}

/// What a lookup learns from a gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Cameo holds a copy, served at `/avatar/HASH`.
    Avatar,
    NoAvatar,
    /// The gateway is not configured.
    Disabled,
    /// The gateway's turns are taken for longer than a lookup waits.
    Busy,
    TimedOut,
    Failed,
}

/// A remembered answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    Avatar,
    NoAvatar,
}

/// Why a call gave no answer worth remembering.
#[derive(Debug)]
enum Trouble {
    Busy,
    TimedOut,
    Failed(String),
}

/// One configured gateway.
struct Gateway {
    kind: GatewayKind,
    pacer: Pacer,
    known: moka::future::Cache<ChatId, Known>,
    /// Calls made to the gateway's API (not counting remembered answers).
    calls: AtomicU64,
}

/// Expires a found avatar and "no avatar" after their own times.
struct KnownExpiry {
    positive: Duration,
    negative: Duration,
}

impl moka::Expiry<ChatId, Known> for KnownExpiry {
    fn expire_after_create(&self, _: &ChatId, known: &Known, _: Instant) -> Option<Duration> {
        Some(match known {
            Known::Avatar => self.positive,
            Known::NoAvatar => self.negative,
        })
    }
}

/// Both gateways and what they share: the API client, the image fetcher and the intake.
pub struct Gateways {
    settings: GatewaySettings,
    gowa: Option<Gateway>,
    greenapi: Option<Gateway>,
    api: reqwest::Client,
    keeper: keep::Keeper,
}

impl Gateways {
    pub fn new(
        config: &Config,
        db: Db,
        image_budget: ImageBudget,
        bucket: Option<PhotoBucket>,
    ) -> Result<Gateways, String> {
        let settings = config.gateways.clone();
        let gateway = |kind, url: &str| {
            (!url.is_empty()).then(|| Gateway {
                kind,
                pacer: Pacer::new(
                    db.clone(),
                    kind.name(),
                    settings.concurrency,
                    settings.min_interval,
                    settings.timeout,
                ),
                known: moka::future::Cache::builder()
                    .max_capacity(MAX_REMEMBERED)
                    .expire_after(KnownExpiry {
                        positive: settings.positive_ttl,
                        negative: settings.negative_ttl,
                    })
                    .build(),
                calls: AtomicU64::new(0),
            })
        };
        Ok(Gateways {
            gowa: gateway(GatewayKind::Gowa, &settings.gowa_url),
            greenapi: gateway(GatewayKind::GreenApi, &settings.greenapi_url),
            api: crate::outbound::credentialed_client(settings.timeout)?,
            keeper: keep::Keeper {
                db,
                // Picture URLs come from the gateway's answer: fetched like any URL a third
                // party chose, public addresses only (unless allow_private_probe, for tests).
                images: Outbound::new(settings.timeout, config.allow_private_probe)?,
                image_budget,
                bucket,
                limits: crate::state::intake_limits(config),
            },
            settings,
        })
    }

    pub fn is_enabled(&self, kind: GatewayKind) -> bool {
        self.gateway(kind).is_some()
    }

    /// Calls made to `kind`'s API so far.
    pub fn calls(&self, kind: GatewayKind) -> u64 {
        self.gateway(kind)
            .map_or(0, |g| g.calls.load(Ordering::Relaxed))
    }

    fn gateway(&self, kind: GatewayKind) -> Option<&Gateway> {
        match kind {
            GatewayKind::Gowa => self.gowa.as_ref(),
            GatewayKind::GreenApi => self.greenapi.as_ref(),
        }
    }

    /// What `kind` says about `chat`: remembered, or one shared call.
    pub async fn ask(&self, kind: GatewayKind, chat: &ChatId) -> Verdict {
        let Some(gateway) = self.gateway(kind) else {
            return Verdict::Disabled;
        };
        let asked = gateway
            .known
            .try_get_with(chat.clone(), self.refresh(gateway, chat))
            .await;
        match asked {
            Ok(Known::Avatar) => Verdict::Avatar,
            Ok(Known::NoAvatar) => Verdict::NoAvatar,
            Err(trouble) => match &*trouble {
                Trouble::Busy => Verdict::Busy,
                Trouble::TimedOut => Verdict::TimedOut,
                Trouble::Failed(_) => Verdict::Failed,
            },
        }
    }

    /// Asks the gateway (paced), then keeps or drops the copy to match its answer.
    async fn refresh(&self, gateway: &Gateway, chat: &ChatId) -> Result<Known, Trouble> {
        let known = self.call(gateway, chat).await;
        if let Err(trouble) = &known {
            let reason = match trouble {
                Trouble::Busy => "busy: too many lookups waiting",
                Trouble::TimedOut => "timed out",
                Trouble::Failed(reason) => reason.as_str(),
            };
            tracing::warn!(gateway = gateway.kind.name(), %reason, "WhatsApp gateway lookup failed");
        }
        known
    }

    async fn call(&self, gateway: &Gateway, chat: &ChatId) -> Result<Known, Trouble> {
        let _permit = gateway.pacer.admit().await.map_err(|Busy| Trouble::Busy)?;
        gateway.calls.fetch_add(1, Ordering::Relaxed);
        let jid = chat.whatsapp_jid();
        let request = match gateway.kind {
            GatewayKind::Gowa => gowa::request(&self.api, &self.settings, &jid),
            GatewayKind::GreenApi => greenapi::request(&self.api, &self.settings, &jid),
        };
        let answer = match send_capped(request, MAX_ANSWER_BYTES).await {
            Ok(fetched) => match gateway.kind {
                GatewayKind::Gowa => gowa::read_answer(fetched.status, &fetched.body),
                GatewayKind::GreenApi => greenapi::read_answer(fetched.status, &fetched.body),
            },
            Err(OutboundError::Timeout) => GatewayAnswer::TimedOut,
            Err(error) => {
                GatewayAnswer::Failed(format!("{} unreachable: {error}", gateway.kind.name()))
            }
        };
        match answer {
            GatewayAnswer::Avatar { url, id } => self
                .keeper
                .keep(gateway.kind, chat, &url, id)
                .await
                .map(|()| Known::Avatar)
                .map_err(Trouble::Failed),
            GatewayAnswer::NoAvatar => {
                self.keeper
                    .forget(gateway.kind, chat)
                    .await
                    .map_err(Trouble::Failed)?;
                Ok(Known::NoAvatar)
            }
            GatewayAnswer::TimedOut => Err(Trouble::TimedOut),
            GatewayAnswer::Failed(reason) => Err(Trouble::Failed(reason)),
        }
    }
}
