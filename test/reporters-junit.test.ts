import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { validateXML } from 'xmllint-wasm';
import { projectFile } from '../src/core/paths.js';
import type { RunReport } from '../src/core/model.js';
import { JunitReporter, SYSTEM_OUT_LIMIT } from '../src/reporters/junit.js';
import { defaultCases, sampleCase, sampleReport } from './helpers/sample-report.js';

type Attrs = Record<string, string>;
/** A `<testcase>`: its attributes, and its `<failure>`, `<error>` or `<skipped>` (attributes, text under `#text`). */
interface TestCase {
  name?: string;
  classname?: string;
  time?: string;
  failure?: Attrs;
  error?: Attrs;
  skipped?: Attrs;
  'system-out': string;
}
interface Parsed {
  testsuites: Attrs & { testsuite: (Attrs & { testcase: TestCase[] })[] };
}

const XSD = readFileSync(projectFile('fixtures', 'junit', 'junit-10.xsd'), 'utf8');

/** junit.xml as Jenkins' xUnit plugin reads it: valid against its junit-10.xsd (libxml2's validator). */
async function assertJenkinsValid(xml: string): Promise<void> {
  const result = await validateXML({
    xml: [{ fileName: 'junit.xml', contents: xml }],
    schema: [{ fileName: 'junit-10.xsd', contents: XSD }],
  });
  assert.deepEqual(
    result.errors.map((e) => e.rawMessage),
    [],
    'junit.xml is valid against junit-10.xsd',
  );
  assert.equal(result.valid, true);
}

async function junit(report: RunReport): Promise<{ xml: string; doc: Parsed }> {
  const [file] = new JunitReporter().onEnd(report);
  assert.equal(file?.name, 'junit.xml');
  const valid = XMLValidator.validate(file.content);
  assert.equal(valid, true, JSON.stringify(valid));
  await assertJenkinsValid(file.content);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    // Attributes carry tab and newline as the standard `&#9;` `&#10;`; fast-xml-parser decodes
    // numeric references only under this (deprecated) option, as Jenkins' and GitLab's parsers always do.
    htmlEntities: true,
    isArray: (name) => name === 'testsuite' || name === 'testcase',
  });
  return { xml: file.content, doc: parser.parse(file.content) as Parsed };
}

void test("junit.xml is valid against Jenkins' junit-10.xsd and counts a warn as a pass, an error as an error", async () => {
  const { xml, doc } = await junit(sampleReport());
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
  const root = doc.testsuites;
  assert.deepEqual(
    [root.name, root.tests, root.failures, root.errors, root.time],
    ['interop-conformance', '6', '1', '1', '2.500'],
  );
  // The schema has skipped and timestamp on each <testsuite> only.
  assert.deepEqual([root.skipped, root.timestamp], [undefined, undefined]);

  const [stanza, media] = root.testsuite;
  assert.deepEqual(
    [stanza?.name, stanza?.tests, stanza?.failures, stanza?.errors, stanza?.skipped],
    ['stanza', '5', '1', '1', '1'],
  );
  assert.deepEqual(
    [media?.name, media?.tests, media?.failures, media?.errors, media?.skipped],
    ['media', '1', '0', '0', '0'],
  );

  const byId = new Map(stanza?.testcase.map((c) => [c.name?.split(':')[0], c]));
  const fail = byId.get('stanza.sample.fail');
  assert.equal(fail?.classname, 'stanza');
  assert.equal(fail?.name, 'stanza.sample.fail: A fail case');
  assert.equal(fail?.time, '0.042');
  assert.equal(fail?.failure?.type, 'MUST');
  assert.equal(fail?.failure?.message, 'expected an <ack/> within 2 s; saw nothing');
  assert.match(
    fail?.failure?.['#text'] ?? '',
    /expected: an <ack\/> within 2 s\nactual: nothing\nrequirement: ACK-MSG \(MUST\)/,
  );

  const warn = byId.get('stanza.sample.warn');
  assert.equal(warn?.failure, undefined);
  assert.equal(warn?.error, undefined);
  assert.match(warn?.['system-out'] ?? '', /SHOULD not met \(not a failure\): expected a receipt; saw none/);

  assert.equal(byId.get('stanza.sample.error')?.error?.type, 'no-verdict');
  assert.equal(byId.get('stanza.sample.skip')?.skipped?.message, 'capability "media" not declared');
  assert.equal(byId.get('stanza.sample.pass')?.failure, undefined);
  // Evidence only where something went wrong: a pass points to the other reports.
  const passed = byId.get('stanza.sample.pass')?.['system-out'] ?? '';
  assert.match(passed, /evidence: 6 entries, in report.html and report.json$/);
  assert.doesNotMatch(passed, /frame ->/);

  const out = byId.get('stanza.sample.fail')?.['system-out'] ?? '';
  assert.match(out, /^requirement: ACK-MSG \(MUST\): The receiving side MUST ack/);
  assert.match(out, /evidence: 6 entries/);
  assert.match(out, /\+5ms frame -> c1 alice 27 B: <message to="bob">hi<\/message>/);
  assert.match(out, /\+8ms http POST http:\/\/127.0.0.1:4000\/driver\/send -> 200 \(3 ms\)/);
  assert.match(out, /http GET \S+ -> failed: ECONNRESET/);
});

void test('nasty strings are escaped in attributes and text; characters XML 1.0 forbids are replaced', async () => {
  const nasty = `<&"'\u0001]]>\u0000\uD800 x\ty\nz`;
  const report = sampleReport([
    sampleCase('fail', {
      title: nasty,
      message: nasty,
      expected: nasty,
      actual: nasty,
      requirement: { id: 'R', quote: nasty },
    }),
    sampleCase('skip', { id: 'stanza.sample.skip2', message: nasty }),
  ]);
  const { xml, doc } = await junit(report);
  assert.doesNotMatch(xml, /[\u0000\u0001]/);
  const [fail, skip] = doc.testsuites.testsuite[0]?.testcase ?? [];
  const expected = `<&"'\uFFFD]]>\uFFFD\uFFFD x\ty\nz`;
  assert.equal(fail?.name, `stanza.sample.fail: ${expected}`);
  assert.equal(fail?.failure?.message, expected);
  assert.equal(skip?.skipped?.message, expected);
  assert.ok(fail?.failure?.['#text']?.includes(`expected: ${expected}`));
});

void test('<system-out> is bounded per case', async () => {
  const evidence = Array.from({ length: 500 }, (_, i) => ({
    kind: 'note' as const,
    at: i,
    text: `é${'x'.repeat(300)}`,
  }));
  const { doc } = await junit(sampleReport([sampleCase('fail', { evidence }), ...defaultCases().slice(0, 1)]));
  const out = doc.testsuites.testsuite[0]?.testcase[0]?.['system-out'] ?? '';
  assert.ok(Buffer.byteLength(out) <= SYSTEM_OUT_LIMIT, `${Buffer.byteLength(out)} bytes`);
  assert.ok(Buffer.byteLength(out) > SYSTEM_OUT_LIMIT - 1024);
  assert.match(out, /\[truncated: \d+ bytes in all; report.json has the full evidence\]$/);
  assert.doesNotMatch(out, /\uFFFD/, 'cut on a character boundary');
});
