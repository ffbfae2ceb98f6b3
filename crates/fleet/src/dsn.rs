//! Connection strings: parsed by tokio-postgres (URL or `key=value` form) and shown only
//! without their password, in logs, errors and the status the hall serves.

use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

use crate::error::FleetError;

/// Parse `database_url`; the error names what is wrong, never the text itself (it may hold a
/// password).
pub fn parse(database_url: &str) -> Result<Config, FleetError> {
    let trimmed = database_url.trim();
    if trimmed.is_empty() {
        return Err(FleetError::Config("database_url is empty".into()));
    }
    trimmed.parse::<Config>().map_err(|e| {
        FleetError::Config(format!(
            "database_url is not a PostgreSQL connection string: {e}"
        ))
    })
}

/// `postgresql://user@host:port/dbname`: enough to tell which server, nothing secret.
pub fn redacted(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(host, port)| match host {
            Host::Tcp(name) => format!("{name}:{port}"),
            #[cfg(unix)]
            Host::Unix(path) => format!("{}:{port}", path.display()),
        })
        .collect();
    format!(
        "postgresql://{}@{}/{}",
        config.get_user().unwrap_or(""),
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

/// Connect (plain TCP or a unix socket: no TLS connector yet, docs/fleet.md) and drive the
/// connection on the current runtime.
pub async fn connect(config: &Config) -> Result<Client, FleetError> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("fleet connection closed: {e}");
        }
    });
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows() {
        let config = parse("postgresql://proctor:s3cret@db.example:6543/fleet").unwrap();
        let shown = redacted(&config);
        assert_eq!(shown, "postgresql://proctor@db.example:6543/fleet");
        let kv = parse("host=db user=proctor password=s3cret dbname=fleet").unwrap();
        assert!(!redacted(&kv).contains("s3cret"));
    }

    #[test]
    fn a_bad_url_is_named_without_echoing_it() {
        let err = parse("postgresql://proctor:s3cret@db:notaport/fleet").unwrap_err();
        assert!(err.to_string().contains("database_url"), "{err}");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert!(parse("  ").unwrap_err().to_string().contains("empty"));
    }
}
