import { isIP } from 'node:net';

/**
 * IPv4 ranges that are not globally routable: a fetch to any of them could reach the bureau's own
 * network or a cloud metadata service (SSRF). Each entry is [network, prefix length].
 */
const V4_BLOCKS: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, incl. 169.254.169.254 cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. 255.255.255.255 broadcast
];

function v4ToInt(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

const V4_RANGES = V4_BLOCKS.map(([base, bits]) => {
  const size = 2 ** (32 - bits);
  const start = v4ToInt(base)!;
  return { start, end: start + size - 1 };
});

function v4Forbidden(n: number): boolean {
  return V4_RANGES.some((r) => n >= r.start && n <= r.end);
}

/** Parses an IPv6 literal (with optional embedded IPv4 tail) into 8 16-bit groups. */
function parseV6(ip: string): number[] | null {
  let s = ip;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    // Rewrite the dotted IPv4 tail as two hextets so one parser handles both spellings.
    const v4 = v4ToInt(s.slice(lastColon + 1));
    if (v4 == null) return null;
    s = `${s.slice(0, lastColon + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const toGroups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = toGroups(halves[0]);
  const rest = halves.length === 2 ? toGroups(halves[1]) : [];
  if (!head || !rest) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const fill = 8 - head.length - rest.length;
  if (fill < 1) return null;
  return [...head, ...new Array<number>(fill).fill(0), ...rest];
}

function embeddedV4(g: number[], at: number): number {
  return g[at] * 65536 + g[at + 1];
}

function v6Forbidden(g: number[]): boolean {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(7) && g[7] <= 1) return true; // :: unspecified, ::1 loopback
  if (zeroUpTo(5) && g[5] === 0xffff) return v4Forbidden(embeddedV4(g, 6)); // ::ffff:a.b.c.d mapped
  if (zeroUpTo(6)) return true; // ::a.b.c.d IPv4-compatible (deprecated): nothing legitimate lives there
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    return v4Forbidden(embeddedV4(g, 6)); // NAT64 64:ff9b::/96 reaches an IPv4 address
  }
  if (g[0] === 0x2002) return v4Forbidden(embeddedV4(g, 1)); // 6to4 embeds an IPv4 address
  if (g[0] === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return true; // 100::/64 discard
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true; // documentation
  if ((g[0] & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((g[0] & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((g[0] & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local (deprecated)
  if ((g[0] & 0xff00) === 0xff00) return true; // ff00::/8 multicast
  return false;
}

/**
 * True when `ip` must not be fetched from without allowPrivate: loopback, private, link-local,
 * CGNAT, multicast, reserved, and IPv6 equivalents including IPv4-mapped forms. Anything that is
 * not a well-formed IP literal is forbidden too — the guard fails closed.
 */
export function isForbiddenAddress(ip: string): boolean {
  let s = ip.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const family = isIP(s);
  if (family === 4) {
    const n = v4ToInt(s);
    return n == null || v4Forbidden(n);
  }
  if (family === 6) {
    const g = parseV6(s.toLowerCase());
    return g == null || v6Forbidden(g);
  }
  return true;
}
