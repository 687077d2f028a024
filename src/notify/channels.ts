import type { ChannelKind, Office, Routes } from '../config/routes.ts';
import type { WebhookChannel } from './webhook.ts';

/**
 * What the desk may show about a channel: never its URL (robot tokens live there) nor its
 * secret. `role` says how alerts reach it: primary (routing by region), fallback (when a
 * primary delivery is dead-lettered) or catch-all (every alert, SENTINEL_WEBHOOK_URL).
 */
export interface ChannelSummary {
  name: string;
  kind: ChannelKind;
  role: 'primary' | 'fallback' | 'catch-all';
  office: { id: string; name: string; region: string } | null;
  enabled: boolean;
  /** Why it is disabled (the missing environment variables, by name). */
  disabledReason?: string;
  /** Signed (a secret is set); DingTalk/Feishu 加签 or a Standard Webhooks secret. */
  signed: boolean;
}

/** Every configured channel: the catch-all ones first, then each office's primary and fallback channels. */
export function listChannels(routes: Routes | null, catchAll: readonly WebhookChannel[]): ChannelSummary[] {
  const out: ChannelSummary[] = catchAll.map((c) => ({
    name: c.name, kind: 'webhook', role: 'catch-all', office: null, enabled: true, signed: Boolean(c.secret),
  }));
  const officeOf = (o: Office) => ({ id: o.id, name: o.name, region: o.region });
  for (const o of routes?.offices ?? []) {
    for (const [role, list] of [['primary', o.channels], ['fallback', o.fallback]] as const) {
      for (const c of list) {
        out.push({
          name: c.name, kind: c.kind, role, office: officeOf(o), enabled: c.enabled,
          ...(c.disabledReason ? { disabledReason: c.disabledReason } : {}),
          signed: Boolean(c.secret),
        });
      }
    }
  }
  return out;
}

/** The office whose primary channels include `channel`, or null (a catch-all or fallback channel). */
export function officeOfPrimary(routes: Routes | null, channel: string): Office | null {
  return routes?.offices.find((o) => o.channels.some((c) => c.name === channel)) ?? null;
}
