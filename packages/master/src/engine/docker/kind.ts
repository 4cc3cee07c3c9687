// The docker engine's entry in the registry: instances are containers, which see only what the
// master gives them, and reach its API through the socket bound at /var/run/baetyl.sock or the
// host's name on the docker network.
import type { EngineKind } from '../engine.js';
import { registerEngine } from '../registry.js';

export const dockerEngine: EngineKind = {
  mode: 'docker',
  async create(ctx) {
    // Loaded only in docker mode: dockerode (with ssh2 and grpc-js under it) is a third of an
    // idle master's memory, and the native engine never uses it.
    const { DockerEngine } = await import('./engine.js');
    return DockerEngine.create({
      workdir: ctx.workdir,
      confFile: ctx.confFile,
      tcpApi: ctx.conf.server.address.startsWith('tcp://'),
      log: ctx.log,
      ...(ctx.conf.docker.api_version ? { apiVersion: ctx.conf.docker.api_version } : {}),
      ...(ctx.socketPath ? { socketPath: ctx.socketPath } : {}),
    });
  },
  instanceApiAddress(address) {
    if (address.startsWith('unix://')) return 'unix:///var/run/baetyl.sock';
    const port = address.split(':').pop();
    return `tcp://host.docker.internal:${port}`;
  },
  inheritedEnv: () => ({}),
  // The image brings its program and interpreter: nothing to look for on the host.
  checkApp: async () => [],
  checkService: async () => [],
  // The containers' output, as `docker logs` shows it.
  async logs(loaded, name, req) {
    const { dockerLogs } = await import('./logs.js');
    return dockerLogs(loaded, name, req);
  },
};

registerEngine(dockerEngine);
