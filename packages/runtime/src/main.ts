#!/usr/bin/env node
// The runtime host process: `node main.js --runtime <python27|python36|node85|sql> [-c etc/baetyl/service.yml]`.
// The master's native engine maps the images baetyl-function-<runtime> to this.
// First the config starts loading in its thread, and a node85 instance's first worker thread
// starts booting (start-early.ts); only then is the rest of the host loaded (instance.ts), so
// that those threads run on the other core while node compiles and runs it. In the bundle
// (scripts/bundle.mjs) instance.ts is a chunk of its own, loaded here.
import './start-early.js';

await import('./instance.js');
