// The numbers the hub reports to the master (and logs): clients, subscriptions, messages.
export interface HubStats {
  clients: number;
  subscriptions: number;
  messages_in: number;
  messages_out: number;
  messages_dropped: number;
  bytes_in: number;
  bytes_out: number;
  rule_count: number;
}
