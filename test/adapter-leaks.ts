/*
Nothing the ky and fetch adapters let a caller see shows the token or the client secret: every kind of error each can produce, rendered every way a caller might log it.
*/
import {inspect} from 'node:util';
import test, {type ExecutionContext} from 'ava';
import ky, {HTTPError, NetworkError, TimeoutError} from 'ky';
import {oauthFetch} from '../source/fetch/index.js';
import {kyOAuthHooks} from '../source/ky/index.js';
import {TokenError, createTokenSource, type TokenSource} from '../source/index.js';
import {deferred} from './helpers/fakes.js';
import {basicForm, closedPort, startApiServer, startTokenEndpoint, tokenReply, type LocalServer} from './helpers/local-servers.js';

const clientId = 'leak-client-id';
const clientSecret = 'SeCrEt-3b7e1d0c-never-print-me';
// The token endpoint issues `<accessToken>-1`, `<accessToken>-2`, …: the prefix covers every one.
const accessToken = 'AcCeSs-9c2f6a41-never-print-me';
const forbidden = [clientSecret, basicForm(clientId, clientSecret), accessToken];

function renderings(value: unknown): Record<string, string> {
	return {
		string: String(value),
		inspect: inspect(value, {depth: Infinity}),
		'inspect showHidden': inspect(value, {depth: Infinity, showHidden: true}),
		json: JSON.stringify(value) ?? '',
		stack: (value as {stack?: string}).stack ?? '',
	};
}

function assertNoLeak(t: ExecutionContext, value: unknown): void {
	for (const [how, text] of Object.entries(renderings(value))) {
		for (const secret of forbidden) {
			t.false(text.includes(secret), `${how} shows ${secret}`);
		}
	}
}

type Servers = {token: LocalServer; api: LocalServer};

async function servers(t: ExecutionContext): Promise<Servers> {
	const [token, api] = await Promise.all([startTokenEndpoint({prefix: accessToken}), startApiServer()]);
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	return {token, api};
}

const config = (token: LocalServer) => ({tokenEndpoint: token.url('/token'), clientId, clientSecret});

/** A token source with its token already fetched, so a timeout that follows can only be the API's. */
async function primedSource(token: LocalServer): Promise<TokenSource> {
	const source = createTokenSource(config(token));
	await source.getToken();
	return source;
}

/** The API has the request, with the token, and will not answer: the failure comes after the token was sent. */
async function hangAfterArrival(api: LocalServer): Promise<void> {
	const arrived = deferred<void>();
	api.handle(() => {
		arrived.resolve();
		return 'hang';
	});
	return arrived.promise;
}

test('ky HTTPError (a second 401)', async t => {
	const s = await servers(t);
	s.api.handle(() => ({status: 401, body: {error: 'invalid_token'}}));
	const api = ky.extend(kyOAuthHooks(config(s.token)));

	const error = await t.throwsAsync(api(s.api.url('/x')), {instanceOf: HTTPError});

	assertNoLeak(t, error);
	t.deepEqual(s.api.requests.map(request => request.headers.authorization), [`Bearer ${accessToken}-1`, `Bearer ${accessToken}-2`]);
});

test('ky TimeoutError (the API does not answer)', async t => {
	const s = await servers(t);
	const arrived = hangAfterArrival(s.api);
	const source = await primedSource(s.token);
	const api = ky.extend(kyOAuthHooks(source)).extend({timeout: 300, retry: 0});

	const error = await t.throwsAsync(api(s.api.url('/x')), {instanceOf: TimeoutError});
	await arrived;

	assertNoLeak(t, error);
	t.is(s.api.requests[0]!.headers.authorization, `Bearer ${accessToken}-1`);
});

test('ky abort while the API has the request', async t => {
	const s = await servers(t);
	const arrived = hangAfterArrival(s.api);
	const api = ky.extend(kyOAuthHooks(config(s.token)));
	const controller = new AbortController();

	const call = api(s.api.url('/x'), {signal: controller.signal});
	await arrived;
	controller.abort();
	const error = await t.throwsAsync(call, {name: 'AbortError'});

	assertNoLeak(t, error);
});

test('ky NetworkError (the API refuses the connection)', async t => {
	const s = await servers(t);
	const refused = `http://127.0.0.1:${await closedPort()}`;
	const api = ky.extend(kyOAuthHooks(config(s.token), {origins: [refused]})).extend({retry: 0});

	const error = await t.throwsAsync(api(`${refused}/x`), {instanceOf: NetworkError});

	assertNoLeak(t, error);
	t.is(s.token.count, 1);
});

test('ky TokenError after a 401 whose new token cannot be had', async t => {
	const s = await servers(t);
	s.token.handle((_request, index) => index === 0 ? tokenReply(`${accessToken}-1`) : {status: 400, body: {error: 'invalid_client'}});
	s.api.handle(() => ({status: 401}));
	const api = ky.extend(kyOAuthHooks(config(s.token)));

	const error = await t.throwsAsync(api(s.api.url('/x')), {instanceOf: TokenError});

	assertNoLeak(t, error);
	t.is(s.api.count, 1);
});

test('fetch: the second 401 response', async t => {
	const s = await servers(t);
	s.api.handle(() => ({status: 401}));
	const call = oauthFetch(config(s.token));

	const response = await call(s.api.url('/x'));

	t.is(response.status, 401);
	assertNoLeak(t, response);
	t.is(s.api.count, 2);
});

test('fetch TimeoutError (AbortSignal.timeout, the API does not answer)', async t => {
	const s = await servers(t);
	const arrived = hangAfterArrival(s.api);
	const call = oauthFetch(await primedSource(s.token));

	const error = await t.throwsAsync(call(s.api.url('/x'), {signal: AbortSignal.timeout(300)}), {name: 'TimeoutError'});
	await arrived;

	assertNoLeak(t, error);
	t.is(s.api.requests[0]!.headers.authorization, `Bearer ${accessToken}-1`);
});

test('fetch abort while the API has the request', async t => {
	const s = await servers(t);
	const arrived = hangAfterArrival(s.api);
	const call = oauthFetch(config(s.token));
	const controller = new AbortController();

	const pending = call(s.api.url('/x'), {signal: controller.signal});
	await arrived;
	controller.abort();
	const error = await t.throwsAsync(pending, {name: 'AbortError'});

	assertNoLeak(t, error);
});

test('fetch network error (the API refuses the connection)', async t => {
	const s = await servers(t);
	const refused = `http://127.0.0.1:${await closedPort()}`;
	const call = oauthFetch(config(s.token), {origins: [refused]});

	const error = await t.throwsAsync(call(`${refused}/x`), {instanceOf: TypeError, message: 'fetch failed'});

	assertNoLeak(t, error);
	t.is(s.token.count, 1);
});

test('fetch TokenError after a 401 whose new token cannot be had', async t => {
	const s = await servers(t);
	s.token.handle((_request, index) => index === 0 ? tokenReply(`${accessToken}-1`) : {status: 400, body: {error: 'invalid_client'}});
	s.api.handle(() => ({status: 401}));
	const call = oauthFetch(config(s.token));

	const error = await t.throwsAsync(call(s.api.url('/x')), {instanceOf: TokenError});

	assertNoLeak(t, error);
	t.is(s.api.count, 1);
});

for (const [name, make] of [
	['ky', (token: LocalServer) => ky.extend(kyOAuthHooks(config(token)))],
	['fetch', (token: LocalServer) => oauthFetch(config(token))],
] as const) {
	test(`${name} TokenError when the token endpoint refuses the client`, async t => {
		const s = await servers(t);
		s.token.handle(() => ({status: 401, body: {error: 'invalid_client', error_description: 'unknown client'}}));

		const error = await t.throwsAsync(make(s.token)(s.api.url('/x')), {instanceOf: TokenError});

		assertNoLeak(t, error);
		t.is(s.api.count, 0);
	});
}
