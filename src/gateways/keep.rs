//! Keeping a gateway's picture: fetch it from the (expiring) URL the gateway named, through
//! the SSRF-safe client and the bounded intake, and store it as the chat's photo, unless the
//! picture is the one already kept (GoWA's `id`, else the SHA-256 of the bytes).

use crate::identity::Digest;
use crate::imaging::{ImageBudget, IntakeLimits, intake, prepare_within_budget};
use crate::outbound::Outbound;
use crate::phone::ChatId;
use crate::photo_store::{PhotoBucket, offload};
use crate::store::Db;
use crate::store::gateway_copies::{self, CopyTarget, PhotoOrigin};

use super::GatewayKind;

/// WhatsApp keeps avatars small; the seed names 5 MB as the upload limit.
const MAX_PICTURE_BYTES: u64 = 5 << 20;

pub(super) struct Keeper {
    pub db: Db,
    pub images: Outbound,
    pub image_budget: ImageBudget,
    pub bucket: Option<PhotoBucket>,
    pub limits: IntakeLimits,
}

impl Keeper {
    /// Makes Cameo's copy of `chat`'s picture the one at `url`. Errors are log reasons.
    pub async fn keep(
        &self,
        kind: GatewayKind,
        chat: &ChatId,
        url: &str,
        id: Option<String>,
    ) -> Result<(), String> {
        let address = chat.address();
        let held = gateway_copies::photo_origin(&self.db, &address)
            .await
            .map_err(|e| format!("reading the kept copy: {e}"))?;
        let unchanged = |source_id: &str| match &held {
            PhotoOrigin::Gateway {
                source,
                source_id: held_id,
            } => source == kind.name() && held_id == source_id,
            _ => false,
        };
        if held == PhotoOrigin::Here {
            // The operator's photo wins; nothing to fetch.
            return Ok(());
        }
        if id.as_deref().is_some_and(unchanged) {
            return Ok(());
        }
        let limits = IntakeLimits {
            max_bytes: self.limits.max_bytes.min(MAX_PICTURE_BYTES),
            max_pixels: self.limits.max_pixels,
        };
        let fetched = self
            .images
            .get_guarded(url, limits.max_bytes as usize)
            .await
            .map_err(|e| format!("{} picture not fetched: {e}", kind.name()))?;
        if fetched.status != 200 {
            return Err(format!(
                "{} picture URL answered HTTP {}",
                kind.name(),
                fetched.status
            ));
        }
        let bytes = fetched.body.to_vec();
        let source_id = id.unwrap_or_else(|| intake::source_digest(&bytes));
        if unchanged(&source_id) {
            return Ok(());
        }
        let photo = prepare_within_budget(&self.image_budget, bytes, limits, None)
            .await
            .map_err(|e| format!("{} picture refused: {e}", kind.name()))?;
        let photo = offload(self.bucket.as_ref(), photo)
            .await
            .map_err(|e| format!("{} picture not stored: {e}", kind.name()))?;
        let target = CopyTarget {
            kind: if chat.is_group() {
                "whatsapp_group"
            } else {
                "phone"
            },
            address: &address,
            digest: Digest::sha256_of(&address),
        };
        gateway_copies::keep_copy(&self.db, target, kind.name(), &source_id, &photo)
            .await
            .map_err(|e| format!("storing the {} copy: {e}", kind.name()))?;
        Ok(())
    }

    /// The gateway says `chat` has no avatar: its copy from this gateway goes.
    pub async fn forget(&self, kind: GatewayKind, chat: &ChatId) -> Result<(), String> {
        gateway_copies::drop_copy(&self.db, &chat.address(), kind.name())
            .await
            .map(|_| ())
            .map_err(|e| format!("dropping the {} copy: {e}", kind.name()))
    }
}
