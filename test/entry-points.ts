/*
The entry points and what each loads at run time, read from the JavaScript TypeScript emits for each module: the got entry pulls in neither ky nor the adapters, and no entry imports ky itself (the ky adapter only names its types).
*/
import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '..');

type PackageJson = {
	exports: Record<string, {types: string; default: string}>;
	peerDependencies: Record<string, string>;
	peerDependenciesMeta: Record<string, {optional?: boolean}>;
	dependencies: Record<string, string>;
};

const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson;

/** The specifiers a module imports at run time, as emitted. */
function runtimeImports(file: string): string[] {
	const {outputText} = ts.transpileModule(readFileSync(file, 'utf8'), {compilerOptions: {module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2024}, fileName: file});
	return Array.from(outputText.matchAll(/^(?:import|export)\s(?:[^;]*?\sfrom\s)?\s*["'](?<specifier>[^"']+)["']/gmv), match => match.groups!.specifier!);
}

/** Every source module an entry loads, and every package it imports. */
function loadedBy(entry: string): {modules: Set<string>; packages: Set<string>} {
	const modules = new Set<string>();
	const packages = new Set<string>();
	const visit = (file: string) => {
		if (modules.has(file)) {
			return;
		}

		modules.add(file);
		for (const specifier of runtimeImports(file)) {
			if (specifier.startsWith('.')) {
				visit(path.resolve(path.dirname(file), specifier.replace(/\.js$/v, '.ts')));
			} else {
				packages.add(specifier.startsWith('node:') ? 'node:' : specifier.split('/', 1)[0]!);
			}
		}
	};

	visit(path.join(root, 'source', entry));
	return {modules, packages};
}

const relative = (modules: Set<string>) => [...modules].map(file => path.relative(path.join(root, 'source'), file));

test('the got entry loads neither ky nor anything of the ky and fetch adapters', t => {
	const {modules, packages} = loadedBy('index.ts');

	t.false(packages.has('ky'));
	t.deepEqual(relative(modules).filter(file => file.startsWith('ky/') || file.startsWith('fetch/')), []);
	// The walk itself works: it reaches the got hooks and got.
	t.true(relative(modules).includes('got/hooks.ts'));
	t.true(packages.has('got'));
});

/** The got hooks themselves; got's plumbing for keeping credentials out of its options (got-request/) serves the token endpoint too. */
const gotHooks = new Set(['got/hooks.ts', 'got/attach-token.ts', 'got/retry-on-401.ts', 'got/request-state.ts']);

test('the ky entry does not import ky at run time, and neither entry loads the got hooks', t => {
	for (const entry of ['ky/index.ts', 'fetch/index.ts']) {
		const {modules, packages} = loadedBy(entry);

		t.false(packages.has('ky'), `${entry} imports ky`);
		t.deepEqual(relative(modules).filter(file => gotHooks.has(file)), [], `${entry} loads the got hooks`);
		// got is still loaded: the token endpoint's client.
		t.true(packages.has('got'), `${entry} does not import got`);
	}

	t.true(relative(loadedBy('ky/index.ts').modules).includes('fetch/send-with-token.ts'));
});

test('package.json exports the four entries, each with its types, built from a source module', t => {
	t.deepEqual(Object.keys(packageJson.exports), ['.', './ky', './fetch', './opentelemetry']);
	for (const [subpath, target] of Object.entries(packageJson.exports)) {
		const entry = subpath === '.' ? 'index' : `${subpath.slice(2)}/index`;
		t.is(target.default, `./distribution/${entry}.js`);
		t.is(target.types, `./distribution/${entry}.d.ts`);
		t.true(existsSync(path.join(root, 'source', `${entry}.ts`)), `no source/${entry}.ts`);
	}
});

test('ky is an optional peer dependency, never a dependency', t => {
	t.is(packageJson.peerDependencies.ky, '^2.0.0');
	t.true(packageJson.peerDependenciesMeta.ky?.optional);
	t.false(Object.hasOwn(packageJson.dependencies, 'ky'));
});
