/** One interface over both jieba bindings; the user dictionary from rules/dict/ is loaded into each. */
export interface Segmenter {
  readonly name: 'node-rs' | 'nodejieba';
  cut(text: string): string[];
}
