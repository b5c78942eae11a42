/**
 * CWM's own configs (test/data/cwm-corpus, from CWM's examples, docs and
 * tests) through the receiver's judge: the accepted count may only go up.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatFigures, judgeCorpus, share } from '../../scripts/corpus.js';

const floor = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'test', 'data', 'cwm-corpus', 'floor.json'), 'utf8')) as { webhooks: number; connections: number };

test('CWM corpus: the accepted share of webhooks does not fall', (t) => {
  const figures = judgeCorpus('webhook');
  for (const line of formatFigures('webhooks', figures).split('\n')) t.diagnostic(line);
  assert.ok(figures.total + figures.outOfScope >= 250, 'the corpus is all there');
  assert.ok(figures.accepted >= floor.webhooks, `accepted ${figures.accepted} < floor ${floor.webhooks} (${(100 * share(figures)).toFixed(1)}%)`);
});

test('CWM corpus: the accepted share of connections does not fall', (t) => {
  const figures = judgeCorpus('connection');
  for (const line of formatFigures('connections', figures).split('\n')) t.diagnostic(line);
  assert.ok(figures.total + figures.outOfScope >= 60, 'the corpus is all there');
  assert.ok(figures.accepted >= floor.connections, `accepted ${figures.accepted} < floor ${floor.connections} (${(100 * share(figures)).toFixed(1)}%)`);
});
