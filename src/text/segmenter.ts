/** One interface over both jieba bindings; the user dictionary from rules/dict/ is loaded into each. */
export interface Segmenter {
  readonly name: 'node-rs' | 'nodejieba';
  /** The meaningful tokens (a letter or a digit in each), none holding whitespace. */
  cut(text: string): string[];
}
