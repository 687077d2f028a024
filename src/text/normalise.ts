import * as OpenCC from 'opencc-js';

/**
 * Traditional → simplified, character level (Hong Kong variants folded too). Not 'twp': its phrase
 * table rewrites simplified words (批次→批量, 小程序→小进程, 建立→创建), which would corrupt
 * mainland text; 'tw' turns 饿了么 into 饿了幺. 'hk' left every rule term unchanged. Built once
 * because building it loads the dictionaries.
 */
const toSimplified = OpenCC.Converter({ from: 'hk', to: 'cn' });

// Full-width symbols that only ever stand for their ASCII twins in numbers, units and URLs.
// Chinese punctuation (，。：；！？（）“”) is deliberately kept: officers read this text.
const FOLD_SYMBOLS = new Set(['＃', '％', '＆', '＋', '－', '．', '／', '＝', '＠', '＿', '～']);

// Zero-width and invisible formatting characters that split words without being seen.
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/g;
// C0/C1 controls except tab, line feed and carriage return (those are whitespace, folded below).
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
// Any whitespace run, including the ideographic space and no-break space.
const WHITESPACE_RUN = /[\s\u3000\u00A0]+/g;

function foldWidth(text: string): string {
  let out = '';
  let changed = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Ｆ０-Ｆ９, Ａ-Ｚ, ａ-ｚ and the listed symbols sit at ASCII + 0xFEE0.
    const isAlnum = (c >= 0xff10 && c <= 0xff19) || (c >= 0xff21 && c <= 0xff3a) || (c >= 0xff41 && c <= 0xff5a);
    if (isAlnum || FOLD_SYMBOLS.has(text[i]!)) {
      out += String.fromCharCode(c - 0xfee0);
      changed = true;
    } else {
      out += text[i];
    }
  }
  return changed ? out : text;
}

/**
 * Normalised text used for matching, segmentation, storage and highlighting. Hit offsets point into
 * this output, so every stage must use the same function.
 *
 * - full-width ASCII letters, digits and a few numeric symbols → half-width (Chinese punctuation kept);
 * - traditional → simplified (opencc-js, Taiwan phrases);
 * - zero-width and control characters removed;
 * - whitespace runs collapsed: to '\n' when the run held a line break (paragraphs still bound
 *   sentences for negation), otherwise to one space; leading and trailing whitespace trimmed.
 */
export function normalise(text: string): string {
  if (!text) return '';
  let s = text.replace(INVISIBLE, '').replace(CONTROL, '');
  s = foldWidth(s);
  s = toSimplified(s);
  s = s.replace(WHITESPACE_RUN, (run) => (run.includes('\n') || run.includes('\r') ? '\n' : ' '));
  return s.trim();
}

/** Title and body as one text: the title, a line break, the body. Offsets in hits point into it. */
export function normaliseItemText(title: string, body: string): string {
  return normalise(title) + '\n' + normalise(body);
}

/**
 * Lower-cases ASCII letters only. Unlike toLowerCase it never changes the string's length, so
 * offsets found on the matching copy are valid in the original.
 */
export function asciiLower(text: string): string {
  return /[A-Z]/.test(text) ? text.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : text;
}
