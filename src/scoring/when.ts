/**
 * The `when:` language of a risk rule: a boolean expression over term-group names.
 *
 *   expr := or
 *   or   := and ( ('or'  | '||') and )*
 *   and  := not ( ('and' | '&&') not )*
 *   not  := ('not' | '!') not | atom
 *   atom := GROUP | '(' expr ')'
 *
 * Precedence is not > and > or, as in most languages, so `a or b and c` means `a or (b and c)`.
 */
export type WhenExpr =
  | { type: 'group'; name: string }
  | { type: 'not'; item: WhenExpr }
  | { type: 'and'; items: WhenExpr[] }
  | { type: 'or'; items: WhenExpr[] };

export class WhenSyntaxError extends Error {
  constructor(
    readonly problem: string,
    /** 0-based character offset in the expression. */
    readonly at: number,
  ) {
    super(`${problem} (at character ${at + 1})`);
    this.name = 'WhenSyntaxError';
  }
}

type Token = { kind: 'name' | 'and' | 'or' | 'not' | '(' | ')' | 'end'; text: string; at: number };

const NAME = /[\p{L}\p{N}_-]/u;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')') {
      tokens.push({ kind: ch, text: ch, at: i });
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      tokens.push({ kind: two === '&&' ? 'and' : 'or', text: two, at: i });
      i += 2;
      continue;
    }
    if (ch === '!') {
      tokens.push({ kind: 'not', text: ch, at: i });
      i++;
      continue;
    }
    if (NAME.test(ch)) {
      const start = i;
      while (i < src.length && NAME.test(src[i]!)) i++;
      const word = src.slice(start, i);
      const lower = word.toLowerCase();
      const kind = lower === 'and' || lower === 'or' || lower === 'not' ? lower : 'name';
      tokens.push({ kind, text: word, at: start });
      continue;
    }
    throw new WhenSyntaxError(`unexpected character '${ch}'`, i);
  }
  tokens.push({ kind: 'end', text: '', at: src.length });
  return tokens;
}

/** Parses a `when:` expression; throws WhenSyntaxError naming the offending position. */
export function parseWhen(src: string): WhenExpr {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos++]!;

  const parseOr = (): WhenExpr => {
    const items = [parseAnd()];
    while (peek().kind === 'or') {
      next();
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { type: 'or', items };
  };
  const parseAnd = (): WhenExpr => {
    const items = [parseNot()];
    while (peek().kind === 'and') {
      next();
      items.push(parseNot());
    }
    return items.length === 1 ? items[0]! : { type: 'and', items };
  };
  const parseNot = (): WhenExpr => {
    if (peek().kind === 'not') {
      next();
      return { type: 'not', item: parseNot() };
    }
    return parseAtom();
  };
  const parseAtom = (): WhenExpr => {
    const t = next();
    if (t.kind === 'name') return { type: 'group', name: t.text };
    if (t.kind === '(') {
      const inner = parseOr();
      const close = next();
      if (close.kind !== ')') throw new WhenSyntaxError(`expected ')' but found ${describe(close)}`, close.at);
      return inner;
    }
    throw new WhenSyntaxError(`expected a group name or '(' but found ${describe(t)}`, t.at);
  };

  const expr = parseOr();
  const rest = peek();
  if (rest.kind !== 'end') throw new WhenSyntaxError(`unexpected ${describe(rest)}`, rest.at);
  return expr;
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'the end of the expression' : `'${t.text}'`;
}

/**
 * Group names in the expression, split by polarity: `positive` groups make the expression true by
 * being present (they must co-occur within `near`), `negative` ones by being absent (checked over
 * the whole text). A name under both polarities appears in both sets.
 */
export function whenGroups(expr: WhenExpr): { positive: Set<string>; negative: Set<string> } {
  const positive = new Set<string>();
  const negative = new Set<string>();
  const walk = (e: WhenExpr, negated: boolean): void => {
    switch (e.type) {
      case 'group':
        (negated ? negative : positive).add(e.name);
        return;
      case 'not':
        walk(e.item, !negated);
        return;
      default:
        for (const item of e.items) walk(item, negated);
    }
  };
  walk(expr, false);
  return { positive, negative };
}

/** Evaluates the expression; `has(name, negated)` says whether a group counts as present. */
export function evaluateWhen(expr: WhenExpr, has: (group: string, underNot: boolean) => boolean): boolean {
  const ev = (e: WhenExpr, negated: boolean): boolean => {
    switch (e.type) {
      case 'group':
        return has(e.name, negated);
      case 'not':
        return !ev(e.item, !negated);
      case 'and':
        return e.items.every((i) => ev(i, negated));
      case 'or':
        return e.items.some((i) => ev(i, negated));
    }
  };
  return ev(expr, false);
}

/** Canonical text of an expression, fully parenthesised where precedence matters. */
export function formatWhen(expr: WhenExpr): string {
  switch (expr.type) {
    case 'group':
      return expr.name;
    case 'not':
      return expr.item.type === 'group' ? `not ${expr.item.name}` : `not (${formatWhen(expr.item)})`;
    case 'and':
      return expr.items.map((i) => (i.type === 'or' ? `(${formatWhen(i)})` : formatWhen(i))).join(' and ');
    case 'or':
      return expr.items.map(formatWhen).join(' or ');
  }
}

/** A `when` expression compiled over group indices: `all` says which groups occur anywhere, `near` which occur in the window being tried. */
export type GroupPredicate = (all: Uint8Array, near: Uint8Array) => boolean;

/**
 * Compiles an expression once per rule, so scoring an item evaluates it without allocating.
 * Same meaning as evaluateWhen: a group under `not` is judged on the whole text (`all`), any other
 * on `near` (pass `all` twice to judge everything on the whole text). Unknown names are absent.
 */
export function compileWhen(expr: WhenExpr, groupIndex: ReadonlyMap<string, number>): GroupPredicate {
  const build = (e: WhenExpr, negated: boolean): GroupPredicate => {
    switch (e.type) {
      case 'group': {
        const gi = groupIndex.get(e.name);
        if (gi === undefined) return () => false;
        return negated ? (all) => all[gi] === 1 : (_all, near) => near[gi] === 1;
      }
      case 'not': {
        const inner = build(e.item, !negated);
        return (all, near) => !inner(all, near);
      }
      case 'and': {
        const items = e.items.map((i) => build(i, negated));
        return (all, near) => {
          for (const f of items) if (!f(all, near)) return false;
          return true;
        };
      }
      case 'or': {
        const items = e.items.map((i) => build(i, negated));
        return (all, near) => {
          for (const f of items) if (f(all, near)) return true;
          return false;
        };
      }
    }
  };
  return build(expr, false);
}
