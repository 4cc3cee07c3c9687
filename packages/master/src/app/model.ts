// The application as the master runs it, whichever of Baetyl's two application.yml shapes it came from.

export type RestartPolicy = 'always' | 'on-failure' | 'no';

export interface RestartSpec {
  policy: RestartPolicy;
  /** Restarts allowed in a row; 0 means no limit. */
  retry: { max: number };
  /** Milliseconds; `reset` is how long a run must last for the backoff to start again at `min`. */
  backoff: { min: number; max: number; factor: number; reset: number };
}

export interface MountSpec {
  /** The volume's name, for messages. */
  volume: string;
  /** The volume's path, relative to the workdir (or absolute). */
  source: string;
  /** Where the service sees it, relative to its root (docker: `/` + target). */
  target: string;
  readonly: boolean;
}

export interface ResourcesSpec {
  cpu?: { cpus?: number; setcpus?: string };
  memory?: { limit?: number; swap?: number };
  pids?: { limit?: number };
}

export interface ServiceSpec {
  name: string;
  image: string;
  replica: number;
  mounts: MountSpec[];
  ports: string[];
  devices: string[];
  args: string[];
  entrypoint: string[];
  hostname?: string;
  env: Record<string, string>;
  restart: RestartSpec;
  resources: ResourcesSpec;
  network_mode?: string;
  networks?: Record<string, { aliases?: string[]; ipv4_address?: string }>;
  runtime?: string;
}

export interface VolumeSpec {
  name: string;
  path: string;
}

export interface AppSpec {
  version: string;
  /** In start order. */
  services: ServiceSpec[];
  volumes: Record<string, VolumeSpec>;
  networks: Record<string, { driver: string; driver_opts: Record<string, string>; labels: Record<string, string> }>;
}
