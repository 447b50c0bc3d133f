import {performance} from 'node:perf_hooks';
import test from 'ava';
import got, {RequestError} from 'got';
import {oauthHooks, createTokenSource, TokenError, TokenSource} from '../source/index.js';
import {startApiServer, startTokenEndpoint, tokenReply, type LocalServer} from './helpers/local-servers.js';

const tokenDelay = 300;
const prompt = 150;

type Echo = {path: string; authorization?: string};

/** A token endpoint that answers after `tokenDelay` ms, and a promise for the moment its first request arrives. */
async function slowTokenEndpoint(): Promise<{token: LocalServer; arrived: Promise<void>}> {
	const token = await startTokenEndpoint();
	const {promise: arrived, resolve} = Promise.withResolvers<void>();
	token.handle((_request, index) => {
		resolve();
		return {...tokenReply(`access-token-${index + 1}`), delay: tokenDelay};
	});
	return {token, arrived};
}

const config = (token: LocalServer) => ({tokenEndpoint: token.url('/token'), clientId: 'abort-client', clientSecret: 'abort-secret'});

test('got call: aborting while the token request is in flight rejects that caller at once; the other caller is served by the same token request', async t => {
	const {token, arrived} = await slowTokenEndpoint();
	const api = await startApiServer();
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	const client = got.extend(oauthHooks(config(token)));
	const controller = new AbortController();

	const aborted = client(api.url('/aborted'), {signal: controller.signal});
	const patient = client(api.url('/patient')).json<Echo>();
	await arrived;
	const abortedAt = performance.now();
	controller.abort();

	const error = await t.throwsAsync(aborted);
	const elapsed = performance.now() - abortedAt;

	t.is(error.name, 'AbortError');
	t.true(error instanceof RequestError);
	t.true(elapsed < prompt, `rejected after ${elapsed} ms`);
	t.is(api.count, 0);

	t.deepEqual(await patient, {path: '/patient', authorization: 'Bearer access-token-1'});
	t.is(token.count, 1);
	// The aborted request's hook got the token too, but nothing may be sent for it.
	t.deepEqual(api.requests.map(request => request.path), ['/patient']);
});

test('TokenSource.getToken: aborting one waiter rejects it at once with the signal\'s reason; the other waiter gets the token', async t => {
	const {token, arrived} = await slowTokenEndpoint();
	t.teardown(token.close);
	const source = createTokenSource(config(token));
	const controller = new AbortController();
	const reason = new Error('caller gave up');

	const aborted = source.getToken({signal: controller.signal});
	const patient = source.getToken();
	await arrived;
	const abortedAt = performance.now();
	controller.abort(reason);

	const error = await t.throwsAsync(aborted);
	const elapsed = performance.now() - abortedAt;

	t.is(error, reason);
	t.true(elapsed < prompt, `rejected after ${elapsed} ms`);
	t.is(await patient, 'access-token-1');
	t.is(token.count, 1);
});

test('TokenSource.getToken: the default abort reason is an AbortError', async t => {
	const {token, arrived} = await slowTokenEndpoint();
	t.teardown(token.close);
	const source = createTokenSource(config(token));
	const controller = new AbortController();

	const aborted = source.getToken({signal: controller.signal});
	await arrived;
	controller.abort();

	const error = await t.throwsAsync(aborted);
	t.is(error.name, 'AbortError');
	t.is(token.count, 1);
});

test('when the only waiter aborts, the token request goes on and a later caller joins it instead of starting another', async t => {
	const {token, arrived} = await slowTokenEndpoint();
	t.teardown(token.close);
	const source = createTokenSource(config(token));
	const controller = new AbortController();

	const aborted = source.getToken({signal: controller.signal});
	await arrived;
	controller.abort();
	await t.throwsAsync(aborted, {name: 'AbortError'});

	t.is(await source.getToken(), 'access-token-1');
	t.is(source.peek(), 'access-token-1');
	t.is(token.count, 1);
});

test('got call with an already-aborted signal: rejected, no token request, nothing sent', async t => {
	const token = await startTokenEndpoint();
	const api = await startApiServer();
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	const client = got.extend(oauthHooks(config(token)));

	await t.throwsAsync(client(api.url('/'), {signal: AbortSignal.abort()}), {name: 'AbortError'});

	t.is(token.count, 0);
	t.is(api.count, 0);
});

test('TokenSource.getToken with an already-aborted signal: rejected with its reason, without a token request', async t => {
	let calls = 0;
	const source = new TokenSource({
		async fetchToken() {
			calls++;
			return {accessToken: 'nobody-asked-for-this', tokenType: 'Bearer', expiresIn: 3600};
		},
	});
	const reason = new Error('gone before asking');

	await t.throwsAsync(source.getToken({signal: AbortSignal.abort(reason)}), {is: reason});
	// A fetch started anyway would have been called and cached its token by the next macrotask.
	await new Promise(resolve => {
		setImmediate(resolve);
	});

	t.is(calls, 0);
	t.is(source.peek(), undefined);
});

test('the token request\'s own timeout fails every waiter with a TokenError, and the failure is not cached past the cool-down', async t => {
	const token = await startTokenEndpoint();
	const api = await startApiServer();
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	token.handle(() => 'hang');
	const timeout = 200;
	// No cool-down, so the next call may ask again at once.
	const source = createTokenSource({...config(token), coolDown: 0, tokenRequest: {timeout: {request: timeout}, retry: {limit: 0}}});
	const client = got.extend(oauthHooks(source));

	const startedAt = performance.now();
	const waiters = [client(api.url('/one')), client(api.url('/two')), source.getToken()];
	const errors = await Promise.all(waiters.map(async waiter => t.throwsAsync(waiter)));
	const elapsed = performance.now() - startedAt;

	for (const error of errors) {
		t.true(error instanceof TokenError);
		t.is((error.cause as {code?: string}).code, 'ETIMEDOUT');
	}

	t.true(elapsed >= timeout - 10 && elapsed < timeout + 1000, `failed after ${elapsed} ms`);
	t.is(token.count, 1);
	t.is(api.count, 0);

	// Once the endpoint answers again, a new token request is made rather than the timeout replayed.
	token.handle(() => tokenReply('access-token-after-timeout'));
	t.deepEqual(await client(api.url('/three')).json<Echo>(), {path: '/three', authorization: 'Bearer access-token-after-timeout'});
	t.is(token.count, 2);
});
