import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/tmp.ts';

// `sentinel rules eval | lint | backtest` run as the bureau's staff run them: the real bin, exit codes, stdout.
const BIN = resolve('bin/sentinel.js');
const t = tempDir('sentinel-rules-cli-');
afterAll(() => t.cleanup());

function sentinel(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SENTINEL_DATA: join(t.dir, 'data'), LOG_LEVEL: 'silent', ...env },
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sentinel rules eval', () => {
  const file = join(t.dir, 'labelled.jsonl');
  writeFileSync(
    file,
    [
      { id: 'r1', title: '某中学食堂学生午饭后腹泻', body: '十余名学生午饭后腹痛腹泻，已送医院输液。', kind: 'news', risk: true, category: '校园食品安全', level: '橙' },
      { id: 'r2', body: '在小区超市买的袋装鲜奶已经过期五天，还摆在货架上卖。', kind: 'complaint', risk: true, category: '假冒伪劣过期', level: '黄' },
      { id: 'n1', title: '我市举办食品安全知识竞赛', body: '来自各区的代表队围绕食物中毒防控知识同台竞技。', risk: false },
      // labelled risky, but nothing in it is a food-safety signal: a false negative the report must show
      { id: 'm1', body: '楼下早点铺的老板态度很差。', kind: 'complaint', risk: true, category: '餐饮服务', level: '蓝' },
    ]
      .map((o) => JSON.stringify(o))
      .join('\n') + '\n',
  );

  it('prints P/R/F1 per category, the level confusion and the worst misses as JSON, exit 0', () => {
    const r = sentinel(['rules', 'eval', file, '--json']);
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(r.out);
    expect(rep.total).toBe(4);
    expect(rep.overall).toMatchObject({ tp: 2, fp: 0, fn: 1 });
    expect(rep.categories['校园食品安全']).toMatchObject({ tp: 1, fp: 0, fn: 0 });
    expect(rep.levelConfusion['无']['无']).toBe(1);
    expect(rep.levelConfusion['蓝']['无']).toBe(1);
    expect(rep.worstFalseNegatives.map((m: { id: string }) => m.id)).toEqual(['m1']);
    expect(rep.worstFalseNegatives[0].reasons[0]).toMatch(/^catering-service: 命中餐饮场所/);
  });

  it('prints a readable report by default', () => {
    const r = sentinel(['rules', 'eval', file]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/总体 {2}P 100\.0% {2}R 66\.7%/);
    expect(r.out).toContain('等级混淆');
    expect(r.out).toContain('m1');
  });

  it('names the line and field of a bad labelled line', () => {
    const bad = join(t.dir, 'bad.jsonl');
    writeFileSync(bad, '{"id":"a","body":"x","risk":false}\n{"id":"b","body":"y","risk":"yes"}\n');
    const r = sentinel(['rules', 'eval', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.jsonl:2: risk: /);
    writeFileSync(bad, '{"id":"a","body":"x","risk":false}\n\n{oops\n');
    expect(sentinel(['rules', 'eval', bad]).err).toMatch(/bad\.jsonl:3: invalid JSON/);
  });
});

const DEAD_RULE = `
id: sales-lint
name: 销售
category: 食品销售
terms:
  place: { any: [超市, 便利店], weight: 3 }
  problem: { any: [变质, 变质食品], weight: 4 }
when: place and problem
levels: { 红: 40, 黄: 6 }
tests:
  - text: 超市卖变质食品
    expect: { match: true }
  - text: 超市开业
    expect: { match: false }
`;

describe('sentinel rules lint', () => {
  it('reports a dead term as a warning and an unreachable level as an error, exit 1', () => {
    const dir = join(t.dir, 'lint-rules');
    mkdirSync(join(dir, 'risk'), { recursive: true });
    writeFileSync(join(dir, 'risk', 'sales.yaml'), DEAD_RULE);
    const r = sentinel(['rules', 'lint', '--rules', dir, '--json']);
    expect(r.code, r.err).toBe(1);
    const rep = JSON.parse(r.out);
    expect(rep.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ severity: 'warning', code: 'dead-term', rule: 'sales-lint', group: 'problem', term: '变质食品' }),
        expect.objectContaining({ severity: 'error', code: 'unreachable-level', rule: 'sales-lint', message: expect.stringMatching(/红 needs 40 .* at most 10\.5/) }),
      ]),
    );
    // place 3 + ¼·3 = 3.75, problem 4 + ¼·4 = 5, × complaint 1.2 = 10.5
    // 变质食品 is cut by jieba alone and this folder has no user.dict
    expect(rep.findings).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'split-term', term: '变质食品' })]));
  });

  it('exits 0 with warnings only once the levels are reachable and the dictionary is written', () => {
    const dir = join(t.dir, 'lint-ok');
    mkdirSync(join(dir, 'risk'), { recursive: true });
    mkdirSync(join(dir, 'dict'));
    writeFileSync(join(dir, 'risk', 'sales.yaml'), DEAD_RULE.replace('红: 40', '红: 8'));
    writeFileSync(join(dir, 'dict', 'user.dict'), '变质食品 2000 nz\n');
    const r = sentinel(['rules', 'lint', '--rules', dir]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/0 个错误，1 个警告/);
  });
});

describe('sentinel rules backtest', () => {
  it('lists the alerts a candidate rule set would remove (a rule deleted) and counts them', () => {
    const csv = join(t.dir, 'hotline.csv');
    const now = new Date();
    const at = (h: number) => new Date(now.getTime() - h * 3_600_000 + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    writeFileSync(
      csv,
      [
        '登记编号,登记时间,渠道,诉求类型,被投诉主体,地址,所属区域,商品或服务分类,诉求内容,处理状态',
        `BT001,${at(5)},12315平台,投诉,某养生馆,南昌市东湖区,360102,保健食品,我母亲七十多岁，在养生馆听了几次讲座，花六千块买了保健品，推销员说吃了能治糖尿病，不用再吃药。,已受理`,
        `BT002,${at(4)},12345转办,投诉,某面馆,南昌市西湖区,360103,餐饮服务,在这家面馆吃面吃出一只蟑螂，后厨脏乱差，老板拒不处理。,已受理`,
        `BT003,${at(3)},热线,咨询,某超市,南昌市青山湖区,360111,一般食品,想问一下超市会员卡积分怎么兑换。,已办结`,
      ].join('\n') + '\n',
    );
    const ing = sentinel(['ingest', csv]);
    expect(ing.code, ing.err).toBe(0);
    expect(JSON.parse(ing.out)).toMatchObject({ records: 3, new: 3 });

    // candidate = the live rules without the health-food rule
    const cand = join(t.dir, 'candidate-rules');
    cpSync(resolve('rules'), cand, { recursive: true });
    rmSync(join(cand, 'risk', 'health-food.yaml'));

    const same = JSON.parse(sentinel(['rules', 'backtest', '--json']).out);
    expect(same).toMatchObject({ items: 3, added: [], removed: [], changed: [] });
    expect(same.liveAlerts).toBeGreaterThanOrEqual(2);

    const r = sentinel(['rules', 'backtest', '--since', '30d', '--rules', cand, '--json']);
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(r.out);
    expect(rep.items).toBe(3);
    expect(rep.removed).toHaveLength(1);
    expect(rep.removed[0]).toMatchObject({ live: { category: '保健食品' }, candidate: null });
    expect(rep.added).toEqual([]);
    expect(rep.candidateAlerts).toBe(rep.liveAlerts - 1);

    const text = sentinel(['rules', 'backtest', '--since', 'all', '--rules', cand]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/新增 0，移除 1/);
    expect(text.out).toContain('保健食品');
  });

  it('rejects a malformed --since with exit 2', () => {
    const r = sentinel(['rules', 'backtest', '--since', 'last week']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--since/);
  });
});
