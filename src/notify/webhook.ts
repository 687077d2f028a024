import type { Alert } from '../core/types.ts';

export interface WebhookChannel {
  /** Channel name as stored with each delivery. */
  name: string;
  url: string;
  /** From the environment only; never stored with the delivery. */
  secret?: string;
}

/** The generic event body: what a provincial system receiving the whole stream needs. */
export function alertEvent(alert: Alert, deskUrl?: string) {
  return {
    type: 'alert.raised',
    alert: {
      id: alert.id,
      level: alert.level,
      category: alert.category,
      region: alert.region,
      regions: alert.regions,
      title: alert.title,
      summary: alert.summary,
      terms: alert.terms,
      itemCount: alert.itemCount ?? alert.itemIds.length,
      sources: alert.sources,
      firstSeenAt: alert.firstSeenAt,
      status: alert.status,
      ...(deskUrl ? { url: `${deskUrl.replace(/\/$/, '')}/#/alerts/${encodeURIComponent(alert.id)}` } : {}),
    },
  };
}
