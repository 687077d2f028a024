import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { RULES_DIR } from './common.ts';

/** Categories a generated rule may use (rules/README.md: an unknown category fails to load). */
const CATEGORIES = ['餐饮服务', '食品销售', '食品生产加工', '网络食品', '冷链食品', '食用农产品', '假冒伪劣过期', '抽检不合格', '非法添加', '保健食品'];
const BRAND_CHARS = '瑞祥源盛泰和安康华丰隆昌福佳鑫宏达兴旺顺嘉裕恒通金银鼎益荣德善美乐家永春';
const PRODUCTS = ['米粉', '腊肉', '卤味', '月饼', '酱油', '菜籽油', '白酒', '辣椒酱', '豆腐乳', '皮蛋', '茶油', '米酒', '腌菜', '糕点', '豆干'];
const PROBLEMS = ['召回', '下架', '标签不符', '批次异常', '检出异物'];

/** A three-character brand unique to (rule, term): 35³ ≈ 43,000 before any repeats. */
function brand(n: number): string {
  const b = BRAND_CHARS;
  return b[n % b.length]! + b[Math.floor(n / b.length) % b.length]! + b[Math.floor(n / b.length ** 2) % b.length]!;
}

/**
 * A rules folder with exactly `count` risk rules: the shipped rules (the first `count` of them
 * when fewer are asked for), topped up with generated rules. Each generated rule watches five
 * products of brands no other rule names (a recall-list rule, the commonest real addition) and
 * a problem group. With `shared: false` every generated term is new and unique (brand-qualified
 * problems too), so only the automaton and the segmenter's dictionary grow with the count; with
 * `shared: true` the problem group also includes common.yaml's `defects` vocabulary, as real
 * rules do, so everyday words (过期, 变质…) reach every generated rule and each one is evaluated.
 * The files follow rules/README.md and carry test cases of their own.
 */
export function makeRulesVariant(dir: string, count: number, shared = false): { dir: string; rules: number; generated: number } {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(RULES_DIR, dir, { recursive: true });
  const riskDir = join(dir, 'risk');
  const shipped = readdirSync(riskDir).filter((n) => /\.ya?ml$/.test(n)).sort();
  for (const name of shipped.slice(count)) rmSync(join(riskDir, name));
  const generated = Math.max(0, count - shipped.length);
  for (let g = 0; g < generated; g++) {
    const terms = Array.from({ length: 5 }, (_, k) => `${brand(g * 5 + k + 1)}牌${PRODUCTS[(g + k) % PRODUCTS.length]}`);
    const problems = shared
      ? [PROBLEMS[g % PROBLEMS.length]!, PROBLEMS[(g + 2) % PROBLEMS.length]!]
      : [`${brand(g * 5 + 1)}${PROBLEMS[g % PROBLEMS.length]}`, `${brand(g * 5 + 2)}${PROBLEMS[(g + 2) % PROBLEMS.length]}`];
    const id = `bench-recall-${String(g + 1).padStart(4, '0')}`;
    const rule = {
      id,
      name: `召回名单 ${g + 1}`,
      category: CATEGORIES[g % CATEGORIES.length],
      description: '基准测试生成的规则：关注名单内品牌产品的问题报告。',
      terms: {
        product: { label: '名单产品', any: terms, weight: 5 },
        problem: { label: '问题', any: problems, ...(shared ? { include: ['defects'] } : {}), weight: 4 },
      },
      when: 'product and problem',
      near: 60,
      tests: [
        { text: `消费者反映购买的${terms[0]}${problems[0]}，要求商家退货。`, kind: 'complaint', expect: { match: true } },
        { text: `${terms[1]}在本地超市正常销售。`, expect: { match: false } },
      ],
    };
    writeFileSync(join(riskDir, `${id}.yaml`), stringify(rule));
  }
  return { dir, rules: Math.min(count, shipped.length) + generated, generated };
}
