import { z } from 'zod';

/**
 * Who may use the desk. `officer` = provincial duty officer (everything in the province),
 * `county` = a county or city office (its own region only, everywhere), `admin` = users,
 * channels and rule reloads on top of what an officer may do.
 */
export const ROLES = ['officer', 'county', 'admin'] as const;
/**
 * Machine tokens may also be `push`: a sending system (a 12345 platform, a county hotline) that
 * may only POST complaint records, and reads nothing.
 */
export const TOKEN_ROLES = [...ROLES, 'push'] as const;
export const Role = z.enum(TOKEN_ROLES);
export type Role = z.infer<typeof Role>;

/** A GB/T 2260 code: 2 (province), 4 (city) or 6 digits; stored as 6 digits. */
export const RegionCode = z
  .string()
  .regex(/^\d{2}(\d{2}){0,2}$/, 'expected a GB/T 2260 region code such as 360102')
  .transform((s) => s.padEnd(6, '0'));

/** User names appear in alert history: short, printable, no control characters. */
export const UserName = z
  .string()
  .trim()
  .min(2, 'a user name needs at least 2 characters')
  .max(32, 'a user name has at most 32 characters')
  .regex(/^[\p{L}\p{N}_.@-]+$/u, 'letters, digits, _ . @ - only');

/** Who is asking: a logged-in user or a machine token. Every route decision is made on this. */
export interface Principal {
  /** The user name, or `token:<name>` for a machine token; written into alert history. */
  name: string;
  role: Role;
  /** Six-digit GB/T 2260 code; required for `county`, absent otherwise. */
  region?: string;
  via: 'session' | 'token';
}

/** Checks the role/region pairing once, for both users and tokens. */
export function checkRoleRegion(role: Role, region: string | undefined): string | undefined {
  if (role === 'county' && !region) return 'a county account needs --region CODE (its GB/T 2260 code)';
  if (role !== 'county' && region) return `--region applies to county accounts only, not ${role}`;
  return undefined;
}
