//! `Bot`: what every part of the shell needs (settings, store, templates, clock), built once.

use std::sync::Arc;

use anyhow::Context;

use crate::calendar::WorkingCalendar;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::instance::{Identity, RoleCell};
use crate::outbound::render::Renderer;
use crate::store::Store;

/// The shared context of intake, watcher, sender and scheduler. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Bot {
    /// Validated settings.
    pub settings: Arc<Settings>,
    /// The register.
    pub store: Store,
    /// Mail templates.
    pub renderer: Arc<Renderer>,
    /// The working-day calendar.
    pub calendar: Arc<WorkingCalendar>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Woken when mail was queued, so the sender does not wait for its next poll.
    pub outbox_ready: Arc<tokio::sync::Notify>,
    /// Who this instance is (heartbeat row, owner of its outbox claims).
    pub instance: Arc<Identity>,
    /// Whether this instance watches the mailbox (`active`) or stands by; read by `/healthz`.
    pub role: RoleCell,
    /// What the workers last saw of IMAP, SMTP, the database and the scheduler, for
    /// `/healthz`, the alerts and systemd's watchdog.
    pub health: Arc<crate::ops::Health>,
}

impl Bot {
    /// Opens the store and loads the templates, with the system clock.
    pub async fn open(settings: Settings) -> anyhow::Result<Bot> {
        Self::open_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Like [`Bot::open`] with a given clock (tests move a `ManualClock` by hand).
    pub async fn open_with_clock(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Bot> {
        let store =
            Store::connect_with(&settings.database_url, settings.database_password.as_ref())
                .await?;
        let renderer = Renderer::new(
            settings.organisation.language,
            settings.organisation.timezone.clone(),
            settings.templates_dir.as_deref(),
        )
        .context("Failed to load the mail templates")?;
        let instance = Arc::new(Identity::of_this_process(settings.instance_name.as_deref()));
        Ok(Bot {
            calendar: Arc::new(settings.calendar()),
            settings: Arc::new(settings),
            store,
            renderer: Arc::new(renderer),
            outbox_ready: Arc::new(tokio::sync::Notify::new()),
            instance,
            role: RoleCell::default(),
            health: Arc::new(crate::ops::Health::new(clock.now())),
            clock,
        })
    }
}
