import type { Alert } from '../../src/core/types.ts';

/** A stored alert as the desk sees it; override what a test is about. */
export function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'a0123456789abcdef0123456',
    level: '红',
    category: '校园食品安全',
    region: '360731',
    regions: ['360731'],
    title: '于都县一小学32名学生午餐后呕吐腹痛 已送医救治',
    summary: '11月27日中午，于都县贡江镇中心小学食堂供应午餐后，陆续有32名学生出现呕吐、腹痛等症状，已被送往县人民医院救治。',
    score: 26.75,
    itemIds: ['i1', 'i2', 'i3'],
    sources: ['jx-news', 'weibo'],
    kinds: ['news'],
    terms: ['呕吐', '腹痛', '食堂', '名学生'],
    status: 'new',
    firstSeenAt: '2026-11-27T04:00:00.000Z',
    lastSeenAt: '2026-11-27T05:00:00.000Z',
    createdAt: '2026-11-27T04:02:00.000Z',
    updatedAt: '2026-11-27T04:02:00.000Z',
    history: [{ at: '2026-11-27T04:02:00.000Z', action: 'raise', actor: 'sentinel', note: '红色预警：校园食品安全' }],
    version: 1,
    ...over,
  };
}
