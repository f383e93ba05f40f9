//! The hot path: `GET /avatar/HASH`.
//!
//! request → [`request`] (parse, clamp, validate) → [`lookup`] (digest → photo, in memory,
//! kept exact by the change feed; hits and misses answered by [`served_index`]) → [`renderer`] (render cache, or a bounded blocking
//! render on a miss) → [`handler`] (headers, ETag, 304).

pub mod cache;
pub mod handler;
pub mod lookup;
pub mod renderer;
pub mod request;
pub mod served_index;
