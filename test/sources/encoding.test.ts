import { readFileSync } from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { canonicalEncoding, charsetOf, decodeBytes, isUtf8 } from '../../src/sources/encoding.ts';
import * as f from '../fixtures/sources/make-encoded.ts';
import { FIXTURES } from './helpers.ts';

const TEXT = '食品安全抽检不合格：某学校食堂疑似食物中毒，多名学生呕吐腹泻';

describe('decodeBytes', () => {
  it('a UTF-8 BOM wins over everything and is removed', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<?xml version="1.0" encoding="GBK"?><a>中文</a>')]);
    const d = decodeBytes(bytes, { httpCharset: 'gbk', xml: true });
    expect(d).toMatchObject({ encoding: 'utf8', by: 'bom' });
    expect(d.text).toBe('<?xml version="1.0" encoding="GBK"?><a>中文</a>');
  });

  it('the HTTP charset comes before the XML declaration', () => {
    const bytes = iconv.encode(`<?xml version="1.0" encoding="utf-8"?><a>${TEXT}</a>`, 'gbk');
    const d = decodeBytes(bytes, { httpCharset: 'GB2312', xml: true });
    expect(d).toMatchObject({ encoding: 'gb18030', by: 'http' });
    expect(d.text).toContain(TEXT);
  });

  it('the XML declaration is used when HTTP says nothing', () => {
    const d = decodeBytes(iconv.encode(`<?xml version='1.0' encoding='big5'?><a>食品藥物管理署</a>`, 'big5'), { xml: true });
    expect(d).toMatchObject({ encoding: 'big5', by: 'declaration' });
    expect(d.text).toContain('食品藥物管理署');
  });

  it('GBK characters beyond GB2312 survive because GB2312/GBK decode as GB18030', () => {
    const rare = '镕堃喆'; // in GBK, not in GB2312
    const d = decodeBytes(iconv.encode(`<?xml version="1.0" encoding="gb2312"?><a>${rare}</a>`, 'gbk'), { xml: true });
    expect(d.text).toContain(rare);
  });

  it('valid UTF-8 without any label is UTF-8', () => {
    expect(decodeBytes(Buffer.from(TEXT))).toMatchObject({ text: TEXT, by: 'utf8' });
  });

  it('unlabelled GBK is detected', () => {
    const d = decodeBytes(iconv.encode(TEXT, 'gbk'));
    expect(d).toMatchObject({ text: TEXT, encoding: 'gb18030', by: 'detected' });
  });

  it('short unlabelled GBK (which chardet alone calls EUC-KR) still decodes as GB18030', () => {
    const csv = '登记编号,登记时间,诉求内容\nA1,2026-11-29 08:15:00,食堂饭菜变质\n';
    expect(decodeBytes(iconv.encode(csv, 'gbk')).text).toBe(csv);
  });

  it('unlabelled Big5 is detected', () => {
    const big5 = '邊境查驗發現農藥殘留不符規定之蔬果三批，均已退運或銷毀。食品藥物管理署提醒民眾選購時注意標示。';
    expect(decodeBytes(iconv.encode(big5, 'big5'))).toMatchObject({ text: big5, encoding: 'big5' });
  });

  it('an unknown declared label falls through to detection', () => {
    const d = decodeBytes(iconv.encode(`<?xml version="1.0" encoding="x-made-up"?><a>${TEXT}</a>`, 'gbk'), { xml: true });
    expect(d.by).toBe('detected');
    expect(d.text).toContain(TEXT);
  });
});

describe('UTF-8 after a BOM', () => {
  const bom = [0xef, 0xbb, 0xbf];

  it('reads the same text iconv-lite reads, a second BOM dropped as well', () => {
    for (const rest of [Buffer.from('\uFEFF登记编号,诉求内容\r\n'), Buffer.from('a\uFEFFb'), Buffer.alloc(0)]) {
      const bytes = Buffer.concat([Buffer.from(bom), rest]);
      expect(decodeBytes(bytes).text).toBe(iconv.decode(rest, 'utf8'));
    }
    expect(decodeBytes(Buffer.from([...bom, ...bom, 0x61])).text).toBe('a');
  });

  it('bytes that are not UTF-8 after the BOM still come out as iconv-lite decodes them', () => {
    const rest = Buffer.concat([Buffer.from('中文'), Buffer.from([0xe4, 0xb8]), iconv.encode('食品', 'gbk'), Buffer.from([0xed, 0xa0, 0x80])]);
    expect(decodeBytes(Buffer.concat([Buffer.from(bom), rest]))).toEqual({ text: iconv.decode(rest, 'utf8'), encoding: 'utf8', by: 'bom' });
  });
});

describe('isUtf8', () => {
  it('accepts exactly what a strict UTF-8 decoder accepts', () => {
    const strict = new TextDecoder('utf-8', { fatal: true });
    const accepts = (b: Uint8Array) => {
      try {
        strict.decode(b);
        return true;
      } catch {
        return false;
      }
    };
    // Lead and continuation bytes around every boundary of the encoding: overlong forms,
    // surrogates, values past U+10FFFF, truncated and stray continuations.
    const interesting = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe4, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
    let seed = 12315;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let valid = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(next() * 8) }, () => interesting[Math.floor(next() * interesting.length)]!);
      expect(isUtf8(bytes), Buffer.from(bytes).toString('hex')).toBe(accepts(bytes));
      if (accepts(bytes)) valid++;
    }
    expect(valid).toBeGreaterThan(1000);
    expect(isUtf8(Buffer.from('中文 😀'))).toBe(true);
    expect(isUtf8(iconv.encode('中文', 'gbk'))).toBe(false);
  });
});

describe('labels the bytes contradict', () => {
  it('an XML declaration of UTF-8 over GBK bytes gives way to detection, and says so', () => {
    const d = decodeBytes(iconv.encode(`<?xml version="1.0" encoding="UTF-8"?><a>${TEXT}</a>`, 'gbk'), { xml: true });
    expect(d).toMatchObject({ encoding: 'gb18030', by: 'detected', mislabelled: 'UTF-8' });
    expect(d.text).toContain(TEXT);
  });

  it('a server default "charset=utf-8" over a GBK feed yields to the feed’s own GBK declaration', () => {
    const d = decodeBytes(iconv.encode(`<?xml version="1.0" encoding="GBK"?><a>${TEXT}</a>`, 'gbk'), { httpCharset: 'utf-8', xml: true });
    expect(d).toMatchObject({ encoding: 'gb18030', by: 'declaration', mislabelled: 'utf-8' });
  });

  it('a GBK label over valid multi-byte UTF-8 reads UTF-8', () => {
    const d = decodeBytes(Buffer.from(`<a>${TEXT}</a>`), { httpCharset: 'GBK' });
    expect(d).toMatchObject({ text: `<a>${TEXT}</a>`, encoding: 'utf8', mislabelled: 'GBK' });
  });

  it('a GBK label over pure ASCII is simply used', () => {
    expect(decodeBytes(Buffer.from('<a>abc</a>'), { httpCharset: 'GBK' })).toMatchObject({ encoding: 'gb18030', by: 'http' });
  });

  it('reads an HTML meta charset when asked to', () => {
    const page = `<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>${TEXT}</body></html>`;
    expect(decodeBytes(iconv.encode(page, 'gbk'), { html: true })).toMatchObject({ encoding: 'gb18030', by: 'meta' });
    const html5 = `<meta charset="big5"><p>食品藥物管理署</p>`;
    expect(decodeBytes(iconv.encode(html5, 'big5'), { html: true })).toMatchObject({ text: html5, by: 'meta' });
  });
});

describe('labels', () => {
  it.each([
    ['GBK', 'gb18030'],
    ['gb2312', 'gb18030'],
    ['"GB18030"', 'gb18030'],
    ['Big5', 'big5'],
    ['UTF-8', 'utf8'],
    ['iso-8859-1', 'iso-8859-1'],
    ['nonsense-42', null],
  ])('%s → %s', (label, enc) => {
    expect(canonicalEncoding(label)).toBe(enc);
  });

  it('reads the charset parameter of a Content-Type', () => {
    expect(charsetOf('text/xml; charset="GBK"')).toBe('GBK');
    expect(charsetOf('application/rss+xml;charset=utf-8')).toBe('utf-8');
    expect(charsetOf('text/xml')).toBeUndefined();
    expect(charsetOf(undefined)).toBeUndefined();
  });
});

describe('committed fixtures', () => {
  it('hold exactly the bytes make-encoded.ts writes (GBK, Big5, BOM)', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const expected: [string, Buffer][] = [
      ['rss2-gbk.xml', iconv.encode(f.GBK_FEED, 'gbk')],
      ['rss2-big5.xml', iconv.encode(f.BIG5_FEED, 'big5')],
      ['rss2-bom.xml', Buffer.concat([bom, Buffer.from(f.BOM_FEED)])],
      ['hotline-bom.csv', Buffer.concat([bom, Buffer.from(f.BOM_CSV)])],
      ['hotline-gbk.csv', iconv.encode(f.GBK_CSV, 'gbk')],
      ['drop/2026-11-28.csv', iconv.encode(f.GBK_CSV, 'gbk')],
      ['rss2-lying-utf8.xml', iconv.encode(f.LYING_FEED, 'gbk')],
    ];
    for (const [name, bytes] of expected) expect(readFileSync(path.join(FIXTURES, name)).equals(bytes), name).toBe(true);
  });
});
