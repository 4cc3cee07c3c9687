// The master's side of its API: who may call it, and what each route does to the services.
import type { ApiHandlers } from '../api/server.js';
import type { UpdateReport, UpdateRequest } from '../update/apply.js';
import type { ServiceRegistry } from './services.js';

export interface ApiHandlerSources {
  cliSecret: string;
  services: ServiceRegistry;
  inspect(): Promise<Record<string, unknown>>;
  update(req: UpdateRequest): Promise<UpdateReport>;
  stopRequested(): void;
}

export function apiHandlers(src: ApiHandlerSources): ApiHandlers {
  const { services } = src;
  return {
    cliSecret: src.cliSecret,
    tokenOf: (service) => services.tokenOf(service),
    inspect: () => src.inspect(),
    startDynamic: (service, instance, env) => services.startDynamic(service, instance, env),
    stopDynamic: (service, instance) => services.stopDynamic(service, instance),
    report: (service, instance, body) => services.report(service, instance, body),
    update: (req) => src.update(req),
    stopRequested: () => src.stopRequested(),
  };
}
