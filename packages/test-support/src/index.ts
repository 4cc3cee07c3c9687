// @baetyl/test-support: what tests of several packages share (a dev dependency only).
export { waitFor, WAIT_MS } from './wait.js';
export { freePort, canConnect } from './ports.js';
export { tempDir, writeFiles, writeAged, serviceDir, removeTempDirs } from './temp.js';
export { startProcess, startNodeService, stopProcesses, type TestProcess, type StartOptions, type Exit } from './processes.js';
export { REPO, BAETYL, HUB_MAIN } from './repo.js';
export { makeCa, issueCert, SERVER_EXT, CLIENT_EXT, type CertOptions } from './pki.js';
export { startBaetyl } from './baetyl.js';
export { startHubProcess, runHubExpectingExit, openConfig, OPEN_AUTH, type HubProcess, type HubStartOptions } from './hub.js';
export { copyExample, copyExampleTree } from './example-workdir.js';
export { v1Examples } from './v1-examples.js';
export { APP_FILE, serviceConfigs, uncomment } from './workdir-files.js';
export { connect, record, sessionPresent, closed, subscribe, endAll, ConnectRefused, mqtt, type Received } from './mqtt/client.js';
export {
  rawConnect,
  encode,
  connectPacket,
  publishPacket,
  subscribePacket,
  unsubscribePacket,
  pubackPacket,
  PINGREQ,
  PINGRESP,
  readUntilClosed,
  readBytes,
  packetReader,
  type ConnectOptions,
  type Packet,
} from './mqtt/raw.js';
// Bytes built by hand, for packets malformed on purpose (mqtt-packet refuses to write them).
import * as handBuilt from './mqtt/hand-built.js';
export { handBuilt };
export { rawSubscriber, publishPaced, payload, sentAt, seqOf, p99, type Pace, type RawSubscriber } from './mqtt/paced.js';
