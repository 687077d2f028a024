import * as OpenCC from 'opencc-js';

/**
 * Traditional → simplified, character level (Hong Kong variants folded too). Not 'twp': its phrase
 * table rewrites simplified words (批次→批量, 小程序→小进程, 建立→创建), which would corrupt
 * mainland text; 'tw' turns 饿了么 into 饿了幺. 'hk' left every rule term unchanged. Built once
 * because building it loads the dictionaries.
 */
const hkToCn = OpenCC.Converter({ from: 'hk', to: 'cn' });

/**
 * opencc's Hong Kong tables read 坏 as the HK form of 坯 (打坏→打坯, 坏子→坯子), which rewrites
 * ordinary mainland text: 「门被打坏了」 became 「门被打坯了」 and lost the defect word 坏了. A mainland
 * bureau's 坏 always means bad, so a 坏 the input held is kept. opencc maps character for
 * character here, so equal lengths mean equal positions; anything else is left as converted.
 */
export function toSimplified(text: string): string {
  const out = hkToCn(text);
  if (out.length !== text.length || !text.includes('坏')) return out;
  let fixed = '';
  let from = 0;
  for (let i = text.indexOf('坏'); i >= 0; i = text.indexOf('坏', i + 1)) {
    if (out[i] !== '坯') continue;
    fixed += out.slice(from, i) + '坏';
    from = i + 1;
  }
  return from === 0 ? out : fixed + out.slice(from);
}

// Full-width symbols that only ever stand for their ASCII twins in numbers, units and URLs.
// Chinese punctuation (，。：；！？（）“”) is deliberately kept: officers read this text.
const FOLD_SYMBOLS = new Set(['＃', '％', '＆', '＋', '－', '．', '／', '＝', '＠', '＿', '～']);

// Zero-width and invisible formatting characters that split words without being seen.
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/g;
// C0/C1 controls except tab, line feed and carriage return (those are whitespace, folded below).
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
// Any whitespace run, including the ideographic space and no-break space.
const WHITESPACE_RUN = /[\s\u3000\u00A0]+/g;

const isFoldable = (c: number, ch: string): boolean =>
  // Ｆ０-Ｆ９, Ａ-Ｚ, ａ-ｚ and the listed symbols sit at ASCII + 0xFEE0.
  (c >= 0xff10 && c <= 0xff19) || (c >= 0xff21 && c <= 0xff3a) || (c >= 0xff41 && c <= 0xff5a) || FOLD_SYMBOLS.has(ch);

function foldWidth(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xff01 || !isFoldable(c, text[i]!)) continue;
    out += text.slice(from, i) + String.fromCharCode(c - 0xfee0);
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/*
 * Most texts need no conversion at all, and running opencc over every character was about 40% of
 * normalise. One byte per UTF-16 code unit says what each character may need:
 *   UNSAFE   opencc may change it (alone or inside a phrase), so its stretch of text is converted;
 *   BARRIER  it occurs in no opencc key, so no match spans it: opencc(a + x + b) is
 *            opencc(a) + x + opencc(b), and only the stretches between barriers that hold an
 *            UNSAFE character are converted;
 *   WHOLE    surrogates and ideographic description characters (opencc skips a whole description
 *            sequence, across barriers): the whole text goes through opencc;
 *   CLEAN, FOLD, SPACE  the other steps of normalise have something to do.
 */
export const UNSAFE = 1;
export const BARRIER = 2;
export const WHOLE = 4;
const CLEAN = 8;
const FOLD = 16;
const SPACE = 32;

/** Only while building: a character that occurs in some opencc key. */
const IN_KEY = 64;

const IDC = /[\u2FF0-\u2FFF]/;
const SURROGATE = /[\uD800-\uDFFF]/;
const codePoints = (s: string): number[] => Array.from(s, (ch) => ch.codePointAt(0)!);

/**
 * Calls `visit` with every `key value` entry of one opencc dictionary ('k v|k v' or [[k, v]]) and
 * whether the entry may hold characters outside the BMP. False when `dict` is neither form, or an
 * entry holds an ideographic description character (opencc skips a whole description sequence, so
 * one appearing mid-conversion is not analysed here).
 */
function eachEntry(dict: unknown, visit: (k: string, v: string, astral: boolean) => void): boolean {
  if (typeof dict === 'string') {
    if (IDC.test(dict)) return false;
    const astral = SURROGATE.test(dict);
    if (!dict) return true;
    for (const entry of dict.split('|')) {
      const sp = entry.indexOf(' ');
      if (sp <= 0) return false;
      // opencc-js reads an entry as `entry.split(' ')[0..1]`.
      const end = entry.indexOf(' ', sp + 1);
      visit(entry.slice(0, sp), entry.slice(sp + 1, end < 0 ? undefined : end), astral);
    }
    return true;
  }
  if (!Array.isArray(dict)) return false;
  for (const p of dict as unknown[]) {
    if (!Array.isArray(p) || typeof p[0] !== 'string' || typeof p[1] !== 'string' || !p[0]) return false;
    if (IDC.test(p[0]) || IDC.test(p[1])) return false;
    visit(p[0], p[1], SURROGATE.test(p[0] + p[1]));
  }
  return true;
}

/** Dictionary groups (one trie each, applied in order), or null when `x` is not a list of lists. */
const groupsOf = (x: unknown): unknown[][] | null =>
  Array.isArray(x) && x.every((g) => Array.isArray(g)) ? (x as unknown[][]) : null;

interface Stage {
  /** Character → every string it may become in this trie, itself included when it may stay; absent: it stays. */
  forms: Map<number, string[]>;
  /** Keys whose value has another length. */
  unequal: number[][];
}

/** One trie of the chain (every dictionary's entries count, so precedence inside a group does not matter). */
function stageOf(group: unknown[], table: Uint8Array): Stage | null {
  const forms = new Map<number, string[]>();
  const inside: [number, string][] = [];
  const unequal: number[][] = [];
  const visit = (k: string, v: string, astral: boolean) => {
    for (let i = 0; i < k.length; i++) table[k.charCodeAt(i)]! |= IN_KEY;
    const kc = astral ? codePoints(k) : null;
    const keyLength = kc ? kc.length : k.length;
    if (keyLength === 1) {
      const c = kc ? kc[0]! : k.charCodeAt(0);
      const list = forms.get(c);
      if (!list) forms.set(c, [v]);
      else if (!list.includes(v)) list.push(v);
    } else if (!kc) {
      if (k.length === v.length) for (let i = 0; i < k.length; i++) inside.push([k.charCodeAt(i), v[i]!]);
      else unequal.push(codePoints(k));
    } else {
      const vc = Array.from(v);
      if (kc.length === vc.length) kc.forEach((c, i) => inside.push([c, vc[i]!]));
      else unequal.push(kc);
    }
  };
  for (const dict of group) if (!eachEntry(dict, visit)) return null;
  for (const [c, v] of inside) {
    let list = forms.get(c);
    if (!list) forms.set(c, (list = [String.fromCodePoint(c)]));
    if (!list.includes(v)) list.push(v);
  }
  return { forms, unequal };
}

/**
 * UNSAFE, BARRIER and WHOLE for the converter opencc-js builds from `config` (a `Locale.configs`
 * entry: a normalisation chain, a segmentation trie that only sets match boundaries, then the
 * conversion tries in order), or null when `config` is not laid out as analysed here.
 *
 * Why a character marked safe is left unchanged in any text made only of safe characters: every
 * trie replaces its longest key at each position. A key of the same length as its value changes
 * each of its characters into the character at the same place in the value; a single-character key
 * changes that character; an unmatched character stays. So, through the tries, each character of
 * the text turns independently into one of a small set of strings, whatever its neighbours. A
 * character is safe when every string it can end as is itself. Keys of another length than their
 * value do not fit this; one character of each is chosen as a witness, and every character that
 * can turn into the witness before that trie is unsafe, so such a key never occurs.
 */
export function openccClasses(config: unknown): Uint8Array | null {
  if (!config || typeof config !== 'object') return null;
  const cfg = config as { normalizationChain?: unknown; segmentation?: unknown; conversionChain?: unknown };
  const table = new Uint8Array(0x10000);
  const chain = [...(cfg.normalizationChain === undefined ? [] : groupsOf(cfg.normalizationChain) ?? [null]), ...(groupsOf(cfg.conversionChain) ?? [null])];
  const stages: Stage[] = [];
  for (const group of chain) {
    const st = group && stageOf(group, table);
    if (!st) return null;
    stages.push(st);
  }
  // The segmentation trie changes nothing, but its matches are boundaries other matches cannot cross.
  const seg = cfg.segmentation;
  const segDicts = Array.isArray(seg) && seg.every((d) => typeof d === 'string') ? seg : [seg];
  const markKey = (k: string) => {
    for (let i = 0; i < k.length; i++) table[k.charCodeAt(i)]! |= IN_KEY;
  };
  if (seg && !segDicts.every((d) => eachEntry(d, markKey))) return null;

  const witnessed = stages.some((st) => st.unequal.length > 0);
  /** Per stage: character → the text characters that may have turned into it before that stage. */
  const reaching: Map<number, Set<number>>[] = stages.map(() => new Map());
  const unsafe = (c: number) => (table[c]! & UNSAFE) !== 0;
  for (let c = 0; c < 0x10000; c++) {
    if (!(table[c]! & IN_KEY) || (c >= 0xd800 && c <= 0xdfff)) continue;
    const self = String.fromCharCode(c);
    let forms: string[] = [self];
    for (let s = 0; s < stages.length && forms.length <= 64; s++) {
      const st = stages[s]!;
      if (forms.length === 1 && forms[0]!.length === 1 && !witnessed) {
        forms = st.forms.get(forms[0]!.charCodeAt(0)) ?? forms;
        continue;
      }
      const next = new Set<string>();
      for (const f of forms) {
        let acc = [''];
        for (const cp of codePoints(f)) {
          if (witnessed) {
            const r = reaching[s]!.get(cp);
            if (r) r.add(c);
            else reaching[s]!.set(cp, new Set([c]));
          }
          const opts = st.forms.get(cp) ?? [String.fromCodePoint(cp)];
          acc = opts.length === 1 ? acc.map((a) => a + opts[0]) : acc.flatMap((a) => opts.map((o) => a + o));
        }
        for (const a of acc) next.add(a);
      }
      forms = [...next];
    }
    if (forms.length !== 1 || forms[0] !== self) table[c]! |= UNSAFE;
  }
  stages.forEach((st, s) => {
    for (const key of st.unequal) {
      // The witness whose reaching characters are already unsafe, else the one adding fewest.
      let best: Set<number> | undefined;
      let bestCost = Infinity;
      for (const w of key) {
        // Nothing turns into it: the key cannot occur.
        const from = reaching[s]!.get(w) ?? new Set<number>();
        let cost = 0;
        for (const c of from) if (!unsafe(c)) cost++;
        if (cost < bestCost) [best, bestCost] = [from, cost];
      }
      for (const c of best!) table[c]! |= UNSAFE;
    }
  });

  for (let c = 0; c < 0x10000; c++) {
    if (table[c]! & IN_KEY) table[c]! &= ~IN_KEY;
    else table[c]! |= BARRIER;
  }
  for (let c = 0xd800; c <= 0xdfff; c++) table[c] = WHOLE;
  for (let c = 0x2ff0; c <= 0x2fff; c++) table[c] = WHOLE;
  return table;
}

/**
 * A call to opencc costs about as much as converting this many more characters, so stretches to
 * convert closer together than this go through one call.
 */
const MERGE_GAP = 64;

/**
 * `convert(s)`, running `convert` only over the stretches between BARRIER characters that hold an
 * UNSAFE one (nearby ones together); `classes` comes from openccClasses for the configuration
 * `convert` was built from. Any cut at a barrier gives the same result, so how stretches are
 * grouped does not change it.
 */
export function convertStretches(s: string, classes: Uint8Array, convert: (s: string) => string): string {
  let out = '';
  let emitted = 0;
  let piece = 0;
  let dirty = false;
  /** The pending span to convert, [from, to), or from < 0. */
  let from = -1;
  let to = 0;
  for (let i = 0; i <= s.length; i++) {
    const k = i < s.length ? classes[s.charCodeAt(i)]! : BARRIER;
    if (k & WHOLE) return convert(s);
    if (k & UNSAFE) dirty = true;
    else if (k & BARRIER) {
      if (dirty) {
        if (from < 0) from = piece;
        to = i;
        dirty = false;
      }
      if (from >= 0 && (i - to > MERGE_GAP || i === s.length)) {
        out += s.slice(emitted, from) + convert(s.slice(from, to));
        emitted = to;
        from = -1;
      }
      piece = i + 1;
    }
  }
  return emitted === 0 ? s : out + s.slice(emitted);
}

function buildTable(): { table: Uint8Array; fast: boolean } {
  // Converter({ from: 'hk', to: 'cn' }) is built from the configuration named 'hk2s'.
  const opencc = openccClasses((OpenCC.Locale.configs as Record<string, unknown> | undefined)?.['hk2s']);
  const table = opencc ?? new Uint8Array(0x10000);
  // The other steps' classes come from their own patterns, so the checks cannot drift from them.
  const codes = new Uint16Array(0x10000).map((_, c) => (c >= 0xd800 && c <= 0xdfff ? 0x78 : c));
  const every = new TextDecoder('utf-16le').decode(codes);
  const mark = (re: RegExp, bit: number) => {
    for (const m of every.matchAll(new RegExp(re.source, 'g'))) for (let i = 0; i < m[0].length; i++) table[m.index + i]! |= bit;
  };
  mark(INVISIBLE, CLEAN);
  mark(CONTROL, CLEAN);
  mark(WHITESPACE_RUN, SPACE);
  for (let c = 0xff01; c <= 0xff5e; c++) if (isFoldable(c, String.fromCharCode(c))) table[c]! |= FOLD;
  return { table, fast: opencc !== null };
}

let built: { table: Uint8Array; fast: boolean } | undefined;
/** Built on first use (tens of ms), not at import: many processes load this module without normalising. */
const classes = () => (built ??= buildTable());

const collapseWhitespace = (s: string): string =>
  s.replace(WHITESPACE_RUN, (run) => (run.includes('\n') || run.includes('\r') ? '\n' : ' ')).trim();

/**
 * Whether collapsing and trimming would change `s`: only a lone ' ' or '\n' between two other
 * characters is already its own collapsed form.
 */
function spaceToCollapse(s: string, table: Uint8Array): boolean {
  const last = s.length - 1;
  let prevSpace = false;
  for (let i = 0; i <= last; i++) {
    const c = s.charCodeAt(i);
    if (!(table[c]! & SPACE)) prevSpace = false;
    else if (prevSpace || i === 0 || i === last || (c !== 0x20 && c !== 0x0a)) return true;
    else prevSpace = true;
  }
  return false;
}

/**
 * Normalised text used for matching, segmentation, storage and highlighting. Hit offsets point into
 * this output, so every stage must use the same function.
 *
 * - full-width ASCII letters, digits and a few numeric symbols → half-width (Chinese punctuation kept);
 * - traditional → simplified (opencc-js, Hong Kong variants);
 * - zero-width and control characters removed;
 * - whitespace runs collapsed: to '\n' when the run held a line break (paragraphs still bound
 *   sentences for negation), otherwise to one space; leading and trailing whitespace trimmed.
 *
 * A step that would change nothing is skipped; the result is the same as always running every
 * step (test/text/normalise.test.ts compares the two).
 */
export function normalise(text: string): string {
  if (!text) return '';
  const { table, fast } = classes();
  // One pass for the common case: nothing to remove, fold or convert.
  let seen = 0;
  for (let i = 0; i < text.length; i++) seen |= table[text.charCodeAt(i)]!;
  let s = text;
  if (seen & (CLEAN | FOLD)) s = foldWidth(s.replace(INVISIBLE, '').replace(CONTROL, ''));
  if (!fast) s = toSimplified(s);
  else if (seen & (UNSAFE | WHOLE | CLEAN | FOLD)) s = convertStretches(s, table, toSimplified);
  // Only a step that ran can have brought whitespace the first pass did not see.
  const check = s !== text || (seen & SPACE) !== 0;
  return check && spaceToCollapse(s, table) ? collapseWhitespace(s) : s;
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
