/**
 * BullMQ builds Redis keys as `prefix:queue:jobId`, so a job id must not contain ':' and must
 * not look like an integer (BullMQ reserves those for its own counter). Delivery ids are
 * `alertId.channel.event` and may carry anything, so they are percent-encoded (reversible, so
 * two ids never map to one job) behind a `d.` tag. The original id also stays in the job data.
 */
export function jobIdFor(deliveryId: string): string {
  if (!deliveryId) throw new Error('delivery id is empty');
  return `d.${encodeURIComponent(deliveryId)}`;
}

export function deliveryIdOf(jobId: string): string {
  if (!jobId.startsWith('d.')) throw new Error(`job id '${jobId}' was not made by jobIdFor`);
  return decodeURIComponent(jobId.slice(2));
}
