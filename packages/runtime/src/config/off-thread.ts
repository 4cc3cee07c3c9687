// Loads the runtime's config in a short-lived worker thread. The loader (yaml, ajv, the compiled
// schemas) is most of what a runtime instance would otherwise keep in memory for nothing after
// start-up; a thread's heap is freed when it ends. It starts before the host loads its own
// modules (start-early.ts), so it runs on the other core meanwhile.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RuntimeConfig } from './config.js';
import type { RuntimeKind } from './kinds.js';

export interface ConfigRequest {
  file: string;
  kind: RuntimeKind;
}

export type ConfigReply = { ok: true; cfg: RuntimeConfig; warnings: string[] } | { ok: false; message: string };

/** dist/src/config/thread.js, or its bundle next to the host's bundle (dist/bundle/config-thread.mjs). */
function threadScript(): string {
  for (const rel of ['./config-thread.mjs', './thread.js', '../src/config/thread.js']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('the config loader (packages/runtime/dist/src/config/thread.js) is missing: run "make build"');
}

let started: { request: ConfigRequest; reply: Promise<ConfigReply> } | undefined;

function start(request: ConfigRequest): Promise<ConfigReply> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(threadScript(), { workerData: request });
    } catch (err) {
      resolve({ ok: false, message: (err as Error).message });
      return;
    }
    worker.once('message', (reply: ConfigReply) => {
      resolve(reply);
      void worker.terminate();
    });
    worker.once('error', (err) => resolve({ ok: false, message: `cannot load the config: ${err.message}` }));
    worker.once('exit', (code) => resolve({ ok: false, message: `the config loader stopped with code ${code} before answering` }));
  });
}

/** Starts loading now; loadConfigOffThread with the same request then takes the answer. */
export function startConfigLoad(request: ConfigRequest): void {
  started = { request, reply: start(request) };
}

/** The config, its warnings; throws with the loader's message (file, line, what to change). */
export async function loadConfigOffThread(request: ConfigRequest): Promise<{ cfg: RuntimeConfig; warnings: string[] }> {
  const early = started;
  started = undefined;
  const same = early && early.request.file === request.file && early.request.kind === request.kind;
  const reply = await (same ? early.reply : start(request));
  if (!reply.ok) throw new Error(reply.message);
  return { cfg: reply.cfg, warnings: reply.warnings };
}
