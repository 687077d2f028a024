import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/roles.ts';
import { regionFilterPrefix } from '../store/shared.ts';

/**
 * County scoping. A county principal sees the alerts and items that have at least one region
 * under its own code — the same "any region matches by prefix" rule the store applies to a
 * region filter, so a list, a detail page and an aggregate always agree.
 */
export function scopePrefix(p: Principal | undefined): string | null {
  return p?.role === 'county' && p.region ? regionFilterPrefix(p.region) : null;
}

export function inScope(p: Principal | undefined, regions: readonly string[]): boolean {
  const prefix = scopePrefix(p);
  return prefix === null || regions.some((r) => r.startsWith(prefix));
}

/**
 * The region filter a query runs with. For a county principal: no filter becomes its own
 * region, a filter inside its region stays, a wider one (the province) narrows to its region,
 * one elsewhere is dropped. `null` means nothing can match — the caller answers empty instead
 * of querying, because an empty filter would mean "everything" to the store.
 */
export function scopeRegions(p: Principal | undefined, requested: readonly string[] | undefined): string[] | undefined | null {
  const prefix = scopePrefix(p);
  if (prefix === null) return requested?.length ? [...requested] : undefined;
  const own = p!.region!;
  if (!requested?.length) return [own];
  const out = new Set<string>();
  for (const r of requested) {
    const rp = regionFilterPrefix(r);
    if (rp.startsWith(prefix)) out.add(r);
    else if (prefix.startsWith(rp)) out.add(own);
  }
  return out.size ? [...out] : null;
}

export function principal(req: FastifyRequest): Principal | undefined {
  return req.principal;
}
