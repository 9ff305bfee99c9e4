/**
 * The page's only style and script, inline so that `report.html` is one file that works offline
 * and from an artifact store. The page's Content-Security-Policy allows exactly these two by hash
 * and nothing else: no network, no other script, so that even an escaping bug in what a provider
 * wrote could not run. The script contains no `<` or `&`, so the page also parses as XML.
 */
import { createHash } from 'node:crypto';

export const STYLE = `
:root { color-scheme: light dark; --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; --skip: #6e7781; --error: #8250df; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #8884; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #8886; padding: .2rem .5rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-weight: bold; font-size: 1.1rem; }
.verdict.conformant { color: var(--pass); }
.verdict.not-conformant { color: var(--fail); }
.verdict.interrupted { color: var(--warn); }
.o { display: inline-block; min-width: 3.5em; font-weight: bold; text-transform: uppercase; font-size: .8rem; }
.o-pass { color: var(--pass); } .o-fail { color: var(--fail); } .o-warn { color: var(--warn); }
.o-skip { color: var(--skip); } .o-error { color: var(--error); }
tr.uncovered td { background: #cf222e22; font-weight: bold; }
form#filters { position: sticky; top: 0; background: Canvas; padding: .5rem 0; border-bottom: 1px solid #8884; }
form#filters label { margin-right: 1rem; }
details.case { border: 1px solid #8885; border-radius: 4px; margin: .3rem 0; padding: .2rem .6rem; }
details.case > summary { cursor: pointer; }
details.case[data-outcome="fail"], details.case[data-outcome="error"] { border-left: 4px solid var(--fail); }
details.case[data-outcome="warn"] { border-left: 4px solid var(--warn); }
li.verdict-step { background: #cf222e18; }
details.fold > summary { cursor: pointer; color: var(--skip); }
blockquote { margin: .3rem 0; padding-left: .6rem; border-left: 3px solid #8886; }
pre { background: #8881; padding: .4rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: .2rem 0; }
ol.evidence { padding-left: 1.2rem; }
ol.evidence li { margin: .3rem 0; }
.at { color: var(--skip); font-variant-numeric: tabular-nums; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; }
dl.meta dt { font-weight: bold; }
dl.meta dd { margin: 0; }
`;

/**
 * Shows the cases whose data attributes match every chosen filter (\`failed\`: fail or error),
 * and counts them; \`#case-<id>\` opens that case, showing every case if the filters hid it.
 */
export const SCRIPT = `
(function () {
  var form = document.getElementById('filters');
  var keys = ['outcome', 'suite', 'level'];
  function matches(el, k) {
    var want = form.elements[k].value;
    var have = el.getAttribute('data-' + k);
    if (want === 'failed') return have === 'fail' || have === 'error';
    return want === '' || have === want;
  }
  function apply() {
    var shown = 0;
    document.querySelectorAll('[data-case]').forEach(function (el) {
      var ok = keys.every(function (k) { return matches(el, k); });
      el.hidden = !ok;
      if (ok) shown += 1;
    });
    document.getElementById('shown').textContent = String(shown);
  }
  function showAll() {
    keys.forEach(function (k) { form.elements[k].value = ''; });
    apply();
  }
  function openTarget() {
    var el = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    if (el === null) return;
    if (!el.hasAttribute('data-case')) return;
    if (el.hidden) showAll();
    el.open = true;
    el.scrollIntoView();
  }
  form.addEventListener('change', apply);
  document.getElementById('show-all').addEventListener('click', showAll);
  window.addEventListener('hashchange', openTarget);
  apply();
  openTarget();
})();
`;

const hash = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** Nothing may load or run but the inline style and script above. */
export const CONTENT_SECURITY_POLICY = `default-src 'none'; style-src ${hash(STYLE)}; script-src ${hash(SCRIPT)}; base-uri 'none'; form-action 'none'`;
