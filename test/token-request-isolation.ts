/*
`tokenRequest` options reach the token endpoint only, and the API instance's options never reach it. (A client certificate, the case that matters most, is in client-authentication.ts.)
*/
import test from 'ava';
import got from 'got';
import {oauthHooks} from '../source/index.js';
import {startApiServer, startTokenEndpoint} from './helpers/local-servers.js';

test('tokenRequest headers go to the token endpoint only, and API headers, query and method never do', async t => {
	const tokenEndpoint = await startTokenEndpoint();
	t.teardown(async () => tokenEndpoint.close());
	const api = await startApiServer();
	t.teardown(async () => api.close());

	const client = got.extend({
		prefixUrl: api.origin,
		headers: {'x-api-only': 'api', 'user-agent': 'api-agent'},
		searchParams: {apiQuery: '1'},
	}, oauthHooks({
		tokenEndpoint: tokenEndpoint.url('/token'),
		clientId: 'client',
		clientSecret: 'secret',
		tokenRequest: {headers: {'x-token-only': 'token', 'user-agent': 'token-agent'}},
	}));

	await client.put('reports', {json: {a: 1}, headers: {'x-per-call': 'call'}});

	const [tokenRequest] = tokenEndpoint.requests;
	t.is(tokenRequest!.method, 'POST');
	t.is(tokenRequest!.path, '/token');
	t.is(tokenRequest!.headers['x-token-only'], 'token');
	t.is(tokenRequest!.headers['user-agent'], 'token-agent');
	t.is(tokenRequest!.headers['x-api-only'], undefined);
	t.is(tokenRequest!.headers['x-per-call'], undefined);
	t.is(tokenRequest!.headers['content-type'], 'application/x-www-form-urlencoded');

	const [apiRequest] = api.requests;
	t.is(apiRequest!.method, 'PUT');
	t.is(apiRequest!.path, '/reports?apiQuery=1');
	t.is(apiRequest!.headers['x-api-only'], 'api');
	t.is(apiRequest!.headers['user-agent'], 'api-agent');
	t.is(apiRequest!.headers['x-token-only'], undefined);
	t.is(apiRequest!.headers.authorization, 'Bearer access-token-1');
});

test('tokenRequest timeout and retry bound the token request only', async t => {
	const tokenEndpoint = await startTokenEndpoint();
	t.teardown(async () => tokenEndpoint.close());
	tokenEndpoint.handle(() => 'hang');
	const api = await startApiServer();
	t.teardown(async () => api.close());

	const client = got.extend({prefixUrl: api.origin, timeout: {request: 5000}, retry: {limit: 3}}, oauthHooks({
		tokenEndpoint: tokenEndpoint.url('/token'),
		clientId: 'client',
		clientSecret: 'secret',
		tokenRequest: {timeout: {request: 1000}, retry: {limit: 0}},
	}));

	const started = performance.now();
	await t.throwsAsync(client('reports'), {name: 'TokenError', message: /Timeout awaiting 'request' for 1000ms/v});
	// Well under the API's own 5 s timeout: the token request's 1 s bounded it.
	t.true(performance.now() - started < 4000);
	t.is(tokenEndpoint.count, 1);
	t.is(api.count, 0);
});
