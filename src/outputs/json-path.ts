/**
 * The small JSONPath subset CWM's Kafka `key` uses: `$.a.b`, `$.items[0].id`,
 * `$['odd key']`. Compiled once per config; evaluated per delivery.
 */
import { ConfigError } from '../errors.js';

type Segment = string | number;

const TOKEN = /^(?:\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\])/;

export function compileJsonPath(path: string): (value: unknown) => unknown {
  if (!path.startsWith('$')) throw new ConfigError('', `JSON path must start with "$": ${path}`);
  const segments: Segment[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    const m = TOKEN.exec(rest);
    if (!m) throw new ConfigError('', `unsupported JSON path ${JSON.stringify(path)} (use $.a.b, $.a[0] or $['a b'])`);
    segments.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (m[3] as string).replace(/\\(.)/g, '$1')));
    rest = rest.slice(m[0].length);
  }
  return (value) => {
    let cur: unknown = value;
    for (const s of segments) {
      if (typeof s === 'number') {
        if (!Array.isArray(cur)) return undefined;
        cur = cur[s];
      } else {
        // Own properties only: "$.constructor" must not reach Object.prototype.
        if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, s)) return undefined;
        cur = (cur as Record<string, unknown>)[s];
      }
    }
    return cur;
  };
}
