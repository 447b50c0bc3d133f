import test from 'ava';
import got, {HTTPError} from 'got';
import {oauthHooks, createTokenSource} from '../source/index.js';
import {startApiServer, startTokenEndpoint, type LocalServer} from './helpers/local-servers.js';

type Servers = {token: LocalServer; a: LocalServer; b: LocalServer};

async function servers(): Promise<Servers & {close(): Promise<void>}> {
	const [token, a, b] = await Promise.all([startTokenEndpoint(), startApiServer(), startApiServer()]);
	return {
		token,
		a,
		b,
		async close() {
			await Promise.all([token.close(), a.close(), b.close()]);
		},
	};
}

const config = (token: LocalServer) => ({tokenEndpoint: token.url('/token'), clientId: 'redirect-client', clientSecret: 'redirect-secret'});

const redirect = (status: number, location: string) => ({status, headers: {location}});

type Echo = {path: string; authorization?: string};

for (const status of [301, 302, 303, 307, 308]) {
	test(`${status} to another origin: the token reaches the first origin only`, async t => {
		const s = await servers();
		t.teardown(s.close);
		s.a.handle(request => request.path === '/start' ? redirect(status, s.b.url('/landing')) : undefined);
		const client = got.extend(oauthHooks(config(s.token)));

		// POST with a body: 307/308 keep the method, so the hop is a real resend, not a fresh GET.
		const response = await client.post(s.a.url('/start'), {json: {hello: 'world'}}).json<Echo>();

		t.deepEqual(response, {path: '/landing'});
		t.is(s.a.count, 1);
		t.is(s.a.requests[0]!.headers.authorization, 'Bearer access-token-1');
		t.is(s.b.count, 1);
		t.is(s.b.requests[0]!.headers.authorization, undefined);
		t.false(JSON.stringify(s.b.requests[0]!.headers).includes('access-token'));
		t.is(s.b.requests[0]!.method, status === 307 || status === 308 ? 'POST' : 'GET');
		t.is(s.token.count, 1);
	});
}

test('a redirect to the same origin keeps the token', async t => {
	const s = await servers();
	t.teardown(s.close);
	s.a.handle(request => request.path === '/start' ? redirect(302, '/landing') : undefined);
	const client = got.extend(oauthHooks(config(s.token)));

	const response = await client(s.a.url('/start')).json<Echo>();

	t.deepEqual(response, {path: '/landing', authorization: 'Bearer access-token-1'});
	t.deepEqual(s.a.requests.map(request => [request.path, request.headers.authorization]), [
		['/start', 'Bearer access-token-1'],
		['/landing', 'Bearer access-token-1'],
	]);
	t.is(s.token.count, 1);
});

test('A → B → A: B never sees the token; back on A, where the request started, it is attached again', async t => {
	const s = await servers();
	t.teardown(s.close);
	s.a.handle(request => request.path === '/start' ? redirect(302, s.b.url('/bounce')) : undefined);
	s.b.handle(() => redirect(307, s.a.url('/back')));
	const client = got.extend(oauthHooks(config(s.token)));

	const response = await client(s.a.url('/start')).json<Echo>();

	t.deepEqual(response, {path: '/back', authorization: 'Bearer access-token-1'});
	t.deepEqual(s.a.requests.map(request => [request.path, request.headers.authorization]), [
		['/start', 'Bearer access-token-1'],
		['/back', 'Bearer access-token-1'],
	]);
	t.deepEqual(s.b.requests.map(request => [request.path, request.headers.authorization]), [['/bounce', undefined]]);
	t.is(s.token.count, 1);
});

test('same server, other host name (127.0.0.1 → localhost) is another origin: no token', async t => {
	const s = await servers();
	t.teardown(s.close);
	s.a.handle(request => request.path === '/start' ? redirect(302, `http://localhost:${s.a.port}/landing`) : undefined);
	const client = got.extend(oauthHooks(config(s.token)));

	const response = await client(s.a.url('/start')).json<Echo>();

	t.deepEqual(response, {path: '/landing'});
	t.deepEqual(s.a.requests.map(request => [request.headers.host, request.headers.authorization]), [
		[`127.0.0.1:${s.a.port}`, 'Bearer access-token-1'],
		[`localhost:${s.a.port}`, undefined],
	]);
	t.is(s.token.count, 1);
});

test('a redirect into another allowed origin still carries no token: only the starting origin gets it', async t => {
	const s = await servers();
	t.teardown(s.close);
	s.a.handle(request => request.path === '/start' ? redirect(302, s.b.url('/landing')) : undefined);
	const client = got.extend(oauthHooks({...config(s.token), origins: [s.a.origin, s.b.origin]}));

	await client(s.a.url('/start'));

	t.is(s.a.requests[0]!.headers.authorization, 'Bearer access-token-1');
	t.deepEqual(s.b.requests.map(request => request.headers.authorization), [undefined]);
	t.is(s.token.count, 1);
});

test('a 401 from the other origin after a redirect is not ours: no refresh, no retry', async t => {
	const s = await servers();
	t.teardown(s.close);
	s.a.handle(request => request.path === '/start' ? redirect(302, s.b.url('/landing')) : undefined);
	s.b.handle(() => ({status: 401, headers: {'www-authenticate': 'Bearer error="invalid_token"'}}));
	const client = got.extend(oauthHooks(config(s.token)));

	const error = await t.throwsAsync(client(s.a.url('/start')), {instanceOf: HTTPError});

	t.is(error.response.statusCode, 401);
	t.is(s.a.count, 1);
	t.deepEqual(s.b.requests.map(request => request.headers.authorization), [undefined]);
	t.is(s.token.count, 1);
});

test('origins allow-list: an origin outside it gets no token and causes no token request', async t => {
	const s = await servers();
	t.teardown(s.close);
	const client = got.extend(oauthHooks({...config(s.token), origins: [s.a.url('/any/path')]}));

	const outside = await client(s.b.url('/outside')).json<Echo>();

	t.is(outside.authorization, undefined);
	t.is(s.b.requests[0]!.headers.authorization, undefined);
	t.is(s.token.count, 0);

	// The same instance does authorize the allowed origin, so the list is what kept B out.
	const inside = await client(s.a.url('/inside')).json<Echo>();
	t.is(inside.authorization, 'Bearer access-token-1');
	t.is(s.token.count, 1);
});

test('origins allow-list given next to a TokenSource', async t => {
	const s = await servers();
	t.teardown(s.close);
	const source = createTokenSource(config(s.token));
	const client = got.extend(oauthHooks(source, {origins: [s.a.origin]}));

	await client(s.b.url('/outside'));
	t.is(s.b.requests[0]!.headers.authorization, undefined);
	t.is(s.token.count, 0);

	await client(s.a.url('/inside'));
	t.is(s.a.requests[0]!.headers.authorization, 'Bearer access-token-1');
	t.is(s.token.count, 1);
});

for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer callers-own-token']) {
	test(`a caller's own authorization (${authorization.split(' ', 1)[0]!}) is sent untouched, and its 401 is not retried`, async t => {
		const s = await servers();
		t.teardown(s.close);
		s.a.handle(request => request.path === '/denied' ? {status: 401} : undefined);
		const client = got.extend(oauthHooks(config(s.token)));

		const response = await client(s.a.url('/ok'), {headers: {authorization}}).json<Echo>();
		t.is(response.authorization, authorization);

		const error = await t.throwsAsync(client(s.a.url('/denied'), {headers: {authorization}}), {instanceOf: HTTPError});
		t.is(error.response.statusCode, 401);

		t.deepEqual(s.a.requests.map(request => [request.path, request.headers.authorization]), [
			['/ok', authorization],
			['/denied', authorization],
		]);
		t.is(s.token.count, 0);
	});
}

test('a caller\'s authorization set on the instance is left alone too', async t => {
	const s = await servers();
	t.teardown(s.close);
	const client = got.extend(oauthHooks(config(s.token)), {headers: {authorization: 'Basic aW5zdGFuY2U6cHc='}});

	await client(s.a.url('/'));

	t.is(s.a.requests[0]!.headers.authorization, 'Basic aW5zdGFuY2U6cHc=');
	t.is(s.token.count, 0);
});

test('prefixUrl instance with origins: an absolute URL to another host gets no token', async t => {
	const s = await servers();
	t.teardown(s.close);
	const client = got.extend({prefixUrl: s.a.url('/api/')}, oauthHooks({...config(s.token), origins: [s.a.origin]}));

	const response = await client(s.b.url('/elsewhere')).json<Echo>();

	t.deepEqual(response, {path: '/elsewhere'});
	t.is(s.a.count, 0);
	t.is(s.token.count, 0);

	await client('items');
	t.deepEqual(s.a.requests.map(request => [request.path, request.headers.authorization]), [['/api/items', 'Bearer access-token-1']]);
	t.is(s.token.count, 1);
});

test('prefixUrl instance without origins: an absolute URL to another host gets no token', async t => {
	// The prefixUrl names the API the token is for.
	const s = await servers();
	t.teardown(s.close);
	const client = got.extend({prefixUrl: s.a.url('/api/')}, oauthHooks(config(s.token)));

	await client(s.b.url('/elsewhere'));
	t.is(s.b.requests[0]!.headers.authorization, undefined);
	t.is(s.token.count, 0);

	await client('items');
	await client(s.a.url('/absolute-on-a'));
	t.deepEqual(s.a.requests.map(request => [request.path, request.headers.authorization]), [['/api/items', 'Bearer access-token-1'], ['/absolute-on-a', 'Bearer access-token-1']]);
	t.is(s.token.count, 1);
});
