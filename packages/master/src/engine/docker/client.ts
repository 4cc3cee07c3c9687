// Connecting to the Docker engine, and saying clearly what to do when that fails.
import Docker from 'dockerode';

export interface DockerConnection {
  docker: Docker;
  /** Where the engine is, for messages: the socket path or DOCKER_HOST. */
  endpoint: string;
  /** The kernel cannot limit CPU time (no CFS quota): `cpus` is ignored with a warning. */
  noCpuQuota: boolean;
  serverVersion: string;
}

export function dockerEndpoint(): string {
  return process.env.DOCKER_HOST || '/var/run/docker.sock';
}

/** `docker.api_version` in conf.yml pins the API version; without it the engine's own is used. */
export async function connectDocker(apiVersion: string | undefined, confFile: string): Promise<DockerConnection> {
  const endpoint = dockerEndpoint();
  const docker = new Docker(apiVersion ? { version: apiVersion.startsWith('v') ? apiVersion : `v${apiVersion}` } : undefined);
  const hint = `start the Docker engine (e.g. "sudo systemctl start docker" or "dockerd &"), or set "mode: native" in ${confFile}`;
  try {
    await docker.ping();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { statusCode?: number; json?: { message?: string } };
    if (e.code === 'EACCES') {
      throw new Error(`Docker engine at ${endpoint} refused this user (permission denied): run baetyl as root, or add the user to the "docker" group`);
    }
    if (e.statusCode === 400 && apiVersion) {
      throw new Error(
        `Docker engine at ${endpoint} does not accept API version ${apiVersion} (${e.json?.message ?? e.message}): remove docker.api_version from ${confFile}`,
      );
    }
    throw new Error(`Docker engine not reachable at ${endpoint} (${e.code ?? e.message}): ${hint}`);
  }
  let noCpuQuota = false;
  let serverVersion = '';
  try {
    const info = (await docker.info()) as { CpuCfsQuota?: boolean; ServerVersion?: string };
    noCpuQuota = info.CpuCfsQuota === false;
    serverVersion = info.ServerVersion ?? '';
  } catch (err) {
    const e = err as { statusCode?: number; json?: { message?: string }; message: string };
    if (e.statusCode === 400 && apiVersion) {
      throw new Error(
        `Docker engine at ${endpoint} does not accept API version ${apiVersion} (${e.json?.message ?? e.message}): remove docker.api_version from ${confFile}`,
      );
    }
    throw new Error(`Docker engine at ${endpoint} answered ping but not info (${e.message}): ${hint}`);
  }
  return { docker, endpoint, noCpuQuota, serverVersion };
}

/** The message of a dockerode error: the engine's own words when it gave some. */
export function dockerMessage(err: unknown): string {
  const e = err as { json?: { message?: string } | null; reason?: string; message?: string };
  return (e?.json?.message ?? e?.message ?? String(err)).trim();
}

export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}
