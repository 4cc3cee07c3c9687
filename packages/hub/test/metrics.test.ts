// Metrics go to the master's report API every metrics.report.interval. A small HTTP server on a
// unix socket stands in for the master here, as the master's API is HTTP over that socket.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { connect, endAll, openConfig, startHubProcess, stopProcesses, subscribe, tempDir, waitFor } from '@baetyl/test-support';

interface Report {
  path: string;
  user: string;
  password: string;
  body: {
    broker_stats?: { clients: number; subscriptions: number; messages_in: number; messages_out: number };
    prometheus?: Array<{ name: string; type: string; values: Array<{ value: number; labels: Record<string, string> }> }>;
  };
}

const valueOf = (r: Report | undefined, name: string, labels: Record<string, string> = {}) =>
  r?.body.prometheus?.find((f) => f.name === name)?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;

describe('metrics', () => {
  const servers: http.Server[] = [];
  after(async () => {
    await endAll();
    await stopProcesses();
    for (const s of servers) s.close();
  });

  /** An HTTP server on `dir`/master.sock that records the reports, as the master's API would take them. */
  async function fakeMaster(dir: string): Promise<Report[]> {
    const reports: Report[] = [];
    const master = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        reports.push({
          path: req.url ?? '',
          user: String(req.headers['x-openedge-username']),
          password: String(req.headers['x-openedge-password']),
          body: JSON.parse(text || '{}'),
        });
        res.end();
      });
    });
    servers.push(master);
    await new Promise<void>((ok) => master.listen(join(dir, 'master.sock'), () => ok()));
    return reports;
  }
  const masterEnv = {
    BAETYL_SERVICE_NAME: 'localhub',
    BAETYL_SERVICE_INSTANCE_NAME: 'localhub',
    BAETYL_SERVICE_TOKEN: 'tok',
    BAETYL_MASTER_API_ADDRESS: 'unix://master.sock',
  };

  it('reports clients, subscriptions and messages to the master, and its Prometheus registry', async () => {
    const dir = tempDir('hub-test-');
    const reports = await fakeMaster(dir);
    const hub = await startHubProcess({
      dir,
      config: openConfig(['tcp://127.0.0.1:0'], 'metrics:\n  report:\n    interval: 1s\n'),
      env: masterEnv,
    });
    const c = await connect(hub.url('tcp'), { username: 'test', password: 'hahaha' });
    await subscribe(c, ['m/#', 'n'], 0);
    await c.publishAsync('m/1', 'x');
    await waitFor('a report with the client, its subscriptions and messages', () =>
      reports.some(
        (r) =>
          r.body.broker_stats?.clients === 1 &&
          r.body.broker_stats.subscriptions === 2 &&
          r.body.broker_stats.messages_in >= 1 &&
          r.body.broker_stats.messages_out >= 1,
      ),
    );
    // The same counts in the Prometheus metrics of the same report (docs/metrics.md): by QoS.
    const last = reports.findLast((r) => r.body.broker_stats?.clients === 1 && r.body.broker_stats.messages_in >= 1)!;
    assert.equal(valueOf(last, 'baetyl_hub_connections'), 1);
    assert.equal(valueOf(last, 'baetyl_hub_subscriptions'), 2);
    assert.equal(valueOf(last, 'baetyl_hub_messages_received_total', { qos: '0' }), last.body.broker_stats!.messages_in);
    assert.equal(valueOf(last, 'baetyl_hub_messages_received_total', { qos: '1' }), 0);
    assert.equal(valueOf(last, 'baetyl_hub_messages_sent_total', { qos: '0' }), last.body.broker_stats!.messages_out);
    assert.equal(last.body.prometheus?.find((f) => f.name === 'baetyl_hub_messages_received_total')?.type, 'counter');
    assert.equal(reports[0]!.path, '/v1/services/localhub/instances/localhub/report');
    assert.equal(reports[0]!.user, 'localhub');
    assert.equal(reports[0]!.password, 'tok');
  });

  it('counts refused connections, subscriptions and publishes by reason, and retained messages', async () => {
    const dir = tempDir('hub-test-');
    const reports = await fakeMaster(dir);
    const config = openConfig(['tcp://127.0.0.1:0'], 'metrics:\n  report:\n    interval: 1s\n').replace(
      'principals:\n',
      "principals:\n  - username: limited\n    password: pw\n    permissions:\n      - action: pub\n        permit: ['a/#']\n      - action: sub\n        permit: ['a/#']\n",
    );
    const hub = await startHubProcess({ dir, config, env: masterEnv });
    await assert.rejects(connect(hub.url('tcp'), { username: 'test', password: 'wrong' }));
    const owner = await connect(hub.url('tcp'), { username: 'test', password: 'hahaha' });
    await owner.publishAsync('a/kept', 'r', { qos: 1, retain: true });
    const limited = await connect(hub.url('tcp'), { username: 'limited', password: 'pw' });
    // Granted 0x80, which MQTT.js reports as an error.
    await assert.rejects(limited.subscribeAsync('b/#', { qos: 1 }));
    const closed = new Promise<void>((ok) => limited.once('close', () => ok()));
    limited.publish('b/x', 'no', { qos: 1 });
    await closed;
    await waitFor('a report with the refusals and the retained message', () => {
      const r = reports.at(-1);
      return valueOf(r, 'baetyl_hub_publishes_refused_total', { reason: 'not_permitted' }) === 1 && valueOf(r, 'baetyl_hub_retained_messages') === 1;
    });
    const r = reports.at(-1);
    assert.equal(valueOf(r, 'baetyl_hub_connections_refused_total', { reason: 'bad_username_or_password' }), 1);
    assert.equal(valueOf(r, 'baetyl_hub_connections_refused_total', { reason: 'not_authorized' }), 0);
    assert.equal(valueOf(r, 'baetyl_hub_subscriptions_refused_total', { reason: 'not_permitted' }), 1);
    assert.equal(valueOf(r, 'baetyl_hub_subscriptions_refused_total', { reason: 'invalid_filter' }), 0);
    assert.equal(valueOf(r, 'baetyl_hub_publishes_refused_total', { reason: 'invalid_topic' }), 0);
    assert.equal(valueOf(r, 'baetyl_hub_messages_received_total', { qos: '1' }), 2, 'the retained message and the refused one were both read');
  });

  it('warns once when the master cannot be reached, and keeps serving', async () => {
    const hub = await startHubProcess({
      config: openConfig(['tcp://127.0.0.1:0'], 'metrics:\n  report:\n    interval: 1s\n'),
      env: { BAETYL_SERVICE_NAME: 'localhub', BAETYL_SERVICE_TOKEN: 'tok', BAETYL_MASTER_API_ADDRESS: 'unix://no-master.sock' },
    });
    await waitFor('the warning', () => /cannot report metrics/.test(hub.output()));
    await new Promise((r) => setTimeout(r, 2500)); // more report periods pass
    assert.equal(hub.output().match(/cannot report metrics/g)!.length, 1);
    const c = await connect(hub.url('tcp'), { username: 'test', password: 'hahaha' });
    assert.ok(c.connected);
  });
});
