import { FetchError, SourceError } from './errors.ts';
import { guardedFetch, type FetchOptions } from './fetch.ts';

/** The product token our User-Agent starts with; robots.txt groups name it to address us. */
export const ROBOTS_TOKEN = 'FoodSafetySentinel';
/** RFC 9309 asks crawlers to parse at least 500 KiB; anything beyond is ignored. */
const MAX_ROBOTS_BYTES = 512 * 1024;
export const ROBOTS_TTL_MS = 3_600_000;

export interface RobotsRule {
  allow: boolean;
  /** the path pattern as written (may hold * and a trailing $) */
  pattern: string;
}

export interface RobotsGroup {
  agents: string[];
  rules: RobotsRule[];
}

/** Parsed robots.txt: its groups in file order. */
export interface Robots {
  groups: RobotsGroup[];
}

/**
 * Parses robots.txt per RFC 9309: consecutive `User-agent` lines open a group, the `Allow` /
 * `Disallow` lines after them belong to it; other lines (Sitemap, Crawl-delay) and comments are
 * ignored, as are rules before any User-agent.
 */
export function parseRobots(text: string): Robots {
  const groups: RobotsGroup[] = [];
  let current: RobotsGroup | null = null;
  let lastWasAgent = false;
  for (const raw of text.slice(0, MAX_ROBOTS_BYTES).split(/\r\n|\r|\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^([A-Za-z-]+)\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1].toLowerCase();
    const value = m[2].trim();
    if (key === 'user-agent') {
      if (!current || !lastWasAgent) {
        current = { agents: [], rules: [] };
        groups.push(current);
      }
      current.agents.push(value.toLowerCase());
      lastWasAgent = true;
    } else if (key === 'allow' || key === 'disallow') {
      lastWasAgent = false;
      // An empty Disallow allows everything, which is what having no rule means.
      if (current && value) current.rules.push({ allow: key === 'allow', pattern: value });
    } else {
      lastWasAgent = false;
    }
  }
  return { groups };
}

/** The rules that apply to `token`: every group naming it, else every `*` group (RFC 9309 §2.2.1). */
export function rulesFor(robots: Robots, token = ROBOTS_TOKEN): RobotsRule[] {
  const t = token.toLowerCase();
  const named = robots.groups.filter((g) => g.agents.some((a) => a === t));
  const chosen = named.length ? named : robots.groups.filter((g) => g.agents.includes('*'));
  return chosen.flatMap((g) => g.rules);
}

/** Normalises percent-escapes so /%E9%A3%9F and /食 compare equal, as RFC 9309 §2.2.2 asks. */
function normalisePath(p: string): string {
  try {
    return encodeURI(decodeURI(p));
  } catch {
    return p;
  }
}

function patternRegex(pattern: string): RegExp {
  const anchored = pattern.endsWith('$');
  const body = normalisePath(anchored ? pattern.slice(0, -1) : pattern)
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}${anchored ? '$' : ''}`);
}

/**
 * Whether `pathAndQuery` may be fetched: the longest matching pattern decides, and between an
 * Allow and a Disallow of equal length the Allow wins (RFC 9309 §2.2.2). No match → allowed.
 */
export function isAllowed(robots: Robots, pathAndQuery: string, token = ROBOTS_TOKEN): boolean {
  const target = normalisePath(pathAndQuery || '/');
  if (target === '/robots.txt') return true;
  let best: RobotsRule | null = null;
  for (const rule of rulesFor(robots, token)) {
    if (!patternRegex(rule.pattern).test(target)) continue;
    const len = rule.pattern.length;
    if (!best || len > best.pattern.length || (len === best.pattern.length && rule.allow && !best.allow)) best = rule;
  }
  return best ? best.allow : true;
}

interface Entry {
  robots: Robots;
  until: number;
}

/**
 * robots.txt per origin (scheme, host, port), fetched through the guard at most once an hour.
 * A 4xx means "no rules" (RFC 9309 §2.3.1.3); a 5xx or an unreachable server means we may not
 * know the rules, so the source fails this poll with a retriable error rather than guessing.
 */
export class RobotsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Robots>>();

  constructor(private readonly ttlMs = ROBOTS_TTL_MS) {}

  /** Throws a SourceError when robots.txt disallows `url` for our User-Agent. */
  async check(url: string, now: Date, fetchOpts: FetchOptions = {}): Promise<void> {
    const u = new URL(url);
    const robots = await this.get(u.origin, now.getTime(), fetchOpts);
    if (!isAllowed(robots, u.pathname + u.search)) {
      throw new SourceError(url, `robots.txt of ${u.host} disallows this URL for ${ROBOTS_TOKEN}`);
    }
  }

  private get(origin: string, now: number, fetchOpts: FetchOptions): Promise<Robots> {
    for (const [k, e] of this.entries) if (e.until <= now) this.entries.delete(k);
    const hit = this.entries.get(origin);
    if (hit) return Promise.resolve(hit.robots);
    let p = this.inflight.get(origin);
    if (!p) {
      p = this.load(origin, fetchOpts)
        .then((robots) => {
          this.entries.set(origin, { robots, until: now + this.ttlMs });
          return robots;
        })
        .finally(() => this.inflight.delete(origin));
      this.inflight.set(origin, p);
    }
    return p;
  }

  private async load(origin: string, fetchOpts: FetchOptions): Promise<Robots> {
    const url = `${origin}/robots.txt`;
    try {
      const res = await guardedFetch(url, {
        ...fetchOpts,
        maxBytes: MAX_ROBOTS_BYTES * 4,
        headers: { accept: 'text/plain, */*;q=0.5' },
      });
      return parseRobots(res.body.toString('utf8'));
    } catch (e) {
      if (e instanceof FetchError && e.status != null && e.status >= 400 && e.status < 500 && e.status !== 429) {
        return { groups: [] };
      }
      const why = e instanceof Error ? e.message : String(e);
      throw new SourceError(url, `cannot read robots.txt, so not fetching (${why})`, {
        retriable: !(e instanceof FetchError) || e.retriable,
        cause: e,
      });
    }
  }
}

/** One cache for the process, so sources on the same site share one robots.txt fetch an hour. */
export const sharedRobots = new RobotsCache();
