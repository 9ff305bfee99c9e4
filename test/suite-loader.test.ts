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
