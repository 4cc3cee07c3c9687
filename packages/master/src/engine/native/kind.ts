// The native engine's entry in the registry: instances are processes on the host, so they see the
// master's environment and reach its API socket through their own directory.
import type { EngineKind } from '../engine.js';
import { registerEngine } from '../registry.js';

export const nativeEngine: EngineKind = {
  mode: 'native',
  async create(ctx) {
    const { NativeEngine } = await import('./engine.js');
    return new NativeEngine({ workdir: ctx.workdir, ...(ctx.socketPath ? { socketPath: ctx.socketPath } : {}) });
  },
  // A unix socket is linked into the instance's own directory, so the relative path reaches it.
  instanceApiAddress: (address) => (address.startsWith('unix://') ? 'unix://var/run/baetyl.sock' : address),
  inheritedEnv: () => ({ ...(process.env as Record<string, string>) }),
  // Loaded only when a check runs: `baetyl start` does not need it.
  async checkApp(target) {
    const { checkPrograms } = await import('./check.js');
    return checkPrograms(target);
  },
  async checkService(check) {
    const { checkInterpreter } = await import('./check.js');
    return checkInterpreter(check);
  },
  async logs(loaded, name, req) {
    const { nativeLogs } = await import('./logs.js');
    return nativeLogs(loaded, name, req, nativeEngine);
  },
};

registerEngine(nativeEngine);
