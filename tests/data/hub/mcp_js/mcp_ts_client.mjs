// The MCP TypeScript SDK (@modelcontextprotocol/sdk) against a live hub's gateway: tests/hub/test_mcp_js_clients.py.
//
// Environment: MCP_SDK (the package's folder), MCP_URL (the hub's /mcp or /mcp/{name}), HUB_TOKEN (an API token),
// STEPS (a JSON list: {"op": "list"} or {"op": "call", "name": ..., "arguments": {...}}). Connects over Streamable
// HTTP with the token as a bearer header, runs the steps in order and prints one JSON line: each step's answer,
// or its error by the SDK's own error class and code; a refused connection is reported as such.
import path from "node:path";

// MCP_SDK_V2 (the @modelcontextprotocol/client folder) instead: the TypeScript SDK v2 on the 2026-07-28 era.
const v2 = process.env.MCP_SDK_V2;
const sdk = process.env.MCP_SDK;
const dist = (entry) => path.join(sdk, "dist", "esm", entry);
const { Client, StreamableHTTPClientTransport } = v2
  ? await import(path.join(v2, "dist", "index.mjs"))
  : { ...(await import(dist("client/index.js"))), ...(await import(dist("client/streamableHttp.js"))) };

const described = (error) => ({
  name: error.constructor.name,
  code: error.code ?? null,
  message: String(error.message),
  data: error.data ?? null,
});

const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.HUB_TOKEN}` } },
});
const client = new Client({ name: "agenthub-ts-sdk-test", version: "1.0.0" },
                          v2 ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {});
try {
  await client.connect(transport);
} catch (error) {
  console.log(JSON.stringify({ connectError: described(error) }));
  process.exit(0);
}
const steps = [];
for (const step of JSON.parse(process.env.STEPS)) {
  try {
    if (step.op === "list") {
      steps.push({ tools: (await client.listTools()).tools.map((tool) => tool.name) });
    } else {
      const result = await client.callTool({ name: step.name, arguments: step.arguments }, undefined,
                                           { timeout: 60000 });
      steps.push({ result });
    }
  } catch (error) {
    steps.push({ error: described(error) });
  }
}
await client.close();
console.log(JSON.stringify({ protocolVersion: transport.protocolVersion ?? null, steps }));
