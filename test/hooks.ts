import {Readable} from 'node:stream';
import test from 'ava';
import got, {HTTPError, RequestError, type Response} from 'got';
import nock from 'nock';
import {oauthHooks, TokenError, ConfigurationError, TokenSource, type OAuthConfig} from '../source/index.js';
import {deferred, fakeClock} from './helpers/fakes.js';

const auth = 'https://auth.example';
const api = 'https://api.example';
const config: OAuthConfig = {tokenEndpoint: `${auth}/token`, clientId: 'client', clientSecret: 'secret', tokenRequest: {retry: {backoffLimit: 1}}};

/** A token endpoint that hands out at-1, at-2, … and counts. */
function tokenEndpoint(options: {expiresIn?: number} = {}) {
	const endpoint = {requests: 0};
	nock(auth).post('/token').times(Infinity).reply(() => {
		endpoint.requests++;
		return [200, {access_token: `at-${endpoint.requests}`, token_type: 'Bearer', expires_in: options.expiresIn ?? 3600}];
	});
	return endpoint;
}

const headerOf = (request: Request, name: string): string | undefined => request.headers.get(name) ?? undefined;
const bearerOf = (request: Request) => headerOf(request, 'authorization');

type Seen = {authorization: string | undefined; body: string; path: string};

/** More refusals of one path than any test needs, with the one 401 retry working. */
const maxRefusalsPerPath = 10;

/**
An API that accepts only the tokens `isAccepted` says yes to, recording each call. Past `maxRefusalsPerPath` refusals of one path it answers 200: a missing loop guard then ends in a wrong count at once, not in a hang until the runner's timeout.
*/
function apiServer(isAccepted: (token: string | undefined) => boolean = () => true) {
	const seen: Seen[] = [];
	const refusals = new Map<string, number>();
	const reply = async (request: Request): Promise<[number, string]> => {
		const authorization = bearerOf(request);
		const {pathname} = new URL(request.url);
		seen.push({authorization, body: await request.text(), path: pathname});
		const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
		const refused = refusals.get(pathname) ?? 0;
		if (isAccepted(token) || refused >= maxRefusalsPerPath) {
			return [200, JSON.stringify({ok: true})];
		}

		refusals.set(pathname, refused + 1);
		return [401, ''];
	};

	const scope = nock(api).persist();
	for (const method of ['get', 'post', 'put'] as const) {
		scope[method](/.*/v).reply(reply);
	}

	return seen;
}

test.before(() => {
	nock.disableNetConnect();
});

test.afterEach.always(() => {
	nock.cleanAll();
});

test.serial('every request carries the cached bearer token; one token request in all', async t => {
	const endpoint = tokenEndpoint();
	const seen = apiServer();
	const client = got.extend({prefixUrl: api}, oauthHooks(config));

	await client('a');
	await client('b');
	await client.post('c', {json: {x: 1}});
	t.deepEqual(seen.map(call => call.authorization), ['Bearer at-1', 'Bearer at-1', 'Bearer at-1']);
	t.is(endpoint.requests, 1);
});

test.serial('instances extended from the same hooks share one token cache', async t => {
	const endpoint = tokenEndpoint();
	apiServer();
	const hooks = oauthHooks(config);
	const first = got.extend({prefixUrl: api}, hooks);
	const second = got.extend({prefixUrl: api, headers: {'x-other': '1'}}, hooks);

	await Promise.all([first('a'), second('b'), first('c'), second('d')]);
	t.is(endpoint.requests, 1);
});

test.serial('separate hooks objects keep separate caches', async t => {
	const endpoint = tokenEndpoint();
	apiServer();
	await got.extend({prefixUrl: api}, oauthHooks(config))('a');
	await got.extend({prefixUrl: api}, oauthHooks(config))('a');
	t.is(endpoint.requests, 2);
});

test.serial('concurrent first requests share one token request', async t => {
	const endpoint = tokenEndpoint();
	const seen = apiServer();
	const client = got.extend({prefixUrl: api}, oauthHooks(config));

	await Promise.all(Array.from({length: 30}, async (_, index) => client(`n${index}`)));
	t.is(endpoint.requests, 1);
	t.is(seen.length, 30);
	t.true(seen.every(call => call.authorization === 'Bearer at-1'));
});

test.serial('a request with its own authorization header is sent untouched, with no token request and no 401 retry', async t => {
	const endpoint = tokenEndpoint();
	const seen = apiServer(() => false);
	const client = got.extend({prefixUrl: api}, oauthHooks(config));

	const response = await client('mine', {headers: {authorization: 'Basic dXNlcjpwYXNz'}, throwHttpErrors: false});
	t.is(response.statusCode, 401);
	t.deepEqual(seen.map(call => call.authorization), ['Basic dXNlcjpwYXNz']);
	t.is(endpoint.requests, 0);
});

test.serial('a 401 invalidates the token and retries once with a new one', async t => {
	const endpoint = tokenEndpoint();
	const seen = apiServer(token => token !== 'at-1');
	const client = got.extend({prefixUrl: api}, oauthHooks(config));

	const response = await client('x').json<{ok: boolean}>();
	t.true(response.ok);
	t.deepEqual(seen.map(call => call.authorization), ['Bearer at-1', 'Bearer at-2']);
	t.is(endpoint.requests, 2);
});

test.serial('50 in-flight requests failing with the same stale token cause one token request', async t => {
	const endpoint = tokenEndpoint();
	const seen = apiServer(token => token !== 'at-1');
	const client = got.extend({prefixUrl: api}, oauthHooks(config));

	const responses = await Promise.all(Array.from({length: 50}, async (_, index) => client(`n${index}`)));
	t.true(responses.every(response => response.statusCode === 200));
	t.is(endpoint.requests, 2);
	t.is(seen.filter(call => call.authorization === 'Bearer at-1').length, 50);
	t.is(seen.filter(call => call.authorization === 'Bearer at-2').length, 50);
});

test.serial('a 401 for a token already replaced does not throw the new one away', async t => {
	const endpoint = tokenEndpoint();
	const seen: Array<[string, string | undefined]> = [];
	const arrived = deferred<void>();
	const release = deferred<void>();
	const refuseAt1 = (path: string) => async (request: Request): Promise<[number, string]> => {
		const authorization = bearerOf(request);
		seen.push([path, authorization]);
		if (path === 'slow' && authorization === 'Bearer at-1') {
			arrived.resolve();
			await release.promise;
		}

		return authorization === 'Bearer at-1' ? [401, ''] : [200, 'ok'];
	};

	nock(api).get('/slow').times(2).reply(refuseAt1('slow'));
	nock(api).get('/fast').times(2).reply(refuseAt1('fast'));
	const client = got.extend({prefixUrl: api}, oauthHooks(config));

	// The slow request goes out with at-1; its 401 is held back.
	const slow = client('slow');
	await arrived.promise;
	// Meanwhile another request's 401 moves the cache on to at-2.
	t.is(await client('fast').text(), 'ok');
	t.is(endpoint.requests, 2);

	// The slow 401 names at-1, which is no longer cached: at-2 stays, and the retry uses it.
	release.resolve();
	t.is(await slow.text(), 'ok');
	t.is(endpoint.requests, 2);
	t.deepEqual(seen, [['slow', 'Bearer at-1'], ['fast', 'Bearer at-1'], ['fast', 'Bearer at-2'], ['slow', 'Bearer at-2']]);
});

test.serial('a second 401 reaches the caller as an HTTPError, after exactly one retry', async t => {
	const endpoint = tokenEndpoint();
	const seen = apiServer(() => false);
	const client = got.extend({prefixUrl: api}, oauthHooks(config));

	const error = await t.throwsAsync(client('x'), {instanceOf: HTTPError});
	t.is(error.response.statusCode, 401);
	t.is(seen.length, 2);
	t.is(endpoint.requests, 2);
});

test.serial('an API that refuses every token gets exactly 2 requests per call, however many calls', async t => {
	const endpoint = tokenEndpoint();
	const seen = apiServer(() => false);
	const client = got.extend({prefixUrl: api, throwHttpErrors: false}, oauthHooks(config));

	const responses = await Promise.all(['a', 'b', 'c'].map(async path => client(path)));
	for (const path of ['/a', '/b', '/c']) {
		t.is(seen.filter(call => call.path === path).length, 2, `requests to ${path}`);
	}

	t.is(seen.length, 6);
	t.deepEqual(responses.map(response => response.statusCode), [401, 401, 401]);
	t.is(endpoint.requests, 2);
});

test.serial('with throwHttpErrors false, the second 401 is returned as the response', async t => {
	tokenEndpoint();
	const seen = apiServer(() => false);
	const client = got.extend({prefixUrl: api, throwHttpErrors: false}, oauthHooks(config));

	const response = await client('x');
	t.is(response.statusCode, 401);
	t.is(seen.length, 2);
});

test.serial('no loop when the hooks are applied twice', async t => {
	const endpoint = tokenEndpoint();
	const seen = apiServer(() => false);
	const hooks = oauthHooks(config);
	const client = got.extend({prefixUrl: api}, hooks, hooks);

	await t.throwsAsync(client('x'), {instanceOf: HTTPError});
	t.is(seen.length, 2);
	t.is(endpoint.requests, 2);
});

test.serial('no loop beside a caller hook that itself retries with preserveHooks', async t => {
	tokenEndpoint();
	const seen = apiServer(() => false);
	const client = got.extend({prefixUrl: api}, oauthHooks(config), {
		hooks: {
			afterResponse: [
				(response, retry) =>
					// A caller's own guarded retry; ours must not multiply with it.
					response.statusCode === 401 && response.request.options.context.mine !== true ? retry({context: {mine: true}, preserveHooks: true}) : response,
			],
		},
	});

	await t.throwsAsync(client('x'), {instanceOf: HTTPError});
	t.true(seen.length <= 4);
	t.true(seen.length >= 2);
});

const bodies: Array<[string, Record<string, unknown>, string]> = [
	['json', {json: {a: 1, b: 'two'}}, '{"a":1,"b":"two"}'],
	['form', {form: {a: '1', b: 'two words'}}, 'a=1&b=two+words'],
	['string', {body: 'plain text'}, 'plain text'],
	['Buffer', {body: Buffer.from('bytes \u{E9}')}, 'bytes \u{E9}'],
	['Uint8Array', {body: new TextEncoder().encode('uint8')}, 'uint8'],
];

for (const [name, options, expected] of bodies) {
	test.serial(`a ${name} body is sent again intact on the 401 retry`, async t => {
		tokenEndpoint();
		const seen = apiServer(token => token !== 'at-1');
		const client = got.extend({prefixUrl: api}, oauthHooks(config));

		await client.post('upload', options);
		t.is(seen.length, 2);
		t.is(seen[0]!.body, expected);
		t.is(seen[1]!.body, expected);
	});
}

test.serial('a stream body is not retried: the 401 reaches the caller as is', async t => {
	const endpoint = tokenEndpoint();
	const seen = apiServer(token => token !== 'at-1');
	const client = got.extend({prefixUrl: api}, oauthHooks(config));

	const error = await t.throwsAsync(client.post('upload', {body: Readable.from(['chunk'])}), {instanceOf: HTTPError});
	t.is(error.response.statusCode, 401);
	t.is(seen.length, 1);
	t.is(endpoint.requests, 1);
});

// The Web streams twin of the Node Readable case: got cannot send these twice either.
const webStreams: Array<[string, () => ReadableStream<Uint8Array>]> = [
	['Web ReadableStream', () => new ReadableStream({
		start(controller) {
			controller.enqueue(new TextEncoder().encode('chunk'));
			controller.close();
		},
	})],
	['Blob().stream()', () => new Blob(['chunk']).stream()],
];

for (const [name, body] of webStreams) {
	test.serial(`a ${name} body is not retried: the 401 reaches the caller as is`, async t => {
		const endpoint = tokenEndpoint();
		const seen = apiServer(token => token !== 'at-1');
		const client = got.extend({prefixUrl: api}, oauthHooks(config));

		const error = await t.throwsAsync(client.post('upload', {body: body()}), {instanceOf: HTTPError});
		t.is(error.response.statusCode, 401);
		t.is(seen.length, 1);
		t.is(seen[0]!.body, 'chunk');
		t.is(endpoint.requests, 1);
	});
}

test.serial('got.stream requests carry the token', async t => {
	tokenEndpoint();
	const seen = apiServer();
	const client = got.extend({prefixUrl: api}, oauthHooks(config));

	const chunks: Uint8Array[] = [];
	for await (const chunk of client.stream('streamed')) {
		chunks.push(chunk as Uint8Array);
	}

	t.is(Buffer.concat(chunks).toString(), '{"ok":true}');
	t.is(seen[0]!.authorization, 'Bearer at-1');
});

test.serial('when no token can be had, the API request is never sent and the caller gets a TokenError', async t => {
	nock(auth).post('/token').reply(401, {error: 'invalid_client', error_description: 'unknown client'});
	const seen = apiServer();
	const client = got.extend({prefixUrl: api}, oauthHooks(config));

	const error = await t.throwsAsync(client('x'), {instanceOf: TokenError});
	t.true(error instanceof RequestError);
	t.is(error.error, 'invalid_client');
	t.is(error.statusCode, 401);
	t.is(error.options.url?.toString(), `${api}/x`);
	t.is(seen.length, 0);
});

test.serial('a TokenError is not retried by the API request\'s own retry policy', async t => {
	let tokenRequests = 0;
	nock(auth).post('/token').times(Infinity).reply(() => {
		tokenRequests++;
		return [503, ''];
	});
	const seen = apiServer();
	const client = got.extend({prefixUrl: api, retry: {limit: 4, backoffLimit: 1}}, oauthHooks(config));

	const error = await t.throwsAsync(client('x'), {instanceOf: TokenError});
	t.is(error.statusCode, 503);
	// The token request's own retries (2), not multiplied by the API's (4).
	t.is(tokenRequests, 3);
	t.is(seen.length, 0);
});

test.serial('during the cool-down after a failure, requests fail at once with it, bound to their own request', async t => {
	let tokenRequests = 0;
	nock(auth).post('/token').times(Infinity).reply(() => {
		tokenRequests++;
		return [400, {error: 'invalid_client'}];
	});
	const seen = apiServer();
	const clock = fakeClock();
	const client = got.extend({prefixUrl: api}, oauthHooks({...config, clock}));

	const first = await t.throwsAsync(client('one'), {instanceOf: TokenError});
	const second = await t.throwsAsync(client('two'), {instanceOf: TokenError});
	t.is(tokenRequests, 1);
	t.is(second.error, 'invalid_client');
	t.not(first, second);
	t.is(String(second.options.url), `${api}/two`);

	clock.advance(1000);
	await t.throwsAsync(client('three'), {instanceOf: TokenError});
	t.is(tokenRequests, 2);
	t.is(seen.length, 0);
});

test.serial('every concurrent waiter gets its own TokenError bound to its own request', async t => {
	nock(auth).post('/token').reply(400, {error: 'invalid_scope'});
	apiServer();
	const client = got.extend({prefixUrl: api}, oauthHooks(config));

	const results = await Promise.allSettled([client('one'), client('two')]);
	const [one, two] = results.map(result => (result as PromiseRejectedResult).reason as TokenError);
	t.true(one instanceof TokenError && two instanceof TokenError);
	t.not(one, two);
	t.is(String(one!.options.url), `${api}/one`);
	t.is(String(two!.options.url), `${api}/two`);
	t.is(one!.error, 'invalid_scope');
});

test.serial('the next request after a failed token request and its cool-down tries again', async t => {
	nock(auth).post('/token').reply(400, {error: 'temporarily_unavailable'});
	const endpoint = tokenEndpoint();
	apiServer();
	const client = got.extend({prefixUrl: api}, oauthHooks({...config, coolDown: 0}));

	await t.throwsAsync(client('x'), {instanceOf: TokenError});
	const response = await client('x');
	t.is(response.statusCode, 200);
	t.is(endpoint.requests, 1);
});

test.serial('got\'s own 5xx retry resends the token without a new token request', async t => {
	const endpoint = tokenEndpoint();
	const seen: Array<string | undefined> = [];
	nock(api).get('/flaky').reply((request: Request) => {
		seen.push(bearerOf(request));
		return [503, ''];
	}).get('/flaky').reply((request: Request) => {
		seen.push(bearerOf(request));
		return [200, 'ok'];
	});
	const client = got.extend({prefixUrl: api, retry: {limit: 2, backoffLimit: 1}}, oauthHooks(config));

	t.is(await client('flaky').text(), 'ok');
	t.deepEqual(seen, ['Bearer at-1', 'Bearer at-1']);
	t.is(endpoint.requests, 1);
});

test.serial('got.paginate authorizes every page', async t => {
	const endpoint = tokenEndpoint();
	const seen: Array<string | undefined> = [];
	for (const page of [1, 2, 3]) {
		nock(api).get('/items').query({page}).reply((request: Request) => {
			seen.push(bearerOf(request));
			const link = page < 3 ? {link: `<${api}/items?page=${page + 1}>; rel="next"`} : {};
			return [200, JSON.stringify([page]), link];
		});
	}

	const client = got.extend({prefixUrl: api}, oauthHooks(config));
	const items = await client.paginate.all<number>('items', {searchParams: {page: 1}});
	t.deepEqual(items, [1, 2, 3]);
	t.deepEqual(seen, ['Bearer at-1', 'Bearer at-1', 'Bearer at-1']);
	t.is(endpoint.requests, 1);
});

test.serial('each page of got.paginate gets its own 401 retry', async t => {
	const endpoint = tokenEndpoint();
	const seen: Array<string | undefined> = [];
	const replyFor = (page: number) => (request: Request): [number, string, Record<string, string>] => {
		const authorization = bearerOf(request);
		seen.push(authorization);
		// Each page revokes the token it sees first.
		return authorization === `Bearer at-${page}` ? [401, '', {}] : [200, JSON.stringify([page]), page < 2 ? {link: `<${api}/items?page=${page + 1}>; rel="next"`} : {}];
	};

	nock(api).get('/items').query({page: 1}).times(2).reply(replyFor(1));
	nock(api).get('/items').query({page: 2}).times(2).reply(replyFor(2));

	const client = got.extend({prefixUrl: api}, oauthHooks(config));
	const items = await client.paginate.all<number>('items', {searchParams: {page: 1}});
	t.deepEqual(items, [1, 2]);
	t.deepEqual(seen, ['Bearer at-1', 'Bearer at-2', 'Bearer at-2', 'Bearer at-3']);
	t.is(endpoint.requests, 3);
});

test.serial('the caller\'s own afterResponse hooks see the final response after our retry, in any extend order', async t => {
	tokenEndpoint();
	apiServer(token => token !== 'at-1');
	const statusesBefore: number[] = [];
	const statusesAfter: number[] = [];
	const recorder = (statuses: number[]) => ({
		hooks: {
			afterResponse: [
				(response: Response) => {
					statuses.push(response.statusCode);
					return response;
				},
			],
		},
	});

	const client = got.extend({prefixUrl: api}, recorder(statusesBefore), oauthHooks(config), recorder(statusesAfter));
	const response = await client('x');
	t.is(response.statusCode, 200);
	t.is(statusesBefore.at(-1), 200);
	t.is(statusesAfter.at(-1), 200);
	t.false(statusesAfter.includes(401));
});

test.serial('works beside other beforeRequest hooks, before or after ours', async t => {
	tokenEndpoint();
	const seen: Array<[string | undefined, string | undefined]> = [];
	nock(api).get('/x').times(2).reply((request: Request) => {
		seen.push([bearerOf(request), headerOf(request, 'x-trace')]);
		return [200, 'ok'];
	});
	const tracing = {
		hooks: {
			beforeRequest: [
				(options: {headers: Record<string, string | string[] | undefined>}) => {
					options.headers['x-trace'] = 'abc';
				},
			],
		},
	};

	const hooks = oauthHooks(config);
	await got.extend({prefixUrl: api}, tracing, hooks)('x');
	await got.extend({prefixUrl: api}, hooks, tracing)('x');
	t.deepEqual(seen, [['Bearer at-1', 'abc'], ['Bearer at-1', 'abc']]);
});

test.serial('a token source can be passed in place of a configuration', async t => {
	let fetches = 0;
	const source = new TokenSource({
		async fetchToken() {
			fetches++;
			return {accessToken: 'custom-token', tokenType: 'Bearer', expiresIn: 60};
		},
	});
	const seen = apiServer();
	const client = got.extend({prefixUrl: api}, oauthHooks(source));

	await client('a');
	t.is(await source.getToken(), 'custom-token');
	t.is(seen[0]!.authorization, 'Bearer custom-token');
	t.is(fetches, 1);
});

test('bad origins are named', t => {
	t.throws(() => oauthHooks({...config, origins: 'https://api.example' as never}), {instanceOf: ConfigurationError, message: /`origins` must be an array/v});
	t.throws(() => oauthHooks(config, {origins: ['not a url']}), {instanceOf: ConfigurationError, message: /`origins` is not an absolute URL/v});
});

test('something that is neither a configuration nor a token source is named', t => {
	t.throws(() => oauthHooks(undefined as never), {instanceOf: TypeError, message: /configuration object or a TokenSource/v});
});
