/** Webhooks configured alike share their bound log output and its one-element output list; different switches or several outputs do not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { LiveConnections } from '../../src/connections/live.js';
import { compileValid } from '../helpers/compile.js';

const logger = pino({ level: 'silent' });

test('log webhooks with the same switches share one output list; other switches or a chain get their own', () => {
  const ctx = { logger, connections: new LiveConnections(logger), maxBodyBytes: 1024 };
  const a = compileValid('ns', 'a', { module: 'log' }, ctx);
  const b = compileValid('other', 'b', { module: 'log', 'module-config': { include_headers: true } }, ctx);
  assert.equal(a.outputs, b.outputs, 'defaults filled in: the same switches, the same list');
  assert.equal(a.outputs.length, 1);
  assert.ok(Object.isFrozen(a.outputs));

  const pretty = compileValid('ns', 'c', { module: 'log', 'module-config': { pretty_print: true } }, ctx);
  assert.notEqual(pretty.outputs, a.outputs);
  assert.notEqual(pretty.outputs[0]?.output, a.outputs[0]?.output);

  const chain = compileValid('ns', 'd', { chain: [{ module: 'log' }, { module: 'log', 'module-config': { pretty_print: true } }] }, ctx);
  assert.equal(chain.outputs.length, 2);
  assert.equal(chain.outputs[0], a.outputs[0], 'the record of a shared output is shared inside a chain too');
  assert.equal(chain.outputs[1], pretty.outputs[0]);
  assert.notEqual(chain.outputs, a.outputs);
});
