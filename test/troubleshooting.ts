/*
Issue 13: when something is wrong, the damage is bounded and the error says what to fix. Real servers on loopback: oidc-provider with an API that expects another audience, and plain servers for the cases a real authorization server would not produce on demand.
*/
import {once} from 'node:events';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import test from 'ava';
import got, {HTTPError} from 'got';
import {createTokenSource, oauthHooks, TokenError} from '../source/index.js';
import {otherApiResource, secrets, startWithApi} from './helpers/authorization-server.js';
import {fakeClock} from './helpers/fakes.js';
import {startTokenEndpoint} from './helpers/local-servers.js';
import {assertNoLeak, startRouteServer} from './helpers/security.js';

type Rejected = HTTPError & {freshTokenRejected?: boolean};

// Item 1.
test('100 calls to an API that expects another audience (oidc-provider): a handful of token requests, and each 401 says a fresh token was tried', async t => {
	const {server, api} = await startWithApi(t, {}, otherApiResource);
	const client = got.extend({prefixUrl: api.url}, oauthHooks({tokenEndpoint: server.tokenEndpoint, clientId: 'basic', clientSecret: secrets.basic}));

	const errors: Rejected[] = [];
	for (let call = 0; call < 100; call++) {
		errors.push(await t.throwsAsync(client('reports'), {instanceOf: HTTPError}) as Rejected);
	}

	// Without the bound, one per call. With it, two, then one more each time the back-off (1 s, doubling) runs out while the calls go on.
	t.true(server.tokenRequests.length <= 8, `${server.tokenRequests.length} token requests`);
	t.true(api.calls <= 108, `${api.calls} API calls`);
	for (const error of errors) {
		t.is(error.response.statusCode, 401);
		t.true(error.freshTokenRejected);
		t.regex(error.message, /already tried a fresh access token; check that the token is for this API: `audience`, `resource`, `scope`/v);
	}

	// Rejected for its audience, every time: the tokens themselves are good.
	t.is(api.rejections.filter(reason => reason === 'ERR_JWT_CLAIM_VALIDATION_FAILED').length, api.calls);
	// The tokens are JWTs; the client authenticated with Basic.
	assertNoLeak(t, errors.at(-1), [secrets.basic, server.tokenRequests[0]!.headers.authorization!, 'eyJ']);
});

test('an API that rejects every token, 100 calls on a still clock: two token requests; after the back-off, one more', async t => {
	const [token, api] = await Promise.all([startTokenEndpoint({prefix: 'ReJeCtEd'}), startRouteServer()]);
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	const clock = fakeClock();
	const client = got.extend({prefixUrl: api.origin}, oauthHooks({tokenEndpoint: token.url('/token'), clientId: 'rejected-client', clientSecret: 'rejected-secret', clock}));

	const errors = await Promise.all(Array.from({length: 100}, async () => t.throwsAsync(client('401'), {instanceOf: HTTPError}) as Promise<Rejected>));
	for (let call = 0; call < 100; call++) {
		errors.push(await t.throwsAsync(client('401'), {instanceOf: HTTPError}) as Rejected);
	}

	t.is(token.count, 2);
	t.true(errors.every(error => error.freshTokenRejected === true));
	// 100 concurrent calls: each sent the first token and the fresh one; 100 later calls: the fresh one, kept.
	t.is(api.seen.length, 300);
	t.is(api.received('ReJeCtEd-1'), 100);
	t.is(api.received('ReJeCtEd-2'), 200);
	assertNoLeak(t, errors.at(-1), ['ReJeCtEd', 'rejected-secret']);

	// The default coolDown is 1 s.
	clock.advance(1000);
	await t.throwsAsync(client('401'), {instanceOf: HTTPError});
	t.is(token.count, 3);
});

test('a 401 that a fresh token did fix is not marked', async t => {
	const [token, api] = await Promise.all([startTokenEndpoint(), startRouteServer()]);
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	const client = got.extend({prefixUrl: api.origin}, oauthHooks({tokenEndpoint: token.url('/token'), clientId: 'c', clientSecret: 's'}));

	const error = await t.throwsAsync(client('404'), {instanceOf: HTTPError}) as Rejected;

	t.is(error.freshTokenRejected, undefined);
	t.false(error.message.includes('fresh access token'));
});

// Item 2.
test('a token endpoint HTTP error names the endpoint (origin and path, not the query) and the client id, never the secret', async t => {
	const token = await startTokenEndpoint();
	t.teardown(async () => token.close());
	token.handle(() => ({status: 401, body: {error: 'invalid_client', error_description: 'Client authentication failed'}}));
	const source = createTokenSource({tokenEndpoint: token.url('/oauth/token?tenant=acme'), clientId: 'reports-service', clientSecret: 'hunter2-secret'});

	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError});

	t.is(error.message, `Token request to ${token.origin}/oauth/token for client "reports-service" failed with HTTP 401: invalid_client (Client authentication failed)`);
	t.is(error.code, 'ERR_OAUTH_TOKEN');
	t.is(error.statusCode, 401);
	assertNoLeak(t, error, ['hunter2-secret', 'tenant=acme']);
});

test('a 404 from the token endpoint asks whether that is the token endpoint', async t => {
	const token = await startTokenEndpoint();
	t.teardown(async () => token.close());
	token.handle(() => ({status: 404, body: 'Not Found'}));
	const source = createTokenSource({tokenEndpoint: token.url('/oauth2/tokens'), clientId: 'reports-service', clientSecret: 'hunter2-secret'});

	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError});

	const endpoint = `${token.origin}/oauth2/tokens`;
	t.is(error.message, `Token request to ${endpoint} for client "reports-service" failed with HTTP 404 and no RFC 6749 §5.2 error response: is ${endpoint} the token endpoint?`);
});

test('https: against a plain-HTTP token endpoint says the server answered in plain HTTP', async t => {
	const token = await startTokenEndpoint();
	t.teardown(async () => token.close());
	const endpoint = `https://127.0.0.1:${token.port}/token`;
	const source = createTokenSource({tokenEndpoint: endpoint, clientId: 'reports-service', clientSecret: 'hunter2-secret', tokenRequest: {retry: {limit: 0}}});

	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError});

	t.true(error.message.endsWith(`; the server at https://127.0.0.1:${token.port} answered in plain HTTP, not TLS: should the URL be http:?`), error.message);
});

test('a failure served from the cool-down says so, and says when the token endpoint is asked again', async t => {
	const [token, api] = await Promise.all([startTokenEndpoint(), startRouteServer()]);
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	token.handle(() => ({status: 400, body: {error: 'invalid_client'}}));
	const clock = fakeClock();
	const client = got.extend({prefixUrl: api.origin}, oauthHooks({tokenEndpoint: token.url('/token'), clientId: 'cool-client', clientSecret: 'cool-secret', clock, coolDown: 5}));

	const first = await t.throwsAsync(client('ok'), {instanceOf: TokenError});
	clock.advance(1500);
	const second = await t.throwsAsync(client('ok'), {instanceOf: TokenError});

	t.is(first.nextAttemptIn, undefined);
	t.false(first.message.includes('failing fast'));
	t.is(second.message, `${first.message} [failing fast after that failure: the token endpoint is asked again in 3.5 s]`);
	t.is(second.nextAttemptIn, 3500);
	t.is(second.error, 'invalid_client');
	t.is(token.count, 1);
	t.is(api.seen.length, 0);
});

// Item 3.
test('a caller\'s timeout.request bounds its wait for a hanging token endpoint, once, whatever got\'s retry policy', async t => {
	const [token, api] = await Promise.all([startTokenEndpoint(), startRouteServer()]);
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	token.handle(() => 'hang');
	// got retries GET twice by default; the token request's own timeout is 10 s, three times over.
	const client = got.extend({prefixUrl: api.origin}, oauthHooks({tokenEndpoint: token.url('/token'), clientId: 'timeout-client', clientSecret: 'timeout-secret'}));

	const started = performance.now();
	const error = await t.throwsAsync(client('ok', {timeout: {request: 1000}}), {instanceOf: TokenError});
	const waited = performance.now() - started;

	t.regex(error.message, /No access token within the request's `timeout\.request` of 1000 ms/v);
	t.is((error.cause as Error).name, 'TimeoutError');
	// Not three token request timeouts of 10 s each, nor got's retries of the API request multiplying the wait.
	t.true(waited >= 990 && waited < 2500, `${Math.round(waited)} ms`);
	t.is(token.count, 1);
	t.is(api.seen.length, 0);
});

test('tokenTimeout bounds getting a token, its retries and their waits included: one TokenError that names the option', async t => {
	const token = await startTokenEndpoint();
	t.teardown(async () => token.close());
	// Two answers that ask to come back in 30 s, then a hang: got would wait a minute, then 10 s more.
	token.handle((_request, index) => index < 2 ? {status: 503, headers: {'retry-after': '30'}, body: {error: 'temporarily_unavailable'}} : 'hang');
	const source = createTokenSource({
		tokenEndpoint: token.url('/token'),
		clientId: 'deadline-client',
		clientSecret: 'deadline-secret',
		tokenTimeout: 1,
		tokenRequest: {retry: {limit: 2, maxRetryAfter: 60_000}},
	});

	const started = performance.now();
	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError});
	const waited = performance.now() - started;

	t.regex(error.message, /did not finish within `tokenTimeout` \(1 s\), its retries included$/v);
	t.true(waited >= 990 && waited < 3000, `${Math.round(waited)} ms`);
	t.is(token.count, 1);
});

test('tokenTimeout cuts off an attempt that its own timeout would let hang on; a negative one is a ConfigurationError', async t => {
	const token = await startTokenEndpoint();
	t.teardown(async () => token.close());
	token.handle(() => 'hang');
	// The per-attempt timeout made long, so that only the overall deadline can end the wait.
	const source = createTokenSource({tokenEndpoint: token.url('/token'), clientId: 'c', clientSecret: 's', tokenTimeout: 0.5, tokenRequest: {timeout: {request: 60_000}}});
	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError});
	t.regex(error.message, /within `tokenTimeout` \(0\.5 s\)/v);
	t.throws(() => createTokenSource({tokenEndpoint: token.url('/token'), clientId: 'c', clientSecret: 's', tokenTimeout: -1}), {message: /`tokenTimeout` must be a finite number of seconds/v});
});

// Item 4.
test('getTokenDetails(): expiresAt as a Date, scope, tokenType and the response\'s other members, from the one token request', async t => {
	const token = await startTokenEndpoint();
	t.teardown(async () => token.close());
	const extra = {issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', id_token: 'id.token.value'};
	token.handle(() => ({body: {access_token: 'detailed-token', token_type: 'bearer', expires_in: 120, scope: 'orders:read orders:write', ...extra}}));
	const source = createTokenSource({tokenEndpoint: token.url('/token'), clientId: 'details-client', clientSecret: 'details-secret'});

	const before = Date.now();
	const accessToken = await source.getToken();
	const after = Date.now();
	const details = await source.getTokenDetails();

	t.is(accessToken, 'detailed-token');
	t.true(details.expiresAt instanceof Date);
	t.true(details.expiresAt.getTime() >= before + 120_000 && details.expiresAt.getTime() <= after + 120_000);
	t.like(details, {accessToken: 'detailed-token', tokenType: 'bearer', scope: 'orders:read orders:write', expiresIn: 120});
	t.deepEqual(details.extra, extra);
	t.is(token.count, 1);
});

test('getTokenDetails() from oidc-provider: the granted scope and the token\'s expiry', async t => {
	const {server} = await startWithApi(t);
	const source = createTokenSource({tokenEndpoint: server.tokenEndpoint, clientId: 'basic', clientSecret: secrets.basic, scope: 'api:read'});

	const details = await source.getTokenDetails();

	t.is(details.scope, 'api:read');
	t.is(details.tokenType, 'Bearer');
	t.true(Math.abs(details.expiresAt.getTime() - (Date.now() + 60_000)) < 5000);
});

// Item 5.
for (const [name, isTokenRejected, expected] of [
	['the default (401 only)', undefined, 'not retried'],
	['isTokenRejected: 401 or 403', (response: {statusCode: number}) => response.statusCode === 401 || response.statusCode === 403, 'retried'],
] as const) {
	test(`an API that answers 403 to a stale token, with ${name}: ${expected}`, async t => {
		const token = await startTokenEndpoint();
		const api = http.createServer((request, response) => {
			const isFresh = request.headers.authorization === 'Bearer access-token-2';
			response.writeHead(isFresh ? 200 : 403, {'content-type': 'application/json'});
			response.end(JSON.stringify({authorization: request.headers.authorization}));
		});
		api.listen(0, '127.0.0.1');
		await once(api, 'listening');
		t.teardown(async () => {
			api.closeAllConnections();
			api.close();
			await token.close();
		});
		const origin = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
		const client = got.extend({prefixUrl: origin}, oauthHooks({tokenEndpoint: token.url('/token'), clientId: 'forbidden-client', clientSecret: 'forbidden-secret'}, {isTokenRejected}));

		if (expected === 'retried') {
			const body = await client('data').json<{authorization: string}>();
			t.is(body.authorization, 'Bearer access-token-2');
			t.is(token.count, 2);
		} else {
			const error = await t.throwsAsync(client('data'), {instanceOf: HTTPError});
			t.is(error.response.statusCode, 403);
			t.is(token.count, 1);
		}
	});
}

test('isTokenRejected given next to a TokenSource: a 403 the fresh token does not fix either says so', async t => {
	const [token, api] = await Promise.all([startTokenEndpoint(), startRouteServer()]);
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	const source = createTokenSource({tokenEndpoint: token.url('/token'), clientId: 'c', clientSecret: 's'});
	const client = got.extend({prefixUrl: api.origin}, oauthHooks(source, {isTokenRejected: response => response.statusCode === 403}));

	const error = await t.throwsAsync(client('403'), {instanceOf: HTTPError}) as Rejected;

	t.is(error.response.statusCode, 403);
	t.true(error.freshTokenRejected);
	t.deepEqual(api.seen.map(request => request.authorization), ['Bearer access-token-1', 'Bearer access-token-2']);
});
