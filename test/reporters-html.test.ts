import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { CaseResult } from '../src/core/model.js';
import { SCRIPT, STYLE } from '../src/reporters/html-assets.js';
import { HtmlReporter } from '../src/reporters/html.js';
import { prettyXml } from '../src/reporters/html-evidence.js';
import { defaultCases, sampleCase, sampleEvidence, sampleReport } from './helpers/sample-report.js';

const REQUIREMENTS = [
  {
    id: 'ACK-MSG',
    section: '6. Acknowledgements and receipts',
    sources: ['TECH' as const],
    cited: ['TECH' as const],
    clauses: [],
    definition: false,
    quote: 'A client MUST ack a message.',
  },
  {
    id: 'MEDIA-HASH',
    section: '9. Media',
    sources: ['TECH' as const],
    cited: ['TECH' as const],
    clauses: [],
    definition: false,
    quote: 'A hash MUST match.',
  },
  {
    id: 'NOBODY-CHECKS',
    section: '9. Media',
    sources: ['PROFILE' as const],
    cited: ['PROFILE' as const],
    clauses: [],
    definition: false,
    quote: 'Nobody checks this.',
  },
  {
    id: 'A-BOUND',
    section: '2. XML text encoding',
    sources: ['PROFILE' as const],
    cited: ['PROFILE' as const],
    clauses: [],
    definition: true,
    quote: 'A bound is 42.',
  },
];

const html = (cases: CaseResult[] = defaultCases()): string => {
  const [file] = new HtmlReporter({ requirements: REQUIREMENTS }).onEnd(sampleReport(cases));
  assert.equal(file?.name, 'report.html');
  return file.content;
};

interface Node {
  readonly [name: string]: Node[] | string | Record<string, string> | undefined;
}

/** The page as a tree of elements (fast-xml-parser's ordered form), and every element in it. */
function parse(page: string): Node[] {
  const valid = XMLValidator.validate(page.replace(/^<!DOCTYPE html>\n/, ''));
  assert.equal(valid, true, `report.html is not well-formed: ${JSON.stringify(valid)}`);
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    processEntities: true,
  });
  return parser.parse(page.replace(/^<!DOCTYPE html>\n/, '')) as Node[];
}

function elements(nodes: Node[], out: { tag: string; attrs: Record<string, string>; node: Node }[] = []): typeof out {
  for (const node of nodes) {
    const tag = Object.keys(node).find((k) => k !== ':@');
    if (tag === undefined || tag === '#text') continue;
    out.push({ tag, attrs: (node[':@'] as Record<string, string> | undefined) ?? {}, node });
    elements(node[tag] as Node[], out);
  }
  return out;
}

const textOf = (node: Node): string =>
  Object.entries(node)
    .filter(([k]) => k !== ':@')
    .map(([k, v]) => (k === '#text' ? (v as string) : (v as Node[]).map(textOf).join('')))
    .join('');

void test('report.html is one well-formed page with the verdict, counts and every case carrying its filter attributes', () => {
  const all = elements(parse(html()));
  const verdict = all.find((e) => e.attrs['id'] === 'verdict');
  assert.equal(verdict && textOf(verdict.node), 'NOT CONFORMANT: 1 failed, 1 errored (an error is never a pass)');
  const cases = all.filter((e) => e.attrs['data-case'] !== undefined);
  // The failures lead, open; the rest follow in the report's order, folded.
  const failure = (o: string | undefined): boolean => o === 'fail' || o === 'error';
  const inOrder = [
    ...defaultCases().filter((r) => failure(r.outcome)),
    ...defaultCases().filter((r) => !failure(r.outcome)),
  ];
  assert.deepEqual(
    cases.map((e) => [e.attrs['data-outcome'], e.attrs['data-suite'], e.attrs['data-level']]),
    inOrder.map((r) => [r.outcome, r.suite, r.level]),
  );
  for (const c of cases) assert.equal(c.attrs['open'] !== undefined, failure(c.attrs['data-outcome']));
  const headings = all.filter((e) => e.tag === 'h2').map((e) => e.attrs['id']);
  assert.ok(headings.indexOf('cases') < headings.indexOf('coverage'), 'the cases come before the coverage matrix');
  // Every value a filter offers is the value of the attribute it filters on.
  for (const name of ['outcome', 'suite', 'level']) {
    const select = all.find((e) => e.tag === 'select' && e.attrs['name'] === name);
    assert.ok(select, `a filter on ${name}`);
    const values = elements(select.node['select'] as Node[]).map((o) => o.attrs['value']);
    for (const c of cases)
      assert.ok(values.includes(c.attrs[`data-${name}`]), `${name} filter offers ${c.attrs[`data-${name}`]}`);
  }
  const suiteCounts = all.find((e) => e.tag === 'table' && e.attrs['data-by'] === 'suite');
  assert.ok(suiteCounts && /stanza11111/.test(textOf(suiteCounts.node).replace(/\s/g, '')));
  const failed = cases.find((e) => e.attrs['data-outcome'] === 'fail');
  const failText = failed ? textOf(failed.node) : '';
  // The step the verdict came in is marked in the evidence, where the case did not pass.
  const marked = elements(parse(html([sampleCase('fail', { step: 'connect' })]))).filter(
    (e) => e.attrs['class'] === 'verdict-step',
  );
  assert.deepEqual(
    marked.map((e) => textOf(e.node).replace(/\s/g, '')),
    ['+1msstepconnect←theverdictcameinthisstep'],
  );
  for (const part of [
    'The receiving side MUST ack every message stanza.',
    'expected an <ack/> within 2 s; saw nothing',
    'await ack',
    'POST',
    '+8 ms',
    '3 ms',
  ])
    assert.ok(failText.includes(part), `the failed case shows ${part}`);
});

void test('the page needs no network: no external source, and a policy that allows only its own style and script', () => {
  const page = html();
  assert.doesNotMatch(page, /\b(src|href)="(?!#)/, 'every link is a fragment');
  assert.doesNotMatch(page, /@import|url\(/);
  const all = elements(parse(page));
  const csp = all.find((e) => e.attrs['http-equiv'] === 'Content-Security-Policy')?.attrs['content'] ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
  assert.equal(all.filter((e) => e.tag === 'script').length, 1);
  assert.ok(
    page.includes(`<script>${SCRIPT}</script>`) && page.includes(`<style>${STYLE}</style>`),
    'exactly the hashed text',
  );
});

void test('what a provider wrote is text, never markup, wherever it lands', () => {
  const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&';
  const evil: CaseResult = sampleCase('fail', {
    message: hostile,
    expected: hostile,
    actual: hostile,
    step: hostile,
    title: hostile,
    evidence: [
      {
        kind: 'frame',
        at: 1,
        connection: hostile,
        login: hostile,
        direction: 'client-to-gatekeeper',
        binary: false,
        bytes: 9,
        text: hostile,
      },
      {
        kind: 'http',
        at: 2,
        method: hostile,
        url: hostile,
        status: 500,
        requestBody: hostile,
        responseBody: `{"x":"${'</pre><script>alert(3)</script>'}"}`,
        durationMs: 1,
      },
      { kind: 'note', at: 3, text: hostile },
      { kind: 'step', at: 4, name: hostile },
    ],
  });
  const report = sampleReport([evil]);
  const page =
    new HtmlReporter().onEnd({
      ...report,
      run: { ...report.run, provider: { ...report.run.provider, endpoint: hostile, discovery: { name: hostile } } },
    })[0]?.content ?? '';
  const all = elements(parse(page));
  assert.equal(all.filter((e) => e.tag === 'script').length, 1, "only the page's own script");
  assert.ok(!all.some((e) => e.tag === 'img'));
  assert.ok(!all.some((e) => Object.keys(e.attrs).some((a) => a.startsWith('on'))), 'no event handler attribute');
  assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(
    textOf(all.find((e) => e.attrs['data-case'] !== undefined)?.node ?? {}).includes(hostile),
    'shown as written',
  );
});

void test('the coverage matrix lists every requirement but the definitions, its cases and verdicts, and marks those without a case', () => {
  const all = elements(parse(html()));
  const rows = all.filter((e) => e.attrs['data-requirement'] !== undefined);
  assert.deepEqual(
    rows.map((e) => [e.attrs['data-requirement'], e.attrs['data-verdict'], e.attrs['class']]),
    [
      ['ACK-MSG', 'error', undefined],
      ['MEDIA-HASH', 'uncovered', 'uncovered'],
      ['NOBODY-CHECKS', 'uncovered', 'uncovered'],
    ],
  );
  const links = elements(rows[0]?.node['tr'] as Node[])
    .filter((e) => e.tag === 'a')
    .map((e) => e.attrs['href']);
  assert.equal(links.length, defaultCases().length);
  const anchors = new Set(all.filter((e) => e.attrs['data-case'] !== undefined).map((e) => `#${e.attrs['id']}`));
  for (const l of links) assert.ok(anchors.has(l ?? ''), `${l} leads to its case`);
});

void test('a requirement a case cites but the profile lacks is shown, as not in the profile', () => {
  const page = html([sampleCase('pass', { requirement: { id: 'DRIFTED', quote: 'q' } })]);
  assert.match(
    page,
    /data-requirement="DRIFTED" data-verdict="pass"><td><code>DRIFTED<\/code><\/td><td>not in the profile/,
  );
});

void test('stanzas are shown one element per line, JSON bodies indented', () => {
  assert.equal(
    prettyXml('<message to="b"><body>hi &amp; bye</body><x/></message>'),
    '<message to="b">\n  <body>hi &amp; bye</body>\n  <x/>\n</message>',
  );
  assert.equal(prettyXml('not xml'), 'not xml');
  const page = html([sampleCase('pass', { evidence: sampleEvidence() })]);
  assert.ok(page.includes('{\n  &quot;to&quot;: &quot;bob&quot;\n}') || page.includes('{\n  "to": "bob"\n}'));
});
