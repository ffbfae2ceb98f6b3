//! A small stdio MCP server (the official Rust SDK) for the gateway's tests and benchmark: tools
//! that answer, and tools that misbehave the ways real servers do (hang, crash mid-call, flood,
//! answer garbage), which no well-behaved public server can be asked to do on cue.
//!
//! `cargo run -p hall --example mcp_fixture` speaks MCP on stdin/stdout. With
//! `MCP_FIXTURE_CALL_LOG=FILE`, every call it receives is appended to FILE (tests use it to prove
//! that a denied call never reached the server).

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::sync::Arc;

struct Fixture;

fn tool(name: &'static str, description: &'static str, properties: Value) -> Tool {
    let schema: Map<String, Value> =
        serde_json::from_value(json!({"type": "object", "properties": properties}))
            .expect("schema is an object");
    Tool::new(name, description, Arc::new(schema))
}

fn text(s: impl Into<String>) -> CallToolResponse {
    CallToolResult::success(vec![ContentBlock::text(s.into())]).into()
}

fn arg<'a>(args: &'a Option<Map<String, Value>>, key: &str) -> Option<&'a Value> {
    args.as_ref()?.get(key)
}

impl ServerHandler for Fixture {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("mcp-fixture", "1.0.0");
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(vec![
            tool(
                "echo",
                "Echo the text back",
                json!({"text": {"type": "string"}}),
            ),
            tool(
                "add",
                "Add two numbers",
                json!({"a": {"type": "number"}, "b": {"type": "number"}}),
            ),
            tool(
                "delete_everything",
                "A tool no mapping should offer",
                json!({}),
            ),
            tool(
                "sleep",
                "Answer after ms milliseconds",
                json!({"ms": {"type": "integer"}}),
            ),
            tool("crash", "Exit the process mid-call", json!({})),
            tool(
                "flood",
                "Answer with n bytes of text",
                json!({"n": {"type": "integer"}}),
            ),
            tool("fail", "Answer with a tool error", json!({})),
            tool("reject", "Answer with a JSON-RPC error", json!({})),
        ]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if let Ok(log) = std::env::var("MCP_FIXTURE_CALL_LOG") {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
            {
                let line = json!({"tool": request.name, "arguments": request.arguments});
                let _ = writeln!(f, "{line}");
            }
        }
        let args = &request.arguments;
        match request.name.as_ref() {
            "echo" => Ok(text(
                arg(args, "text").and_then(Value::as_str).unwrap_or(""),
            )),
            "add" => {
                let n = |k| arg(args, k).and_then(Value::as_f64).unwrap_or(0.0);
                Ok(text((n("a") + n("b")).to_string()))
            }
            "delete_everything" => Ok(text("everything deleted")),
            "sleep" => {
                let ms = arg(args, "ms").and_then(Value::as_u64).unwrap_or(1000);
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                Ok(text(format!("slept {ms} ms")))
            }
            "crash" => {
                eprintln!("fixture: crashing on purpose");
                std::process::exit(3)
            }
            "flood" => {
                let n = arg(args, "n").and_then(Value::as_u64).unwrap_or(1 << 20) as usize;
                Ok(text("x".repeat(n)))
            }
            "fail" => Ok(CallToolResult::error(vec![ContentBlock::text("it failed")]).into()),
            "reject" => Err(ErrorData::internal_error(
                "the fixture rejects this call",
                None,
            )),
            other => Err(ErrorData::invalid_params(format!("no tool {other}"), None)),
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    eprintln!("fixture: started");
    let service = Fixture
        .serve(rmcp::transport::stdio())
        .await
        .expect("the client initializes");
    let _ = service.waiting().await;
}
