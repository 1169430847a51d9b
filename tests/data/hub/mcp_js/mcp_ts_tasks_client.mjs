// The MCP Tasks extension's own TypeScript client (@modelcontextprotocol/ext-tasks, on the TypeScript SDK v2
// @modelcontextprotocol/client) against a live hub: tests/hub/test_mcp_js_clients.py.
//
// Environment: MCP_MODULES (the node_modules folder), MCP_URL (the hub's /mcp), HUB_TOKEN (an API token), TOOL and
// ARGUMENTS (JSON), ANSWER (JSON: what to answer each elicitation with, or absent). The SDK client connects on the
// 2026-07-28 era; the Tasks session (createTaskSessionFromClient) sends tools/call and the task methods through
// rawDispatch, the host's request path the extension asks for on that era: here one HTTP POST per request,
// with the headers the era and the extension require (MCP-Protocol-Version, Mcp-Method, Mcp-Name). Prints one JSON
// line: the outcome of the call as the session settled it, and what it was asked.
import path from "node:path";

const modules = process.env.MCP_MODULES;
const entry = (pkg, file) => path.join(modules, "@modelcontextprotocol", pkg, "dist", file);
const { Client, StreamableHTTPClientTransport } = await import(entry("client", "index.mjs"));
const { createTaskSessionFromClient } = await import(entry("ext-tasks", "client/index.js"));

const url = new URL(process.env.MCP_URL);
const bearer = `Bearer ${process.env.HUB_TOKEN}`;
const version = "2026-07-28";
const clientInfo = { name: "agenthub-ext-tasks-test", version: "1.0.0" };
const clientCapabilities = { elicitation: { form: {} } };
const client = new Client(clientInfo, { capabilities: clientCapabilities,
                                        versionNegotiation: { mode: { pin: version } } });
await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: bearer } } }));

let nextId = 1;
async function rawDispatch(request) {
  const id = nextId++;
  const params = request.params ?? {};
  const name = request.method === "tools/call" ? params.name : params.taskId;
  const headers = { Authorization: bearer, "Content-Type": "application/json",
                    Accept: "application/json, text/event-stream", "MCP-Protocol-Version": version,
                    "Mcp-Method": request.method, ...(name === undefined ? {} : { "Mcp-Name": String(name) }) };
  const response = await fetch(url, { method: "POST", headers,
                                      body: JSON.stringify({ jsonrpc: "2.0", id, ...request }) });
  const text = await response.text();
  const messages = (response.headers.get("content-type") ?? "").includes("text/event-stream")
    ? text.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trim())
        .filter((data) => data.length > 0).map((data) => JSON.parse(data))
    : [JSON.parse(text)];
  const answer = messages.find((message) => message.id === id);
  if (answer === undefined) throw new Error(`no answer to request ${id} (HTTP ${response.status}): ${text}`);
  return answer.error !== undefined ? { kind: "error", error: answer.error } : { kind: "result", result: answer.result };
}

const asked = [];
const answerWith = process.env.ANSWER === undefined ? undefined : JSON.parse(process.env.ANSWER);
const session = createTaskSessionFromClient(client, {
  endpointId: "agenthub",
  rawDispatch,
  v2RequestFraming: { protocolVersion: version, clientInfo, clientCapabilities },
  onInputRequest: async (request, context) => {
    asked.push({ request, delivery: context.delivery, scope: context.scope });
    return answerWith;
  },
});
let report;
try {
  const execution = await session.callTool(process.env.TOOL, JSON.parse(process.env.ARGUMENTS));
  const { outcome } = await execution.settle();
  report = { outcome, asked };
} catch (error) {
  report = { error: { name: error.constructor.name, message: String(error.message), code: error.code ?? null }, asked };
} finally {
  await session.close();
  await client.close();
}
console.log(JSON.stringify(report));
