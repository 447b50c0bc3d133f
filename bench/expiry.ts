import {performance} from 'node:perf_hooks';
import {setTimeout as delay} from 'node:timers/promises';
import got from 'got';
import {oauthHooks} from '../source/index.js';
import {percentile, printResult, printTable, round, type Servers} from './harness.js';

const tokenDelay = 200;
/**
An 8 s token: 4 s margin (half its life), so it is usable for 4 s. Refresh-ahead 1 s before that renews it after 3 s, so the background token request and the expiry it makes harmless are apart in time and each is measured on its own. (The default, half the usable life for so short a token, would put each background request on top of the previous token's expiry.)
*/
const refreshAheadSeconds = 1;
const expiresIn = 8;
const usableMilliseconds = 4000;
const duration = 16_000;
const interval = 2;
/** Around each expiry (and apart, each token request), this far either side counts. */
const window = 200;

type Sample = {sentAt: number; latency: number};

async function traffic(servers: Servers, refreshAhead: number) {
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
	// Each token's request started about tokenDelay before it was issued, and that token stops being usable usableMilliseconds after the request started.
	const issued = after.slice(before.length - 1);
	const requestStarts = issued.map(issuedAt => issuedAt - tokenDelay);
	const expiries = requestStarts.map(start => start + usableMilliseconds);
	const near = (instants: number[]) => (sample: Sample) => instants.some(instant => Math.abs(sample.sentAt - instant) <= window);
	const isAtExpiry = near(expiries);
	const isAtTokenRequest = near(requestStarts);
	const latencies = (list: Sample[]) => list.map(sample => sample.latency);
	return {
		tokenRequests: after.length - before.length,
		requests: samples.length,
		boundary: latencies(samples.filter(sample => isAtExpiry(sample))),
		refreshing: latencies(samples.filter(sample => isAtTokenRequest(sample) && !isAtExpiry(sample))),
		steady: latencies(samples.filter(sample => !isAtExpiry(sample) && !isAtTokenRequest(sample))),
	};
}

type Traffic = Awaited<ReturnType<typeof traffic>>;

/** Several runs pooled: a p99 over a few hundred requests moves with every garbage collection. */
function summarize(runs: Traffic[]) {
	const pool = (pick: (run: Traffic) => number[]) => runs.flatMap(run => pick(run)).toSorted((a, b) => a - b);
	const steady = pool(run => run.steady);
	const boundary = pool(run => run.boundary);
	const refreshing = pool(run => run.refreshing);
	return {
		runs: runs.length,
		tokenRequests: runs.reduce((sum, run) => sum + run.tokenRequests, 0),
		requests: runs.reduce((sum, run) => sum + run.requests, 0),
		steadyP50: round(percentile(steady, 0.5)),
		steadyP99: round(percentile(steady, 0.99)),
		boundaryRequests: boundary.length,
		boundaryP50: round(percentile(boundary, 0.5)),
		boundaryP99: round(percentile(boundary, 0.99)),
		duringTokenRequestRequests: refreshing.length,
		duringTokenRequestP99: round(percentile(refreshing, 0.99)),
	};
}

/**
Latency across token expiries with a slow (200 ms) token endpoint: with refresh-ahead no request waits for a token at an expiry; without it, the requests at each expiry do. The moments a token request is under way are shown apart: with refresh-ahead that is a background request, not an expiry.
*/
export async function expiryBoundary(servers: Servers) {
	await servers.configure({tokenDelay, expiresIn, acceptAnyToken: true});
	// The run without refresh-ahead goes first and takes the JIT's warm-up.
	const without = summarize([await traffic(servers, 0)]);
	const ahead = summarize([await traffic(servers, refreshAheadSeconds), await traffic(servers, refreshAheadSeconds), await traffic(servers, refreshAheadSeconds)]);

	const row = (name: string, run: typeof ahead) => [name, run.runs, run.requests, run.tokenRequests, run.steadyP50, run.steadyP99, run.boundaryRequests, run.boundaryP50, run.boundaryP99, run.duringTokenRequestP99];
	printTable(`Expiry boundary: ${duration / 1000} s at ${1000 / interval} requests/s, ${expiresIn} s tokens, ${tokenDelay} ms token endpoint, ±${window} ms windows (latency in ms)`, ['mode', 'runs', 'requests', 'token requests', 'steady p50', 'steady p99', 'at expiry', 'expiry p50', 'expiry p99', 'p99 during a token request'], [
		row(`refreshAhead: ${refreshAheadSeconds}`, ahead),
		row('refreshAhead: 0', without),
	]);
	const ratio = ahead.boundaryP99 / ahead.steadyP99;
	console.log(`  expiry p99 / steady p99: ${round(ratio, 3)} with refresh-ahead (target <= 1.10), ${round(without.boundaryP99 / without.steadyP99, 1)} without`);
	const result = {
		refreshAhead: {...ahead, ratio: round(ratio, 3)},
		withoutRefreshAhead: {...without, ratio: round(without.boundaryP99 / without.steadyP99, 3)},
		pass: ratio <= 1.1,
	};
	printResult('expiry-boundary', result);
	return result;
}
