// `baetyl update [FILE]`: applies the workdir's application.yml (edited in place), or FILE, to the
// running master through its API, and prints what was kept, stopped and started, and the outcome.
import { MasterApiError, type MasterClient } from '@baetyl/core/api';
import type { CliArgs } from './args.js';

interface Report {
  outcome: 'updated' | 'rolled back' | 'refused' | 'failed';
  version: string;
  kept: string[];
  stopped: string[];
  started: string[];
  reasons: Record<string, string>;
  error?: string;
}

/** An update waits for stops (up to `grace` each) and starts; far longer than other requests. */
const UPDATE_TIMEOUT_MS = 10 * 60_000;

function list(names: string[], reasons: Record<string, string> = {}): string {
  if (names.length === 0) return '-';
  return names.map((n) => (reasons[n] ? `${n} (${reasons[n]})` : n)).join('\n         ');
}

/** A multi-line error lines up under its label. */
function indent(text = ''): string {
  return text.replace(/\n/g, '\n         ');
}

export function renderReport(r: Report): string {
  // A refused file changed nothing: there is no plan to show.
  const lines = r.outcome === 'refused' ? [] : [`kept:    ${list(r.kept)}`, `stopped: ${list(r.stopped, r.reasons)}`, `started: ${list(r.started)}`];
  switch (r.outcome) {
    case 'updated':
      lines.push(`outcome: updated, app version (${r.version}) committed`);
      break;
    case 'rolled back':
      lines.push(`outcome: rolled back to app version (${r.version}): the previous application.yml and its services run again`, `error:   ${indent(r.error)}`);
      break;
    case 'refused':
      lines.push('outcome: refused, nothing was changed', `error:   ${indent(r.error)}`);
      break;
    default:
      lines.push('outcome: FAILED, the update and its roll back both failed', `error:   ${indent(r.error)}`);
  }
  return lines.join('\n');
}

export async function update(args: CliArgs, client: MasterClient): Promise<void> {
  // FILE was made absolute when parsed: the master would resolve it against its workdir.
  const path = args.file;
  let report: Report;
  try {
    report = await client.request<Report>('PUT', '/system/update', { type: 'APP', ...(path ? { path } : {}), wait: true }, UPDATE_TIMEOUT_MS);
  } catch (err) {
    const body = err instanceof MasterApiError ? err.body : '';
    try {
      report = JSON.parse(body) as Report;
    } catch {
      process.stderr.write(`baetyl: update failed: ${(err as Error).message}\n`);
      process.exit(1);
    }
  } finally {
    client.close();
  }
  process.stdout.write(`${renderReport(report)}\n`);
  process.exit(report.outcome === 'updated' ? 0 : 1);
}
