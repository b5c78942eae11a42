/**
 * /docs: the /openapi.json document as one plain HTML page — no script, no
 * CDN (Swagger UI would need both), every value HTML-escaped, served with a
 * Content-Security-Policy that allows nothing but its inline style.
 */

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'";

type Json = Readonly<Record<string, unknown>>;

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

function schemeLine(name: string, scheme: Json): string {
  const where = scheme.type === 'apiKey' ? `${String(scheme.in)} <code>${escapeHtml(String(scheme.name))}</code>` : `HTTP ${escapeHtml(String(scheme.scheme))}`;
  return `<li><code>${escapeHtml(name)}</code>: ${where} — ${escapeHtml(String(scheme.description ?? ''))}</li>`;
}

export function renderDocs(spec: Json): string {
  const schemes = obj(obj(spec.components).securitySchemes);
  const shared = obj(obj(spec.components).responses);
  const describe = (r: unknown): string => {
    const target = obj(r).$ref;
    return String(obj(typeof target === 'string' ? shared[target.slice(target.lastIndexOf('/') + 1)] : r).description ?? '');
  };
  const sections: string[] = [];
  for (const [path, item] of Object.entries(obj(spec.paths))) {
    const op = obj(obj(item).post);
    const security = Array.isArray(op.security) ? (op.security as unknown[]) : [];
    const required = Object.keys(obj(security[0]));
    const content = obj(obj(op.requestBody).content);
    const responses = Object.entries(obj(op.responses)).map(([code, r]) => `<li><code>${escapeHtml(code)}</code> ${escapeHtml(describe(r))}</li>`);
    sections.push(`<section>
<h2>POST <code>${escapeHtml(path)}</code></h2>
<p>${escapeHtml(String(op.description ?? ''))}</p>
<h3>Credentials</h3>
${required.length === 0 ? '<p>none</p>' : `<ul>${required.map((n) => schemeLine(n, obj(schemes[n]))).join('')}</ul>`}
<h3>Body</h3>
<p>${Object.keys(content).map((t) => `<code>${escapeHtml(t)}</code>`).join(', ')}</p>
<pre>${escapeHtml(JSON.stringify(obj(Object.values(content)[0]).schema ?? {}, null, 2))}</pre>
<h3>Answers</h3>
<ul>${responses.join('')}</ul>
</section>`);
  }
  const info = obj(spec.info);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(String(info.title ?? 'webhooks'))}</title>
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}pre{background:#f4f4f4;padding:.6em;overflow:auto}section{border-top:1px solid #ccc;margin-top:1.5em}</style>
</head><body>
<h1>${escapeHtml(String(info.title ?? 'webhooks'))}</h1>
<p>${escapeHtml(String(info.description ?? ''))} Machine-readable: <a href="openapi.json">openapi.json</a>. ${sections.length} webhook${sections.length === 1 ? '' : 's'}.</p>
${sections.join('\n')}
</body></html>
`;
}
