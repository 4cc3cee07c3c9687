// remote-mqtt's etc/baetyl/service.yml, as Baetyl v1 reads it: the hub's client info, the remote
// brokers (a name and a client info each) and the rules that link them. Durations become ms.
import type { Schema } from '@baetyl/core/config';
import { loggerSchema, type LoggerConfig } from '@baetyl/core/log';
import { clientInfoProperties, topicInfoSchema, type ClientInfo, type TopicInfo } from '@baetyl/core/mqtt';

export type { TopicInfo };

/** A remote broker: v1's `remotes[]` (a name and an inlined ClientInfo). */
export interface RemoteConfig extends ClientInfo {
  name: string;
}

/** One rule: what is subscribed on each side and forwarded to the other. */
export interface RuleConfig {
  /** Subscribed on the hub, forwarded to the remote. */
  hub: { clientid?: string; subscriptions: TopicInfo[] };
  /** Subscribed on the remote `name`, forwarded to the hub. */
  remote: { name: string; clientid?: string; subscriptions: TopicInfo[] };
}

export interface RemoteMqttConfig {
  hub: ClientInfo;
  remotes: RemoteConfig[];
  rules: RuleConfig[];
  logger: LoggerConfig;
}

/** Why the keys of v1's ClientInfo that the bridge accepts do nothing here (warnings of its loader when set). */
export const UNUSED_WHY = {
  hubClientid: "each rule's hub connection has its own id, rules[].hub.clientid (else the remote connection's id); set that instead",
  hubSubscriptions: 'put what to forward to a remote in rules[].hub.subscriptions',
  remoteSubscriptions: 'put what to forward to the hub in rules[].remote.subscriptions',
} as const;

/** Those keys, for the JSON Schema editors use (`*`: every item of the list). */
export const UNUSED_KEYS: ReadonlyArray<readonly [string[], string]> = [
  [['hub', 'clientid'], UNUSED_WHY.hubClientid],
  [['hub', 'subscriptions'], UNUSED_WHY.hubSubscriptions],
  [['remotes', '*', 'subscriptions'], UNUSED_WHY.remoteSubscriptions],
];

function object(properties: Record<string, Schema>, extra: Schema = {}): Schema {
  return { type: 'object', additionalProperties: false, default: {}, properties, ...extra };
}

const subscriptions: Schema = { type: 'array', default: [], items: topicInfoSchema() };

export const remoteMqttSchema: Schema = object({
  hub: object(clientInfoProperties()),
  remotes: {
    type: 'array',
    default: [],
    items: object({ name: { type: 'string', minLength: 1 }, ...clientInfoProperties() }, { required: ['name'] }),
  },
  rules: {
    type: 'array',
    default: [],
    items: object(
      {
        hub: object({ clientid: { type: 'string' }, subscriptions }),
        remote: object({ name: { type: 'string', minLength: 1 }, clientid: { type: 'string' }, subscriptions }, { required: ['name'] }),
      },
      { required: ['remote'] },
    ),
  },
  logger: loggerSchema(),
});
