//! A real SMTP listener on loopback that captures what Cameo sends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub struct Mail {
    pub to: Vec<String>,
    /// The message with quoted-printable soft breaks and escapes undone.
    pub text: String,
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    /// Indices of the mails `wait_for` has handed out already.
    taken: Arc<Mutex<Vec<usize>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let sink = SmtpSink {
            port,
            mails: mails.clone(),
            taken: Arc::default(),
        };
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve_session(socket, mails.clone()));
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far to `address`.
    pub fn mails_to(&self, address: &str) -> Vec<Mail> {
        let wanted = address.to_lowercase();
        self.mails
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.to.iter().any(|t| t.to_lowercase() == wanted))
            .cloned()
            .collect()
    }

    /// The oldest mail to `address` not handed out before, waiting up to five seconds for
    /// it. Mail goes out in the background, in order, so this is the next one sent there.
    pub async fn wait_for(&self, address: &str) -> Mail {
        let wanted = address.to_lowercase();
        for _ in 0..100 {
            let found = self
                .mails
                .lock()
                .unwrap()
                .iter()
                .enumerate()
                .find(|(index, m)| {
                    m.to.iter().any(|t| t.to_lowercase().contains(&wanted))
                        && !self.taken.lock().unwrap().contains(index)
                })
                .map(|(index, mail)| (index, mail.clone()));
            if let Some((index, mail)) = found {
                self.taken.lock().unwrap().push(index);
                return mail;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no mail to {address}");
    }
}

async fn serve_session(socket: tokio::net::TcpStream, mails: Arc<Mutex<Vec<Mail>>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
    let mut to = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().trim_matches(['<', '>']).to_string());
            b"250 OK\r\n"
        } else if upper.starts_with("DATA") {
            let _ = write.write_all(b"354 go ahead\r\n").await;
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(&line);
                data.push('\n');
            }
            mails.lock().unwrap().push(Mail {
                to: std::mem::take(&mut to),
                text: undo_quoted_printable(&data),
            });
            b"250 queued\r\n"
        } else if upper.starts_with("QUIT") {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"250 OK\r\n"
        };
        let _ = write.write_all(reply).await;
    }
}

fn undo_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(value) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first `http…/PATH/TOKEN` link in a mail.
pub fn link_in(mail: &Mail, path: &str) -> String {
    let start = mail
        .text
        .find(path)
        .unwrap_or_else(|| panic!("no {path} link in:\n{}", mail.text));
    let before = mail.text[..start].rfind("http").expect("absolute link");
    mail.text[before..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}
