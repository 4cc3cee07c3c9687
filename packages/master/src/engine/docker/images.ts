// Images: present, else Baetyl's own names resolved to the images `make images` builds, else
// pulled (with progress in the log). What cannot be had is a clear error saying what to do.
import type Docker from 'dockerode';
import type { Logger } from '@baetyl/core/log';
import { ownImageName } from '../native/images.js';
import { dockerMessage, statusOf } from './client.js';

/** `repo` -> `repo:latest`: pulling a name without a tag would fetch every tag. */
export function withTag(image: string): string {
  const trimmed = image.trim();
  if (trimmed.includes('@')) return trimmed;
  const last = trimmed.split('/').pop()!;
  return last.includes(':') ? trimmed : `${trimmed}:latest`;
}

/**
 * The locally built image a Baetyl image name stands for, with any registry and tag:
 * hub.baidubce.com/baetyl/baetyl-hub:1.0.0 -> baetyl-hub:latest, and v1.0's runtime names to
 * the image they are built as (baetyl-function-python3:1.0.0 -> baetyl-function-python36:latest).
 */
export function localAlias(image: string): string | undefined {
  const own = ownImageName(image);
  return own ? `${own}:latest` : undefined;
}

export async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

interface PullEvent {
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Pulls an image, logging progress at most every `everyMs`; rejects with the engine's reason. */
export async function pullImage(docker: Docker, image: string, log: Logger, everyMs = 2000): Promise<void> {
  log.info(`pulling image (${image})`);
  const stream = (await docker.pull(image)) as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    let failure: string | undefined;
    let lastLog = 0;
    const layers = new Map<string, string>();
    stream.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let ev: PullEvent;
        try {
          ev = JSON.parse(line) as PullEvent;
        } catch {
          continue;
        }
        if (ev.error) failure = ev.errorDetail?.message ?? ev.error;
        if (ev.id && ev.status) layers.set(ev.id, `${ev.status}${ev.progress ? ` ${ev.progress.replace(/\s+/g, ' ')}` : ''}`);
        const now = Date.now();
        if (now - lastLog >= everyMs && layers.size) {
          lastLog = now;
          const done = [...layers.values()].filter((s) => /complete|exists/i.test(s)).length;
          const busy = [...layers.entries()].find(([, s]) => /Downloading|Extracting/.test(s));
          log.info(`pulling image (${image}): ${done}/${layers.size} layers done${busy ? `; ${busy[0]}: ${busy[1]}` : ''}`);
        }
      }
    });
    stream.on('error', (err: Error) => reject(err));
    stream.on('end', () => (failure ? reject(new Error(failure)) : resolve()));
  });
  log.info(`image (${image}) pulled`);
}

export class ImageError extends Error {}

/**
 * Finds the image to run for `image`: itself when present, the local build of a Baetyl image,
 * or a fresh pull. Throws an ImageError saying what to do.
 */
export async function resolveImage(docker: Docker, image: string, log: Logger): Promise<string> {
  const tagged = withTag(image);
  if (await imagePresent(docker, tagged)) return tagged;
  const alias = localAlias(image);
  if (alias && alias !== tagged && (await imagePresent(docker, alias))) {
    log.info(`image (${tagged}) is not present; using the local build ${alias}`);
    return alias;
  }
  try {
    await pullImage(docker, tagged, log);
    return tagged;
  } catch (err) {
    const why = dockerMessage(err);
    const todo = alias
      ? "build it with `make images` (it builds every Baetyl image offline and tags it with Baetyl's names too)"
      : `get it onto this machine with \`docker pull ${tagged}\` or \`docker load\`, or correct the image name in application.yml`;
    throw new ImageError(`image ${tagged} is not present and cannot be pulled (${why}): ${todo}`);
  }
}
