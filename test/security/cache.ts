/*
got's `cache` option applies shared-cache rules (RFC 9111 §3.5): a response to an authorized request is not served to anyone else unless it says `public`. The token never enters got's options, so the cache must still learn that the request was authorized; and the token itself must never be stored.
*/
import {inspect} from 'node:util';
import test from 'ava';
import got from 'got';
import {oauthHooks} from '../../source/index.js';
import {startTokenEndpoint} from '../helpers/local-servers.js';
import {startRouteServer, type Echo} from '../helpers/security.js';

test('a cacheable response to an authorized request is not served from a shared cache to a request without a token, and the token is never stored', async t => {
	const [token, api] = await Promise.all([startTokenEndpoint({prefix: 'CaChEd-token'}), startRouteServer()]);
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	const cache = new Map<string, unknown>();
	const client = got.extend({prefixUrl: api.origin, cache}, oauthHooks({tokenEndpoint: token.url('/token'), clientId: 'cache-client', clientSecret: 'cache-secret'}));

	const authorized = await client('cacheable').json<Echo>();
	const anonymous = await got(api.url('/cacheable'), {cache});

	t.is(authorized.authorization, 'Bearer CaChEd-token-1');
	t.false(anonymous.isFromCache);
	t.is((JSON.parse(anonymous.body) as Echo).authorization, undefined);
	t.deepEqual(api.seen.map(request => request.authorization), ['Bearer CaChEd-token-1', undefined]);
	t.false(inspect(cache, {depth: Infinity, maxStringLength: Infinity}).includes('CaChEd-token'));
});

test('with the cache option, every request still carries the token, and a 401 is still retried with a fresh one', async t => {
	const [token, api] = await Promise.all([startTokenEndpoint(), startRouteServer()]);
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	const client = got.extend({prefixUrl: api.origin, cache: new Map()}, oauthHooks({tokenEndpoint: token.url('/token'), clientId: 'cache-client', clientSecret: 'cache-secret'}));

	await client('echo');
	const error = await t.throwsAsync(client('401'));

	t.is((error as {response?: {statusCode: number}}).response?.statusCode, 401);
	t.deepEqual(api.seen.map(request => [request.path, request.authorization]), [
		['/echo', 'Bearer access-token-1'],
		['/401', 'Bearer access-token-1'],
		['/401', 'Bearer access-token-2'],
	]);
});
