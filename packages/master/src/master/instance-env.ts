// What an instance's environment holds: what its engine lets it inherit, its service's env, then
// Baetyl's BAETYL_* variables (and their OPENEDGE_* twins, for v1.0 services), then, for a dynamic
// instance, what its caller passed. Only a static instance gets its service's token.
import { readFileSync } from 'node:fs';
import { platform } from 'node:os';
import { resolve } from 'node:path';
import type { Logger } from '@baetyl/core/log';
import { OPENEDGE_TWINS } from '@baetyl/core/context';
import { parseApiAddress } from '@baetyl/core/api';
import type { ServiceSpec } from '../app/model.js';
import type { MasterConfig } from '../conf/schema.js';
import type { EngineKind, InstanceRequest } from '../engine/engine.js';
import { TLS_ENV, type ApiTls } from '../api/tls.js';

export interface InstanceEnvOptions {
  conf: MasterConfig;
  workdir: string;
  engine: EngineKind;
  tls: ApiTls | undefined;
  log: Logger;
}

/** One instance to start: the service, its name, and its token (static) or its caller's env (dynamic). */
export interface InstanceIdentity {
  service: ServiceSpec;
  instance: string;
  token: string;
  dynamic?: Record<string, string>;
}

export class InstanceEnvironment {
  constructor(private readonly opts: InstanceEnvOptions) {}

  /** What every instance gets: the API's address, the host. */
  private systemEnv(): Record<string, string> {
    const { conf, engine, workdir } = this.opts;
    const address = parseApiAddress(conf.server.address);
    const env: Record<string, string> = {
      BAETYL_MASTER_API_ADDRESS: engine.instanceApiAddress(conf.server.address),
      BAETYL_MASTER_API_VERSION: 'v1',
      BAETYL_HOST_OS: platform(),
      BAETYL_SERVICE_MODE: engine.mode,
    };
    if (address.kind === 'unix') env.BAETYL_MASTER_API_SOCKET = resolve(workdir, address.path);
    if (conf.snfile) {
      try {
        env.BAETYL_HOST_SN = readFileSync(resolve(workdir, conf.snfile), 'utf8').trim();
      } catch {
        this.opts.log.warn(`snfile ${conf.snfile} cannot be read, BAETYL_HOST_SN is not set`);
      }
    }
    return env;
  }

  /**
   * The TLS files an instance needs to call the API, for the engine to make readable in it.
   * Only instances with a token get them: a dynamic instance cannot call the API anyway.
   */
  private apiFiles(): NonNullable<InstanceRequest['files']> {
    const f = this.opts.tls?.files;
    if (!f) return [];
    // Without a CA the certificate is self-signed: the clients trust it, and present nothing.
    if (!f.ca) return [{ env: TLS_ENV.ca, hostPath: f.cert }];
    return [
      { env: TLS_ENV.ca, hostPath: f.ca },
      { env: TLS_ENV.cert, hostPath: f.cert },
      { env: TLS_ENV.key, hostPath: f.key },
    ];
  }

  private env({ service, instance, token, dynamic }: InstanceIdentity): Record<string, string> {
    const system: Record<string, string> = {
      ...this.systemEnv(),
      BAETYL_SERVICE_NAME: service.name,
      BAETYL_SERVICE_INSTANCE_NAME: instance,
    };
    if (!dynamic) system.BAETYL_SERVICE_TOKEN = token;
    for (const [k, v] of Object.entries({ ...system })) {
      const twin = OPENEDGE_TWINS[k];
      if (twin) system[twin] = v;
    }
    const env = { ...this.opts.engine.inheritedEnv(), ...service.env, ...system, ...(dynamic ?? {}) };
    // A dynamic instance never gets a token: it cannot call the master API.
    if (dynamic) {
      delete env.BAETYL_SERVICE_TOKEN;
      delete env.OPENEDGE_SERVICE_TOKEN;
    }
    return env;
  }

  /** What the engine starts the instance with. */
  request(id: InstanceIdentity): InstanceRequest {
    return { service: id.service, instance: id.instance, env: this.env(id), ...(id.dynamic ? {} : { files: this.apiFiles() }) };
  }
}
