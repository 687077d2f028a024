// Types for format.js so the TypeScript tests can import the page's pure helpers.
export interface HitLike {
  start: number;
  end: number;
  [k: string]: unknown;
}
export interface Segment<H extends HitLike = HitLike> {
  text: string;
  hit?: H;
}
export interface Filters {
  level: string[];
  category: string;
  status: string;
  q: string;
  /** A 6-digit GB/T 2260 code: a province or city covers everything under it. */
  region: string;
  /** news / complaint / notice, comma-separated. */
  kind: string;
  from: string;
  to: string;
  offset: number;
  alert: string;
}
export const LEVELS: string[];
export const STATUS_LABELS: Record<string, string>;
export const ACTION_LABELS: Record<string, string>;
export const KIND_LABELS: Record<string, string>;
export const DELIVERY_LABELS: Record<string, string>;
export const CLOSE_REASONS: string[];
export function label(table: Record<string, string>, key: string): string;
export function relativeTime(iso: string, now?: number): string;
export function formatTime(iso: string): string;
export function highlightSegments<H extends HitLike>(text: string, hits: H[] | null | undefined): Segment<H>[];
export function filtersFromSearch(search: string): Filters;
export function filtersToSearch(f: Filters): string;
export function apiQuery(f: Filters, limit: number): string;
export function safeHttpUrl(url: unknown): string | null;
export function allowedActions(status: string): Record<'acknowledge' | 'assign' | 'note' | 'close' | 'reopen', boolean>;
export function actionErrorMessage(status: number, body: { error?: string } | null): string;
export function regionLevels(code: string): { province: string; city: string; county: string };
export function levelThresholds(levels: Partial<Record<string, number>> | null | undefined): string;
export interface ExplanationLike {
  rule: string;
  matched: boolean;
  score: number;
  potential?: number;
  groups?: { terms?: string[] }[];
  [k: string]: unknown;
}
export function explanationRows<E extends ExplanationLike>(explanation: E[] | null | undefined): E[];
