// The environment a service instance receives from the master (Baetyl v1 §1.4), with the
// OPENEDGE_* twins older services read.

export const ENV = {
  masterApiAddress: 'BAETYL_MASTER_API_ADDRESS',
  masterApiSocket: 'BAETYL_MASTER_API_SOCKET',
  masterApiVersion: 'BAETYL_MASTER_API_VERSION',
  hostOs: 'BAETYL_HOST_OS',
  hostId: 'BAETYL_HOST_ID',
  hostSn: 'BAETYL_HOST_SN',
  serviceMode: 'BAETYL_SERVICE_MODE',
  serviceName: 'BAETYL_SERVICE_NAME',
  serviceToken: 'BAETYL_SERVICE_TOKEN',
  instanceName: 'BAETYL_SERVICE_INSTANCE_NAME',
  instanceAddress: 'BAETYL_SERVICE_INSTANCE_ADDRESS',
  // Ours (v1's services had none): the files of a TLS master API, as this instance sees them.
  masterApiCa: 'BAETYL_MASTER_API_CA',
  masterApiCert: 'BAETYL_MASTER_API_CERT',
  masterApiKey: 'BAETYL_MASTER_API_KEY',
} as const;

/** Each BAETYL_* variable's OPENEDGE_* twin, as v1 exports both. */
export const OPENEDGE_TWINS: Record<string, string> = {
  BAETYL_MASTER_API_ADDRESS: 'OPENEDGE_MASTER_API',
  BAETYL_MASTER_API_VERSION: 'OPENEDGE_MASTER_API_VERSION',
  BAETYL_HOST_OS: 'OPENEDGE_HOST_OS',
  BAETYL_SERVICE_MODE: 'OPENEDGE_RUNNING_MODE',
  BAETYL_HOST_ID: 'OPENEDGE_HOST_ID',
  BAETYL_SERVICE_NAME: 'OPENEDGE_SERVICE_NAME',
  BAETYL_SERVICE_TOKEN: 'OPENEDGE_SERVICE_TOKEN',
  BAETYL_SERVICE_INSTANCE_NAME: 'OPENEDGE_SERVICE_INSTANCE_NAME',
  BAETYL_SERVICE_INSTANCE_ADDRESS: 'OPENEDGE_SERVICE_INSTANCE_ADDRESS',
};

export interface ServiceContext {
  serviceName: string;
  instanceName: string;
  /** Empty for dynamic instances: they cannot call the master API. */
  token: string;
  mode: 'native' | 'docker';
  masterApiAddress: string;
  masterApiVersion: string;
  /**
   * Set when the master API is HTTPS: the files of the CA to trust and of the client
   * certificate to present (cert and key are absent when the API asks for none).
   */
  masterApiTls?: { ca: string; cert?: string; key?: string };
  /** Where a dynamic instance (a function runtime) must listen, if the master said. */
  instanceAddress?: string;
  hostOs: string;
}

function pick(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** Reads the service context from the environment, accepting the OPENEDGE_* names too. */
export function readServiceContext(env: NodeJS.ProcessEnv = process.env): ServiceContext {
  const serviceName = pick(env, ENV.serviceName, 'OPENEDGE_SERVICE_NAME') ?? '';
  const ctx: ServiceContext = {
    serviceName,
    instanceName: pick(env, ENV.instanceName, 'OPENEDGE_SERVICE_INSTANCE_NAME') ?? serviceName,
    token: pick(env, ENV.serviceToken, 'OPENEDGE_SERVICE_TOKEN') ?? '',
    mode: pick(env, ENV.serviceMode, 'OPENEDGE_RUNNING_MODE') === 'docker' ? 'docker' : 'native',
    masterApiAddress: pick(env, ENV.masterApiAddress, 'OPENEDGE_MASTER_API') ?? '',
    masterApiVersion: pick(env, ENV.masterApiVersion, 'OPENEDGE_MASTER_API_VERSION') ?? 'v1',
    hostOs: pick(env, ENV.hostOs, 'OPENEDGE_HOST_OS') ?? process.platform,
  };
  const ca = pick(env, ENV.masterApiCa);
  if (ca) {
    const cert = pick(env, ENV.masterApiCert);
    const key = pick(env, ENV.masterApiKey);
    ctx.masterApiTls = { ca, ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  }
  const address = pick(env, ENV.instanceAddress, 'OPENEDGE_SERVICE_INSTANCE_ADDRESS', 'OPENEDGE_SERVICE_ADDRESS');
  if (address) ctx.instanceAddress = address;
  return ctx;
}
