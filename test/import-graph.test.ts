/**
 * The import graph of src/, read from the TypeScript sources (type-only imports, re-exports and
 * lazy import() count as much as any import): it has no cycle, and it keeps the layering of
 * docs/ARCHITECTURE.md §3. Each failure names the offending imports, file to file.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { posix, sep } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { projectFile } from '../src/core/paths.js';

interface Edge {
  readonly from: string;
  readonly to: string;
}

/** The folder under src/checks/ of the fixtures several suites share. */
const SHARED_FIXTURES = 'scenarios';

/** What src/reference-provider/ may import of ours: it stands on the protocol alone, as a provider's code would. */
const REFERENCE_PROVIDER_MAY_IMPORT = ['src/reference-provider/', 'src/protocol/', 'src/gen/'];

/** What src/protocol/ may import of ours: it is below everything, apart from the generated protobuf code. */
const PROTOCOL_MAY_IMPORT = ['src/protocol/', 'src/gen/'];

/** Every module a source names: imports (`import type` too), re-exports, `import()` calls and types, `import x = require()`. */
function specifiersOf(text: string): string[] {
  const source = ts.createSourceFile('module.ts', text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      found.push(node.moduleReference.expression.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The file a relative specifier names, as a project path (`src/…`); `.js` stands for the `.ts` source. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  const base = posix.join(posix.dirname(from), specifier);
  const candidates = base.endsWith('.js')
    ? [`${base.slice(0, -3)}.ts`, base]
    : [base, `${base}.ts`, `${base}/index.ts`];
  return candidates.find((c) => existsSync(projectFile(c)));
}

interface Graph {
  readonly files: readonly string[];
  /** Each file's imports of ours, sorted. */
  readonly imports: ReadonlyMap<string, readonly string[]>;
  readonly unresolved: readonly string[];
}

function readGraph(): Graph {
  const files = readdirSync(projectFile('src'), { recursive: true, encoding: 'utf8' })
    .map((f) => `src/${f.split(sep).join('/')}`)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();
  const imports = new Map<string, readonly string[]>();
  const unresolved: string[] = [];
  for (const file of files) {
    const targets = new Set<string>();
    for (const specifier of specifiersOf(readFileSync(projectFile(file), 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const target = resolveSpecifier(file, specifier);
      if (target === undefined) unresolved.push(`${file}: '${specifier}'`);
      else targets.add(target);
    }
    imports.set(file, [...targets].sort());
  }
  return { files, imports, unresolved };
}

const graph = readGraph();
const edges: readonly Edge[] = [...graph.imports].flatMap(([from, targets]) => targets.map((to) => ({ from, to })));
const arrow = (e: Edge): string => `${e.from} → ${e.to}`;
const listed = (lines: readonly string[]): string => lines.map((l) => `  ${l}`).join('\n');
const within = (file: string, folders: readonly string[]): boolean => folders.some((f) => file.startsWith(f));

/** The strongly connected components of more than one file (or of one that imports itself): Tarjan's. */
function tangles(imports: ReadonlyMap<string, readonly string[]>): string[][] {
  const seen = new Map<string, { readonly index: number; low: number }>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    const mark = { index: seen.size, low: seen.size };
    seen.set(v, mark);
    stack.push(v);
    onStack.add(v);
    for (const w of imports.get(v) ?? []) {
      if (!imports.has(w)) continue;
      const known = seen.get(w);
      if (known === undefined) {
        visit(w);
        mark.low = Math.min(mark.low, seen.get(w)?.low ?? mark.low);
      } else if (onStack.has(w)) {
        mark.low = Math.min(mark.low, known.index);
      }
    }
    if (mark.low !== mark.index) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
      onStack.delete(w);
      component.push(w);
    }
    if (component.length > 1 || (imports.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of imports.keys()) if (!seen.has(v)) visit(v);
  return found;
}

/** One shortest cycle through the first file of `component`: `a → b → a`. */
function cycleIn(component: readonly string[], imports: ReadonlyMap<string, readonly string[]>): string {
  const [start] = component;
  if (start === undefined) return '';
  const inside = new Set(component);
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let v = queue.shift(); v !== undefined; v = queue.shift()) {
    for (const w of imports.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = cameFrom.get(u)) path.unshift(u);
        return [start, ...path].join(' → ');
      }
      if (!cameFrom.has(w)) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return component.join(', ');
}

void test('the graph counts every form of import, and each import of ours names a file', () => {
  const source = [
    "import type { A } from './a.js';",
    "import b, { type B } from './b.js';",
    "import './c.js';",
    "export { d } from './d.js';",
    "export type * from './e.js';",
    "export * as f from './f.js';",
    "const g = () => import('./g.js');",
    "type H = import('./h.js').H;",
    "import i = require('./i.js');",
    "import { readFileSync } from 'node:fs';",
  ].join('\n');
  assert.deepEqual(specifiersOf(source), [
    './a.js',
    './b.js',
    './c.js',
    './d.js',
    './e.js',
    './f.js',
    './g.js',
    './h.js',
    './i.js',
    'node:fs',
  ]);
  assert.ok(graph.files.length > 100, `only ${graph.files.length} files under src/`);
  assert.deepEqual(graph.unresolved, [], `imports that name no file:\n${listed(graph.unresolved)}`);
});

void test('src/ has no import cycle, type-only imports included', () => {
  const cycles = tangles(graph.imports).map((component) => cycleIn(component, graph.imports));
  assert.deepEqual(cycles, [], `import cycles (a type-only import is an import too):\n${listed(cycles)}`);
});

void test('src/protocol/ imports nothing of ours outside itself but the generated src/gen/', () => {
  const outside = edges
    .filter((e) => e.from.startsWith('src/protocol/') && !within(e.to, PROTOCOL_MAY_IMPORT))
    .map(arrow);
  assert.deepEqual(outside, [], `src/protocol/ is below everything, yet:\n${listed(outside)}`);
});

void test('src/reference-provider/ imports of ours only src/protocol/ and src/gen/', () => {
  const outside = edges
    .filter((e) => e.from.startsWith('src/reference-provider/') && !within(e.to, REFERENCE_PROVIDER_MAY_IMPORT))
    .map(arrow);
  assert.deepEqual(
    outside,
    [],
    `the reference provider may import only ${REFERENCE_PROVIDER_MAY_IMPORT.join(', ')}, yet:\n${listed(outside)}`,
  );
});

void test("the gatekeeper's interface modules declare types only and import none of its implementation", () => {
  const isInterface = (f: string): boolean =>
    f === 'src/gatekeeper/types.ts' || /^src\/gatekeeper\/[^/]+-types\.ts$/.test(f);
  const modules = graph.files.filter(isInterface);
  assert.ok(modules.length > 1, `no interface modules found in src/gatekeeper/: ${modules.join(', ')}`);
  const reaching = edges
    .filter((e) => isInterface(e.from) && e.to.startsWith('src/gatekeeper/') && !isInterface(e.to))
    .map(arrow);
  assert.deepEqual(reaching, [], `the gatekeeper's interface imports its implementation:\n${listed(reaching)}`);
  const typesOnly = (s: ts.Statement): boolean =>
    ts.isInterfaceDeclaration(s) ||
    ts.isTypeAliasDeclaration(s) ||
    (ts.isImportDeclaration(s) && s.importClause?.isTypeOnly === true) ||
    (ts.isExportDeclaration(s) && s.isTypeOnly);
  const code = modules.flatMap((file) => {
    const source = ts.createSourceFile(
      file,
      readFileSync(projectFile(file), 'utf8'),
      ts.ScriptTarget.Latest,
      true,
      ts.ScriptKind.TS,
    );
    return source.statements
      .filter((s) => !typesOnly(s))
      .map(
        (s) => `${file}:${source.getLineAndCharacterOfPosition(s.getStart()).line + 1}: ${s.getText().split('\n')[0]}`,
      );
  });
  assert.deepEqual(code, [], `the gatekeeper's interface modules hold more than types:\n${listed(code)}`);
});

void test("the checks reach the gatekeeper only through its interface modules, so a check cannot share its code's bugs", () => {
  const isInterface = (f: string): boolean =>
    f === 'src/gatekeeper/types.ts' || /^src\/gatekeeper\/[^/]+-types\.ts$/.test(f);
  const reaching = edges
    .filter((e) => e.from.startsWith('src/checks/') && e.to.startsWith('src/gatekeeper/') && !isInterface(e.to))
    .map(arrow);
  assert.deepEqual(reaching, [], `a check imports the gatekeeper's implementation:\n${listed(reaching)}`);
});

/** Imports from one suite's folder under src/checks/ into another's, as `suite/file.ts → other/file.ts`. */
function crossSuiteImports(): string[] {
  const folderOf = (file: string): string | undefined => /^src\/checks\/([^/]+)\/./.exec(file)?.[1];
  // scenarios/ is the fixtures every suite may share; it imports no suite, as a suite imports no other.
  return edges
    .filter((e) => {
      const from = folderOf(e.from);
      const to = folderOf(e.to);
      return from !== undefined && to !== undefined && to !== SHARED_FIXTURES && from !== to;
    })
    .map((e) => `${e.from.slice('src/checks/'.length)} → ${e.to.slice('src/checks/'.length)}`);
}

void test("no suite's checks import another suite's folder, and the shared fixtures import no suite", () => {
  assert.deepEqual(
    crossSuiteImports(),
    [],
    `imports across suite folders under src/checks/; put what both need in src/checks/${SHARED_FIXTURES}/:\n${listed(crossSuiteImports())}`,
  );
});
