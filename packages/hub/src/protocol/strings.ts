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

/**
 * Why a topic filter breaks MQTT 3.1.1 §4.7 (empty, or a wildcard that is not a whole level,
 * or `#` not last), or undefined. Baetyl's own limits (length, levels, `$`) are the hub's
 * business and get 0x80 there, as a refusal, not a protocol violation.
 */
export function filterSyntaxProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'it is empty [MQTT-4.7.3-1]';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return '# must be a whole level, and the last one [MQTT-4.7.1-2]';
    if (level.includes('+') && level !== '+') return '+ must be a whole level [MQTT-4.7.1-3]';
  }
  return undefined;
}
