//! Outgoing mail: confirmation and password-reset links.
//!
//! With `smtp_url` set, mail goes out through lettre over SMTP (rustls, no OpenSSL):
//! `smtps://` is TLS from the start, `smtp+starttls://` upgrades, `smtp://` is plain (for a
//! local relay or tests). With no `smtp_url`, the `log` transport writes each message to the
//! server log instead, so a development server works without a mail server.
//! Logs never show an SMTP password, and a recipient is logged only in the `log` transport,
//! whose whole point is to show the message.
//!
//! Requests never wait for SMTP: they hand a mail to the [`Outbox`], a bounded channel read
//! by one task that sends one mail at a time. So a page answers in the same time whether or
//! not it mailed anyone (no account enumeration by timing), and a slow or dead mail server
//! cannot hold requests. When the channel is full a mail is dropped with a log line and
//! counted (`cameo_mail_total{outcome="dropped"}`); callers that must not leave a claim
//! without its mail reserve a place first ([`Outbox::reserve`]).

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;
use crate::metrics::{Counter, Exposition, Kind};

/// The log line of a mail not sent (no `smtp_url`): the README tells people to search for it.
pub const LOG_TRANSPORT_LINE: &str = "mail not sent (no smtp_url), its link is here";

/// Mails that may wait for the sending task; past this, new mails are refused or dropped.
pub const OUTBOX_CAPACITY: usize = 200;

pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Log {
        from: Mailbox,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the address cannot receive mail: {0}")]
    BadRecipient(String),
    #[error("the mail could not be sent; try again later")]
    Send(String),
    #[error("too many mails are waiting to go out; try again in a few minutes")]
    Busy,
}

/// Whether `to` is an address a mail can be built for, checked before anything is stored.
pub fn check_recipient(to: &str) -> Result<(), MailError> {
    to.parse::<Mailbox>()
        .map(|_| ())
        .map_err(|e| MailError::BadRecipient(e.to_string()))
}

/// One mail waiting to be sent.
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Default)]
struct OutboxCounters {
    queued: Counter,
    sent: Counter,
    failed: Counter,
    dropped: Counter,
}

/// The requests' side of the sending task: see the module comment.
pub struct Outbox {
    sender: tokio::sync::mpsc::Sender<Outgoing>,
    counters: Arc<OutboxCounters>,
}

/// A place in the outbox, taken before a claim is stored so the claim never lacks its mail.
pub struct OutboxPlace<'a> {
    permit: tokio::sync::mpsc::Permit<'a, Outgoing>,
    counters: &'a OutboxCounters,
}

impl OutboxPlace<'_> {
    pub fn send(self, mail: Outgoing) {
        self.counters.queued.inc();
        self.permit.send(mail);
    }
}

impl Outbox {
    /// Starts the sending task on the current runtime; it ends when the outbox is dropped.
    pub fn start(mailer: Mailer, capacity: usize) -> Outbox {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Outgoing>(capacity.max(1));
        let counters = Arc::new(OutboxCounters::default());
        let task_counters = counters.clone();
        tokio::spawn(async move {
            while let Some(mail) = receiver.recv().await {
                match mailer.send(&mail.to, &mail.subject, &mail.body).await {
                    Ok(()) => task_counters.sent.inc(),
                    Err(_) => task_counters.failed.inc(),
                }
            }
        });
        Outbox { sender, counters }
    }

    /// A place for one mail, or [`MailError::Busy`] when the outbox is full.
    pub fn reserve(&self) -> Result<OutboxPlace<'_>, MailError> {
        match self.sender.try_reserve() {
            Ok(permit) => Ok(OutboxPlace {
                permit,
                counters: &self.counters,
            }),
            Err(_) => {
                self.counters.dropped.inc();
                tracing::warn!("the outbox is full: a mail was not sent");
                Err(MailError::Busy)
            }
        }
    }

    /// Queues a mail whose loss only costs the recipient a retry (logged and counted).
    pub fn send(&self, mail: Outgoing) {
        if let Ok(place) = self.reserve() {
            place.send(mail);
        }
    }

    /// `cameo_mail_total{outcome}` for `/metrics`.
    pub fn write_metrics(&self, out: &mut Exposition) {
        let name = "cameo_mail_total";
        out.family(
            name,
            "Mails by outcome: queued for the sending task, sent, failed at the mail server, or dropped because the outbox was full.",
            Kind::Counter,
        );
        for (outcome, counter) in [
            ("queued", &self.counters.queued),
            ("sent", &self.counters.sent),
            ("failed", &self.counters.failed),
            ("dropped", &self.counters.dropped),
        ] {
            out.sample(name, &[("outcome", outcome)], counter.get() as f64);
        }
    }
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Mailer, String> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| format!("mail_from: {e}"))?;
        if config.smtp_url.is_empty() {
            tracing::warn!(
                "no smtp_url is set: this server sends no mail; every confirmation and \
                 password-reset link is written to this log instead (search it for \
                 \"{LOG_TRANSPORT_LINE}\")"
            );
            return Ok(Mailer::Log { from });
        }
        crate::outbound::install_tls_provider();
        let url = config
            .smtp_url
            .replace("smtp+starttls://", "smtp://")
            .clone();
        let builder = if config.smtp_url.starts_with("smtp+starttls://") {
            let with_tls = format!("{url}?tls=required");
            AsyncSmtpTransport::<Tokio1Executor>::from_url(&with_tls)
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
        }
        .map_err(|e| format!("smtp_url: {e}"))?;
        let transport = builder.timeout(Some(Duration::from_secs(10))).build();
        Ok(Mailer::Smtp { transport, from })
    }

    /// Sends a plain-text mail.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        let recipient: Mailbox = to
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::BadRecipient(e.to_string()))?;
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::Log { from } => from.clone(),
        };
        let message = Message::builder()
            .from(from)
            .to(recipient)
            .subject(subject)
            .body(body.to_string())
            .map_err(|e| MailError::Send(e.to_string()))?;
        match self {
            Mailer::Smtp { transport, .. } => match transport.send(message).await {
                Ok(_) => Ok(()),
                Err(error) => {
                    // SMTP replies quote the addresses they refuse.
                    let reason = error.to_string();
                    let reason = crate::observe::mask_emails_in(&reason);
                    tracing::error!(error = %reason, "sending mail failed");
                    Err(MailError::Send(error.to_string()))
                }
            },
            Mailer::Log { .. } => {
                let (to, body) = for_the_log(to, body);
                // Debug-quoted, so the whole mail, link included, is on the one line a
                // search for LOG_TRANSPORT_LINE finds.
                tracing::info!(%to, subject, body = ?body, "{LOG_TRANSPORT_LINE}");
                Ok(())
            }
        }
    }
}

/// A mail as the log transport writes it: the address masked like every address in the log;
/// the body keeps its link, which is what the line is for, with any address in it masked.
fn for_the_log<'a>(to: &str, body: &'a str) -> (String, std::borrow::Cow<'a, str>) {
    (
        crate::observe::mask_email(to),
        crate::observe::mask_emails_in(body),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_line_masks_addresses_and_keeps_the_link() {
        let (to, body) = for_the_log(
            "alice@example.org",
            "Confirm alice@example.org here:\nhttp://127.0.0.1:8080/confirm/0123abcd\n",
        );
        assert_eq!(to, "a***@example.org");
        assert!(body.contains("a***@example.org") && !body.contains("alice@"));
        assert!(body.contains("http://127.0.0.1:8080/confirm/0123abcd"));
    }

    #[test]
    fn the_readme_names_the_log_line_exactly() {
        let readme = include_str!("../README.md");
        assert!(
            readme.contains(&format!("`{LOG_TRANSPORT_LINE}`")),
            "README must tell people to search the log for {LOG_TRANSPORT_LINE:?}"
        );
    }
}
