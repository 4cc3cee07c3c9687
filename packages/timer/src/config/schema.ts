// The timer's etc/baetyl/service.yml, as Baetyl v1's baetyl-timer read it. Durations become ms.
import type { Schema } from '@baetyl/core/config';
import { loggerSchema, type LoggerConfig } from '@baetyl/core/log';
import { clientInfoProperties, type ClientInfo } from '@baetyl/core/mqtt';

export interface TimerConfig {
  hub: ClientInfo;
  timer: {
    /** ms between two messages (v1's default 1m). */
    interval: number;
  };
  publish: {
    topic: string;
    qos: 0 | 1;
    /**
     * A text/template string (v1 1.0 and later), or a map (v1 0.1.x): published as JSON with
     * "time" set to the tick's Unix time. Absent: `{"time": <unix>}`, as 0.1.x always sent.
     */
    payload?: string | Record<string, unknown>;
  };
  logger: LoggerConfig;
}

/** Why the keys of v1's ClientInfo that the timer accepts do nothing here (said in its log when set). */
export const UNUSED_WHY = { subscriptions: 'the timer only publishes', validatesubs: 'the timer makes no subscriptions' } as const;

/** Those keys, for the JSON Schema editors use. */
export const UNUSED_KEYS: ReadonlyArray<readonly [string[], string]> = [
  [['hub', 'subscriptions'], UNUSED_WHY.subscriptions],
  [['hub', 'validatesubs'], UNUSED_WHY.validatesubs],
];

function object(properties: Record<string, Schema>, extra: Schema = {}): Schema {
  return { type: 'object', additionalProperties: false, default: {}, properties, ...extra };
}

export const timerSchema: Schema = object({
  hub: object(clientInfoProperties()),
  timer: object({ interval: { type: ['string', 'integer'], duration: true, default: '1m' } }),
  publish: object({
    topic: { type: 'string', minLength: 1, default: 'timer' },
    qos: { type: 'integer', enum: [0, 1], default: 0 },
    payload: { type: ['string', 'object'] },
  }),
  logger: loggerSchema(),
});
