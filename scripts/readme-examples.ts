/*
`npm run typecheck` compiles every ```ts block of readme.md under the project's strict settings, against the source as users import it (`got-oauth`, `got-oauth/ky`, …), so an example that no longer compiles fails CI. Names an example uses without defining (`clientSecret`, `privateKeyPem`) are declared in scripts/readme-prelude.d.ts.
*/
import {execFileSync} from 'node:child_process';
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const directory = path.join(root, 'node_modules', '.cache', 'readme-examples');
const fromDirectory = (file: string): string => path.relative(directory, path.join(root, file)).replaceAll('\\', '/');

const lines = readFileSync(path.join(root, 'readme.md'), 'utf8').split('\n');
const examples: Array<{line: number; code: string}> = [];
for (let index = 0; index < lines.length; index++) {
	if (lines[index] !== '```ts') {
		continue;
	}

	const start = index + 1;
	const end = lines.indexOf('```', start);
	if (end === -1) {
		throw new Error(`readme.md: the \`\`\`ts block at line ${start} is never closed`);
	}

	examples.push({line: start + 1, code: lines.slice(start, end).join('\n')});
	index = end;
}

if (examples.length === 0) {
	throw new Error('readme.md has no ```ts examples to check');
}

rmSync(directory, {recursive: true, force: true});
mkdirSync(directory, {recursive: true});
const files = examples.map(({line, code}) => {
	const file = `readme-line-${line}.ts`;
	// `export {}` makes each example a module of its own, as a user's file would be.
	writeFileSync(path.join(directory, file), `${code}\n\nexport {};\n`);
	return file;
});

const entries = {
	'got-oauth': 'source/index.ts',
	'got-oauth/ky': 'source/ky/index.ts',
	'got-oauth/fetch': 'source/fetch/index.ts',
	'got-oauth/opentelemetry': 'source/opentelemetry/index.ts',
};

const paths: Record<string, string[]> = {};
for (const [name, file] of Object.entries(entries)) {
	paths[name] = [fromDirectory(file)];
}

writeFileSync(path.join(directory, 'tsconfig.json'), JSON.stringify({
	extends: fromDirectory('tsconfig.json'),
	compilerOptions: {noEmit: true, paths},
	// The examples and what they import, not the project's own `include`.
	include: [],
	files: [fromDirectory('scripts/readme-prelude.d.ts'), ...files],
}, undefined, '\t'));

try {
	execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--project', directory], {stdio: 'inherit'});
	console.log(`readme.md: ${examples.length} examples compile`);
} catch {
	process.exitCode = 1;
	console.error('readme.md: an example above does not compile (the file name gives its line in readme.md)');
}
