import type { Client, estypes } from '@elastic/elasticsearch';
import { SentinelError } from '../../core/errors.ts';

export interface BulkOp {
  id: string;
  /** Alias or concrete index. */
  index: string;
  document: Record<string, unknown>;
  /** Optimistic concurrency: only replace the version we read. */
  ifSeqNo?: number;
  ifPrimaryTerm?: number;
  /** Fail with 409 if the id already exists (a brand-new alert someone else may be creating too). */
  create?: boolean;
}

export interface BulkDrop {
  id: string;
  index: string;
  status: number;
  error: estypes.ErrorCause | null;
  document: unknown;
}

export interface BulkOptions {
  refresh: estypes.Refresh;
  /** How often the helper re-sends items the cluster answered 429 (too many requests). */
  retries: number;
  /** Milliseconds between those re-sends. */
  wait: number;
}

/** A transient failure: the same write may well succeed later. */
export const isTransient = (status: number): boolean => status === 429 || status >= 500;

/**
 * Writes with `client.helpers.bulk`: `_id` is our id, so a replay overwrites instead of
 * duplicating. The helper retries 429 items itself; every other item failure (and a 429 that
 * outlived the retries) comes back as a drop for the caller to decide on.
 */
export async function bulkWrite(client: Client, ops: BulkOp[], opts: BulkOptions): Promise<BulkDrop[]> {
  if (!ops.length) return [];
  const drops: BulkDrop[] = [];
  await client.helpers.bulk<BulkOp>({
    datasource: ops,
    // one request at a time: two writes of one id in a batch land in batch order, as in SQLite
    concurrency: 1,
    retries: opts.retries,
    wait: opts.wait,
    refresh: opts.refresh,
    onDocument: (op) => {
      const meta: estypes.BulkIndexOperation = {
        _index: op.index,
        _id: op.id,
        ...(op.ifSeqNo !== undefined ? { if_seq_no: op.ifSeqNo, if_primary_term: op.ifPrimaryTerm } : {}),
      };
      return op.create ? [{ create: meta }, op.document] : [{ index: meta }, op.document];
    },
    onDrop: (d) => {
      const action = (d.operation as { index?: estypes.BulkIndexOperation; create?: estypes.BulkCreateOperation });
      const meta = action.index ?? action.create;
      drops.push({ id: String(meta?._id ?? '?'), index: String(meta?._index ?? '?'), status: d.status, error: d.error, document: d.document });
    },
  });
  return drops;
}

/** Some documents of a batch were not stored. The offset must not be committed while `retriable`. */
export class BulkWriteError extends SentinelError {
  constructor(
    readonly what: string,
    readonly failedIds: string[],
    /** Failures a later retry will hit again (mapping errors and the like); recorded as dead letters. */
    readonly permanentIds: string[],
    total: number,
    detail: string,
    cause?: unknown,
  ) {
    super(
      `elasticsearch: ${failedIds.length} of ${total} ${what} not stored (${failedIds.join(', ')}): ${detail}`,
      // retrying helps whenever at least one failure was transient; the permanent ones are in dead letters
      { retriable: failedIds.length > permanentIds.length, cause },
    );
  }
}

export const describeDrop = (d: BulkDrop): string =>
  `${d.id} → ${d.status}${d.error ? ` ${d.error.type}: ${d.error.reason ?? ''}` : ' (retries exhausted)'}`;

/**
 * Records permanent failures so the desk's operators can see what never made it. The dead
 * letter's id is derived from the document's, so a replay that fails again overwrites its record.
 */
export async function writeDeadLetters(client: Client, index: string, kind: string, drops: BulkDrop[], now: Date): Promise<void> {
  if (!drops.length) return;
  const operations = drops.flatMap((d) => [
    { index: { _index: index, _id: `${kind}:${d.id}` } },
    {
      at: now.toISOString(),
      kind,
      id: d.id,
      status: d.status,
      error_type: d.error?.type ?? null,
      reason: d.error?.reason ?? null,
      error: d.error ?? null,
      doc: d.document ?? null,
    },
  ]);
  const res = await client.bulk({ operations });
  if (res.errors) {
    const bad = res.items.flatMap((it) => Object.values(it)).filter((r) => r && r.status >= 300);
    throw new Error(`dead-letter index ${index} refused ${bad.length} record(s): ${bad.map((r) => r?.error?.reason).join('; ')}`);
  }
}
