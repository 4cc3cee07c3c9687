// What the tutorial's user sees (§5 of the behaviour reference), with the invoke id and the
// timestamp written as <uuid> and <ts>.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { waitFor } from '@baetyl/test-support';

export interface Received {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
}

export function normalise(payload: Buffer): string {
  return payload
    .toString()
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/("messageTimestamp": ?|"Timestamp":)\d{10}/g, '$1<ts>');
}

export const TUTORIAL = {
  topics: ['t', 't/topic', 't/py2hi', 't/py3hi', 't/node8hi', 't/sqlfilter'],
  qos0: {
    t: '{"id":1}',
    't/topic': '{"id":1}',
    't/py2hi':
      '{"messageTopic": "t", "functionName": "python27-sayhi", "functionInvokeID": "<uuid>", "messageTimestamp": <ts>, "messageQOS": 0, "Say": "Hello Baetyl", "id": 1}',
    't/py3hi':
      '{"id": 1, "messageQOS": 0, "messageTopic": "t", "messageTimestamp": <ts>, "functionName": "python36-sayhi", "functionInvokeID": "<uuid>", "Say": "Hello Baetyl"}',
    't/node8hi':
      '{"id":1,"messageQOS":0,"messageTopic":"t","messageTimestamp":<ts>,"functionName":"node85-sayhi","functionInvokeID":"<uuid>","Say":"Hello Baetyl"}',
    't/sqlfilter': '{"id":1,"qos":0,"topic":"t"}',
  } as Record<string, string>,
  error(fn: string, details: string): string {
    return `{"errorMessage":"rpc error: code = Unknown desc = Exception calling application: ${details}","errorType":"*status.statusError","functionMessage":{"Topic":"t","Payload":"eyJlcnIiOiJ4In0=","Timestamp":<ts>,"FunctionName":"${fn}","FunctionInvokeID":"<uuid>"}}`;
  },
};

/** Collects what a client receives from now on. */
export function collector(client: mqtt.MqttClient) {
  const messages: Received[] = [];
  const onMessage = (topic: string, payload: Buffer, packet: mqtt.IPublishPacket) => {
    messages.push({ topic, payload, qos: packet.qos, retain: packet.retain });
  };
  client.on('message', onMessage);
  return {
    messages,
    async until(cond: (m: Received[]) => boolean, limitMs: number): Promise<Received[]> {
      await waitFor(
        'the messages',
        () => cond(messages),
        limitMs,
        () => `received: ${messages.map((m) => `${m.topic} ${m.payload}`).join(' | ')}`,
      );
      return messages;
    },
    stop() {
      client.off('message', onMessage);
    },
  };
}

/** A client of the hub on `port` (the tutorial's user test/hahaha) subscribed to everything at QoS 1. */
export async function watchAll(port: number, clientId: string): Promise<mqtt.MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: 'test', password: 'hahaha', clientId, reconnectPeriod: 200, connectTimeout: 5000 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    setTimeout(() => reject(new Error('could not connect to the hub')), 60_000).unref();
  });
  await client.subscribeAsync('#', { qos: 1 });
  return client;
}

/**
 * How many of the example's rules (those on t) have subscribed, from the function manager's log:
 * nothing else tells a rule's subscription (the hub counts subscriptions only in its minutely report).
 */
export function tutorialRulesSubscribed(workdir: string): number {
  const fmLog = join(workdir, 'var/db/baetyl/function-manager-log/service.log');
  return existsSync(fmLog) ? (readFileSync(fmLog, 'utf8').match(/subscribed to t /g) ?? []).length : 0;
}
