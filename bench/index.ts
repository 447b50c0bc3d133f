/*
`npm run bench`: the benchmarks, each printing a small table and one JSON line of results. `npm run bench -- overhead memory` runs only those named.
*/
import process from 'node:process';
import {adaptersOverhead} from './adapters-overhead.js';
import {startServers} from './harness.js';
import {deadIdentityProvider} from './dead-identity-provider.js';
import {dpopOverhead} from './dpop-overhead.js';
import {expiryBoundary} from './expiry.js';
import {fleet} from './fleet.js';
import {memory} from './memory.js';
import {observabilityOverhead} from './observability-overhead.js';
import {overhead} from './overhead.js';
import {coldStart, unauthorizedStorm} from './storms.js';

const benchmarks = {
	overhead,
	'adapters-overhead': adaptersOverhead,
	'observability-overhead': observabilityOverhead,
	'dpop-overhead': dpopOverhead,
	'cold-start-storm': coldStart,
	'401-storm': unauthorizedStorm,
	'expiry-boundary': expiryBoundary,
	memory,
	'dead-identity-provider': deadIdentityProvider,
	fleet,
} as const;

const chosen = process.argv.slice(2);
const names = (chosen.length > 0 ? chosen : Object.keys(benchmarks)) as Array<keyof typeof benchmarks>;
const servers = await startServers();
const failed: string[] = [];
try {
	for (const name of names) {
		const result = await benchmarks[name](servers);
		if (!result.pass) {
			failed.push(name);
		}
	}
} finally {
	servers.close();
}

console.log(failed.length === 0 ? '\nAll benchmarks within target.' : `\nOff target: ${failed.join(', ')}`);
