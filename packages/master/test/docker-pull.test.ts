// Image pulls against a real (tiny, local) registry: the master pulls a missing image with its
// progress in the log and runs it. Docker treats 127.0.0.0/8 registries as plain HTTP.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { startMaster } from './helpers.js';
import { containersOf, docker, dockerSkipReason, makeDockerWorkdir, nameOf, removeContainersOf, uniq } from './docker-helpers.js';
import { waitFor } from '@baetyl/test-support';

const skip = await dockerSkipReason();

/** A tar archive of regular files (ustar headers, as `tar` writes them). */
function tar(files: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, text] of Object.entries(files)) {
    const body = Buffer.from(text);
    const h = Buffer.alloc(512);
    h.write(name, 0);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
    );
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    parts.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Serves one image, `<name>:<tag>`, over the registry v2 API. */
function registry(name: string, tag: string): Promise<{ server: Server; port: number }> {
  const layerTar = tar({ hello: 'hello from a pulled image\n' });
  const layer = gzipSync(layerTar);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/hello'] }, rootfs: { type: 'layers', diff_ids: [sha(layerTar)] } }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha(layer) }],
    }),
  );
  const blobs = new Map([
    [sha(config), config],
    [sha(layer), layer],
  ]);
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    const send = (status: number, body: Buffer, type: string, digest?: string) => {
      res.writeHead(status, {
        'content-type': type,
        'content-length': body.length,
        'docker-distribution-api-version': 'registry/2.0',
        ...(digest ? { 'docker-content-digest': digest } : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url === '/v2/' || url === '/v2') return send(200, Buffer.from('{}'), 'application/json');
    if (url === `/v2/${name}/manifests/${tag}` || url === `/v2/${name}/manifests/${sha(manifest)}`) {
      return send(200, manifest, 'application/vnd.docker.distribution.manifest.v2+json', sha(manifest));
    }
    const blob = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]+)$/.exec(url);
    if (blob && blobs.has(blob[1]!)) return send(200, blobs.get(blob[1]!)!, 'application/octet-stream', blob[1]);
    send(404, Buffer.from(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'unknown' }] })), 'application/json');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

const workdirs: string[] = [];
after(async () => {
  if (!skip) for (const wd of workdirs) await removeContainersOf(wd);
});

test('a missing image is pulled, with progress in the log, and then runs', { skip }, async () => {
  const p = uniq();
  const { server, port } = await registry(`baetyl-pull-${p}`, 'v1');
  const image = `127.0.0.1:${port}/baetyl-pull-${p}:v1`;
  const wd = makeDockerWorkdir([{ name: `${p}-pulled`, image, mounts: [], restart: { policy: 'no' } }]);
  workdirs.push(wd.dir);
  try {
    const m = await startMaster(wd);
    try {
      const log = m.log();
      assert.match(log, new RegExp(`level=info msg="pulling image \\(${image.replace(/[.]/g, '\\.')}\\)"`));
      assert.match(log, new RegExp(`level=info msg="pulling image \\(${image.replace(/[.]/g, '\\.')}\\): \\d+/1 layers done`));
      assert.match(log, new RegExp(`level=info msg="image \\(${image.replace(/[.]/g, '\\.')}\\) pulled"`));
      await docker.getImage(image).inspect();
      // It runs: its /hello is no program, and what the container said reaches the master log.
      await waitFor('the instance to exit', () => m.log().includes('msg="instance exited with code 126"'));
      // Its last lines are copied after the exit is logged: they come from a docker logs call.
      const said = new RegExp(`level=error msg="instance \\(${p}-pulled\\) .*exec /hello failed`);
      await waitFor(
        'its output in the master log',
        () => said.test(m.log()),
        10_000,
        () => m.log(),
      );
      assert.deepEqual((await containersOf(wd.dir)).map(nameOf), []);
    } finally {
      await m.stop();
    }
  } finally {
    server.close();
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  }
});
