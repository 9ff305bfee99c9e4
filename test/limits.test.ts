/** The caps' configuration and the private-target rule, on their own. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { DEFAULT_LIMITS, describeLimit, LIMIT_NAMES, resolveLimits } from '../src/core/limits.js';
import { projectFile } from '../src/core/paths.js';
import { privateKind } from '../src/net/private-targets.js';

void test('--limit settings override the defaults, with units', () => {
  const limits = resolveLimits(['xml-depth=16', 'http-body-bytes=2MiB', 'http-request-ms=3s', 'media-bytes=512KiB']);
  assert.equal(limits['xml-depth'], 16);
  assert.equal(limits['http-body-bytes'], 2 * 1024 * 1024);
  assert.equal(limits['http-request-ms'], 3000);
  assert.equal(limits['media-bytes'], 512 * 1024);
  assert.equal(limits['json-bytes'], DEFAULT_LIMITS['json-bytes']);
});

void test('a bad --limit is one usage line that says what is wrong', () => {
  const usage = (setting: string): string => {
    try {
      resolveLimits([setting]);
      return 'accepted';
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'E_USAGE');
      return (e as Error).message;
    }
  };
  assert.match(usage('nope=1'), /unknown cap "nope"; known: http-header-bytes, /);
  assert.match(usage('xml-depth=1'), /xml-depth=1 is out of range \(2–1000\)/);
  assert.match(usage('xml-depth=2s'), /must be xml-depth=N, a whole number/);
  assert.match(usage('http-read-ms=fast'), /must be http-read-ms=N milliseconds, or with s/);
  assert.match(usage('xml-bytes'), /must be xml-bytes=N bytes, or with KiB, MiB or GiB/);
});

void test('a message names its cap in one phrase', () => {
  assert.equal(describeLimit('xml-depth', 32), 'cap xml-depth=32');
});

void test('loopback, private, link-local and mapped addresses are private; public ones are not', () => {
  for (const [address, kind] of [
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['0.0.0.0', 'this-network'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'unique local (private)'],
    ['::ffff:127.0.0.1', 'loopback'],
    // The same addresses spelled in hex, as the URL parser writes them, and through NAT64.
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:a9fe:a9fe]', 'link-local'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['::ffff:c0a8:1', 'private'],
  ] as const) {
    assert.equal(privateKind(address), kind, address);
  }
  for (const address of [
    '8.8.8.8',
    '1.1.1.1',
    '2606:4700:4700::1111',
    '172.32.0.1',
    'example.com',
    '::ffff:808:808',
    '::ffff:8.8.8.8',
  ])
    assert.equal(privateKind(address), undefined, address);
});

void test('README lists every cap with its default', async () => {
  const readme = await readFile(projectFile('README.md'), 'utf8');
  for (const name of LIMIT_NAMES) assert.match(readme, new RegExp(`^\\| \`${name}\` \\|`, 'm'), name);
});
