// The body of the thread that loads the runtime's service.yml (see off-thread.ts): YAML, ajv and
// the schemas live and die with this thread, so the instance does not keep them in memory.
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfigModule } from './code-cache.js';
import type { ConfigRequest, ConfigReply } from './off-thread.js';

const { file, kind } = workerData as ConfigRequest;
const warnings: string[] = [];
let reply: ConfigReply;
try {
  const { loadRuntimeConfig } = await loadConfigModule();
  reply = { ok: true, cfg: loadRuntimeConfig(file, kind, process.env, (m) => warnings.push(m)), warnings };
} catch (err) {
  reply = { ok: false, message: (err as Error).message };
}
parentPort!.postMessage(reply);
