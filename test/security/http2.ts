/*
got's `http2: true` goes through its own HTTP/2 client, with its own request object: the token still goes to the request's origin only, the 401 retry still works, and the copies of the header got and Node keep are wiped once sent (errors.ts checks the errors).
*/
import test, {type ExecutionContext} from 'ava';
import got, {HTTPError, type Got} from 'got';
import {oauthHooks} from '../../source/index.js';
import {startTokenEndpoint, type LocalServer} from '../helpers/local-servers.js';
import {startRouteServer, testCa, type Echo, type RouteServer} from '../helpers/security.js';

async function setup(t: ExecutionContext): Promise<{token: LocalServer; a: RouteServer; b: RouteServer; client: Got}> {
	const [token, a, b] = await Promise.all([startTokenEndpoint(), startRouteServer('http2'), startRouteServer('http2')]);
	t.teardown(async () => Promise.all([token.close(), a.close(), b.close()]));
	const hooks = oauthHooks({tokenEndpoint: token.url('/token'), clientId: 'h2-client', clientSecret: 'h2-secret'});
	const client = got.extend({prefixUrl: a.origin, http2: true, https: {certificateAuthority: testCa()}}, hooks);
	return {token, a, b, client};
}

test('HTTP/2: every request carries the token; a 401 is retried once with a fresh one', async t => {
	const {token, a, client} = await setup(t);

	const response = await client('echo');
	const error = await t.throwsAsync(client('401'), {instanceOf: HTTPError});

	t.is(response.httpVersion, '2.0');
	t.is(error.response.statusCode, 401);
	t.deepEqual(a.seen.map(request => [request.path, request.authorization]), [
		['/echo', 'Bearer access-token-1'],
		['/401', 'Bearer access-token-1'],
		['/401', 'Bearer access-token-2'],
	]);
	t.is(token.count, 2);
});

test('HTTP/2: a redirect to another origin leaves the token behind', async t => {
	const {a, b, client} = await setup(t);

	await client(`redirect?to=${encodeURIComponent(b.url('/echo'))}`);

	t.deepEqual(a.seen.map(request => request.authorization), ['Bearer access-token-1']);
	t.deepEqual(b.seen.map(request => request.authorization), [undefined]);
});

test('HTTP/2: the request object got returns keeps no copy of the token once it is sent', async t => {
	const {client} = await setup(t);

	const response = await client('echo');
	const {req} = response as unknown as {req: {headers?: Record<string, unknown>; stream?: {sentHeaders?: Record<string, unknown>}}};

	t.is((JSON.parse(response.body) as Echo).authorization, 'Bearer access-token-1');
	t.truthy(req.headers);
	t.is(req.headers!.authorization, undefined);
	t.is(req.stream?.sentHeaders?.authorization, undefined);
});
