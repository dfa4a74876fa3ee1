//! A limit on requests per client address for routes anyone on the internet can call
//! without signing in (the public status page, the SMS providers' webhooks), so that
//! one address cannot flood the server on a crisis day. One governor keyed limiter
//! per group of routes; over the limit the answer is 429 with `Retry-After`.
//!
//! The key is the TCP peer: the server must be served with
//! `into_make_service_with_connect_info::<SocketAddr>()`. Behind a reverse proxy every
//! request has the proxy's address, so the limit must then be set for the proxy's
//! total.

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How often (in requests) the limiter forgets clients that have gone quiet, so that its
/// memory stays bounded however many addresses call.
const FORGET_EVERY: u64 = 4_096;

struct Limiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
    retry_after_seconds: u32,
}

/// `routes`, each client address allowed `requests_per_minute` requests to them
/// together, in a burst or spread out.
pub fn limit_per_client_address(routes: Router, requests_per_minute: NonZeroU32) -> Router {
    let limiter = Arc::new(Limiter {
        limiter: RateLimiter::keyed(Quota::per_minute(requests_per_minute)),
        checks: AtomicU64::new(0),
        retry_after_seconds: 60u32.div_ceil(requests_per_minute.get()),
    });
    routes.layer(middleware::from_fn_with_state(limiter, rate_limit))
}

async fn rate_limit(State(limiter): State<Arc<Limiter>>, request: Request, next: Next) -> Response {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return next.run(request).await;
    };
    if limiter.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
        limiter.limiter.retain_recent();
    }
    if limiter.limiter.check_key(&peer.ip()).is_ok() {
        return next.run(request).await;
    }
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, limiter.retry_after_seconds.to_string())],
        "För många förfrågningar; försök igen om en stund. / Too many requests; try again shortly.",
    )
        .into_response()
}
