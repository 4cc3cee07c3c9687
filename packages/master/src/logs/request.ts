// What `baetyl logs` asks of a log source: how many last lines, whether to follow, where lines go.
import type { LabelledLine } from './line-fields.js';

export interface LogsRequest {
  lines: number;
  follow: boolean;
  write: (lines: LabelledLine[]) => void;
}
