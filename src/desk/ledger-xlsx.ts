import type { Ledger, LedgerRow } from './ledger.ts';

/** Same rule as the CSV (csvCell): a text cell Excel could take for a formula gets a leading apostrophe. */
export function xlsxText(v: string): string {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

const STATUS: Readonly<Record<string, string>> = { new: '新', acknowledged: '已确认', assigned: '已指派', closed: '已关闭' };

const cell = (v: unknown): string | number => (typeof v === 'number' ? v : xlsxText(v == null ? '' : String(v)));

/**
 * The ledger as an Excel workbook: 处置进展 (found / disposed / open per region or category,
 * completion rate as a real percentage) and 风险清单 (the open risks). Every text is written as a
 * plain string, never a formula, and escaped like the CSV so a copy into another sheet stays
 * inert. exceljs is loaded on the first export only.
 */
export async function ledgerXlsx(l: Ledger): Promise<Buffer> {
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = '食安哨兵';
  wb.created = new Date(0);

  const summary = wb.addWorksheet('处置进展', { views: [{ state: 'frozen', ySplit: 1 }] });
  const byRegion = l.groupBy === 'region';
  summary.columns = [
    { header: byRegion ? '区域代码' : '类别', width: byRegion ? 12 : 20 },
    { header: byRegion ? '区域' : '名称', width: 28 },
    { header: '发现', width: 8 },
    { header: '已处置', width: 8 },
    { header: '未处置', width: 8 },
    { header: '处置完成率', width: 12, style: { numFmt: '0.0%' } },
    { header: '最长未处置（小时）', width: 18 },
    { header: '平均未处置（小时）', width: 18 },
  ];
  const line = (r: LedgerRow) => [r.key, r.name, r.found, r.disposed, r.open, r.completionRate ?? '', r.oldestOpenHours ?? '', r.meanOpenHours ?? ''].map(cell);
  for (const r of l.rows) summary.addRow(line(r));
  summary.addRow(line(l.total)).font = { bold: true };
  summary.getRow(1).font = { bold: true };

  const open = wb.addWorksheet('风险清单', { views: [{ state: 'frozen', ySplit: 1 }] });
  open.columns = [
    { header: '预警编号', width: 22 },
    { header: '等级', width: 6 },
    { header: '标题', width: 48 },
    { header: '类别', width: 16 },
    { header: '区域代码', width: 10 },
    { header: '区域', width: 26 },
    { header: '状态', width: 12 },
    { header: '负责', width: 20 },
    { header: '首次发现', width: 26 },
    { header: '已持续（小时）', width: 14 },
  ];
  for (const o of l.open) open.addRow([o.id, o.level, o.title, o.category, o.region, o.regionName, STATUS[o.status] ?? o.status, o.assignee, o.firstSeenAt, o.ageHours].map(cell));
  open.getRow(1).font = { bold: true };

  return Buffer.from(await wb.xlsx.writeBuffer());
}
