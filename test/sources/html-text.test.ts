import { describe, expect, it } from 'vitest';
import { htmlToLine, htmlToText } from '../../src/sources/html-text.ts';

describe('htmlToText', () => {
  it('strips tags, decodes entities and keeps paragraphs apart', () => {
    expect(htmlToText('<p>第一段<strong>加粗</strong>&amp;内容</p><p>第二段&nbsp;&lt;待检&gt;</p>')).toBe(
      '第一段加粗&内容\n第二段 <待检>',
    );
  });

  it('turns <br> into a line break and drops scripts and styles', () => {
    expect(htmlToText('甲<br/>乙<script>alert(1)</script><style>p{}</style>')).toBe('甲\n乙');
  });

  it('leaves plain text alone apart from whitespace', () => {
    expect(htmlToText('  市民反映：  餐具未消毒  ')).toBe('市民反映： 餐具未消毒');
  });

  it('htmlToLine makes one line for titles', () => {
    expect(htmlToLine('<b>突发</b>：<p>某小学</p>食堂')).toBe('突发： 某小学 食堂');
  });
});
