import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Segmenter } from './segmenter.ts';

export type { Segmenter } from './segmenter.ts';
export type SegmenterBackend = 'node-rs' | 'nodejieba';
export const SEGMENTER_BACKENDS: readonly SegmenterBackend[] = ['node-rs', 'nodejieba'];

const require = createRequire(import.meta.url);

/** A user-dictionary word gets this frequency so jieba keeps it whole against its own entries. */
const USER_WORD_FREQ = 200000;

export interface SegmenterOptions {
  backend?: SegmenterBackend;
  /** Folder with jieba user dictionaries (`*.dict`, one `word [freq] [tag]` a line), usually rules/dict. */
  dictDir?: string;
  /** Words that must stay whole besides the dictionary files (e.g. every rule term). */
  extraWords?: Iterable<string>;
}

/** Lines of every *.dict file in dictDir plus the extra words, in jieba's `word freq` format. */
export function userDictionaryLines(opts: SegmenterOptions): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  const add = (word: string, rest?: string) => {
    if (!word || seen.has(word) || /\s/.test(word)) return;
    seen.add(word);
    lines.push(rest ? `${word} ${rest}` : `${word} ${USER_WORD_FREQ}`);
  };
  if (opts.dictDir && existsSync(opts.dictDir)) {
    for (const f of readdirSync(opts.dictDir).filter((n) => n.endsWith('.dict')).sort()) {
      for (const raw of readFileSync(join(opts.dictDir, f), 'utf8').split(/\r?\n/)) {
        const line = raw.trim();
        if (!line || line.startsWith('#')) continue;
        const [word, ...rest] = line.split(/\s+/);
        add(word!, rest.length && /^\d+$/.test(rest[0]!) ? rest.join(' ') : undefined);
      }
    }
  }
  for (const w of opts.extraWords ?? []) add(w.trim());
  return lines;
}

/** A token is kept when it holds a letter or a digit: whitespace and punctuation carry nothing for search or SimHash. */
const MEANINGFUL = /[\p{L}\p{N}]/u;
const WHITESPACE = /\s/u;
const IS_MEANINGFUL = 1;
const IS_SPACE = 2;

let charClass: Uint8Array | undefined;
/** MEANINGFUL and WHITESPACE per BMP code unit, from the patterns themselves: one table read per character instead of a regex per token. */
function bmpTable(): Uint8Array {
  if (charClass) return charClass;
  const table = new Uint8Array(0x10000);
  // Surrogates become '_': astral characters are left to the pattern (see classOf); none is whitespace.
  const every = new TextDecoder('utf-16le').decode(new Uint16Array(0x10000).map((_, c) => (c >= 0xd800 && c <= 0xdfff ? 0x5f : c)));
  for (const m of every.matchAll(new RegExp(MEANINGFUL.source, 'gu'))) table[m.index] |= IS_MEANINGFUL;
  for (const m of every.matchAll(new RegExp(WHITESPACE.source, 'gu'))) table[m.index] |= IS_SPACE;
  return (charClass = table);
}

/** IS_MEANINGFUL and IS_SPACE of a token's characters together. */
function classOf(t: string, table: Uint8Array): number {
  let c = 0;
  for (let i = 0; i < t.length; i++) {
    const u = t.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdfff) {
      if (MEANINGFUL.test(t)) c |= IS_MEANINGFUL;
      if (WHITESPACE.test(t)) c |= IS_SPACE;
      return c;
    }
    c |= table[u]!;
  }
  return c;
}

/**
 * Keeps the meaningful tokens, in place (the array is the binding's fresh result). A token never
 * holds whitespace afterwards, so that tokens joined by spaces (tokens.ts) give the list back: jieba
 * splits at whitespace itself, and the rare token that holds some is split there.
 */
export function keepMeaningful(tokens: string[]): string[] {
  const table = bmpTable();
  let k = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const c = classOf(t, table);
    if (c === IS_MEANINGFUL) tokens[k++] = t;
    else if (c === (IS_MEANINGFUL | IS_SPACE)) return keepMeaningfulSplitting(tokens, k, i, table);
  }
  tokens.length = k;
  return tokens;
}

/** keepMeaningful() from token `i` on, once a token holding whitespace is met: `k` tokens are kept so far. */
function keepMeaningfulSplitting(tokens: string[], k: number, i: number, table: Uint8Array): string[] {
  const out = tokens.slice(0, k);
  for (; i < tokens.length; i++) {
    for (const part of tokens[i]!.split(/\s+/u)) if (classOf(part, table) === IS_MEANINGFUL) out.push(part);
  }
  return out;
}

function nodeRs(lines: string[]): Segmenter {
  const { Jieba } = require('@node-rs/jieba') as typeof import('@node-rs/jieba');
  const { dict } = require('@node-rs/jieba/dict') as { dict: Uint8Array };
  const jieba = Jieba.withDict(dict);
  if (lines.length) jieba.loadDict(Buffer.from(lines.join('\n') + '\n', 'utf8'));
  return { name: 'node-rs', cut: (text) => keepMeaningful(jieba.cut(text, true)) };
}

let nodejiebaLoaded = false;
function nodejieba(lines: string[]): Segmenter {
  // nodejieba keeps one dictionary per process: the first call loads the defaults, later
  // segmenters add their words on top (insertWord), which is what every caller here wants.
  const nj = require('nodejieba') as {
    load(o?: object): void;
    insertWord(w: string): boolean;
    cut(t: string, hmm?: boolean): string[];
  };
  if (!nodejiebaLoaded) {
    nj.load();
    nodejiebaLoaded = true;
  }
  for (const l of lines) nj.insertWord(l.split(' ')[0]!);
  return { name: 'nodejieba', cut: (text) => keepMeaningful(nj.cut(text, true)) };
}

export function createSegmenter(opts: SegmenterOptions = {}): Segmenter {
  const backend = opts.backend ?? 'node-rs';
  const lines = userDictionaryLines(opts);
  switch (backend) {
    case 'node-rs':
      return nodeRs(lines);
    case 'nodejieba':
      return nodejieba(lines);
    default:
      throw new Error(`unknown segmenter '${String(backend)}': expected one of ${SEGMENTER_BACKENDS.join(', ')}`);
  }
}
