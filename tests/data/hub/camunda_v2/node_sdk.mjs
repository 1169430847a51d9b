// Camunda's Node SDK (@camunda8/orchestration-cluster-api), unchanged, against an agenthub hub's /v2 API:
// deploy a model, run a job worker, start instances and await their completion. Prints one JSON line.
//   node node_sdk.mjs  with HUB_URL, HUB_TOKEN, CAMUNDA_SDK (the SDK's dist/index.js) and MODEL (a .bpmn path)
import { pathToFileURL } from 'node:url';

const { default: createCamundaClient } = await import(pathToFileURL(process.env.CAMUNDA_SDK).href);

// The SDK's documented custom fetch: the hub's API token as a bearer token on every request.
const bearer = (input, init) => {
  const request = new Request(input, init);
  request.headers.set('Authorization', `Bearer ${process.env.HUB_TOKEN}`);
  return fetch(request);
};
const camunda = createCamundaClient({
  config: { CAMUNDA_REST_ADDRESS: process.env.HUB_URL, CAMUNDA_AUTH_STRATEGY: 'NONE' },
  fetch: bearer,
});

const deployed = await camunda.deployResourcesFromFiles([process.env.MODEL]);
const worker = camunda.createJobWorker({
  jobType: 'v2-node',
  jobTimeoutMs: 30_000,
  maxParallelJobs: 5,
  pollIntervalMs: 50,
  jobHandler: async (job) => job.complete({ doubled: job.variables.n * 2, by: 'node' }),
});
try {
  const results = [];
  for (const n of [1, 21]) {
    const done = await camunda.createProcessInstance({
      processDefinitionId: 'v2_node', variables: { n }, awaitCompletion: true, requestTimeout: 20_000,
    });
    results.push({ key: done.processInstanceKey, variables: done.variables });
  }
  const topology = await camunda.getTopology();
  console.log(JSON.stringify({
    processes: deployed.processes.map((p) => p.processDefinitionId), results, brokers: topology.brokers.length,
  }));
} finally {
  worker.stop();
}
