/**
 * GET /openapi.json and GET /docs against a real cwm: built from the live
 * config (an edit shows up), credentials as securitySchemes, json_schema as
 * the request body, no secret anywhere, and DISABLE_OPENAPI_DOCS turns both off.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { configDirWith, type ConfigDir } from '../helpers/config-dir.js';
import { startCwm, type CwmProcess } from '../helpers/cwm-process.js';
import { waitFor } from '../helpers/ports.js';

/** Every secret configured below: none may appear in the spec or the page. */
const SECRETS = ['bearer-secret-1', 'basic-user-2', 'basic-pass-3', 'hmac-secret-4', 'header-key-5', 'query-key-6', 'oauth-client-secret-7', 'idp.internal.example', 'jwt-secret-8-long-enough-for-hs256', 'gh-secret-9', 'conn-pass-10', 'digest-pass-11', 'env-secret-12'];

const WEBHOOKS = {
  open: { module: 'log' },
  bearer: { module: 'log', authorization: 'Bearer {$CWM_SECRET_T}' },
  basic: { module: 'log', basic_auth: { username: 'basic-user-2', password: 'basic-pass-3' } },
  signed: { module: 'log', hmac: { secret: 'hmac-secret-4', header: 'X-Sig', algorithm: 'sha512' }, header_auth: { header_name: 'X-Team-Key', api_key: 'header-key-5' } },
  other_key: { module: 'log', header_auth: { header_name: 'X-Other-Key', api_key: 'header-key-5' } },
  query: { module: 'log', query_auth: { parameter_name: 'key', api_key: 'query-key-6' }, rate_limit: { max_requests: 5, window_seconds: 60 }, ip_whitelist: ['10.0.0.0/8'] },
  oauth: { module: 'log', oauth2: { introspection_endpoint: 'https://idp.internal.example/introspect', client_id: 'cid', client_secret: 'oauth-client-secret-7', required_scope: ['hooks:write'] } },
  jwt: { module: 'log', jwt: { secret: 'jwt-secret-8-long-enough-for-hs256', algorithm: 'HS256' } },
  github: { module: 'log', signature: { scheme: 'github', secret: 'gh-secret-9' } },
  digest: { module: 'log', digest_auth: { username: 'u', password: 'digest-pass-11', algorithm: 'SHA-256' } },
  orders: { module: 'log', json_schema: { type: 'object', required: ['order_id'], properties: { order_id: { type: 'integer' }, note: { type: 'string', description: '<script>alert(1)</script>' } } } },
  files: { module: 'log', data_type: 'blob' },
};

let dir: ConfigDir;
let cwm: CwmProcess;
let off: CwmProcess;

before(async () => {
  dir = configDirWith(WEBHOOKS, { cache: { type: 'redis', url: 'redis://:conn-pass-10@127.0.0.1:1' } });
  [cwm, off] = await Promise.all([
    startCwm({ CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'team', CWM_SECRET_T: 'bearer-secret-1' }),
    startCwm({ CONFIG_DIR: dir.path, ETCD_NAMESPACE: 'team', CWM_SECRET_T: 'bearer-secret-1', DISABLE_OPENAPI_DOCS: 'true' }),
  ]);
});

after(async () => {
  assert.equal(await cwm.stop(), 0);
  assert.equal(await off.stop(), 0);
  dir.remove();
});

type Spec = { openapi: string; paths: Record<string, { post: { security: Record<string, string[]>[]; requestBody: { content: Record<string, { schema: unknown }> }; responses: Record<string, unknown> } }>; components: { securitySchemes: Record<string, Record<string, unknown>> } };

async function spec(): Promise<{ text: string; doc: Spec }> {
  const res = await fetch(`${cwm.baseUrl}/openapi.json`);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, doc: JSON.parse(text) as Spec };
}

test('one POST path per configured webhook, with credentials as securitySchemes, all required together', async () => {
  const { doc } = await spec();
  assert.equal(doc.openapi, '3.1.0');
  assert.deepEqual(Object.keys(doc.paths).sort(), Object.keys(WEBHOOKS).map((id) => `/webhook/${id}`).sort());
  const s = doc.components.securitySchemes;
  assert.deepEqual(s.authorization, { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <token> (a static token)' });
  assert.equal(s.basic_auth?.scheme, 'basic');
  assert.equal(s.digest_auth?.scheme, 'digest');
  assert.equal(s.jwt?.bearerFormat, 'JWT');
  assert.deepEqual([s.hmac?.type, s.hmac?.in, s.hmac?.name], ['apiKey', 'header', 'X-Sig']);
  assert.deepEqual([s.query_auth?.in, s.query_auth?.name], ['query', 'key']);
  assert.equal(s.signature?.name, 'x-hub-signature-256');
  assert.match(String(s.oauth2?.description), /hooks:write/);
  // Two webhooks with different header names: two schemes, not one overwritten.
  assert.deepEqual([s.header_auth?.name, s.header_auth_2?.name].sort(), ['X-Other-Key', 'X-Team-Key']);
  const signedReq = doc.paths['/webhook/signed']?.post.security[0] ?? {};
  assert.deepEqual(Object.keys(signedReq).sort(), ['hmac', Object.keys(signedReq).find((k) => k.startsWith('header_auth')) ?? 'missing'].sort());
  assert.deepEqual(doc.paths['/webhook/open']?.post.security, []);
  assert.ok(doc.paths['/webhook/query']?.post.responses['429'] && doc.paths['/webhook/query']?.post.responses['403']);
  assert.equal(doc.paths['/webhook/open']?.post.responses['401'], undefined);
});

test('json_schema is the request body schema (JSON and form); blob webhooks take any bytes', async () => {
  const { doc } = await spec();
  const orders = doc.paths['/webhook/orders']?.post;
  assert.deepEqual(orders?.requestBody.content['application/json']?.schema, WEBHOOKS.orders.json_schema);
  assert.deepEqual(orders?.requestBody.content['application/x-www-form-urlencoded']?.schema, WEBHOOKS.orders.json_schema);
  assert.ok(orders?.responses['422']);
  assert.deepEqual(doc.paths['/webhook/files']?.post.requestBody.content, { '*/*': { schema: { type: 'string', format: 'binary' } } });
});

test('no secret, username, internal URL or connection appears in /openapi.json or /docs', async () => {
  const { text } = await spec();
  const page = await (await fetch(`${cwm.baseUrl}/docs`)).text();
  for (const secret of SECRETS) {
    assert.equal(text.includes(secret), false, `openapi.json holds ${secret}`);
    assert.equal(page.includes(secret), false, `docs holds ${secret}`);
  }
  assert.equal(text.includes('cache'), false, 'connections are not listed');
});

test('/docs is a self-contained HTML page: no script, escaped values, a CSP that allows nothing external', async () => {
  const res = await fetch(`${cwm.baseUrl}/docs`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; style-src 'unsafe-inline'");
  const page = await res.text();
  assert.doesNotMatch(page, /<script|https?:\/\//);
  assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  for (const id of Object.keys(WEBHOOKS)) assert.ok(page.includes(`<code>/webhook/${id}</code>`), id);
  assert.match(page, /<code>X-Team-Key<\/code>/);
});

test('the spec follows the live config: an added webhook appears, a changed one changes, a removed one goes', async () => {
  const orders = { module: 'log', json_schema: { type: 'object', required: ['order_id', 'currency'] } };
  dir.write('webhooks.json', { ...WEBHOOKS, orders, added: { module: 'log', header_auth: { header_name: 'X-New', api_key: 'env-secret-12' } }, open: undefined });
  const doc = await waitFor(async () => {
    const { doc: d } = await spec();
    return d.paths['/webhook/added'] ? d : undefined;
  }, 5000, 'added webhook in the spec');
  assert.equal(doc.paths['/webhook/open'], undefined);
  assert.deepEqual(doc.paths['/webhook/orders']?.post.requestBody.content['application/json']?.schema, orders.json_schema, 'a changed webhook is rebuilt');
  assert.ok(Object.values(doc.components.securitySchemes).some((s) => s.name === 'X-New'));
  const { text } = await spec();
  assert.equal(text.includes('env-secret-12'), false);
});

test('DISABLE_OPENAPI_DOCS=true: both routes are 404', async () => {
  for (const path of ['/openapi.json', '/docs']) {
    const res = await fetch(`${off.baseUrl}${path}`);
    assert.equal(res.status, 404, path);
    assert.deepEqual(await res.json(), { status: 'error', error: 'not found' });
  }
});
