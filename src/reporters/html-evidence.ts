/**
 * One case in `report.html`: its requirement, verdict and evidence. Stanzas are indented one
 * element per line, JSON bodies pretty-printed, each entry stamped with its time from the case's
 * start. Every string here may come from a provider, so every one goes through `text` or `attr`.
 */
import type { CaseResult, EvidenceEntry } from '../core/model.js';
import { caseName } from '../core/model.js';
import type { ChatTransport } from '../protocol/transport.js';
import { attr, bound, text } from './junit.js';

/** One evidence entry's text in the page; report.json keeps all of it. */
const ENTRY_LIMIT = 64 * 1024;

export function caseSection(r: CaseResult, transports: readonly ChatTransport[]): string {
  const failed = r.outcome === 'fail' || r.outcome === 'error';
  const out: string[] = [];
  out.push(
    `<details class="case" data-case="" id="${attr(caseAnchor(r, transports))}" data-outcome="${attr(r.outcome)}" data-suite="${attr(r.suite)}" data-level="${attr(r.level)}" data-transport="${attr(r.transport)}"${failed ? ' open="open"' : ''}>`,
    `<summary><span class="o o-${attr(r.outcome)}">${text(r.outcome)}</span> <code>${text(caseName(r, transports))}</code> ${text(r.title)} <span class="at">(${text(r.level)}, ${ms(r.durationMs)})</span></summary>`,
    `<p><b>${text(r.requirement.id)}</b> (${text(r.level)}):</p>`,
    `<blockquote>${text(r.requirement.quote)}</blockquote>`,
    `<p class="message">${text(r.message)}</p>`,
  );
  const facts: [string, string | undefined][] = [
    ['expected', r.expected],
    ['actual', r.actual],
    ['step', r.step],
    ['started', r.startedAt],
    ['tags', r.tags.join(', ') || undefined],
    ['baseline', baselineFact(r)],
  ];
  out.push('<dl class="meta">');
  for (const [name, value] of facts) if (value !== undefined) out.push(`<dt>${name}</dt><dd>${text(value)}</dd>`);
  out.push('</dl>');
  if (r.evidence.length > 0) {
    // The step the verdict came in, its last entry of that name, is marked where it did not pass.
    const verdictStep =
      r.outcome === 'pass' || r.step === undefined
        ? -1
        : r.evidence.findLastIndex((e) => e.kind === 'step' && e.name === r.step);
    out.push(`<ol class="evidence">`);
    r.evidence.forEach((e, i) => {
      const mark = i === verdictStep ? ' class="verdict-step"' : '';
      const note = i === verdictStep ? ' <b>← the verdict came in this step</b>' : '';
      out.push(`<li${mark}><span class="at">+${Math.round(e.at)} ms</span> ${entry(e)}${note}</li>`);
    });
    out.push('</ol>');
  } else {
    out.push('<p>No evidence recorded.</p>');
  }
  out.push('</details>');
  return out.join('\n');
}

/** The case against the run's baseline: its standing, and its entry when it has one. */
function baselineFact(r: CaseResult): string | undefined {
  const b = r.baseline;
  if (b === undefined) return undefined;
  const e = b.entry;
  return e === undefined
    ? b.status
    : `${b.status}; expected ${e.expected}, owner ${e.owner}, until ${e.expires}${e.expired ? ' (EXPIRED)' : ''}: ${e.reason}`;
}

/**
 * A fragment id for a case: `case-<id>` (case ids are dotted words, but nothing here relies on
 * it). Over several transports `case-<id>` is the first lane's, and `--<transport>` follows the
 * id in the others', where an id names a case once per transport.
 */
export const caseAnchor = (r: CaseResult, transports: readonly ChatTransport[]): string =>
  `case-${r.id.replace(/[^A-Za-z0-9._-]/g, '_')}${r.transport !== (transports[0] ?? r.transport) ? `--${r.transport}` : ''}`;

function entry(e: EvidenceEntry): string {
  switch (e.kind) {
    case 'frame': {
      const arrow = e.direction === 'client-to-gatekeeper' ? 'client → gatekeeper' : 'gatekeeper → client';
      const who = e.login === undefined ? e.connection : `${e.connection} (${e.login})`;
      const what = `${e.binary ? 'binary, ' : ''}${e.bytes} B${e.truncated ? ', truncated' : ''}`;
      const body = e.binary ? e.text : prettyXml(e.text);
      return `frame ${text(arrow)} on ${text(who)}, ${text(what)}${body.length > FOLD_CHARS ? folded('the frame', body) : pre(body)}`;
    }
    case 'http': {
      const result = e.error !== undefined ? `failed: ${e.error}` : String(e.status ?? '?');
      const parts = [
        `HTTP <b>${text(e.method)}</b> <code>${text(e.url)}</code> → ${text(result)} (${ms(e.durationMs)})`,
      ];
      if (e.requestBody !== undefined) parts.push(folded('request body', prettyBody(e.requestBody)));
      if (e.responseBody !== undefined) parts.push(folded('response body', prettyBody(e.responseBody)));
      return parts.join('\n');
    }
    case 'step':
      return `step <b>${text(e.name)}</b>`;
    case 'note':
      return `note: ${text(e.text)}`;
  }
}

const pre = (body: string): string => `<pre>${text(bound(body, ENTRY_LIMIT))}</pre>`;

/** Longer than this, a body or frame is folded: key uploads and bundles are pages of base64. */
const FOLD_CHARS = 600;

/** A labelled body, shown as it is when short, folded under its label and size when long. */
function folded(label: string, body: string): string {
  if (body.length <= FOLD_CHARS) return `<div>${text(label)}</div>${pre(body)}`;
  return `<details class="fold"><summary>${text(label)} (${body.length} characters)</summary>${pre(body)}</details>`;
}

const ms = (n: number): string => `${Math.round(n)} ms`;

/** JSON indented; anything else as it came. */
export function prettyBody(body: string): string {
  const trimmed = body.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return body;
  try {
    return JSON.stringify(JSON.parse(trimmed), null, 2);
  } catch {
    return body;
  }
}

/**
 * One element per line, indented by depth. Only the layout changes: tags and text are kept as
 * sent, so a malformed stanza is shown as malformed. Text between tags stays on its tag's line.
 */
export function prettyXml(xml: string): string {
  const tokens = xml.match(/<[^>]*>|[^<]+/g);
  if (tokens === null) return xml;
  const lines: string[] = [];
  let depth = 0;
  let open = false; // the last line is an open tag that text or its close tag may join
  for (const token of tokens) {
    if (!token.startsWith('<')) {
      if (token.trim() === '') continue;
      if (open) lines[lines.length - 1] += token;
      else lines.push(`${'  '.repeat(depth)}${token}`);
      continue;
    }
    if (token.startsWith('</')) {
      depth = Math.max(0, depth - 1);
      if (open) lines[lines.length - 1] += token;
      else lines.push(`${'  '.repeat(depth)}${token}`);
      open = false;
      continue;
    }
    lines.push(`${'  '.repeat(depth)}${token}`);
    const selfContained = token.endsWith('/>') || token.startsWith('<?') || token.startsWith('<!');
    open = !selfContained;
    if (!selfContained) depth++;
  }
  return lines.join('\n');
}
