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
	examples.push({line: start + 1, code: lines.slice(start, end).join('\n')});
	index = end;
}

if (examples.length === 0) {
	console.error('readme.md has no ```ts examples to check');
	process.exit(1);
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

writeFileSync(path.join(directory, 'tsconfig.json'), JSON.stringify({
	extends: fromDirectory('tsconfig.json'),
	compilerOptions: {
		noEmit: true,
		paths: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, [fromDirectory(file)]])),
	},
	files: [fromDirectory('scripts/readme-prelude.d.ts'), ...files],
}, undefined, '\t'));

try {
	execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--project', directory], {stdio: 'inherit'});
} catch {
	console.error(`readme.md: an example above does not compile (the file name gives its line in readme.md)`);
	process.exit(1);
}

console.log(`readme.md: ${examples.length} examples compile`);
