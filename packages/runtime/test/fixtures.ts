// The tutorial's function code ("Message handling with Function Service") and the runtime configs it ships.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const EXAMPLE = fileURLToPath(new URL('../../../../deploy/example/native/var/db/baetyl/', import.meta.url));

// The example workdir holds the tutorial's code; the tests run exactly that.
export const SAYHI_PY = readFileSync(`${EXAMPLE}function-sayhi-code/index.py`, 'utf8');
export const SAYHI_JS = readFileSync(`${EXAMPLE}function-sayjs-code/index.js`, 'utf8');

/** function-sayhi-conf/service.yml of the tutorial. */
export const SAYHI_PY_CONF = `functions:
  - name: 'python27-sayhi'
    handler: 'index.handler'
    codedir: 'var/db/baetyl/function-sayhi'
  - name: 'python36-sayhi'
    handler: 'index.handler'
    codedir: 'var/db/baetyl/function-sayhi'
`;

/** function-sayjs-conf/service.yml of the tutorial. */
export const SAYJS_CONF = `functions:
  - name: 'node85-sayhi'
    handler: 'index.handler'
    codedir: 'var/db/baetyl/function-sayhi'
`;

/** function-filter-conf/service.yml of the tutorial. */
export const FILTER_CONF = `functions:
  - name: sql-filter
    handler: 'select qos() as qos, topic() as topic, * where id < 10'
`;
