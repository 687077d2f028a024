import { isUtf8 as validUtf8 } from 'node:buffer';
import chardet from 'chardet';
import iconv from 'iconv-lite';

export interface DecodeHints {
  /** charset from an HTTP Content-Type header */
  httpCharset?: string;
  /** look for <?xml encoding="…"?> in the first bytes */
  xml?: boolean;
  /** look for <meta charset> / <meta http-equiv="Content-Type"> in the first bytes */
  html?: boolean;
}

export interface Decoded {
  text: string;
  /** the encoding used, as iconv-lite names it */
  encoding: string;
  /** how it was chosen */
  by: 'bom' | 'http' | 'declaration' | 'meta' | 'utf8' | 'detected';
  /** the label the bytes contradicted (a feed declaring UTF-8 that is really GBK), if any */
  mislabelled?: string;
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

function htmlMetaEncoding(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 2048)).toString('latin1');
  const m =
    /<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._-]+)/i.exec(head);
  return m?.[1];
}

function hasMultibyte(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b >= 0x80) return true;
  return false;
}

/** Whether the bytes are valid UTF-8 (what a fatal TextDecoder accepts), checked without decoding them. */
export function isUtf8(bytes: Uint8Array): boolean {
  return validUtf8(bytes);
}

/** A Buffer over the same memory: a 90 MB export is not copied just to be decoded. */
const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * Valid UTF-8 decoded by Node directly gives the same text as iconv-lite, which also drops a BOM
 * at the start of the text (a file that begins with two BOMs loses both).
 */
function decodeUtf8(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
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

/**
 * Decodes bytes in the order BOM → HTTP charset → XML declaration / HTML meta → UTF-8 validity →
 * detection. A label the bytes plainly contradict is overruled, because Chinese sites often keep a
 * template's label after re-encoding the content: "UTF-8" over bytes that are not UTF-8 falls
 * through to detection, and a legacy label (GBK, Big5) over bytes that are valid multi-byte UTF-8
 * reads them as UTF-8 (GBK or Big5 text is practically never valid UTF-8). `mislabelled` says so.
 */
export function decodeBytes(bytes: Uint8Array, hints: DecodeHints = {}): Decoded {
  const b = bom(bytes);
  if (b) {
    const rest = asBuffer(bytes).subarray(b.skip);
    const text = b.encoding === 'utf8' && isUtf8(rest) ? decodeUtf8(rest) : iconv.decode(rest, b.encoding);
    return { text, encoding: b.encoding, by: 'bom' };
  }
  const labels: [string | undefined, Decoded['by']][] = [
    [hints.httpCharset, 'http'],
    [hints.xml ? xmlDeclaredEncoding(bytes) : undefined, 'declaration'],
    [hints.html ? htmlMetaEncoding(bytes) : undefined, 'meta'],
  ];
  let mislabelled: string | undefined;
  const utf8 = isUtf8(bytes);
  for (const [label, by] of labels) {
    const enc = label ? canonicalEncoding(label) : null;
    if (!enc) continue;
    const contradicted = enc === 'utf8' ? !utf8 : (enc === 'gb18030' || enc === 'big5') && utf8 && hasMultibyte(bytes);
    // A contradicted label gives way to the next one (a server's default "charset=utf-8" over a GBK feed that declares GBK).
    if (contradicted) mislabelled ??= label;
    else return { text: iconv.decode(Buffer.from(bytes), enc), encoding: enc, by, ...(mislabelled ? { mislabelled } : {}) };
  }
  const extra = mislabelled ? { mislabelled } : {};
  if (utf8) return { text: asBuffer(bytes).toString('utf8'), encoding: 'utf8', by: 'utf8', ...extra };
  const guessed = detectLegacy(bytes);
  return { text: iconv.decode(Buffer.from(bytes), guessed), encoding: guessed, by: 'detected', ...extra };
}
