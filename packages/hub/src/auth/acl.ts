// A principal's permissions. Publishing needs a `pub` permit that matches the topic; subscribing
// needs a `sub` permit that covers the whole filter (see filterCovers).
import { topicMatches } from '@baetyl/core/topic';
import type { Permission } from '../config/schema.js';
import { filterCovers } from './filters.js';

export class Acl {
  private readonly pub: string[];
  private readonly sub: string[];

  constructor(permissions: ReadonlyArray<Permission>) {
    this.pub = permissions.filter((p) => p.action === 'pub').flatMap((p) => p.permit);
    this.sub = permissions.filter((p) => p.action === 'sub').flatMap((p) => p.permit);
  }

  canPublish(topic: string): boolean {
    return this.pub.some((permit) => topicMatches(permit, topic));
  }

  canSubscribe(filter: string): boolean {
    return this.sub.some((permit) => filterCovers(permit, filter));
  }
}

/** An Acl with a per-session cache of publish decisions (publishers repeat their topics). */
export class SessionAcl {
  private readonly published = new Map<string, boolean>();

  constructor(private readonly acl: Acl) {}

  canPublish(topic: string): boolean {
    let ok = this.published.get(topic);
    if (ok === undefined) {
      ok = this.acl.canPublish(topic);
      if (this.published.size < 1000) this.published.set(topic, ok);
    }
    return ok;
  }

  canSubscribe(filter: string): boolean {
    return this.acl.canSubscribe(filter);
  }
}
