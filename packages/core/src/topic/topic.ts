// MQTT topic names and filters with Baetyl v1's limits: at most 255 bytes, at most 8 `/`
// separators, no NUL, and no leading `$` (Baetyl has no `$SYS` topics).

export const MAX_TOPIC_BYTES = 255;
export const MAX_TOPIC_SEPARATORS = 8;

/** Why a topic name is invalid, or undefined when it is valid. */
export function topicNameProblem(topic: string): string | undefined {
  const common = commonProblem(topic);
  if (common) return common;
  if (/[+#]/.test(topic)) return 'a topic name cannot contain the wildcards + or #';
  return undefined;
}

/** Why a topic filter is invalid, or undefined when it is valid. */
export function topicFilterProblem(filter: string): string | undefined {
  const common = commonProblem(filter);
  if (common) return common;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return '# must be a whole level, and the last one';
    }
    if (level.includes('+') && level !== '+') return '+ must be a whole level';
  }
  return undefined;
}

function commonProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'a topic cannot be empty';
  if (Buffer.byteLength(topic) > MAX_TOPIC_BYTES) return `a topic is at most ${MAX_TOPIC_BYTES} bytes`;
  if (topic.includes('\u0000')) return 'a topic cannot contain NUL';
  if (topic.startsWith('$')) return 'topics starting with $ are reserved';
  let separators = 0;
  for (const c of topic) if (c === '/') separators++;
  if (separators > MAX_TOPIC_SEPARATORS) return `a topic has at most ${MAX_TOPIC_SEPARATORS + 1} levels`;
  return undefined;
}

/** MQTT 3.1.1 matching: `+` is one level, `#` is the rest including none (`a/#` matches `a`). */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return i > 0 || !topic.startsWith('$');
    if (i >= t.length) return false;
    if (level === '+') {
      if (i === 0 && t[0]!.startsWith('$')) return false;
      continue;
    }
    if (level !== t[i]) return false;
  }
  return f.length === t.length;
}
