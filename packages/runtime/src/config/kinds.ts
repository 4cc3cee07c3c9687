// The runtimes one host program serves, on its own so that the entry point names them without
// loading the config loader (which runs in a thread of its own: see off-thread.ts).
export const RUNTIMES = ['python27', 'python36', 'node85', 'sql'] as const;
export type RuntimeKind = (typeof RUNTIMES)[number];
