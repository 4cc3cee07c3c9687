// MQTT 3.1.1 §1.5.3: a UTF-8 encoded string is well-formed UTF-8 (no surrogates, no overlong
// forms, nothing above U+10FFFF) and holds no U+0000. The check runs on the bytes as they came:
// mqtt-packet decodes a bad sequence into U+FFFD, after which it can no longer be told apart.
import { isUtf8 } from 'node:buffer';

/** Why the bytes are not an MQTT UTF-8 string, or undefined when they are one. */
export function stringProblem(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return 'it contains U+0000 [MQTT-1.5.3-2]';
  if (!isUtf8(bytes)) return 'it is not well-formed UTF-8 [MQTT-1.5.3-1]';
  return undefined;
}
