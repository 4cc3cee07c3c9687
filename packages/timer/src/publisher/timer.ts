// The running timer: one MQTT connection to the hub (kept up, reconnecting with backoff), and a
// message published on publish.topic every timer.interval (the first after one interval, as Go's
// ticker did).
//
// While the hub is unreachable, up to hub.buffersize messages wait (v1's dispatcher buffer) and
// go out on reconnect; the ticks after that are skipped, as v1's ticker dropped ticks while its
// send was blocked.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '@baetyl/core/log';
import { backoffReconnects, mqttClientOptions } from '@baetyl/core/mqtt';
import { UNUSED_WHY, type TimerConfig } from '../config/schema.js';
import { systemClock, type Clock } from '../template/clock.js';
import { goJson } from '../template/go-format.js';
import { compileTemplate, cryptoRandom, type PayloadTemplate } from '../template/template.js';

export interface Timer {
  close(): Promise<void>;
}

/** The payload of each tick: the template, or v1 0.1.x's JSON map with "time" set. */
export function payloadOf(cfg: TimerConfig['publish'], clock: Clock = systemClock()): PayloadTemplate {
  const payload = cfg.payload;
  if (typeof payload === 'string') return compileTemplate(payload, { clock, random: cryptoRandom });
  const map = payload ?? {};
  // v1 0.1.x/1.0.0 set "time" (the tick's Unix seconds, a number) over any "time" of the map.
  return { render: () => goJson({ ...map, time: Number(clock.now().unixNano / 1_000_000_000n) }) };
}

export function startTimer(cfg: TimerConfig, at: { cwd: string; logger: Logger }): Timer {
  const log = at.logger;
  const { topic, qos } = cfg.publish;
  const payload = payloadOf(cfg.publish);
  const options: IClientOptions = mqttClientOptions(cfg.hub, { cwd: at.cwd, label: 'hub' });
  if (cfg.hub.subscriptions.length > 0) {
    log.warn(`hub.subscriptions (${cfg.hub.subscriptions.map((s) => s.topic).join(', ')}) is not used: ${UNUSED_WHY.subscriptions}`);
  }
  if (cfg.hub.validatesubs) log.warn(`hub.validatesubs is not used: ${UNUSED_WHY.validatesubs}`);
  if (!cfg.hub.clientid) log.warn('hub has no clientid: the timer connects with a random one and a clean session; set hub.clientid');

  const client: MqttClient = mqtt.connect(cfg.hub.address!, options);
  let online = false;
  let stopping = false;
  let waiting = 0;
  let skipped = 0;

  // The wait between attempts doubles up to hub.interval.
  const backoff = backoffReconnects(client, cfg.hub.interval);
  client.on('connect', () => {
    online = true;
    log.info(`connected to the hub (${cfg.hub.address})`);
    if (skipped > 0) log.warn(`${skipped} message(s) were not sent while the hub was unreachable (hub.buffersize ${cfg.hub.buffersize} were kept)`);
    skipped = 0;
  });
  client.on('reconnect', () => log.debug('reconnecting to the hub'));
  client.on('close', () => {
    if (online && !stopping) log.warn(`disconnected from the hub; reconnecting in ${backoff.delay} ms`);
    online = false;
  });
  client.on('error', (err) => log.error(`hub connection error: ${err.message}`));

  const tick = () => {
    if (waiting >= Math.max(1, cfg.hub.buffersize)) {
      if (skipped === 0) log.warn(`the hub has not taken the last ${waiting} message(s); skipping ticks until it does`);
      skipped++;
      return;
    }
    const body = payload.render();
    waiting++;
    client.publish(topic, body, { qos, retain: false }, (err) => {
      waiting--;
      if (err) {
        if (!stopping) log.error(`message not published to ${topic}: ${err.message}`);
        return;
      }
      log.debug(`published to ${topic}`, { qos: String(qos), bytes: String(Buffer.byteLength(body)) });
    });
  };
  const ticker = setInterval(tick, cfg.timer.interval);
  log.info('timer started', { interval: `${cfg.timer.interval}ms`, topic, qos: String(qos) });

  return {
    async close() {
      stopping = true;
      clearInterval(ticker);
      await new Promise<void>((resolve) => {
        const limit = setTimeout(resolve, 2000);
        client.end(!client.connected, {}, () => {
          clearTimeout(limit);
          resolve();
        });
      });
    },
  };
}
