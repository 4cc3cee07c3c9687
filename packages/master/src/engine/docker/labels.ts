// The labels that mark what a master created, so a later master (or `docker ps --filter`) finds it.
// `baetyl` and `service` are Baetyl v1's; the workdir keeps two masters on two workdirs apart.
export const LABEL = {
  baetyl: 'baetyl',
  service: 'service',
  instance: 'instance',
  workdir: 'baetyl.workdir',
} as const;

export function instanceLabels(workdir: string, service: string, instance: string): Record<string, string> {
  return { [LABEL.baetyl]: 'baetyl', [LABEL.service]: service, [LABEL.instance]: instance, [LABEL.workdir]: workdir };
}

/** A `filters` value for list calls: every container this workdir's masters created. */
export function workdirFilter(workdir: string): string {
  return JSON.stringify({ label: [`${LABEL.baetyl}=baetyl`, `${LABEL.workdir}=${workdir}`] });
}
