//! The TLS crypto provider of the outgoing HTTPS clients (rmcp's Streamable HTTP client to
//! downstream MCP servers, the OTLP exporter). reqwest is built without a provider of its own
//! (its default, aws-lc-rs, is a C library that was the slowest part of the build), and would
//! panic building a client with none installed.

use rustls::crypto::CryptoProvider;

/// Makes rustls' `ring` provider the process default unless one is installed already (by an
/// earlier call, or by the program embedding the hall). Call before building an HTTP client.
pub fn install_crypto_provider() {
    if CryptoProvider::get_default().is_none() {
        // Err: another thread installed one between the check and here, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::ServiceExt;
    use std::io::Read;
    use std::net::TcpListener;
    use std::time::Duration;

    /// An `https://` MCP server is spoken to in TLS through the installed provider: the first
    /// bytes the server gets are a handshake record holding a ClientHello (without a provider,
    /// building the client would panic before anything is sent).
    #[test]
    fn an_https_server_gets_a_tls_client_hello() {
        super::install_crypto_provider();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "https://127.0.0.1:{}/mcp",
            listener.local_addr().unwrap().port()
        );
        // Reads the record header and the handshake type, then hangs up: the handshake fails.
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = [0u8; 6];
            stream.read_exact(&mut head).unwrap();
            head
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let connected = runtime.block_on(async {
            let transport = StreamableHttpClientTransport::from_config(
                StreamableHttpClientTransportConfig::with_uri(url),
            );
            tokio::time::timeout(Duration::from_secs(30), ().serve(transport)).await
        });
        let head = server.join().unwrap();
        assert_eq!(head[0], 0x16, "not a TLS handshake record: {head:?}");
        assert_eq!(head[5], 0x01, "not a ClientHello: {head:?}");
        assert!(
            matches!(connected, Ok(Err(_))),
            "the server hung up: initialize must fail, not time out"
        );
    }
}
