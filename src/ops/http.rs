//! The small HTTP server of `[http] listen`: `GET /healthz` and `GET /metrics`, nothing else.
//! HTTP/1.1 only (hyper), one task per connection, stopped with the daemon's token.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::health::{Part, assess};
use crate::app::Bot;

/// How long the database probe of `/healthz` may take before the database counts as failing.
const DB_PROBE: Duration = Duration::from_secs(3);

/// Binds `addr` (so a port in use fails the start, not a later request).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("Failed to listen on {addr} ([http] listen)"))
}

/// Serves until `cancel` fires.
pub async fn serve(bot: Bot, listener: TcpListener, cancel: CancellationToken) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "health and metrics on http://{addr}/healthz and /metrics");
    }
    loop {
        let stream = tokio::select! {
            () = cancel.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "HTTP accept failed");
                    continue;
                }
            },
        };
        let bot = bot.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let bot = bot.clone();
                async move { Ok::<_, Infallible>(route(&bot, &req).await) }
            });
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                r = conn => if let Err(e) = r {
                    tracing::debug!(error = %e, "HTTP connection ended with an error");
                },
                () = cancel.cancelled() => {}
            }
        });
    }
}

async fn route(bot: &Bot, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => healthz(bot).await,
        (&Method::GET, "/metrics") => metrics(bot).await,
        (_, "/healthz" | "/metrics") => text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n"),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /healthz or /metrics\n",
        ),
    }
}

async fn healthz(bot: &Bot) -> Response<Full<Bytes>> {
    probe_database(bot).await;
    let now = bot.clock.now();
    let report = assess(
        &bot.health.snapshot(),
        bot.role.get(),
        now,
        bot.settings.alerts.health_grace(),
    );
    let body = serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{}".into());
    let status = StatusCode::from_u16(report.http_status()).unwrap_or(StatusCode::OK);
    respond(status, "application/json", body + "\n")
}

/// One cheap query, so `/healthz` says whether the register answers now.
async fn probe_database(bot: &Bot) {
    let probe = async {
        let mut conn = bot.store.pool().acquire().await?;
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        anyhow::Ok(())
    };
    let now = bot.clock.now();
    match tokio::time::timeout(DB_PROBE, probe).await {
        Ok(Ok(())) => bot.health.ok(Part::Database, now),
        Ok(Err(e)) => bot.health.failed(Part::Database, &format!("{e:#}"), now),
        Err(_) => bot.health.failed(
            Part::Database,
            &format!("no answer within {DB_PROBE:?}"),
            now,
        ),
    }
}

async fn metrics(bot: &Bot) -> Response<Full<Bytes>> {
    match super::metrics::render(bot).await {
        Ok(body) => respond(StatusCode::OK, "text/plain; version=0.0.4", body),
        Err(e) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("metrics unavailable: {e:#}\n"),
        ),
    }
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    respond(status, "text/plain; charset=utf-8", body.to_string())
}

fn respond(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, v);
    }
    response
}
