import { describe, expect, it } from 'vitest';
import { extractMainText } from '../../src/sources/article.ts';
import { MAX_BODY_CHARS } from '../../src/sources/html-text.ts';

const page = (inner: string) => `<html><head><title>通报</title><script>var x = "不要我";</script></head><body>
<div class="nav"><a href="/">首页</a> <a href="/tzgg/">通知公告</a></div>${inner}
<div class="footer">主办单位：某市市场监督管理局 版权所有</div></body></html>`;

describe('extractMainText', () => {
  it('uses the source’s own selector first', () => {
    const r = extractMainText(page('<div class="zw"><p>第一段。</p><p>第二段。</p></div><div id="zoom"><p>别的区域</p></div>'), '.zw');
    expect(r).toEqual({ text: '第一段。\n第二段。', by: 'selector' });
  });

  it('falls back to known government CMS containers when the selector finds nothing', () => {
    const r = extractMainText(page('<div id="zoom"><p>经查，该单位使用超过保质期的食品原料，已立案调查。</p></div>'), '.missing');
    expect(r).toEqual({ text: '经查，该单位使用超过保质期的食品原料，已立案调查。', by: 'cms' });
  });

  it('uses Readability for pages without a known container, leaving scripts out', () => {
    const para = '市场监管部门对全市学校食堂开展了专项检查，重点检查食品原料进货查验、留样、餐具消毒等环节。'.repeat(4);
    const r = extractMainText(page(`<div class="main"><div class="text"><p>${para}</p><p>${para}</p><p>${para}</p></div></div>`));
    expect(r.by).toBe('readability');
    expect(r.text).toContain('专项检查');
    expect(r.text).not.toContain('不要我');
    expect(r.text).not.toContain('版权所有');
  });

  it('falls back to the body text for an almost empty page', () => {
    expect(extractMainText('<html><body><span>短</span></body></html>')).toMatchObject({ text: '短' });
  });

  it('caps a huge article', () => {
    const r = extractMainText(`<div id="content"><p>${'很长'.repeat(MAX_BODY_CHARS)}</p></div>`, '#content');
    expect(r.text).toHaveLength(MAX_BODY_CHARS);
  });
});
