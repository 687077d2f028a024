import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A throw-away rules/ folder: common.yaml, calendar.yaml and risk/*.yaml from strings. */
export async function rulesDir(files: { common?: string; calendar?: string; risk: Record<string, string> }): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sentinel-rules-'));
  await mkdir(path.join(dir, 'risk'));
  if (files.common !== undefined) await writeFile(path.join(dir, 'common.yaml'), files.common);
  if (files.calendar !== undefined) await writeFile(path.join(dir, 'calendar.yaml'), files.calendar);
  for (const [name, body] of Object.entries(files.risk)) await writeFile(path.join(dir, 'risk', name), body);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A small school rule used across the engine tests. */
export const SCHOOL_RULE = `
id: school
name: 校园
category: 校园食品安全
terms:
  place: { any: [学校食堂, 学校, 学生, 幼儿园], weight: 3 }
  harm: { any: [呕吐, 腹泻, { term: 死亡, weight: 16 }], weight: 5 }
  defect: { any: [变质, 虫子], weight: 4 }
  scale: { any: [多名], weight: 2 }
when: place and (harm or defect)
near: 20
unless: [演练]
levels: { 红: 20, 橙: 12, 黄: 7, 蓝: 4 }
tests:
  - text: 学校食堂饭菜变质
    expect: { match: true, level: 黄 }
`;

export const COMMON = `
negation:
  window: 6
  cues: [未发现, 没有, 辟谣]
  not_cues: [没多久]
unless: [知识竞赛]
kind_weights: { news: 1, complaint: 1.5, notice: 1 }
`;
