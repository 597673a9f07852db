//! The configuration file as written: every field optional, no rules applied yet. Validation
//! into [`super::Settings`] happens in one place so `config check` can report every problem
//! at once.

use serde::Deserialize;

/// The whole TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub organisation: Option<RawOrganisation>,
    pub mailbox: Option<RawMailbox>,
    pub smtp: Option<RawSmtp>,
    pub database: Option<RawDatabase>,
    pub people: Option<RawPeople>,
    pub deadlines: Option<RawDeadlines>,
    pub limits: Option<RawLimits>,
    pub logging: Option<RawLogging>,
    pub templates: Option<RawTemplates>,
    pub auth: Option<RawAuth>,
    pub reminders: Option<RawReminders>,
    pub digest: Option<RawDigest>,
    pub instance: Option<RawInstance>,
    pub http: Option<RawHttp>,
    pub alerts: Option<RawAlerts>,
    pub privacy: Option<RawPrivacy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrganisation {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub language: Option<String>,
    pub mail_domain: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMailbox {
    pub address: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<String>,
    pub user: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<String>,
    /// Rejected with a clear message: secrets never live in the TOML.
    pub password: Option<toml::Value>,
    pub inbox: Option<String>,
    pub processed_folder: Option<String>,
    pub quarantine_folder: Option<String>,
    pub poll_interval: Option<String>,
    pub idle_timeout: Option<String>,
    pub batch_size: Option<u32>,
    pub ca_file: Option<String>,
    /// "password" (default) or "oauth2".
    pub auth: Option<String>,
    pub oauth2: Option<RawOAuth2>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<String>,
    pub user: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<String>,
    pub password: Option<toml::Value>,
    pub from: Option<String>,
    pub ca_file: Option<String>,
    pub retry_initial: Option<String>,
    pub retry_max: Option<String>,
    pub give_up_after: Option<String>,
    pub claim_lease: Option<String>,
    /// "password" (default) or "oauth2".
    pub auth: Option<String>,
    pub oauth2: Option<RawOAuth2>,
}

/// `[mailbox.oauth2]` / `[smtp.oauth2]`: where the access token for XOAUTH2 comes from.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOAuth2 {
    pub provider: Option<String>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_env: Option<String>,
    pub client_secret_file: Option<String>,
    /// Rejected with a clear message: secrets never live in the TOML.
    pub client_secret: Option<toml::Value>,
    pub refresh_token_env: Option<String>,
    pub refresh_token_file: Option<String>,
    pub service_account_file: Option<String>,
    pub token_url: Option<String>,
    pub scope: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub url: Option<String>,
    pub min_free: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstance {
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPeople {
    pub officers: Option<Vec<String>>,
    pub management: Option<Vec<String>>,
    pub staff_domains: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeadlines {
    pub holidays: Option<crate::calendar::HolidayRules>,
    pub acknowledge: Option<String>,
    pub explain: Option<String>,
    pub solve: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_message_bytes: Option<u64>,
    pub auto_replies_per_sender: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogging {
    pub format: Option<String>,
    pub level: Option<String>,
    pub redact_addresses: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTemplates {
    pub dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub authserv_id: Option<String>,
    pub require_authentication: Option<bool>,
    pub token_secret_env: Option<String>,
    pub token_secret_file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReminders {
    pub enabled: Option<bool>,
    pub acknowledge_before: Option<String>,
    pub explain_before: Option<String>,
    pub explain_overdue_to_management: Option<bool>,
    pub solve_before: Option<String>,
    pub overdue_repeat: Option<String>,
    pub verdict_wait: Option<String>,
    pub unassigned_after: Option<String>,
    pub pause_while_waiting: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDigest {
    pub daily: Option<bool>,
    pub time: Option<String>,
    pub skip_empty: Option<bool>,
    pub weekly_management: Option<bool>,
    pub weekly_day: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    pub after: Option<String>,
    pub to: Option<Vec<String>>,
    pub failed_per_hour: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrivacy {
    pub anonymise_after: Option<String>,
}
