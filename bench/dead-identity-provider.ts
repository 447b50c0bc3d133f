import {subscribe, unsubscribe} from 'node:diagnostics_channel';
import {createServer} from 'node:net';
import {performance} from 'node:perf_hooks';
import {setTimeout as delay} from 'node:timers/promises';
import got from 'got';
import {oauthHooks, TokenError} from '../source/index.js';
import {percentile, printResult, printTable, round, type Servers} from './harness.js';

const duration = 10_000;
const perSecond = 500;
const batch = 5;

/** A loopback port with nothing listening: connections are refused at once. */
async function refusingPort(): Promise<number> {
	const server = createServer();
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as {port: number};
	await new Promise(resolve => {
		server.close(resolve);
	});
	return port;
}

/**
10 s of API traffic at 500 requests/s while the token endpoint refuses connections: how many token requests the dead identity provider sees, and whether every API call fails fast.
*/
export async function deadIdentityProvider(servers: Servers) {
	const port = await refusingPort();
	let tokenRequests = 0;
	const tokenUrl = `http://127.0.0.1:${port}/token`;
	// Counted as got starts them, retries included: a refused connection never reaches a server that could count it.
	const onRequest = (message: unknown) => {
		if ((message as {url: string}).url === tokenUrl) {
			tokenRequests++;
		}
	};

	subscribe('got:request:start', onRequest);
	const client = got.extend({prefixUrl: servers.apiUrl, retry: {limit: 0}}, oauthHooks({tokenEndpoint: tokenUrl, clientId: 'bench', clientSecret: 'bench-secret'}));
	const {apiRequests: apiBefore} = await servers.stats();

	const latencies: number[] = [];
	/** Calls sent once the first failure was known: the ones the cool-down and the single probe should answer at once. */
	const laterLatencies: number[] = [];
	let firstFailureAt = Number.POSITIVE_INFINITY;
	let tokenErrors = 0;
	let other = 0;
	const pending: Array<Promise<void>> = [];
	const call = async (): Promise<void> => {
		const sent = performance.now();
		try {
			await client('resource');
			other++;
			return;
		} catch (error) {
			if (error instanceof TokenError) {
				tokenErrors++;
			} else {
				other++;
			}
		}

		const settled = performance.now();
		firstFailureAt = Math.min(firstFailureAt, settled);
		latencies.push(settled - sent);
		if (sent > firstFailureAt) {
			laterLatencies.push(settled - sent);
		}
	};

	const started = performance.now();
	while (performance.now() - started < duration) {
		for (let index = 0; index < batch; index++) {
			pending.push(call());
		}

		await delay(1000 * batch / perSecond);
	}

	await Promise.all(pending);
	unsubscribe('got:request:start', onRequest);
	const {apiRequests: apiAfter} = await servers.stats();
	const sorted = latencies.toSorted((a, b) => a - b);
	const later = laterLatencies.toSorted((a, b) => a - b);
	const calls = tokenErrors + other;

	printTable(`Dead identity provider: ${duration / 1000} s at ${perSecond} API calls/s, token endpoint refusing connections`, ['API calls', 'TokenError', 'other outcome', 'reached the API', 'token requests', 'p50 ms', 'p99 ms', 'max ms', 'p99 ms once known dead'], [
		[calls, tokenErrors, other, apiAfter - apiBefore, tokenRequests, round(percentile(sorted, 0.5)), round(percentile(sorted, 0.99)), round(sorted.at(-1) ?? Number.NaN), round(percentile(later, 0.99))],
	]);
	console.log('  The calls made during the very first token request wait for it (nothing is known yet); after that, one probe at a time and everyone else fails at once.');
	const result = {
		apiCalls: calls,
		tokenErrors,
		reachedApi: apiAfter - apiBefore,
		tokenRequests,
		p50Milliseconds: round(percentile(sorted, 0.5)),
		p99Milliseconds: round(percentile(sorted, 0.99)),
		maxMilliseconds: round(sorted.at(-1) ?? Number.NaN),
		p99MillisecondsOnceKnownDead: round(percentile(later, 0.99)),
		pass: tokenErrors === calls && apiAfter === apiBefore && tokenRequests <= 30,
	};
	printResult('dead-identity-provider', result);
	return result;
}
