//! Outgoing mail: confirmation and password-reset links.
//!
//! With `smtp_url` set, mail goes out through lettre over SMTP (rustls, no OpenSSL):
//! `smtps://` is TLS from the start, `smtp+starttls://` upgrades, `smtp://` is plain (for a
//! local relay or tests). With no `smtp_url`, the `log` transport writes each message to the
//! server log instead, so a development server works without a mail server.
//! Logs never show an SMTP password, and a recipient is logged only in the `log` transport,
//! whose whole point is to show the message.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;

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
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Mailer, String> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| format!("mail_from: {e}"))?;
        if config.smtp_url.is_empty() {
            return Ok(Mailer::Log { from });
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
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
                tracing::info!(
                    to,
                    subject,
                    body,
                    "mail (log transport: no smtp_url configured)"
                );
                Ok(())
            }
        }
    }
}
