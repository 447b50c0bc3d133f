/*
The guarantees of the got hooks, on the ky and the fetch adapter alike: real ky, Node.js's global fetch (undici), and plain HTTP servers on loopback. Each test runs once per adapter and starts its own servers, so counts are its own.
*/
import {performance} from 'node:perf_hooks';
import process from 'node:process';
import test from 'ava';
import type {FetchFunction} from '../source/fetch/index.js';
import {ConfigurationError, TokenError, TokenSource, createTokenSource} from '../source/index.js';
import {adapters, jsonOf, statusOf} from './helpers/adapters.js';
import {deferred, settle} from './helpers/fakes.js';
import {closedPort, startApiServer, startTokenEndpoint, tokenReply, type LocalServer} from './helpers/local-servers.js';

type Servers = {token: LocalServer; a: LocalServer; b: LocalServer};

async function servers(t: {teardown(fn: () => Promise<unknown>): void}): Promise<Servers> {
	const [token, a, b] = await Promise.all([startTokenEndpoint(), startApiServer(), startApiServer()]);
	t.teardown(async () => Promise.all([token.close(), a.close(), b.close()]));
	return {token, a, b};
}

const config = (token: LocalServer) => ({tokenEndpoint: token.url('/token'), clientId: 'adapter-client', clientSecret: 'adapter-secret'});

const refuse = {status: 401, headers: {'www-authenticate': 'Bearer error="invalid_token"'}};

/** An API that refuses `access-token-1` and accepts any other. */
const refusingFirstToken = (request: {headers: {authorization?: string}}) => request.headers.authorization === 'Bearer access-token-1' ? refuse : undefined;

const authorizations = (server: LocalServer) => server.requests.map(request => request.headers.authorization);

const redirect = (status: number, location: string) => ({status, headers: {location}});

for (const adapter of adapters) {
	const {name} = adapter;

	test(`${name}: a DPoP configuration or token source is refused at setup: a DPoP-bound token sent without a proof fails every call`, t => {
		const settings = {tokenEndpoint: 'https://auth.example.com/token', clientId: 'adapter-client', clientSecret: 'adapter-secret', dpop: true} as const;
		for (const configOrSource of [settings, createTokenSource(settings)]) {
			const error = t.throws(() => adapter.client(configOrSource), {instanceOf: ConfigurationError});
			t.is(error?.option, 'dpop');
			t.regex(error?.message ?? '', /got hooks .*RFC 9449/v);
		}

		t.notThrows(() => adapter.client({...settings, dpop: undefined}));
	});

	test(`${name}: isTokenRejected in the configuration is refused at setup: it judges got's responses, and a 401 is the rejection here`, t => {
		const settings = {tokenEndpoint: 'https://auth.example.com/token', clientId: 'adapter-client', clientSecret: 'adapter-secret'};
		const error = t.throws(() => adapter.client({...settings, isTokenRejected: response => response.statusCode === 403}), {instanceOf: ConfigurationError});
		t.is(error?.option, 'isTokenRejected');
		t.regex(error?.message ?? '', /got hooks .*`401`/v);
	});

	test(`${name}: every request carries the cached token; one token request in all`, async t => {
		const s = await servers(t);
		const call = adapter.client(config(s.token));

		for (const path of ['/a', '/b']) {
			const answer = call(s.a.url(path));
			t.is(await statusOf(answer), 200);
		}

		const echo = await jsonOf(call(s.a.url('/c'), {method: 'POST', body: 'x'}));
		t.deepEqual(echo, {path: '/c', authorization: 'Bearer access-token-1'});
		t.deepEqual(authorizations(s.a), ['Bearer access-token-1', 'Bearer access-token-1', 'Bearer access-token-1']);
		t.is(s.token.count, 1);
	});

	test(`${name}: 30 concurrent first calls share one token request`, async t => {
		const s = await servers(t);
		const call = adapter.client(config(s.token));

		const responses = await Promise.all(Array.from({length: 30}, async (_, index) => call(s.a.url(`/n${index}`))));

		t.true(responses.every(response => response.status === 200));
		t.is(s.token.count, 1);
		t.is(s.a.count, 30);
		t.true(authorizations(s.a).every(authorization => authorization === 'Bearer access-token-1'));
	});

	test(`${name}: clients made from one token source share its token`, async t => {
		const s = await servers(t);
		const source = createTokenSource(config(s.token));
		const first = adapter.client(source);
		const second = adapter.client(source);

		await Promise.all([first(s.a.url('/1')), second(s.a.url('/2')), first(s.a.url('/3'))]);

		t.is(s.token.count, 1);
	});

	test(`${name}: a 401 invalidates the token and the call is sent once more with a new one`, async t => {
		const s = await servers(t);
		s.a.handle(refusingFirstToken);
		const call = adapter.client(config(s.token));

		const response = await call(s.a.url('/x'));

		t.is(response.status, 200);
		t.deepEqual(await response.json(), {path: '/x', authorization: 'Bearer access-token-2'});
		t.deepEqual(authorizations(s.a), ['Bearer access-token-1', 'Bearer access-token-2']);
		t.is(s.token.count, 2);
	});

	test(`${name}: an API that refuses every token gets exactly 2 requests per call, and the second 401 comes back as is`, async t => {
		const s = await servers(t);
		s.a.handle(() => refuse);
		const call = adapter.client(config(s.token));

		const responses = await Promise.all(['/a', '/b', '/c'].map(async path => call(s.a.url(path))));

		t.deepEqual(responses.map(response => response.status), [401, 401, 401]);
		for (const path of ['/a', '/b', '/c']) {
			t.is(s.a.requests.filter(request => request.path === path).length, 2, `requests to ${path}`);
		}

		t.is(s.a.count, 6);
		// One new token for the three calls: the second 401 of a call invalidates nothing.
		t.is(s.token.count, 2);
		t.is(responses[0]!.headers.get('www-authenticate'), 'Bearer error="invalid_token"');

		// A later call, within the back-off: the fresh token was rejected too, so it is not replaced, and the call is not retried with it.
		const later = await call(s.a.url('/d'));
		t.is(later.status, 401);
		t.is(s.a.requests.filter(request => request.path === '/d').length, 1);
		t.is(s.token.count, 2);
	});

	test(`${name}: 50 calls failing with the same stale token cause one token request`, async t => {
		const s = await servers(t);
		s.a.handle(refusingFirstToken);
		const call = adapter.client(config(s.token));

		const responses = await Promise.all(Array.from({length: 50}, async (_, index) => call(s.a.url(`/n${index}`))));

		t.true(responses.every(response => response.status === 200));
		t.is(s.token.count, 2);
		t.is(authorizations(s.a).filter(authorization => authorization === 'Bearer access-token-1').length, 50);
		t.is(authorizations(s.a).filter(authorization => authorization === 'Bearer access-token-2').length, 50);
	});

	test(`${name}: a 401 that arrives after another call replaced the token retries with that token, without a token request`, async t => {
		const s = await servers(t);
		s.a.handle(refusingFirstToken);
		const slowAnswered = deferred<void>();
		const release = deferred<void>();
		// The first answer to /slow reaches the adapter only once /fast has had its 401 and its new token.
		const gate: FetchFunction = async (input, init) => {
			const response = await fetch(input, init);
			if (new URL((input as Request).url).pathname === '/slow' && response.status === 401) {
				slowAnswered.resolve();
				await release.promise;
			}

			return response;
		};

		const source = createTokenSource(config(s.token));
		const call = adapter.client(source, {fetch: gate});

		const slow = call(s.a.url('/slow'));
		await slowAnswered.promise;
		const answer = call(s.a.url('/fast'));
		t.is(await statusOf(answer), 200);
		t.is(s.token.count, 2);
		release.resolve();

		t.is(await statusOf(slow), 200);
		// The slow 401 named access-token-1, no longer cached: access-token-2 stays, and the retry uses it.
		t.is(source.peek(), 'access-token-2');
		t.is(s.token.count, 2);
		t.deepEqual(s.a.requests.map(request => [request.path, request.headers.authorization]), [
			['/slow', 'Bearer access-token-1'],
			['/fast', 'Bearer access-token-1'],
			['/fast', 'Bearer access-token-2'],
			['/slow', 'Bearer access-token-2'],
		]);
	});

	test(`${name}: a call with its own authorization is sent untouched: no token request, no 401 retry`, async t => {
		const s = await servers(t);
		s.a.handle(request => request.path === '/denied' ? refuse : undefined);
		const call = adapter.client(config(s.token));
		const headers = {authorization: 'Basic dXNlcjpwYXNz'};

		const accepted = call(s.a.url('/ok'), {headers});
		t.is(await statusOf(accepted), 200);
		const refused = call(s.a.url('/denied'), {headers});
		t.is(await statusOf(refused), 401);

		t.deepEqual(authorizations(s.a), ['Basic dXNlcjpwYXNz', 'Basic dXNlcjpwYXNz']);
		t.is(s.token.count, 0);
	});

	test(`${name}: the caller's other headers are kept beside the token`, async t => {
		const s = await servers(t);
		const call = adapter.client(config(s.token));

		await call(s.a.url('/'), {headers: {'x-request-id': 'r-1', accept: 'text/plain'}});

		t.is(s.a.requests[0]!.headers['x-request-id'], 'r-1');
		t.is(s.a.requests[0]!.headers.accept, 'text/plain');
		t.is(s.a.requests[0]!.headers.authorization, 'Bearer access-token-1');
	});

	const bodies: Array<[string, () => BodyInit, string]> = [
		['string', () => 'plain text', 'plain text'],
		['URLSearchParams', () => new URLSearchParams({a: '1', b: 'two words'}), 'a=1&b=two+words'],
		['Blob', () => new Blob(['blob bytes']), 'blob bytes'],
		['Uint8Array', () => new TextEncoder().encode('uint8 \u{E9}'), 'uint8 \u{E9}'],
		['ArrayBuffer', () => new TextEncoder().encode('array buffer').buffer, 'array buffer'],
	];

	for (const [kind, body, expected] of bodies) {
		test(`${name}: a ${kind} body is sent again intact on the 401 retry`, async t => {
			const s = await servers(t);
			s.a.handle(refusingFirstToken);
			const call = adapter.client(config(s.token));

			const response = await call(s.a.url('/upload'), {method: 'POST', body: body()});

			t.is(response.status, 200);
			t.deepEqual(s.a.requests.map(request => request.body), [expected, expected]);
		});
	}

	test(`${name}: a FormData body is sent again as the same valid multipart body`, async t => {
		const s = await servers(t);
		s.a.handle(refusingFirstToken);
		const call = adapter.client(config(s.token));
		const form = new FormData();
		form.append('field', 'value');
		form.append('file', new Blob(['file content'], {type: 'text/plain'}), 'note.txt');

		const response = await call(s.a.url('/upload'), {method: 'POST', body: form});

		t.is(response.status, 200);
		const [first, second] = s.a.requests;
		t.is(first!.body, second!.body);
		t.is(first!.headers['content-type'], second!.headers['content-type']);
		// The boundary in the header is the one in the body, on the retry too.
		const boundary = /boundary=(?<boundary>\S+)/v.exec(second!.headers['content-type'] ?? '')?.groups?.boundary;
		t.truthy(boundary);
		t.true(second!.body.includes(`--${boundary!}`));
		t.true(second!.body.includes('file content'));
	});

	const streams: Array<[string, () => BodyInit]> = [
		['ReadableStream', () => new Blob(['chunk']).stream()],
		['async iterable', () => (async function * () {
			yield new TextEncoder().encode('chunk');
		})() as unknown as BodyInit],
	];

	for (const [kind, body] of streams) {
		test(`${name}: a ${kind} body is not sent again: the 401 comes back as is, and the token is invalidated`, async t => {
			const s = await servers(t);
			s.a.handle(refusingFirstToken);
			const source = createTokenSource(config(s.token));
			const call = adapter.client(source);

			const response = await call(s.a.url('/upload'), {method: 'POST', body: body(), duplex: 'half'} as RequestInit);

			t.is(response.status, 401);
			t.deepEqual(s.a.requests.map(request => request.body), ['chunk']);
			t.is(s.token.count, 1);
			// The API refused it: the next call gets a new token, not the refused one.
			t.is(source.peek(), undefined);
			const answer = call(s.a.url('/next'));
			t.is(await statusOf(answer), 200);
			t.is(s.token.count, 2);
		});
	}

	test(`${name}: a Request input that brings its own body is not sent again: what it was made from is unknown`, async t => {
		const s = await servers(t);
		s.a.handle(refusingFirstToken);
		const call = adapter.client(config(s.token));

		const response = await call(new Request(s.a.url('/upload'), {method: 'POST', body: 'inside a Request'}));

		t.is(response.status, 401);
		t.deepEqual(s.a.requests.map(request => request.body), ['inside a Request']);
	});

	test(`${name}: an origin outside the list gets no token and causes no token request`, async t => {
		const s = await servers(t);
		const call = adapter.client(config(s.token), {origins: [s.a.url('/any/path')]});

		const outside = await jsonOf(call(s.b.url('/outside')));
		t.is(outside.authorization, undefined);
		t.is(s.token.count, 0);

		const inside = await jsonOf(call(s.a.url('/inside')));
		t.is(inside.authorization, 'Bearer access-token-1');
		t.is(s.token.count, 1);
	});

	test(`${name}: without a list, the first origin called gets the token and no other`, async t => {
		const s = await servers(t);
		const call = adapter.client(config(s.token));

		const warnings: string[] = [];
		const onWarning = (warning: Error & {code?: string}) => {
			// Tests run side by side in this process: only this test's servers count.
			if (warning.code === 'GOT_OAUTH_ORIGINS' && warning.message.includes(s.b.origin)) {
				warnings.push(warning.message);
			}
		};

		process.on('warning', onWarning);
		t.teardown(() => {
			process.off('warning', onWarning);
		});

		await call(s.a.url('/first'));
		await call(s.b.url('/second'));
		await call(s.a.url('/third'));
		await call(s.b.url('/fourth'));
		await settle();

		t.deepEqual(authorizations(s.a), ['Bearer access-token-1', 'Bearer access-token-1']);
		t.deepEqual(authorizations(s.b), [undefined, undefined]);
		t.is(s.token.count, 1);
		// Said once, naming both origins and the option that fixes it; never the token.
		t.is(warnings.length, 1);
		t.true(warnings[0]!.includes(s.a.origin) && warnings[0]!.includes('`origins`'));
		t.false(warnings[0]!.includes('access-token'));
	});

	test(`${name}: the origins in the configuration apply when the options give none`, async t => {
		const s = await servers(t);
		const call = adapter.client({...config(s.token), origins: [s.b.origin]});

		await call(s.a.url('/not-listed'));
		await call(s.b.url('/listed'));

		t.deepEqual(authorizations(s.a), [undefined]);
		t.deepEqual(authorizations(s.b), ['Bearer access-token-1']);
	});

	for (const status of [301, 302, 303, 307, 308]) {
		test(`${name}: ${status} to another origin: the token reaches the first origin only`, async t => {
			const s = await servers(t);
			s.a.handle(request => request.path === '/start' ? redirect(status, s.b.url('/landing')) : undefined);
			const call = adapter.client(config(s.token));

			const response = await call(s.a.url('/start'), {method: 'POST', body: JSON.stringify({hello: 'world'})});

			t.deepEqual(await response.json(), {path: '/landing'});
			t.deepEqual(authorizations(s.a), ['Bearer access-token-1']);
			t.deepEqual(authorizations(s.b), [undefined]);
			t.false(JSON.stringify(s.b.requests[0]!.headers).includes('access-token'));
			t.is(s.b.requests[0]!.method, status === 307 || status === 308 ? 'POST' : 'GET');
			t.is(s.token.count, 1);
		});
	}

	test(`${name}: a redirect within the origin keeps the token`, async t => {
		const s = await servers(t);
		s.a.handle(request => request.path === '/start' ? redirect(302, '/landing') : undefined);
		const call = adapter.client(config(s.token));

		const answer = call(s.a.url('/start'));
		t.deepEqual(await jsonOf(answer), {path: '/landing', authorization: 'Bearer access-token-1'});
		t.is(s.token.count, 1);
	});

	test(`${name}: A → B → A: neither B nor A again gets the token (fetch never restores it)`, async t => {
		const s = await servers(t);
		s.a.handle(request => request.path === '/start' ? redirect(302, s.b.url('/bounce')) : undefined);
		s.b.handle(() => redirect(307, s.a.url('/back')));
		const call = adapter.client(config(s.token));

		const answer = call(s.a.url('/start'));
		t.deepEqual(await jsonOf(answer), {path: '/back'});
		t.deepEqual(s.a.requests.map(request => [request.path, request.headers.authorization]), [
			['/start', 'Bearer access-token-1'],
			['/back', undefined],
		]);
		t.deepEqual(authorizations(s.b), [undefined]);
	});

	test(`${name}: a 401 from another origin after a redirect is not ours: no invalidation, no retry`, async t => {
		const s = await servers(t);
		s.a.handle(request => request.path === '/start' ? redirect(302, s.b.url('/landing')) : undefined);
		s.b.handle(() => refuse);
		const source = createTokenSource(config(s.token));
		const call = adapter.client(source);

		const response = await call(s.a.url('/start'));

		t.is(response.status, 401);
		t.is(s.a.count, 1);
		t.is(s.b.count, 1);
		t.is(source.peek(), 'access-token-1');
		t.is(s.token.count, 1);
	});

	test(`${name}: a 401 after a redirect within the origin is ours: invalidated and retried once`, async t => {
		const s = await servers(t);
		s.a.handle(request => request.path === '/start' ? redirect(302, '/landing') : refusingFirstToken(request));
		const call = adapter.client(config(s.token));

		const response = await call(s.a.url('/start'));

		t.is(response.status, 200);
		t.deepEqual(s.a.requests.map(request => [request.path, request.headers.authorization]), [
			['/start', 'Bearer access-token-1'],
			['/landing', 'Bearer access-token-1'],
			['/start', 'Bearer access-token-2'],
			['/landing', 'Bearer access-token-2'],
		]);
	});

	test(`${name}: aborting one caller while the token request runs rejects only that caller; the token request goes on for the other`, async t => {
		const s = await servers(t);
		const arrived = deferred<void>();
		s.token.handle((_request, index) => {
			arrived.resolve();
			return {...tokenReply(`access-token-${index + 1}`), delay: 300};
		});
		const call = adapter.client(config(s.token));
		const controller = new AbortController();
		const reason = new Error('caller gave up');

		const aborted = call(s.a.url('/aborted'), {signal: controller.signal});
		const patient = call(s.a.url('/patient'));
		await arrived.promise;
		const abortedAt = performance.now();
		controller.abort(reason);

		const error = await t.throwsAsync(aborted);
		const elapsed = performance.now() - abortedAt;

		t.is(error, reason);
		t.true(elapsed < 150, `rejected after ${elapsed} ms`);
		t.is(s.a.count, 0);
		t.deepEqual(await jsonOf(patient), {path: '/patient', authorization: 'Bearer access-token-1'});
		t.is(s.token.count, 1);
		t.deepEqual(s.a.requests.map(request => request.path), ['/patient']);
	});

	test(`${name}: an abort without a reason is an AbortError`, async t => {
		const s = await servers(t);
		const arrived = deferred<void>();
		s.token.handle(() => {
			arrived.resolve();
			return {...tokenReply('access-token-1'), delay: 300};
		});
		const call = adapter.client(config(s.token));
		const controller = new AbortController();

		const aborted = call(s.a.url('/'), {signal: controller.signal});
		await arrived.promise;
		controller.abort();

		await t.throwsAsync(aborted, {name: 'AbortError'});
		t.is(s.a.count, 0);
	});

	test(`${name}: an already-aborted signal: no token request, nothing sent`, async t => {
		const s = await servers(t);
		const call = adapter.client(config(s.token));

		await t.throwsAsync(call(s.a.url('/'), {signal: AbortSignal.abort()}), {name: 'AbortError'});

		t.is(s.token.count, 0);
		t.is(s.a.count, 0);
	});

	test(`${name}: when no token can be had, the caller gets the TokenError and the API gets nothing`, async t => {
		const s = await servers(t);
		s.token.handle(() => ({status: 400, body: {error: 'invalid_client', error_description: 'unknown client'}}));
		const call = adapter.client(config(s.token));

		const error = await t.throwsAsync(call(s.a.url('/x')), {instanceOf: TokenError});

		t.is(error.error, 'invalid_client');
		t.is(error.statusCode, 400);
		t.is(error.code, 'ERR_OAUTH_TOKEN');
		t.is(s.a.count, 0);
		t.is(s.token.count, 1);
	});

	test(`${name}: a 401 whose new token cannot be had gives the TokenError, after one API request`, async t => {
		const s = await servers(t);
		s.token.handle((_request, index) => index === 0 ? tokenReply('access-token-1') : {status: 400, body: {error: 'invalid_grant'}});
		s.a.handle(() => refuse);
		const call = adapter.client(config(s.token));

		const error = await t.throwsAsync(call(s.a.url('/x'), {method: 'POST', body: 'payload'}), {instanceOf: TokenError});

		t.is(error.error, 'invalid_grant');
		t.is(s.a.count, 1);
		t.is(s.token.count, 2);
	});

	test(`${name}: a token a custom source hands out with a control character is a TokenError that does not show it; nothing is sent`, async t => {
		const s = await servers(t);
		const badToken = 'tok-SECRET\nInjected: header';
		const source = new (class extends TokenSource {
			override getTokenSync(): string | undefined {
				return undefined;
			}

			override async getToken(): Promise<string> {
				return badToken;
			}
		})({fetchToken: async () => ({accessToken: 'unused', tokenType: 'Bearer'})});
		const call = adapter.client(source);

		const error = await t.throwsAsync(call(s.a.url('/x')), {instanceOf: TokenError});

		t.regex(error.message, /RFC 6749 §A\.12/v);
		t.false(String(error).includes('SECRET'));
		t.false(JSON.stringify(error).includes('SECRET'));
		t.is(s.a.count, 0);
	});

	test(`${name}: the API unreachable: the network error reaches the caller, after the token request`, async t => {
		const s = await servers(t);
		const port = await closedPort();
		const call = adapter.client(config(s.token));

		const error = await t.throwsAsync(call(`http://127.0.0.1:${port}/x`));

		t.not(error.name, 'TokenError');
		t.is(s.token.count, 1);
	});
}
