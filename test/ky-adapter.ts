/*
What only the ky adapter has to get right: ky's own retries, timeouts, errors and hooks around the one `init` hook that wraps `fetch`. Real ky against plain HTTP servers on loopback.
*/
import {performance} from 'node:perf_hooks';
import test, {type ExecutionContext} from 'ava';
import ky, {HTTPError, TimeoutError, replaceOption} from 'ky';
import {kyOAuthHooks, ConfigurationError, TokenError, createTokenSource} from '../source/ky/index.js';
import {statusOf} from './helpers/adapters.js';
import {deferred} from './helpers/fakes.js';
import {startApiServer, startTokenEndpoint, type LocalServer} from './helpers/local-servers.js';

type Servers = {token: LocalServer; a: LocalServer; b: LocalServer};

async function servers(t: ExecutionContext): Promise<Servers> {
	const [token, a, b] = await Promise.all([startTokenEndpoint(), startApiServer(), startApiServer()]);
	t.teardown(async () => Promise.all([token.close(), a.close(), b.close()]));
	return {token, a, b};
}

const config = (token: LocalServer) => ({tokenEndpoint: token.url('/token'), clientId: 'ky-client', clientSecret: 'ky-secret'});

const refuse = {status: 401, headers: {'www-authenticate': 'Bearer error="invalid_token"'}};

const refusingFirstToken = (request: {headers: {authorization?: string}}) => request.headers.authorization === 'Bearer access-token-1' ? refuse : undefined;

const authorizations = (server: LocalServer) => server.requests.map(request => request.headers.authorization);

const noDelay = () => 0;

test('the one 401 retry happens with ky\'s retries off', async t => {
	const s = await servers(t);
	s.a.handle(refusingFirstToken);
	const api = ky.create({prefix: s.a.origin, retry: 0}).extend(kyOAuthHooks(config(s.token)));

	t.deepEqual(await api('x').json(), {path: '/x', authorization: 'Bearer access-token-2'});
	t.is(s.a.count, 2);
});

test('an API that refuses every token: exactly 2 requests and an HTTPError, whatever ky\'s retry limit', async t => {
	const s = await servers(t);
	s.a.handle(() => refuse);
	const api = ky.create({prefix: s.a.origin, retry: {limit: 3, delay: noDelay}}).extend(kyOAuthHooks(config(s.token)));

	const error = await t.throwsAsync(api('x'), {instanceOf: HTTPError});

	t.is(error.response.status, 401);
	t.is(s.a.count, 2);
	t.is(s.token.count, 2);
});

test('a caller who has ky retry 401s gets ky\'s retries on top of ours, with no further token requests', async t => {
	const s = await servers(t);
	s.a.handle(() => refuse);
	const api = ky.create({prefix: s.a.origin, retry: {limit: 2, statusCodes: [401], delay: noDelay}}).extend(kyOAuthHooks(config(s.token)));

	await t.throwsAsync(api('x'), {instanceOf: HTTPError});

	// Ours: 2 (one retry). ky's: one more per retry, each with the current token and no invalidation.
	t.is(s.a.count, 4);
	t.deepEqual(authorizations(s.a), ['Bearer access-token-1', 'Bearer access-token-2', 'Bearer access-token-2', 'Bearer access-token-2']);
	t.is(s.token.count, 2);
});

test('ky\'s own 5xx retry after our 401 retry carries the new token', async t => {
	const s = await servers(t);
	s.a.handle((request, index) => index === 1 ? {status: 503} : refusingFirstToken(request));
	const api = ky.create({prefix: s.a.origin, retry: {limit: 1, delay: noDelay}}).extend(kyOAuthHooks(config(s.token)));

	t.deepEqual(await api('x').json(), {path: '/x', authorization: 'Bearer access-token-2'});
	t.deepEqual(authorizations(s.a), ['Bearer access-token-1', 'Bearer access-token-2', 'Bearer access-token-2']);
	t.is(s.token.count, 2);
});

test('ky\'s own 5xx retry resends the token without a token request', async t => {
	const s = await servers(t);
	s.a.handle((_request, index) => index === 0 ? {status: 503} : undefined);
	const api = ky.create({prefix: s.a.origin, retry: {limit: 1, delay: noDelay}}).extend(kyOAuthHooks(config(s.token)));

	await api('x');

	t.deepEqual(authorizations(s.a), ['Bearer access-token-1', 'Bearer access-token-1']);
	t.is(s.token.count, 1);
});

test('ky\'s timeout covers the wait for a token: TimeoutError, and the API gets nothing', async t => {
	const s = await servers(t);
	const arrived = deferred<void>();
	s.token.handle(() => {
		arrived.resolve();
		return 'hang';
	});
	const api = ky.create({prefix: s.a.origin, timeout: 100, retry: 0}).extend(kyOAuthHooks(config(s.token)));

	const started = performance.now();
	await t.throwsAsync(api('x'), {instanceOf: TimeoutError});
	const elapsed = performance.now() - started;

	t.true(elapsed < 1000, `timed out after ${elapsed} ms`);
	// The token request goes on for other callers; this one has sent nothing.
	await arrived.promise;
	t.is(s.token.count, 1);
	t.is(s.a.count, 0);
});

test('a TokenError is not retried under ky\'s retry policy, and the caller\'s beforeError hook sees it', async t => {
	const s = await servers(t);
	s.token.handle(() => ({status: 400, body: {error: 'invalid_client'}}));
	const seen: string[] = [];
	const api = ky.create({
		prefix: s.a.origin,
		retry: {limit: 2, delay: noDelay},
		hooks: {
			beforeError: [({error}) => {
				seen.push(error.name);
				return error;
			}],
		},
	}).extend(kyOAuthHooks(config(s.token)));

	const error = await t.throwsAsync(api('x'), {instanceOf: TokenError});

	t.is(error.error, 'invalid_client');
	t.deepEqual(seen, ['TokenError']);
	t.is(s.token.count, 1);
	t.is(s.a.count, 0);
});

test('the caller\'s hooks never see the token, and their afterResponse sees only the final response', async t => {
	const s = await servers(t);
	s.a.handle(refusingFirstToken);
	const seenByHooks: Array<string | undefined> = [];
	const statuses: number[] = [];
	const api = ky.create({
		prefix: s.a.origin,
		hooks: {
			beforeRequest: [({request}) => {
				seenByHooks.push(request.headers.get('authorization') ?? undefined);
			}],
			afterResponse: [({request, response}) => {
				seenByHooks.push(request.headers.get('authorization') ?? undefined);
				statuses.push(response.status);
			}],
		},
	}).extend(kyOAuthHooks(config(s.token)));

	await api('x');

	t.deepEqual(seenByHooks, [undefined, undefined]);
	t.deepEqual(statuses, [200]);
	t.deepEqual(authorizations(s.a), ['Bearer access-token-1', 'Bearer access-token-2']);
});

test('the HTTPError of a second 401 holds ky\'s request, without the token', async t => {
	const s = await servers(t);
	s.a.handle(() => refuse);
	const api = ky.extend(kyOAuthHooks(config(s.token)));

	const error = await t.throwsAsync(api(s.a.url('/x')), {instanceOf: HTTPError});

	t.is(error.request.headers.get('authorization'), null);
	t.is(error.response.status, 401);
});

test('a caller\'s beforeRetry that points the retry at another origin sends no token there', async t => {
	const s = await servers(t);
	s.a.handle(() => ({status: 503}));
	const api = ky.create({
		prefix: s.a.origin,
		retry: {limit: 1, delay: noDelay},
		hooks: {
			beforeRetry: [({request}) => new Request(s.b.url('/elsewhere'), request)],
		},
	}).extend(kyOAuthHooks(config(s.token)));

	t.deepEqual(await api('x').json(), {path: '/elsewhere'});
	t.deepEqual(authorizations(s.a), ['Bearer access-token-1']);
	t.deepEqual(authorizations(s.b), [undefined]);
});

test('a json body is sent again intact on the 401 retry, and .json() still asks for JSON', async t => {
	const s = await servers(t);
	s.a.handle(refusingFirstToken);
	const api = ky.create({prefix: s.a.origin}).extend(kyOAuthHooks(config(s.token)));

	await api.post('upload', {json: {a: 1, b: 'two'}}).json();

	t.deepEqual(s.a.requests.map(request => request.body), ['{"a":1,"b":"two"}', '{"a":1,"b":"two"}']);
	t.deepEqual(s.a.requests.map(request => request.headers['content-type']), ['application/json', 'application/json']);
	t.deepEqual(s.a.requests.map(request => request.headers.accept), ['application/json', 'application/json']);
});

test('the caller\'s fetch is the one that sends, per request or per instance, with the token', async t => {
	const s = await servers(t);
	const used: string[] = [];
	const counting = (label: string) => async (input: string | URL | Request, init?: RequestInit) => {
		used.push(`${label}:${(input as Request).headers.get('authorization') ?? 'none'}`);
		return fetch(input, init);
	};

	const api = ky.create({prefix: s.a.origin, fetch: counting('instance')}).extend(kyOAuthHooks(config(s.token)));
	await api('one');
	await api('two', {fetch: counting('request')});
	await ky.extend(kyOAuthHooks(config(s.token))).extend({fetch: counting('after')})(s.a.url('/three'));

	t.deepEqual(used, ['instance:Bearer access-token-1', 'request:Bearer access-token-1', 'after:Bearer access-token-2']);
	t.is(s.a.count, 3);
});

test('the prefix names the API: without a list, a URL to another origin gets no token, even first', async t => {
	const s = await servers(t);
	const api = ky.create({prefix: s.a.url('/api/')}).extend(kyOAuthHooks(config(s.token)));

	// ky joins the prefix to every string input, so only a URL or Request input can name another origin.
	const elsewhere = new URL(s.b.url('/elsewhere'));
	t.deepEqual(await api(elsewhere).json(), {path: '/elsewhere'});
	t.is(s.token.count, 0);

	t.deepEqual(await api('items').json(), {path: '/api/items', authorization: 'Bearer access-token-1'});
});

test('so does the baseUrl, and a relative prefix resolved against it', async t => {
	const s = await servers(t);
	for (const options of [{baseUrl: s.a.url('/v1/')}, {baseUrl: s.a.origin, prefix: '/v2'}]) {
		const api = ky.create(options).extend(kyOAuthHooks(config(s.token)));

		await api(new URL(s.b.url('/elsewhere')));
		await api('items');
	}

	t.deepEqual(authorizations(s.b), [undefined, undefined]);
	t.deepEqual(s.a.requests.map(request => [request.path, request.headers.authorization]), [
		['/v1/items', 'Bearer access-token-1'],
		['/v2/items', 'Bearer access-token-2'],
	]);
});

test('a relative baseUrl names no origin: the first request pins one', async t => {
	const s = await servers(t);
	const api = ky.create({baseUrl: '/relative/'}).extend(kyOAuthHooks(config(s.token)));

	await api(s.a.url('/first'));
	await api(s.b.url('/second'));

	t.deepEqual(authorizations(s.a), ['Bearer access-token-1']);
	t.deepEqual(authorizations(s.b), [undefined]);
});

test('the hooks applied twice still make one retry', async t => {
	const s = await servers(t);
	s.a.handle(() => refuse);
	const hooks = kyOAuthHooks(config(s.token));
	const api = ky.create({prefix: s.a.origin, throwHttpErrors: false}).extend(hooks).extend(hooks);

	t.is(await statusOf(api('x')), 401);
	t.is(s.a.count, 2);
	t.is(s.token.count, 2);
});

test('a per-request hooks list of another kind leaves the adapter in place', async t => {
	const s = await servers(t);
	const api = ky.create({prefix: s.a.origin}).extend(kyOAuthHooks(config(s.token)));

	t.deepEqual(await api('x', {hooks: {beforeRequest: undefined}}).json(), {path: '/x', authorization: 'Bearer access-token-1'});
});

test('removing the hooks fails closed: no token is sent at all', async t => {
	const s = await servers(t);
	const api = ky.create({prefix: s.a.origin}).extend(kyOAuthHooks(config(s.token)));

	await api('replaced', {hooks: replaceOption({})});
	await api('no-init', {hooks: {init: undefined}});
	await api.create({prefix: s.a.origin})('created');
	await api('later-fetch', {hooks: {init: [options => {
		options.fetch = fetch;
	}]}});

	t.deepEqual(authorizations(s.a), [undefined, undefined, undefined, undefined]);
	t.is(s.token.count, 0);
});

test('shares a token source with other ky instances', async t => {
	const s = await servers(t);
	const source = createTokenSource(config(s.token));
	const first = ky.create({prefix: s.a.origin}).extend(kyOAuthHooks(source));
	const second = ky.create({prefix: s.a.origin, headers: {'x-other': '1'}}).extend(kyOAuthHooks(source));

	await Promise.all([first('a'), second('b'), first('c')]);

	t.is(s.token.count, 1);
});

test('bad arguments are named before any request', t => {
	t.throws(() => kyOAuthHooks('https://auth.example/token' as never), {instanceOf: ConfigurationError, message: /`config` must be a configuration object or a TokenSource, got string/v});
	t.throws(() => kyOAuthHooks({tokenEndpoint: 'https://auth.example/token', clientId: 'id', clientSecret: 'secret'}, {origins: ['localhost:3000']}), {instanceOf: ConfigurationError, message: /`origins`/v});
	t.throws(() => kyOAuthHooks({tokenEndpoint: 'https://auth.example/token', clientId: 'id', clientSecret: 'secret'}, null as never), {instanceOf: ConfigurationError, message: /`options` must be an object, got null/v});
	t.throws(() => kyOAuthHooks({tokenEndpoint: 'https://auth.example/token', clientId: 'id'}), {instanceOf: ConfigurationError, message: /clientSecret/v});
});
