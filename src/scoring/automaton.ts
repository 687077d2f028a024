/**
 * Aho–Corasick over UTF-16 code units. Transitions live in an open-addressing hash table of
 * Int32Arrays keyed by (node, code), with a dense table for the root, and a 64K code table maps a
 * code unit to its alphabet index; so a step is a few array reads and no string is created per
 * character. @monyone/aho-corasick, the fastest library measured here, looks every character up in
 * a Map of one-character strings; on Chinese text that lookup was most of the scan (bench figure 2).
 * A double array was tried first: its packing was quadratic on large CJK alphabets (4.6 s for 10k terms).
 *
 * ASCII letters are folded to lower case by the code table itself, so neither terms nor text need a
 * lower-cased copy. Matches report term indices; the caller owns the terms.
 */
export class Automaton {
  /** code unit → alphabet index (0 = not in any term). */
  private readonly codeOf = new Int32Array(65536);
  /** Root transitions by alphabet index (0 = stay at the root). */
  private readonly root: Int32Array;
  private readonly keyNode: Int32Array;
  private readonly keyCode: Int32Array;
  private readonly target: Int32Array;
  private readonly mask: number;
  private readonly fail: Int32Array;
  /** Term ending exactly at this node, or -1. */
  private readonly term: Int32Array;
  /** Nearest node on the failure chain that ends a term, or -1. */
  private readonly dict: Int32Array;
  private readonly lengths: Int32Array;

  constructor(terms: readonly string[]) {
    this.lengths = Int32Array.from(terms, (t) => t.length);
    let alphabet = 0;
    for (const t of terms) {
      for (let i = 0; i < t.length; i++) {
        const c = fold(t.charCodeAt(i));
        if (this.codeOf[c] === 0) this.codeOf[c] = ++alphabet;
      }
    }
    for (let c = 65; c <= 90; c++) if (this.codeOf[c + 32] !== 0) this.codeOf[c] = this.codeOf[c + 32]!;

    // A plain trie first, then its edges go into the hash table.
    const children: Map<number, number>[] = [new Map()];
    const ends: number[] = [-1];
    terms.forEach((t, ti) => {
      let node = 0;
      for (let i = 0; i < t.length; i++) {
        const code = this.codeOf[fold(t.charCodeAt(i))]!;
        let next = children[node]!.get(code);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          ends.push(-1);
          children[node]!.set(code, next);
        }
        node = next;
      }
      if (t.length > 0 && ends[node] === -1) ends[node] = ti;
    });
    const n = children.length;
    let cap = 16;
    while (cap < n * 2) cap *= 2;
    this.mask = cap - 1;
    this.keyNode = new Int32Array(cap).fill(-1);
    this.keyCode = new Int32Array(cap);
    this.target = new Int32Array(cap);
    this.root = new Int32Array(alphabet + 1);
    for (const [code, child] of children[0]!) this.root[code] = child;
    for (let node = 1; node < n; node++) {
      for (const [code, child] of children[node]!) {
        let h = slot(node, code) & this.mask;
        while (this.keyNode[h] !== -1) h = (h + 1) & this.mask;
        this.keyNode[h] = node;
        this.keyCode[h] = code;
        this.target[h] = child;
      }
    }

    // Failure and dictionary links, breadth first.
    this.fail = new Int32Array(n);
    this.term = Int32Array.from(ends);
    this.dict = new Int32Array(n).fill(-1);
    const queue: number[] = [...children[0]!.values()];
    for (let k = 0; k < queue.length; k++) {
      const node = queue[k]!;
      for (const [code, child] of children[node]!) {
        let f = this.fail[node]!;
        let to = this.step(f, code);
        while (to === -1 && f !== 0) {
          f = this.fail[f]!;
          to = this.step(f, code);
        }
        const fc = to === -1 ? 0 : to;
        this.fail[child] = fc;
        this.dict[child] = this.term[fc]! >= 0 ? fc : this.dict[fc]!;
        queue.push(child);
      }
    }
  }

  /** The child of `node` by `code`, or -1 (the root answers 0 for "stay"). */
  private step(node: number, code: number): number {
    if (node === 0) return this.root[code]! || -1;
    let h = slot(node, code) & this.mask;
    for (;;) {
      const k = this.keyNode[h]!;
      if (k === -1) return -1;
      if (k === node && this.keyCode[h] === code) return this.target[h]!;
      h = (h + 1) & this.mask;
    }
  }

  /**
   * Calls `onMatch(termIndex, start, end)` for every occurrence, overlaps included, in order of
   * end offset (longest first at one end).
   */
  scan(text: string, onMatch: (term: number, start: number, end: number) => void): void {
    const { codeOf, root, keyNode, keyCode, target, mask, fail, term, dict, lengths } = this;
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const code = codeOf[text.charCodeAt(i)]!;
      if (code === 0) {
        node = 0;
        continue;
      }
      for (;;) {
        if (node === 0) {
          node = root[code]!;
          break;
        }
        let h = slot(node, code) & mask;
        let next = -1;
        for (;;) {
          const k = keyNode[h]!;
          if (k === -1) break;
          if (k === node && keyCode[h] === code) {
            next = target[h]!;
            break;
          }
          h = (h + 1) & mask;
        }
        if (next !== -1) {
          node = next;
          break;
        }
        node = fail[node]!;
      }
      for (let s = term[node]! >= 0 ? node : dict[node]!; s >= 0; s = dict[s]!) {
        const t = term[s]!;
        onMatch(t, i + 1 - lengths[t]!, i + 1);
      }
    }
  }
}

function slot(node: number, code: number): number {
  return (Math.imul(node, 0x9e3779b1) ^ Math.imul(code, 0x85ebca77)) >>> 0;
}

function fold(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}
