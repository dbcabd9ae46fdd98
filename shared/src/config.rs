//! The connection settings every process takes (queue and blob URLs), so that the worker,
//! the merger and the producer accept, check and print them the same way.

/// Where the farm is: flattened into each binary's command line.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnectionArgs {
    /// RabbitMQ URL, e.g. amqps://user:pass@rabbitmq:5671/%2f, from the environment (or a
    /// file: MOONFARM_AMQP_URL_FILE); on the command line only without a password. A
    /// comma-separated list for the nodes of a cluster (each connection tries them in turn).
    #[arg(long, env = "MOONFARM_AMQP_URL", hide_env_values = true)]
    pub amqp: Option<String>,
    /// Blob store URL: az://container[/prefix], file:///absolute/path or memory://
    #[arg(long, env = "MOONFARM_BLOB_URL")]
    pub blob: Option<String>,
}

impl ConnectionArgs {
    /// Checks the URLs that are set, and for an `az://` store the credential variables
    /// (MOONFARM_AZURE_AUTH and what it needs), before anything connects.
    pub fn check(&self) -> anyhow::Result<()> {
        if let Some(url) = &self.amqp {
            check_amqp_url(url)?;
        }
        if let Some(url) = &self.blob {
            check_blob_url(url)?;
            if url.starts_with("az://") {
                crate::blob::azure::AzureOptions::from_env()
                    .map_err(|reason| anyhow::anyhow!("MOONFARM_BLOB_URL {url}: {reason}"))?;
            }
        }
        Ok(())
    }

    /// `check`, and both URLs set: what a worker or the merger needs to run.
    pub fn check_service(&self) -> anyhow::Result<()> {
        self.check()?;
        if self.amqp.is_none() {
            anyhow::bail!("no queue configured: set MOONFARM_AMQP_URL (or --amqp), e.g. amqp://user:pass@rabbitmq:5672/%2f");
        }
        if self.blob.is_none() {
            anyhow::bail!(
                "no blob store configured: set MOONFARM_BLOB_URL (or --blob), e.g. az://renders"
            );
        }
        Ok(())
    }

    /// `amqp = ...` and `blob = ...` lines, the password redacted.
    pub fn describe(&self) -> String {
        format!(
            "amqp = {}\nblob = {}",
            self.amqp
                .as_deref()
                .map_or("(unset: embedded only)".into(), redact),
            self.blob.as_deref().map_or("(unset)".into(), redact)
        )
    }
}

/// Checks one URL or a comma-separated list of them (the nodes of a cluster).
pub fn check_amqp_url(urls: &str) -> anyhow::Result<()> {
    for url in crate::amqp::split_urls(urls) {
        if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
            anyhow::bail!(
                "MOONFARM_AMQP_URL `{}`: expected amqp://user:pass@host:5672/vhost or amqps://..., or several, comma-separated",
                redact(&url)
            );
        }
    }
    Ok(())
}

pub fn check_blob_url(url: &str) -> anyhow::Result<()> {
    if !(url.starts_with("az://") || url.starts_with("file:///") || url == "memory://") {
        let url = redact(url);
        anyhow::bail!("MOONFARM_BLOB_URL `{url}`: expected az://container, file:///absolute/path or memory://");
    }
    Ok(())
}

/// A URL, or a comma-separated list of them, with the passwords replaced, for printing.
pub fn redact(urls: &str) -> String {
    if urls.contains(',') {
        return crate::amqp::split_urls(urls)
            .iter()
            .map(String::as_str)
            .map(redact_one)
            .collect::<Vec<_>>()
            .join(",");
    }
    redact_one(urls)
}

use crate::secrets::redact_url as redact_one;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_passwords_redacted() {
        assert!(check_amqp_url("amqp://u:p@h:5672/%2f").is_ok());
        assert!(check_amqp_url("http://h").is_err());
        assert!(check_amqp_url("amqp://a:5681/%2f,amqp://b:5682/%2f").is_ok());
        assert!(check_amqp_url("amqp://a:5681/%2f,b:5682").is_err());
        assert!(check_blob_url("az://renders").is_ok() && check_blob_url("file:///tmp/x").is_ok());
        assert!(check_blob_url("s3://bucket").is_err());
        assert_eq!(
            redact("amqp://guest:secret@localhost:5672/%2f"),
            "amqp://guest:***@localhost:5672/%2f"
        );
        assert_eq!(redact("amqp://localhost"), "amqp://localhost");
        assert_eq!(
            redact("amqp://u:p@a:5681/%2f,amqp://u:q@b:5682/%2f"),
            "amqp://u:***@a:5681/%2f,amqp://u:***@b:5682/%2f"
        );
    }
}
