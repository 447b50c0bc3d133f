/*
got-oauth in four processes sharing one token through Redis: a redis-server of its own on loopback, a real authorization server (oidc-provider) and an API that verifies its JWT access tokens. Each process is fixtures/fleet-worker.ts, an application calling the API through got with `store: redisTokenStore(client)`. Exits non-zero if anything behaves other than described.
*/
import process from 'node:process';
import {setTimeout as delay} from 'node:timers/promises';
import {startFleet, totals, type Fleet} from '../fixtures/fleet.js';
import {hasRedisServer, redisServerNotFound, startRedisServer} from '../fixtures/redis-server.js';
import {startAuthorizationServer, startResourceServer} from '../fixtures/servers.js';

const processes = 4;
const callsEach = 25;

/** The demo; resolves with the number of expectations that failed. */
async function demo(): Promise<number> {
	const [redis, authorizationServer] = await Promise.all([startRedisServer(), startAuthorizationServer({accessTokenTtl: 60})]);
	const resourceServer = await startResourceServer({issuer: authorizationServer.issuer, audience: authorizationServer.defaultResource});
	let fleet: Fleet | undefined;
	let failures = 0;
	let callsMade = 0;

	function check(label: string, expectations: Record<string, [actual: number, expected: number]>): void {
		const wrong = Object.entries(expectations).filter(([, [actual, expected]]) => actual !== expected);
		console.log(`  ${wrong.length === 0 ? '✔' : '✘'} ${label}`);
		for (const [name, [actual, expected]] of wrong) {
			console.log(`      ${name}: expected ${expected}, got ${actual}`);
		}

		failures += wrong.length === 0 ? 0 : 1;
	}

	/** Every process makes `callsEach` concurrent calls; what they got, and the token requests they cost. */
	async function burst(): Promise<{ok: number; calls: number; tokenRequests: number}> {
		const before = authorizationServer.tokenRequests;
		const {ok, calls} = totals(await fleet!.burst(callsEach));
		callsMade += calls;
		return {ok, calls, tokenRequests: authorizationServer.tokenRequests - before};
	}

	console.log(`got-oauth fleet demo: ${processes} processes, one redis-server (${redis.url}), one authorization server (oidc-provider, ${authorizationServer.issuer})\n`);

	try {
		fleet = await startFleet(processes);
		await fleet.configure({
			store: 'node-redis',
			redisUrl: redis.url,
			config: {tokenEndpoint: authorizationServer.tokenEndpoint, ...authorizationServer.clients.basic},
			apiUrl: resourceServer.url,
		});

		let {ok, calls, tokenRequests} = await burst();
		check(`cold start: ${processes} processes × ${callsEach} concurrent calls, ${ok} of ${calls} answered 200, ${tokenRequests} token request for the fleet`, {
			'calls answered 200': [ok, calls],
			'token requests': [tokenRequests, 1],
		});

		// Redis goes away, and the API stops accepting the shared token: each process must get a new one on its own.
		await redis.kill();
		resourceServer.revokeAll();
		({ok, calls, tokenRequests} = await burst());
		check(`Redis killed, token revoked: ${ok} of ${calls} calls answered 200; ${tokenRequests} token requests, each process fetched its own`, {
			'calls answered 200': [ok, calls],
			'token requests': [tokenRequests, processes],
		});

		// Redis is back; once a process's short back-off after the failure is over, it uses the store again.
		await redis.restart();
		await delay(2500);
		resourceServer.revokeAll();
		({ok, calls, tokenRequests} = await burst());
		check(`Redis back, tokens revoked again: ${ok} of ${calls} calls answered 200, ${tokenRequests} token request for the fleet`, {
			'calls answered 200': [ok, calls],
			'token requests': [tokenRequests, 1],
		});

		console.log(`\n  ${callsMade} calls made, ${authorizationServer.tokenRequests} token requests (${processes * 3} without a store: one per process at each step)`);
	} catch (error) {
		failures++;
		const {name, message} = error instanceof Error ? error : new Error(String(error));
		console.log(`  ✘ unexpected ${name}: ${message}`);
	} finally {
		await fleet?.close();
		await Promise.all([authorizationServer.close(), resourceServer.close(), redis.stop()]);
	}

	if (failures > 0) {
		console.log(`\n${failures} expectation(s) failed`);
	}

	return failures;
}

if (await hasRedisServer()) {
	process.exitCode = await demo() > 0 ? 1 : 0;
} else {
	console.error(`got-oauth fleet demo: ${redisServerNotFound}`);
	process.exitCode = 1;
}
