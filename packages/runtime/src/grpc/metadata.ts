// The two gRPC headers the server reads or writes beyond the fixed ones: grpc-timeout (the
// caller's deadline) and grpc-message (the status text, percent-encoded).

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/**
 * The epoch (ms) a `grpc-timeout` value ("30S", "29999m", up to 8 digits and a unit) sets from
 * `now`; Infinity when there is none. A malformed value is ignored, as grpc-js does.
 */
export function deadlineFrom(value: string | string[] | undefined, now: number): number {
  if (typeof value !== 'string') return Infinity;
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!m) return Infinity;
  return now + Number(m[1]) * UNIT_MS[m[2]!]!;
}

/**
 * grpc-message is percent-encoded UTF-8: bytes outside printable ASCII, and '%' itself, become %XX
 * (the gRPC HTTP/2 spec). The common case, plain ASCII, is returned as it is.
 */
export function encodeGrpcMessage(text: string): string {
  if (!/[^\x20-\x24\x26-\x7e]/.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
