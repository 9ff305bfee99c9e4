import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MODE_PARAM, paramsOf } from '../src/checks/check.js';
import { isHarnessError } from '../src/core/errors.js';
import { firstSentence, parseProfile } from '../src/core/profile.js';
import { loadSuiteFile, type SuiteCatalogue } from '../src/core/suite-loader.js';
import { projectFile } from '../src/core/paths.js';
import { loadCatalogue, selectCases, uncovered } from '../src/harness/catalogue.js';

const catalogue: SuiteCatalogue = {
  checks: new Map([
    ['stanza/frame/ping', { params: paramsOf({ mode: MODE_PARAM }) }],
    [
      'stanza/answer',
      {
        params: paramsOf({ input: { enum: ['comment', 'doctype'] }, messages: { type: 'integer', minimum: 1 } }, [
          'input',
        ]),
      },
    ],
  ]),
  faults: new Set(['ignore-ping']),
  requirements: new Map([['PING', 'A client MUST answer a ping.']]),
};

const goodCase = {
  id: 'stanza.frame.ping',
  title: 'Answers pings',
  level: 'MUST',
  requirement: 'PING',
  tags: ['framing'],
  needs: [],
  check: 'stanza/frame/ping',
  params: {},
  faults: [{ name: 'ignore-ping', expect: 'no answer' }],
};

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'suites-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadError(content: unknown, name = 'stanza.json'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  try {
    await loadSuiteFile(path, catalogue);
  } catch (e) {
    assert.ok(isHarnessError(e), String(e));
    assert.equal(e.code, 'E_SUITE');
    return e.message;
  }
  return 'loaded';
}

const suite = (cases: unknown[]) => ({ suite: 'stanza', title: 'Stanzas', cases });

void test('a valid suite loads, with a digest and the suite stamped on each case', async () => {
  const path = join(dir, 'stanza.json');
  await writeFile(path, JSON.stringify(suite([goodCase])));
  const s = await loadSuiteFile(path, catalogue);
  assert.equal(s.cases[0]?.suite, 'stanza');
  assert.deepEqual(
    s.cases[0]?.requirement,
    { id: 'PING', quote: 'A client MUST answer a ping.' },
    "the quote is the profile's",
  );
  assert.match(s.digest, /^[0-9a-f]{64}$/);
});

void test('a bad suite file names the file, the case and the JSON path', async () => {
  const message = await loadError(suite([goodCase, { ...goodCase, id: 'stanza.frame.other', level: 'OUGHT' }]));
  assert.match(message, /stanza\.json/);
  assert.match(message, /case stanza\.frame\.other/);
  assert.match(message, /\/cases\/1\/level/);
  assert.match(message, /MUST, SHOULD, MAY/);
});

void test('a case without faults, an unknown check, fault or requirement is refused', async () => {
  assert.match(
    await loadError(suite([{ ...goodCase, faults: [] }])),
    /\/cases\/0\/faults.*must NOT have fewer than 1 items/,
  );
  assert.match(
    await loadError(suite([{ ...goodCase, check: 'stanza/nope' }])),
    /\/cases\/0\/check\): unknown check "stanza\/nope"/,
  );
  assert.match(
    await loadError(suite([{ ...goodCase, faults: [{ name: 'nope', expect: 'x' }] }])),
    /faults\/0\/name\): unknown fault "nope"/,
  );
  assert.match(await loadError(suite([{ ...goodCase, requirement: 'NOPE' }])), /"NOPE" is not a requirement/);
  assert.match(await loadError(suite([{ ...goodCase, extra: 1 }])), /unknown property "extra"/);
  assert.match(
    await loadError(suite([{ ...goodCase, params: { ...goodCase.params, mode: 'pq' } }])),
    /\/needs\): a case in mode "pq" must need "pq"/,
  );
});

void test("a case's params are checked against its check's schema when the suite loads", async () => {
  const answer = { ...goodCase, check: 'stanza/answer' };
  assert.equal(
    await loadError(suite([{ ...answer, params: { input: 'comment', messages: 1 } }])),
    'loaded',
    'the boundary value loads',
  );
  // Read as the default, an unknown value would turn a negative case into a positive one.
  assert.match(
    await loadError(suite([{ ...answer, params: { input: 'coment' } }])),
    /\/cases\/0\/params\/input\): must be equal to one of the allowed values: comment, doctype \(check stanza\/answer\)/,
  );
  assert.match(await loadError(suite([{ ...answer, params: {} }])), /\/cases\/0\/params\): missing property "input"/);
  assert.match(
    await loadError(suite([{ ...answer, params: { input: 'comment', messages: 0 } }])),
    /\/params\/messages\): must be >= 1/,
  );
  assert.match(
    await loadError(suite([{ ...answer, params: { input: 'comment', mesages: 2 } }])),
    /\/params\): unknown property "mesages"/,
  );
  assert.match(
    await loadError(suite([{ ...goodCase, params: { mode: 'post-quantum' } }])),
    /\/params\/mode\): must be equal to one of the allowed values: classic, pq/,
  );
});

void test('broken JSON, a wrong suite name and a foreign id prefix are refused', async () => {
  assert.match(await loadError('{"suite": '), /stanza\.json: not valid JSON/);
  assert.match(
    await loadError(suite([goodCase]), 'media.json'),
    /declares suite "stanza", but the file is named media\.json/,
  );
  assert.match(await loadError(suite([{ ...goodCase, id: 'media.frame.ping' }])), /id must start with "stanza\."/);
});

void test('the shipped suites load, every case has a fault, and the profile parses', async () => {
  const shipped = await loadCatalogue();
  const cases = shipped.suites.flatMap((s) => s.cases);
  assert.ok(cases.filter((c) => c.suite === 'stanza').length >= 20);
  for (const c of cases) assert.ok(c.faults.length > 0, c.id);
  const requirements = parseProfile(await readFile(projectFile('docs', 'PROFILE.md'), 'utf8'));
  const ids = requirements.map((r) => r.id);
  assert.ok(ids.includes('FRAME-OPEN') && ids.includes('IN-RESTRICTED') && ids.includes('XML-DEPTH'));
  // Every requirement names where it comes from: the overview, the lineage, or the profile's own choice.
  assert.deepEqual(
    requirements.filter((r) => r.sources.length === 0).map((r) => r.id),
    [],
  );
  // The lead line's sources and the citation's say the same.
  assert.deepEqual(
    requirements
      .filter((r) => r.sources.join() !== r.cited.join())
      .map((r) => `${r.id}: [${r.sources.join(', ')}] vs (Source: ${r.cited.join(', ')})`),
    [],
  );
  assert.ok(Array.isArray(uncovered(shipped)));
});

void test("a requirement's sources are read from its lead line, and its citation from its (Source: …), over its continuation lines", () => {
  const parsed = parseProfile(
    [
      '## 4. Messages',
      '- **MSG-ATTRS** [TECH, LINEAGE] — A message MUST carry `id`, `to` and `type`. It MAY carry `t`.',
      '  (Source: TECH, the overview; LINEAGE, Baileys `relayMessage`.)',
      '- **IN-A**, **IN-B** and **IN-C** [PROFILE] — Each kind. (Source: PROFILE.)',
      '- **NESTED** [TECH, LINEAGE] (C) — With a citation. (Source: TECH, the overview (its first part); LINEAGE, Baileys.)',
      '- **NO-SOURCE** — Nothing named.',
      '  Not a (Source) either.',
    ].join('\n'),
  );
  assert.deepEqual(
    parsed.map((r) => `${r.id} ${r.section} ${r.sources.join('+')}`),
    [
      'MSG-ATTRS 4. Messages TECH+LINEAGE',
      'IN-A 4. Messages PROFILE',
      'IN-B 4. Messages PROFILE',
      'IN-C 4. Messages PROFILE',
      'NESTED 4. Messages TECH+LINEAGE',
      'NO-SOURCE 4. Messages ',
    ],
  );
  assert.deepEqual(
    parsed.map((r) => `${r.id} ${r.cited.join('+')}`),
    ['MSG-ATTRS TECH+LINEAGE', 'IN-A PROFILE', 'IN-B PROFILE', 'IN-C PROFILE', 'NESTED TECH+LINEAGE', 'NO-SOURCE '],
  );
  // The quote a case's report carries: the first sentence, as plain text.
  assert.deepEqual(
    parsed.map((r) => r.quote),
    [
      'A message MUST carry id, to and type.',
      'Each kind.',
      'Each kind.',
      'Each kind.',
      'With a citation.',
      'Nothing named.',
    ],
  );
  assert.equal(
    firstSentence('- **X** [PROFILE] — Keys, e.g. `<key/>`, i.e. 32 bytes. More.'),
    'Keys, e.g. <key/>, i.e. 32 bytes.',
  );
  assert.equal(firstSentence('- **X** [PROFILE] — No full stop (Source: PROFILE.)'), 'No full stop');
});

void test('selection refuses unknown suites, tags and empty greps', async () => {
  const shipped = await loadCatalogue();
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return isHarnessError(e) ? e.code : 'other';
    }
    return undefined;
  };
  assert.equal(
    code(() => selectCases(shipped, { suites: ['nope'], tags: [] })),
    'E_SELECT',
  );
  assert.equal(
    code(() => selectCases(shipped, { suites: [], tags: ['nope'] })),
    'E_SELECT',
  );
  assert.equal(
    code(() => selectCases(shipped, { suites: [], tags: [], grep: 'no-such-case' })),
    'E_SELECT',
  );
  assert.equal(
    code(() => selectCases(shipped, { suites: [], tags: [], grep: '(' })),
    'E_USAGE',
  );
  assert.equal(selectCases(shipped, { suites: ['stanza'], tags: [], grep: '^stanza\\.frame\\.open$' }).length, 1);
});

void test('a tag outside the one vocabulary is refused when the suite loads, naming where', async () => {
  assert.match(await loadError(suite([{ ...goodCase, tags: ['ack'] }])), /tags\/0/);
});

void test('a requirement marks its clauses [1], [2], …: each with its text, none in the quote, and only in order', () => {
  const [push, one, http] = parseProfile(
    [
      '## 12. Push',
      '- **PUSH-ACCEPT** [TECH, PROFILE] — [1] The provider MUST answer a valid push with 200 and an',
      '  empty body. [2] A valid push for an identifier it does not know gets 404. More text.',
      '  (Source: TECH, the overview [3] of it; PROFILE, the `404`.)',
      '- **ONE** [PROFILE] — Never `x[0] & y`, nor [1]x. (Source: PROFILE.)',
      '- **HTTP** [TECH] — It MUST answer for each of [1] its document, [2] its key set and [3] its',
      '  push endpoint: over both. (Source: TECH.)',
    ].join('\n'),
  );
  assert.deepEqual(push?.clauses, [
    { index: 1, text: 'The provider MUST answer a valid push with 200 and an empty body.' },
    { index: 2, text: 'A valid push for an identifier it does not know gets 404.' },
  ]);
  assert.equal(push?.quote, 'The provider MUST answer a valid push with 200 and an empty body.');
  // A bracket in a code span or glued to a word is no marker: the requirement is one clause.
  assert.deepEqual(one?.clauses, []);
  assert.deepEqual(
    http?.clauses.map((c) => c.text),
    ['its document', 'its key set', 'its push endpoint: over both.'],
  );
  assert.equal(http?.quote, 'It MUST answer for each of its document, its key set and its push endpoint: over both.');
  assert.throws(
    () => parseProfile('- **GAP** [PROFILE] — [1] One MUST. [3] Three MUST. (Source: PROFILE.)'),
    /GAP marks clause \[3\] where \[2\] is due/,
  );
});

void test('a case of a requirement that marks clauses names the ones it judges; list --uncovered names each clause no case names', async () => {
  const clauses: SuiteCatalogue = {
    ...catalogue,
    requirements: new Map([['PING', 'A client MUST answer a ping.']]),
    clauses: new Map([['PING', 2]]),
  };
  const load = async (c: object): Promise<string> => {
    const path = join(dir, 'stanza.json');
    await writeFile(path, JSON.stringify({ suite: 'stanza', title: 'Stanza', cases: [c] }));
    try {
      const suite = await loadSuiteFile(path, clauses);
      return `loaded ${JSON.stringify(suite.cases[0]?.clauses)}`;
    } catch (e) {
      assert.ok(isHarnessError(e), String(e));
      return e.message;
    }
  };
  assert.match(
    await load(goodCase),
    /\/clauses\): PING marks clauses \[1\] to \[2\] in docs\/PROFILE\.md; name the ones/,
  );
  assert.match(
    await load({ ...goodCase, clauses: [3] }),
    /PING marks clauses \[1\] to \[2\] in docs\/PROFILE\.md, not \[3\]/,
  );
  assert.equal(await load({ ...goodCase, clauses: [2] }), 'loaded [2]');
  assert.match(
    await loadError({ suite: 'stanza', title: 'Stanza', cases: [{ ...goodCase, clauses: [1] }] }),
    /PING marks no clauses/,
  );

  const requirement = (id: string, marked: number) => ({
    id,
    section: '12. Push',
    sources: ['PROFILE' as const],
    cited: ['PROFILE' as const],
    quote: `${id} MUST.`,
    clauses: Array.from({ length: marked }, (_, i) => ({ index: i + 1, text: `clause ${i + 1}` })),
    definition: false,
  });
  const spec = (requirementId: string, named?: number[]) => ({
    ...goodCase,
    id: `stanza.${requirementId.toLowerCase()}`,
    level: 'MUST' as const,
    suite: 'stanza' as const,
    requirement: { id: requirementId, quote: '' },
    ...(named === undefined ? {} : { clauses: named }),
  });
  const missing = uncovered({
    requirements: [
      requirement('UNCITED', 0),
      requirement('WHOLE', 0),
      requirement('SPLIT', 3),
      requirement('UNCITED-SPLIT', 2),
    ],
    suites: [
      {
        name: 'stanza',
        title: 'Stanza',
        file: 'suites/stanza.json',
        digest: '',
        cases: [spec('WHOLE'), spec('SPLIT', [1]), { ...spec('SPLIT', [3]), id: 'stanza.split.three' }],
      },
    ],
  });
  assert.deepEqual(
    missing.map((m) => (m.clause === undefined ? m.id : `${m.id} [${m.clause.index}] ${m.clause.text}`)),
    ['UNCITED', 'SPLIT [2] clause 2', 'UNCITED-SPLIT'],
  );
});

void test('a requirement marked *definition* obliges the provider to nothing: no case cites it, and list --uncovered leaves it out', async () => {
  const [bound, applied, lookalike] = parseProfile(
    [
      '## 2. XML text encoding',
      '- **BOUND** [PROFILE] *definition* — An element is at most 42 bytes. (Source: PROFILE.)',
      '- **OVER-BOUND** [PROFILE] — A client MUST refuse an element over BOUND. (Source: PROFILE.)',
      '- **SAYS-DEFINITION** [PROFILE] — A *definition* in the text is no marker. (Source: PROFILE.)',
    ].join('\n'),
  );
  assert.deepEqual(
    [bound, applied, lookalike].map((r) => [r?.id, r?.definition]),
    [
      ['BOUND', true],
      ['OVER-BOUND', false],
      ['SAYS-DEFINITION', false],
    ],
  );
  assert.equal(bound?.quote, 'An element is at most 42 bytes.');
  assert.deepEqual(bound?.sources, ['PROFILE']);

  const path = join(dir, 'stanza.json');
  await writeFile(path, JSON.stringify({ suite: 'stanza', title: 'Stanza', cases: [goodCase] }));
  await assert.rejects(
    loadSuiteFile(path, { ...catalogue, definitions: new Set(['PING']) }),
    /requirement\): PING is a definition in docs\/PROFILE\.md, which obliges the provider to nothing/,
  );

  const requirements = [bound, applied, lookalike].flatMap((r) => (r ? [r] : []));
  const missing = uncovered({ requirements, suites: [] });
  assert.deepEqual(
    missing.map((m) => m.id),
    ['OVER-BOUND', 'SAYS-DEFINITION'],
  );

  // The shipped profile marks these three.
  const shipped = await loadCatalogue();
  assert.deepEqual(
    shipped.requirements.filter((r) => r.definition).map((r) => r.id),
    ['STANZA-SIZE', 'JID-USER', 'PUSH-TOKEN'],
  );
});
