// The runtimes one host program serves, on its own so that the entry point names them without
// loading the config loader (which runs in a thread of its own: see off-thread.ts).
export const RUNTIMES = ['python27', 'python36', 'node85', 'sql'] as const;
export type RuntimeKind = (typeof RUNTIMES)[number];

/**
 * Node's flags for a node85 or sql instance (the native engine's, packages/master/src/engine/native/images.ts;
 * docs/performance.md, round 8): one V8 worker thread, and a young generation of at most 2 MB per
 * semi-space: an idle sql instance 5 MB smaller, and under a flood about 17 MB less (by default it
 * grows to 16 MB) at no measurable CPU per call. Not 1 MB: sql then spent about a third more CPU
 * per call. They must be on the command line (v8.setFlagsFromString does not resize a heap that
 * exists), and the config loader's code cache is made with them: V8 refuses a cache made under
 * another --max-semi-space-size.
 */
export const INSTANCE_NODE_FLAGS: readonly string[] = ['--v8-pool-size=1', '--max-semi-space-size=2'];
