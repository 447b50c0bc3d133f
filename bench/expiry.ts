import {performance} from 'node:perf_hooks';
import {setTimeout as delay} from 'node:timers/promises';
import got from 'got';
import {oauthHooks} from '../source/index.js';
import {percentile, printResult, printTable, round, type Servers} from './harness.js';

const tokenDelay = 200;
/** An 8 s token: 4 s margin (half its life), so it is usable for 4 s; refresh-ahead renews it after 2 s. */
const expiresIn = 8;
const usableMilliseconds = 4000;
const duration = 16_000;
const interval = 5;
/** Around each expiry and each token request, this far either side counts as "at the boundary". */
const window = 200;

type Sample = {sentAt: number; latency: number};

async function traffic(servers: Servers, refreshAhead: number | undefined) {
	const client = got.extend({prefixUrl: servers.apiUrl, retry: {limit: 0}}, oauthHooks({
		tokenEndpoint: servers.tokenEndpoint,
		clientId: 'bench',
		clientSecret: 'bench-secret',
		refreshAhead,
	}));
	await client('warm');
	const {tokensIssuedAt: before} = await servers.stats();

	const samples: Sample[] = [];
	const pending: Array<Promise<void>> = [];
	const started = Date.now();
	while (Date.now() - started < duration) {
		const sentAt = Date.now();
		const sent = performance.now();
		pending.push((async () => {
			await client('resource');
			samples.push({sentAt, latency: performance.now() - sent});
		})());

		await delay(interval);
	}

	await Promise.all(pending);
	const {tokensIssuedAt: after} = await servers.stats();
	// Each token's request started about tokenDelay before it was issued, and it stops being usable usableMilliseconds after that.
	const issued = after.slice(before.length - 1);
	const boundaries = issued.flatMap(issuedAt => [issuedAt - (tokenDelay / 2), issuedAt - tokenDelay + usableMilliseconds]);
	const isAtBoundary = (sample: Sample) => boundaries.some(boundary => Math.abs(sample.sentAt - boundary) <= window);
	const latencies = (list: Sample[]) => list.map(sample => sample.latency).toSorted((a, b) => a - b);
	const boundary = latencies(samples.filter(sample => isAtBoundary(sample)));
	const steady = latencies(samples.filter(sample => !isAtBoundary(sample)));
	return {
		tokenRequests: after.length - before.length,
		requests: samples.length,
		steadyP50: percentile(steady, 0.5),
		steadyP99: percentile(steady, 0.99),
		boundaryP50: percentile(boundary, 0.5),
		boundaryP99: percentile(boundary, 0.99),
		boundaryRequests: boundary.length,
	};
}

/**
Latency across token expiries with a slow (200 ms) token endpoint: with refresh-ahead no request waits for a token; without it, the requests at each expiry do.
*/
export async function expiryBoundary(servers: Servers) {
	await servers.configure({tokenDelay, expiresIn, acceptAnyToken: true});
	const ahead = await traffic(servers, undefined);
	const without = await traffic(servers, 0);

	const row = (name: string, run: typeof ahead) => [name, run.requests, run.tokenRequests, round(run.steadyP50), round(run.steadyP99), run.boundaryRequests, round(run.boundaryP50), round(run.boundaryP99)];
	printTable(`Expiry boundary: ${duration / 1000} s at ${1000 / interval} requests/s, ${expiresIn} s tokens, ${tokenDelay} ms token endpoint (latency in ms)`, ['mode', 'requests', 'token requests', 'steady p50', 'steady p99', 'at boundary', 'boundary p50', 'boundary p99'], [
		row('refresh-ahead (default)', ahead),
		row('refreshAhead: 0', without),
	]);
	const ratio = ahead.boundaryP99 / ahead.steadyP99;
	console.log(`  boundary p99 / steady p99: ${round(ratio, 3)} with refresh-ahead (target <= 1.10), ${round(without.boundaryP99 / without.steadyP99, 1)} without`);
	const result = {
		refreshAhead: {...ahead, ratio: round(ratio, 3)},
		withoutRefreshAhead: {...without, ratio: round(without.boundaryP99 / without.steadyP99, 3)},
		pass: ratio <= 1.1,
	};
	printResult('expiry-boundary', result);
	return result;
}
