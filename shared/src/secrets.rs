//! Secrets: the one place that knows which values are credentials (passwords in AMQP URLs,
//! storage account keys, SAS tokens, client secrets), redacts them from whatever is printed or
//! logged, reads them from files (Kubernetes secret mounts) and refuses them on a command line,
//! where every user of the machine sees them in `ps`.

use std::ffi::OsString;

/// Variables whose whole value is a credential.
const SECRET_VARS: &[&str] = &[
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_CLIENT_SECRET",
];

/// Variables that may be given as a file instead (`NAME_FILE=/path`, the file holding the
/// value): the queue URL and the blob credentials.
const FILE_VARS: &[&str] = &[
    "MOONFARM_AMQP_URL",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_CLIENT_SECRET",
];

/// What replaces a secret.
pub const MASK: &str = "***";

/// A URL with its password replaced: `amqp://user:***@host/vhost`, and a SAS signature
/// (`sig=...`) in its query likewise.
pub fn redact_url(url: &str) -> String {
    let url = match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s && !url[s + 3..at].contains('/') => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:{MASK}@{}", &url[..s], &url[at + 1..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    };
    redact_sas(&url)
}

/// `sig=...` (a SAS token's signature) replaced wherever it appears.
fn redact_sas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("sig=") {
        out.push_str(&rest[..i + 4]);
        out.push_str(MASK);
        let tail = &rest[i + 4..];
        let end = tail
            .find(|c: char| c == '&' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The secrets this process holds, as the text they would appear as: the password of
/// `MOONFARM_AMQP_URL` (raw and percent-decoded) and every secret variable's value.
fn known_secrets() -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(url) = std::env::var("MOONFARM_AMQP_URL") {
        if let Some(p) = url_password(&url) {
            found.push(percent_decode(&p));
            found.push(p);
        }
    }
    for var in SECRET_VARS {
        if let Ok(v) = std::env::var(var) {
            found.push(v.trim().to_string());
        }
    }
    // Short values would mask ordinary words; no real credential is this short.
    found.retain(|s| s.len() >= 4);
    found
}

fn url_password(url: &str) -> Option<String> {
    let s = url.find("://")? + 3;
    let at = url.rfind('@')?;
    let creds = url.get(s..at)?;
    creds.split_once(':').map(|(_, p)| p.to_string())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Free text (an error, a log line, a panic message) with every secret masked: URL passwords,
/// SAS signatures, and the values of the secrets this process holds wherever they appear.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.contains("://") {
            out.push_str(&redact_url(word));
        } else {
            out.push_str(word);
        }
    }
    let mut out = redact_sas(&out);
    for secret in known_secrets() {
        if out.contains(&secret) {
            out = out.replace(&secret, MASK);
        }
    }
    out
}

/// Reads `NAME_FILE` into `NAME` for each variable that may come from a file (a Kubernetes
/// secret mounted as a file), before anything reads the environment. Call first in `main`,
/// while the process has one thread.
pub fn load_files() -> Result<(), String> {
    for var in FILE_VARS {
        let file_var = format!("{var}_FILE");
        let Some(path) = std::env::var_os(&file_var) else {
            continue;
        };
        if std::env::var_os(var).is_some() {
            return Err(format!(
                "both {var} and {file_var} are set; set one of them"
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{file_var}={}: cannot read the file: {e}",
                std::path::Path::new(&path).display()
            )
        })?;
        let value = text.trim();
        if value.is_empty() {
            return Err(format!(
                "{file_var}={}: the file is empty",
                std::path::Path::new(&path).display()
            ));
        }
        std::env::set_var(var, value);
    }
    Ok(())
}

/// Refuses a password given in `--amqp` on the command line (`--amqp URL` or `--amqp=URL`),
/// saying how to pass it instead.
pub fn refuse_on_command_line(args: impl IntoIterator<Item = OsString>) -> Result<(), String> {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    for (i, arg) in args.iter().enumerate() {
        let url = match arg.strip_prefix("--amqp=") {
            Some(url) => Some(url),
            None if arg == "--amqp" => args.get(i + 1).map(String::as_str),
            None => None,
        };
        if let Some(url) = url {
            if url_password(url).is_some() {
                return Err(format!(
                    "--amqp {}: a password on the command line is visible to every user of this machine (ps); set MOONFARM_AMQP_URL, or MOONFARM_AMQP_URL_FILE to a file holding the URL (a Kubernetes secret mount), and leave the password out of --amqp",
                    redact_url(url)
                ));
            }
        }
    }
    Ok(())
}

/// Panic messages go through [`redact`] before they are printed.
pub fn redact_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned());
        match message {
            Some(m) => {
                let at = info
                    .location()
                    .map_or(String::new(), |l| format!(" at {}:{}", l.file(), l.line()));
                eprintln!("panicked{at}: {}", redact(&m));
            }
            None => default(info),
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_signatures_are_masked() {
        assert_eq!(
            redact_url("amqp://guest:secret@localhost:5672/%2f"),
            "amqp://guest:***@localhost:5672/%2f"
        );
        assert_eq!(redact_url("amqp://localhost"), "amqp://localhost");
        assert_eq!(
            redact("GET https://acct.blob.core.windows.net/c?sv=2022&sig=abc%2Fdef&se=1 failed"),
            "GET https://acct.blob.core.windows.net/c?sv=2022&sig=***&se=1 failed"
        );
        assert_eq!(
            redact("connecting to amqps://u:p4ss@h:5671/x: refused"),
            "connecting to amqps://u:***@h:5671/x: refused"
        );
    }

    #[test]
    fn a_password_on_the_command_line_is_refused() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        let e = refuse_on_command_line(args(&["worker", "--amqp", "amqp://u:hunter22@h/%2f"]))
            .unwrap_err();
        assert!(
            e.contains("MOONFARM_AMQP_URL_FILE") && !e.contains("hunter22"),
            "{e}"
        );
        assert!(refuse_on_command_line(args(&["w", "--amqp=amqp://u:hunter22@h"])).is_err());
        assert!(refuse_on_command_line(args(&["w", "--amqp", "amqp://h:5672/%2f"])).is_ok());
        assert!(refuse_on_command_line(args(&["w", "--blob", "az://c"])).is_ok());
    }
}
