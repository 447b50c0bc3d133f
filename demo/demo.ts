/*
got-oauth against a real authorization server (oidc-provider) and an API that verifies its JWT access tokens, both on loopback. Exits non-zero if anything behaves other than described, so it doubles as a smoke test.
*/
import process from 'node:process';
import {setTimeout as delay} from 'node:timers/promises';
import got from 'got';
import {oauthHooks} from '../source/index.js';
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

/** Token requests made while `step` runs. */
async function tokenRequestsDuring(step: () => Promise<void>): Promise<number> {
	const before = authorizationServer.tokenRequests;
	await step();
	return authorizationServer.tokenRequests - before;
}

console.log('got-oauth demo');
console.log(`  authorization server (oidc-provider): ${authorizationServer.issuer}, ${accessTokenTtl} s JWT access tokens`);
console.log(`  API: ${resourceServer.url}, verifies each token's signature, issuer, audience and expiry\n`);

try {
	let ok = 0;
	let tokenRequests = await tokenRequestsDuring(async () => {
		ok = await calls(20, 'burst');
	});
	check(`burst: 20 concurrent calls, ${ok} answered 200, sharing ${tokenRequests} token request`, {'calls answered 200': [ok, 20], 'token requests': [tokenRequests, 1]});

	tokenRequests = await tokenRequestsDuring(async () => {
		ok = 0;
		for (let index = 0; index < 10; index++) {
			ok += await calls(1, 'reuse');
		}
	});
	check(`reuse: 10 more calls, ${tokenRequests} new token requests`, {'calls answered 200': [ok, 10], 'token requests': [tokenRequests, 0]});

	// The 60 s default margin is capped at half the lifetime: a 2 s token is used for 1 s.
	const rejectedBefore = resourceServer.unauthorized;
	tokenRequests = await tokenRequestsDuring(async () => {
		await delay(1100);
		ok = await calls(1, 'after-expiry');
	});
	const rejected = resourceServer.unauthorized - rejectedBefore;
	check(`expiry: after 1.1 s the token was renewed ahead of time (${tokenRequests} token request, ${rejected} rejected by the API)`, {
		'calls answered 200': [ok, 1],
		'token requests': [tokenRequests, 1],
		'401s from the API': [rejected, 0],
	});

	resourceServer.revokeAll();
	const rejectedBeforeRevocation = resourceServer.unauthorized;
	tokenRequests = await tokenRequestsDuring(async () => {
		ok = await calls(5, 'after-revocation');
	});
	const retried = resourceServer.unauthorized - rejectedBeforeRevocation;
	check(`revocation: the API revoked the token; 5 concurrent calls, ${retried} got 401, ${tokenRequests} token request, ${ok} succeeded on their one retry`, {
		'calls answered 200': [ok, 5],
		'token requests': [tokenRequests, 1],
		'401s from the API': [retried, 5],
	});

	console.log(`\n  ${callsMade} calls made (${resourceServer.calls} reached the API), ${authorizationServer.tokenRequests} token requests, ${resourceServer.unauthorized} 401 retries`);
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
