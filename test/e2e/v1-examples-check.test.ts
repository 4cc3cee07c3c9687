// Baetyl v1's own example apps (both releases, native and docker), copied unchanged: the real
// `baetyl check` passes on each, and checked every service's own config (it names each
// service.yml). With the services the examples ship commented out enabled too, the agent is a
// warning (its cloud is gone) and the rest is checked the same way.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { APP_FILE, BAETYL, serviceConfigs, uncomment, v1Examples } from '@baetyl/test-support';

const EXAMPLES = v1Examples();

function runBaetyl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BAETYL, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
const APPS = ['stable-1/native', 'stable-1/docker', '1.0.0/native', '1.0.0/docker'];

function copyOf(app: string): string {
  const dir = mkdtempSync(join(tmpdir(), `v1-${app.replace('/', '-')}-`));
  cpSync(join(EXAMPLES!, app), dir, { recursive: true });
  return dir;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

describe(
  'baetyl check on the v1 examples',
  { concurrency: 2, skip: EXAMPLES ? false : 'the v1 examples corpus is not on this machine (set BAETYL_V1_EXAMPLES)' },
  () => {
    for (const app of APPS) {
      test(`${app}: passes, and checks every service's service.yml`, async () => {
        const dir = copyOf(app);
        try {
          const services = serviceConfigs(dir);
          assert.ok(services.size >= 5, `${app} has its services`);
          const res = await runBaetyl(['check', '-w', dir]);
          for (const [name, { image, file }] of services) {
            assert.ok(file, `${name} mounts its config at etc/baetyl`);
            assert.match(
              res.stderr,
              new RegExp(`^service ${escape(name)} \\(${escape(image)}\\): ${escape(file)}: OK$`, 'm'),
              `${name}'s config is checked:\n${res.stderr}`,
            );
          }
          // Every key of v1's own examples is one we know.
          assert.doesNotMatch(res.stderr, /unknown key/);
          assert.equal(res.code, 0, res.stderr);
          assert.match(res.stderr, /^OK!$/m);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

      test(`${app} with its commented-out services enabled: the agent is a warning, the rest is checked`, async () => {
        const dir = copyOf(app);
        try {
          let text = uncomment(readFileSync(join(dir, APP_FILE), 'utf8'));
          writeFileSync(join(dir, APP_FILE), text);
          if (app.endsWith('/native')) {
            // The native examples' agent mounts a volume only the docker examples define: v1 refused
            // that in native mode too. Said with the place and what is defined; then defined as docker does.
            const bad = await runBaetyl(['check', '-w', dir]);
            assert.equal(bad.code, 1, bad.stderr);
            assert.match(
              bad.stderr,
              /application\.yml:\d+:\d+: services\[\d+\]\.mounts\[4\]\.name: mount names unknown volume "baetyl-log"; defined volumes are: /,
            );
            text = text.replace(/^volumes:\n/m, 'volumes:\n  - name: baetyl-log\n    path: var/log/baetyl\n');
            writeFileSync(join(dir, APP_FILE), text);
          }
          const services = serviceConfigs(dir);
          assert.ok(services.has('agent') && services.has('remote-iothub'), `the agent and remote-mqtt are enabled: ${[...services.keys()].join(', ')}`);
          const res = await runBaetyl(['check', '-w', dir]);
          for (const [name, { image, file }] of services) {
            if (name === 'agent') {
              assert.match(res.stderr, new RegExp(`^warning: service agent \\(${escape(image)}\\) will fail at start: .*no longer exists.*remote-mqtt`, 'm'));
            } else if (image === 'eclipse-mosquitto') {
              assert.match(res.stderr, /^service mosquitto \(eclipse-mosquitto\): its config is not checked: no config checker for eclipse-mosquitto$/m);
            } else {
              assert.match(
                res.stderr,
                new RegExp(`^service ${escape(name)} \\(${escape(image)}\\): ${escape(file!)}: OK$`, 'm'),
                `${name}'s config is checked:\n${res.stderr}`,
              );
            }
          }
          assert.equal(res.code, 0, res.stderr);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  },
);
