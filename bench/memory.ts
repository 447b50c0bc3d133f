import process from 'node:process';
import got from 'got';
import {oauthHooks} from '../source/index.js';
import {printResult, printTable, round, runConcurrently, type Servers} from './harness.js';

const early = 10_000;
const total = 200_000;
const concurrency = 32;
const mebibyte = 1024 * 1024;

function settledHeap(): number {
	const collect = (globalThis as {gc?: () => void}).gc;
	if (!collect) {
		throw new Error('Run the memory benchmark with node --expose-gc (npm run bench does)');
	}

	for (let pass = 0; pass < 4; pass++) {
		collect();
	}

	return process.memoryUsage().heapUsed;
}

/**
Heap after 200,000 requests against heap after 10,000, with 4 s tokens so the refresh, single-flight and timer paths all run many times over.
*/
export async function memory(servers: Servers) {
	await servers.configure({tokenDelay: 0, expiresIn: 4, acceptAnyToken: true});
	const client = got.extend({prefixUrl: servers.apiUrl, retry: {limit: 0}}, oauthHooks({tokenEndpoint: servers.tokenEndpoint, clientId: 'bench', clientSecret: 'bench-secret'}));
	const {tokenRequests: tokensBefore} = await servers.stats();

	await runConcurrently(early, concurrency, async () => client('resource'));
	const earlyHeap = settledHeap();
	await runConcurrently(total - early, concurrency, async () => client('resource'));
	const lateHeap = settledHeap();
	const {tokenRequests: tokensAfter} = await servers.stats();

	const growth = lateHeap - earlyHeap;
	printTable(`Memory: heap after garbage collection, ${concurrency} in flight, 4 s tokens (${tokensAfter - tokensBefore} token requests)`, ['after', 'heap used (MiB)'], [
		[`${early.toLocaleString('en')} requests`, round(earlyHeap / mebibyte)],
		[`${total.toLocaleString('en')} requests`, round(lateHeap / mebibyte)],
	]);
	console.log(`  growth ${round(growth / 1024, 1)} KiB over ${(total - early).toLocaleString('en')} requests (${round(growth / (total - early), 2)} bytes/request; target: under 1 MiB in all)`);
	const result = {
		earlyHeapBytes: earlyHeap,
		lateHeapBytes: lateHeap,
		growthBytes: growth,
		tokenRequests: tokensAfter - tokensBefore,
		pass: growth < mebibyte,
	};
	printResult('memory', result);
	return result;
}
