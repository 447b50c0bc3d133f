/*
got-oauth against a real authorization server (oidc-provider) and an API that verifies its JWT access tokens, both on loopback. What it counts comes from got-oauth's diagnostics channels, checked against what the servers saw. Exits non-zero if anything behaves other than described, so it doubles as a smoke test.
*/
import {subscribe} from 'node:diagnostics_channel';
import process from 'node:process';
import {setTimeout as delay} from 'node:timers/promises';
import got from 'got';
import {channelNames, oauthHooks, type CacheMissMessage} from '../source/index.js';
import {startAuthorizationServer, startResourceServer} from '../fixtures/servers.js';

const accessTokenTtl = 2;

const authorizationServer = await startAuthorizationServer({accessTokenTtl});
const resourceServer = await startResourceServer({issuer: authorizationServer.issuer, audience: authorizationServer.defaultResource});

const api = got.extend({prefixUrl: resourceServer.url}, oauthHooks({
	tokenEndpoint: authorizationServer.tokenEndpoint,
	...authorizationServer.clients.basic,
}));

let failures = 0;
let callsMade = 0;

// Counted from got-oauth's events, as any subscriber can.
const seen = {tokenRequests: 0, cacheHits: 0, cacheMisses: 0, expired: 0, retries: 0};
subscribe(`tracing:${channelNames.tokenRequest}:asyncEnd`, () => {
	seen.tokenRequests++;
});
subscribe(channelNames.cacheHit, () => {
	seen.cacheHits++;
});
subscribe(channelNames.cacheMiss, message => {
	seen.cacheMisses++;
	seen.expired += (message as CacheMissMessage).reason === 'expired' ? 1 : 0;
});
subscribe(channelNames.apiRetry, () => {
	seen.retries++;
});

function check(label: string, expectations: Record<string, [actual: number, expected: number]>): void {
	const wrong = Object.entries(expectations).filter(([, [actual, expected]]) => actual !== expected);
	if (wrong.length === 0) {
		console.log(`  ✔ ${label}`);
		return;
	}

	failures++;
	console.log(`  ✘ ${label}`);
	for (const [name, [actual, expected]] of wrong) {
		console.log(`      ${name}: expected ${expected}, got ${actual}`);
	}
}

async function calls(count: number, path: string): Promise<number> {
	const responses = await Promise.all(Array.from({length: count}, async (_, index) => api.get(`${path}/${index}`)));
	callsMade += count;
	return responses.filter(response => response.statusCode === 200).length;
}

/** The last step's token requests as the authorization server saw them, and as the events told. */
let lastStep: [server: number, events: number] = [0, 0];

/** Token requests made while `step` runs, as the events tell. */
async function tokenRequestsDuring(step: () => Promise<void>): Promise<number> {
	const before = seen.tokenRequests;
	const serverBefore = authorizationServer.tokenRequests;
	await step();
	lastStep = [authorizationServer.tokenRequests - serverBefore, seen.tokenRequests - before];
	return lastStep[1];
}

/** The events counted what the server saw. */
const serverAgrees = (): Record<string, [number, number]> => ({'token requests the server saw': lastStep});

console.log('got-oauth demo');
console.log(`  authorization server (oidc-provider): ${authorizationServer.issuer}, ${accessTokenTtl} s JWT access tokens`);
console.log(`  API: ${resourceServer.url}, verifies each token's signature, issuer, audience and expiry\n`);

try {
	let ok = 0;
	let tokenRequests = await tokenRequestsDuring(async () => {
		ok = await calls(20, 'burst');
	});
	check(`burst: 20 concurrent calls, ${ok} answered 200, sharing ${tokenRequests} token request`, {'calls answered 200': [ok, 20], 'token requests': [tokenRequests, 1], ...serverAgrees()});

	tokenRequests = await tokenRequestsDuring(async () => {
		ok = 0;
		for (let index = 0; index < 10; index++) {
			ok += await calls(1, 'reuse');
		}
	});
	check(`reuse: 10 more calls, ${tokenRequests} new token requests`, {'calls answered 200': [ok, 10], 'token requests': [tokenRequests, 0], ...serverAgrees()});

	// The 60 s default margin is capped at half the lifetime: a 2 s token is used for 1 s.
	const rejectedBefore = resourceServer.unauthorized;
	const expiredBefore = seen.expired;
	tokenRequests = await tokenRequestsDuring(async () => {
		await delay(1100);
		ok = await calls(1, 'after-expiry');
	});
	const rejected = resourceServer.unauthorized - rejectedBefore;
	const expired = seen.expired - expiredBefore;
	check(`expiry: after 1.1 s the token was renewed before it expired (${expired} cache miss for an expired token, ${tokenRequests} token request, ${rejected} rejected by the API)`, {
		'calls answered 200': [ok, 1],
		'cache misses for an expired token': [expired, 1],
		'token requests': [tokenRequests, 1],
		'401s from the API': [rejected, 0],
		...serverAgrees(),
	});

	resourceServer.revokeAll();
	const rejectedBeforeRevocation = resourceServer.unauthorized;
	const retriesBefore = seen.retries;
	tokenRequests = await tokenRequestsDuring(async () => {
		ok = await calls(5, 'after-revocation');
	});
	const retried = seen.retries - retriesBefore;
	check(`revocation: the API revoked the token; 5 concurrent calls, ${retried} retried after a 401, ${tokenRequests} token request, ${ok} succeeded on their one retry`, {
		'calls answered 200': [ok, 5],
		'token requests': [tokenRequests, 1],
		'401 retries': [retried, 5],
		'401s the API sent': [resourceServer.unauthorized - rejectedBeforeRevocation, retried],
		...serverAgrees(),
	});

	const {cacheHits, cacheMisses, retries} = seen;
	console.log(`\n  ${callsMade} calls made (${resourceServer.calls} reached the API): ${cacheHits} served a cached token, ${cacheMisses} waited for one`);
	console.log(`  ${seen.tokenRequests} token requests, ${retries} 401 retries`);
} catch (error) {
	failures++;
	// The message only: got's errors can carry request options, and with them a token.
	const {name, message} = error instanceof Error ? error : new Error(String(error));
	console.log(`  ✘ unexpected ${name}: ${message}`);
} finally {
	await Promise.all([authorizationServer.close(), resourceServer.close()]);
}

if (failures > 0) {
	console.log(`\n${failures} expectation(s) failed`);
	process.exitCode = 1;
}
