// The A2A JavaScript SDK (@a2a-js/sdk) against a live hub, on one transport: tests/hub/test_a2a_js_sdk.py.
//
// Environment: A2A_JS_SDK (the package's folder), AGENT_URL (an agent's base URL, whose public card names the
// transports), HUB_TOKEN (an API token with start and read), TRANSPORT (JSONRPC, HTTP+JSON or GRPC).
// The card is read without a token, as cards are public; each call carries the token as a service parameter
// (an HTTP header, or gRPC metadata). Prints one JSON line: what the client saw, errors by their SDK class.
import path from "node:path";

const sdk = process.env.A2A_JS_SDK;
const dist = (entry) => path.join(sdk, "dist", entry);
const { ClientFactory, JsonRpcTransportFactory, RestTransportFactory } = await import(dist("client/index.js"));
const { GrpcTransportFactory } = await import(dist("client/transports/grpc/index.js"));
const { Role, TaskState } = await import(dist("index.js"));

const transport = process.env.TRANSPORT;
const bearer = { authorization: `Bearer ${process.env.HUB_TOKEN}` };
const factory = new ClientFactory({
  transports: [new JsonRpcTransportFactory(), new RestTransportFactory(), new GrpcTransportFactory()],
  preferredTransports: [transport],
});
const client = await factory.createFromUrl(process.env.AGENT_URL);

function message(id, data) {
  return {
    messageId: id, contextId: "", taskId: "", role: Role.ROLE_USER, metadata: undefined, extensions: [],
    referenceTaskIds: [], parts: [{ content: { $case: "data", value: data }, metadata: undefined, filename: "",
                                    mediaType: "" }],
  };
}

function request(id, data) {
  return { tenant: "", message: message(id, data), configuration: undefined, metadata: undefined };
}

async function failure(call) {
  try {
    await call();
    return null;
  } catch (error) {
    return { name: error.constructor.name, reason: error.reason ?? null, message: String(error.message).slice(0, 300) };
  }
}

const report = { transport: client.transport.protocolName };
const sent = await client.sendMessage(request(`js-${transport}-${Date.now()}`, { amount: 3 }),
                                      { serviceParameters: bearer });
const task = sent.task ?? sent;
report.state = TaskState[task.status.state];
report.artifacts = task.artifacts.map((a) => a.parts.map((p) => p.content?.value));
const again = await client.getTask({ tenant: "", id: task.id, historyLength: undefined },
                                   { serviceParameters: bearer });
report.readBack = again.id === task.id ? TaskState[again.status.state] : null;
report.unknownTask = await failure(() => client.getTask({ tenant: "", id: "no-such-task", historyLength: undefined },
                                                        { serviceParameters: bearer }));
report.noToken = await failure(() => client.sendMessage(request(`js-${transport}-anon-${Date.now()}`, { amount: 1 })));
report.notCancelable = await failure(() => client.cancelTask({ tenant: "", id: task.id, metadata: undefined },
                                                             { serviceParameters: bearer }));
console.log(JSON.stringify(report));
process.exit(0);
