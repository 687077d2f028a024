import { afterEach, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/sources/errors.ts';
import { isAllowed, parseRobots, RobotsCache, rulesFor } from '../../src/sources/robots.ts';
import { NOW, serve, type TestServer } from './helpers.ts';

const ROBOTS = `# 某省政府网站
User-agent: Baiduspider
Disallow:

User-agent: *
Disallow: /search
Disallow: /admin/
Allow: /admin/public/
Disallow: /*.pdf$
Crawl-delay: 10
Sitemap: https://www.example.gov.cn/sitemap.xml

User-agent: FoodSafetySentinel
User-agent: OtherBot
Disallow: /private/
Allow: /private/notices
Disallow: /tzgg/*?print=1
`;

describe('parseRobots', () => {
  it('groups consecutive User-agent lines and collects their Allow/Disallow rules', () => {
    const r = parseRobots(ROBOTS);
    expect(r.groups.map((g) => g.agents)).toEqual([['baiduspider'], ['*'], ['foodsafetysentinel', 'otherbot']]);
    expect(r.groups[0].rules).toEqual([]); // an empty Disallow allows everything
    expect(r.groups[1].rules).toHaveLength(4);
  });

  it('uses the group naming our token and ignores * when one does', () => {
    const rules = rulesFor(parseRobots(ROBOTS));
    expect(rules.map((x) => x.pattern)).toEqual(['/private/', '/private/notices', '/tzgg/*?print=1']);
  });

  it('falls back to * when no group names us', () => {
    const r = parseRobots('User-agent: *\nDisallow: /search\n');
    expect(isAllowed(r, '/search?q=食品')).toBe(false);
    expect(isAllowed(r, '/tzgg/')).toBe(true);
  });

  it('lets the longest matching rule decide', () => {
    const r = parseRobots(ROBOTS);
    expect(isAllowed(r, '/private/x.html')).toBe(false);
    expect(isAllowed(r, '/private/notices/2026.html')).toBe(true);
    expect(isAllowed(r, '/search')).toBe(true); // the * group does not apply to us
  });

  it('supports * wildcards and the $ end anchor', () => {
    const star = parseRobots('User-agent: *\nDisallow: /*.pdf$\nDisallow: /tzgg/*?print=1\n');
    expect(isAllowed(star, '/files/report.pdf')).toBe(false);
    expect(isAllowed(star, '/files/report.pdf.html')).toBe(true);
    expect(isAllowed(star, '/tzgg/a.html?print=1')).toBe(false);
    expect(isAllowed(star, '/tzgg/a.html')).toBe(true);
  });

  it('prefers Allow over Disallow of the same length', () => {
    const r = parseRobots('User-agent: *\nDisallow: /page\nAllow: /page\n');
    expect(isAllowed(r, '/page')).toBe(true);
  });

  it('matches the agent token case-insensitively and ignores comments and rules before any group', () => {
    const r = parseRobots('Disallow: /everything\nuser-agent: foodsafetysentinel # us\ndisallow: /x # no\n');
    expect(isAllowed(r, '/everything')).toBe(true);
    expect(isAllowed(r, '/x/1')).toBe(false);
  });

  it('compares percent-encoded and raw paths alike', () => {
    const r = parseRobots('User-agent: *\nDisallow: /食品/\n');
    expect(isAllowed(r, '/%E9%A3%9F%E5%93%81/a.html')).toBe(false);
  });

  it('never disallows robots.txt itself and allows everything for an empty file', () => {
    expect(isAllowed(parseRobots('User-agent: *\nDisallow: /\n'), '/robots.txt')).toBe(true);
    expect(isAllowed(parseRobots(''), '/anything')).toBe(true);
  });
});

describe('RobotsCache over http (127.0.0.1 only)', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const opts = { allowPrivate: true };

  it('refuses a disallowed URL with a SourceError saying so, and fetches robots.txt once per hour', async () => {
    server = await serve((req, res) => res.end(req.url === '/robots.txt' ? 'User-agent: *\nDisallow: /private/\n' : 'ok'));
    const cache = new RobotsCache();
    const e = await cache.check(`${server.base}/private/a.html`, NOW, opts).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SourceError);
    expect((e as Error).message).toMatch(/robots\.txt of 127\.0\.0\.1:\d+ disallows this URL for FoodSafetySentinel/);
    await cache.check(`${server.base}/public/a.html`, new Date(NOW.getTime() + 59 * 60_000), opts);
    expect(server.requests.map((r) => r.url)).toEqual(['/robots.txt']);
    await cache.check(`${server.base}/public/a.html`, new Date(NOW.getTime() + 61 * 60_000), opts);
    expect(server.requests.map((r) => r.url)).toEqual(['/robots.txt', '/robots.txt']);
  });

  it('a missing robots.txt (404) allows everything', async () => {
    server = await serve((_req, res) => res.writeHead(404).end());
    await expect(new RobotsCache().check(`${server.base}/anything`, NOW, opts)).resolves.toBeUndefined();
  });

  it('a robots.txt answering 503 fails the check as retriable instead of guessing', async () => {
    server = await serve((_req, res) => res.writeHead(503).end());
    const e = await new RobotsCache().check(`${server.base}/x`, NOW, opts).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SourceError);
    expect((e as SourceError).retriable).toBe(true);
    expect((e as Error).message).toMatch(/cannot read robots\.txt, so not fetching \(.*HTTP 503/);
  });

  it('goes through the guard: a private host is refused without allowPrivate', async () => {
    server = await serve((_req, res) => res.end(''));
    const e = await new RobotsCache().check(`${server.base}/x`, NOW).catch((err: unknown) => err);
    expect((e as Error).message).toMatch(/refusing to connect to 127\.0\.0\.1/);
    expect(server.requests).toHaveLength(0);
  });
});
