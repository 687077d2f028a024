import chardet from 'chardet';
import iconv from 'iconv-lite';

export interface DecodeHints {
  /** charset from an HTTP Content-Type header */
  httpCharset?: string;
  /** look for <?xml encoding="…"?> in the first bytes */
  xml?: boolean;
}

export interface Decoded {
  text: string;
  /** the encoding used, as iconv-lite names it */
  encoding: string;
  /** how it was chosen */
  by: 'bom' | 'http' | 'declaration' | 'utf8' | 'detected';
}

/** GB2312 and GBK are subsets of GB18030; decoding as the superset never loses a character. */
export function canonicalEncoding(label: string): string | null {
  const l = label.trim().toLowerCase().replace(/^["']|["']$/g, '');
  if (/^(gb2312|gbk|gb18030|x-gbk|cp936|windows-936|euc-cn|csgb2312|gb_2312-80|chinese)$/.test(l)) return 'gb18030';
  if (/^(big5|big-5|big5-hkscs|x-x-big5|cn-big5|csbig5|cp950)$/.test(l)) return 'big5';
  if (/^(utf-?8|unicode-1-1-utf-8)$/.test(l)) return 'utf8';
  return iconv.encodingExists(l) ? l : null;
}

/** Charset parameter of a Content-Type header, if any. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*("?)([^";\s]+)\1/i.exec(contentType ?? '');
  return m?.[2];
}

function bom(bytes: Uint8Array): { encoding: string; skip: number } | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf8', skip: 3 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf16le', skip: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf16be', skip: 2 };
  return null;
}

function xmlDeclaredEncoding(bytes: Uint8Array): string | undefined {
  // The declaration is ASCII by definition, so latin1 over the first bytes reads it in any ASCII-compatible encoding.
  const head = Buffer.from(bytes.subarray(0, 512)).toString('latin1');
  const m = /^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
  return m?.[1];
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Our sources are Chinese: bytes that are not UTF-8 are almost always GBK/GB18030, sometimes Big5.
 * chardet alone misreads short GBK text (as EUC-KR, say), so Big5 wins only when chardet ranks it
 * above GB18030; otherwise GB18030.
 */
function detectLegacy(bytes: Uint8Array): string {
  const ranked = chardet.analyse(bytes);
  const conf = (name: string) => ranked.find((r) => r.name === name)?.confidence ?? 0;
  return conf('Big5') > conf('GB18030') ? 'big5' : 'gb18030';
}

/** Decodes bytes in the order BOM → HTTP charset → XML declaration → UTF-8 validity → detection. */
export function decodeBytes(bytes: Uint8Array, hints: DecodeHints = {}): Decoded {
  const b = bom(bytes);
  if (b) return { text: iconv.decode(Buffer.from(bytes.subarray(b.skip)), b.encoding), encoding: b.encoding, by: 'bom' };
  const fromHttp = hints.httpCharset ? canonicalEncoding(hints.httpCharset) : null;
  if (fromHttp) return { text: iconv.decode(Buffer.from(bytes), fromHttp), encoding: fromHttp, by: 'http' };
  const declared = hints.xml ? xmlDeclaredEncoding(bytes) : undefined;
  const fromDecl = declared ? canonicalEncoding(declared) : null;
  if (fromDecl) return { text: iconv.decode(Buffer.from(bytes), fromDecl), encoding: fromDecl, by: 'declaration' };
  if (isUtf8(bytes)) return { text: Buffer.from(bytes).toString('utf8'), encoding: 'utf8', by: 'utf8' };
  const guessed = detectLegacy(bytes);
  return { text: iconv.decode(Buffer.from(bytes), guessed), encoding: guessed, by: 'detected' };
}
