/*
What the ky adapter relies on in ky itself, tested on ky alone (no got-oauth code): if a ky upgrade changes one of these, this file fails and names it. The adapter installs one `init` hook that wraps `options.fetch` for each call.
*/
import test, {type ExecutionContext} from 'ava';
import ky, {
	ForceRetryError,
	HTTPError,
	KyError,
	NetworkError,
	TimeoutError,
	isForceRetryError,
	isHTTPError,
	isKyError,
	isNetworkError,
	isTimeoutError,
	replaceOption,
	type Options,
} from 'ky';
import {closedPort, startApiServer, type LocalServer} from './helpers/local-servers.js';

async function api(t: ExecutionContext): Promise<LocalServer> {
	const server = await startApiServer();
	t.teardown(async () => server.close());
	return server;
}

type FetchCall = {input: unknown; init: RequestInit | undefined};

/** A fetch that records its arguments and adds a header ky never sees, the way the adapter adds the token. */
function recordingFetch(calls: FetchCall[], header = 'x-added'): NonNullable<Options['fetch']> {
	return async (input, init) => {
		calls.push({input, init});
		const request = input as Request;
		const headers = new Headers(request.headers);
		headers.set(header, 'added-in-fetch');
		return fetch(new Request(request, {headers}), init);
	};
}

const noDelay = () => 0;

test('ky calls options.fetch once per attempt, with a Request and an init holding neither headers nor body', async t => {
	const server = await api(t);
	server.handle((_request, index) => index === 0 ? {status: 503} : undefined);
	const calls: FetchCall[] = [];

	// PUT: ky does not retry POST.
	await ky.put(server.url('/x'), {json: {a: 1}, headers: {'x-caller': '1'}, fetch: recordingFetch(calls), retry: {limit: 1, delay: noDelay}});

	t.is(calls.length, 2);
	for (const call of calls) {
		t.true(call.input instanceof Request);
		t.false(Object.hasOwn(call.init ?? {}, 'headers'));
		t.false(Object.hasOwn(call.init ?? {}, 'body'));
	}

	t.deepEqual(server.requests.map(request => [request.headers['x-caller'], request.body]), [['1', '{"a":1}'], ['1', '{"a":1}']]);
});

test('an init hook sees the call\'s options, json and body as the caller gave them, and its fetch assignment holds for that call only', async t => {
	const server = await api(t);
	const seen: Array<[unknown, unknown]> = [];
	let wraps = 0;
	const instance = ky.extend({
		hooks: {
			init: [options => {
				seen.push([options.json, options.body]);
				const inner = options.fetch ?? globalThis.fetch;
				options.fetch = async (input, init) => {
					wraps++;
					return inner(input, init);
				};
			}],
		},
	});
	const stream = new Blob(['x']).stream();

	await instance.post(server.url('/1'), {json: {a: 1}});
	await instance.post(server.url('/2'), {body: stream});
	await instance(server.url('/3'));

	t.deepEqual(seen, [[{a: 1}, undefined], [undefined, stream], [undefined, undefined]]);
	// One wrap per call: a wrapper from an earlier call is not wrapped again.
	t.is(wraps, 3);
});

test('the fetch an init hook finds is the per-request one over the instance\'s, whatever order they were given in', async t => {
	const server = await api(t);
	const found: string[] = [];
	const named = (name: string): NonNullable<Options['fetch']> => Object.assign(async (input: string | URL | Request, init?: RequestInit) => fetch(input, init), {label: name});
	const instance = ky.create({fetch: named('instance')}).extend({
		hooks: {
			init: [options => {
				found.push((options.fetch as {label?: string} | undefined)?.label ?? 'none');
			}],
		},
	});

	await instance(server.url('/'));
	await instance(server.url('/'), {fetch: named('request')});
	await instance.extend({fetch: named('later')})(server.url('/'));
	await ky.extend({hooks: {init: [options => {
		found.push(options.fetch === undefined ? 'none' : 'set');
	}]}})(server.url('/'));

	t.deepEqual(found, ['instance', 'request', 'later', 'none']);
});

test('timeout bounds the whole options.fetch call, hooks excluded: a fetch that waits longer gives a TimeoutError', async t => {
	const server = await api(t);
	const slowFetch: Options['fetch'] = async (input, init) => {
		await new Promise(resolve => {
			setTimeout(resolve, 500);
		});
		return fetch(input, init);
	};

	await t.throwsAsync(ky(server.url('/'), {fetch: slowFetch, timeout: 100, retry: 0}), {instanceOf: TimeoutError});
	t.is(server.count, 0);
});

test('timeout aborts the signal of the Request ky passes to fetch', async t => {
	const server = await api(t);
	const {promise: aborted, resolve} = Promise.withResolvers<unknown>();
	const waitingFetch: Options['fetch'] = async input => new Promise((_resolve, reject) => {
		const {signal} = input as Request;
		signal.addEventListener('abort', () => {
			resolve(signal.reason);
			reject(signal.reason as Error);
		});
	});

	await t.throwsAsync(ky(server.url('/'), {fetch: waitingFetch, timeout: 100, retry: 0}), {instanceOf: TimeoutError});
	const reason = await aborted as Error;
	t.is(reason.name, 'AbortError');
});

test('HTTPError, TimeoutError and NetworkError hold ky\'s Request, never the one fetch was given', async t => {
	const server = await api(t);
	const secretHeader = 'x-added';
	const calls: FetchCall[] = [];

	server.handle(() => ({status: 401}));
	const httpError = await t.throwsAsync(ky(server.url('/'), {fetch: recordingFetch(calls), retry: 0}), {instanceOf: HTTPError});
	server.handle(() => 'hang');
	const timeoutError = await t.throwsAsync(ky(server.url('/'), {fetch: recordingFetch(calls), timeout: 200, retry: 0}), {instanceOf: TimeoutError});
	const networkError = await t.throwsAsync(ky(`http://127.0.0.1:${await closedPort()}/`, {fetch: recordingFetch(calls), retry: 0}), {instanceOf: NetworkError});

	for (const error of [httpError, timeoutError, networkError]) {
		t.is(error.request.headers.get(secretHeader), null);
	}

	// With retries off, the error's request is the very object ky passed to fetch: a header set on it would be on the error.
	t.true(Object.is(httpError.request, calls[0]!.input));
	t.is(server.requests[0]!.headers[secretHeader], 'added-in-fetch');
});

test('an error from options.fetch that is not a network error reaches the caller as is, with no retry', async t => {
	const server = await api(t);
	class OwnError extends Error {
		override name = 'OwnError';
	}

	let calls = 0;
	const failing: Options['fetch'] = async () => {
		calls++;
		throw new OwnError('no token');
	};

	await t.throwsAsync(ky(server.url('/'), {fetch: failing, retry: {limit: 2, delay: noDelay}}), {instanceOf: OwnError});
	t.is(calls, 1);
});

test('ky never retries a 401 by default', async t => {
	const server = await api(t);
	server.handle(() => ({status: 401}));

	await t.throwsAsync(ky(server.url('/'), {retry: {limit: 3, delay: noDelay}}), {instanceOf: HTTPError});
	t.is(server.count, 1);
});

test('a forced retry from afterResponse counts against retry.limit: with retry 0 it fails, which is why the adapter does not use it', async t => {
	const server = await api(t);
	server.handle(() => ({status: 401}));
	const forcing = ky.extend({hooks: {afterResponse: [({response}) => response.status === 401 ? ky.retry({delay: 0}) : undefined]}});

	const error = await t.throwsAsync(forcing(server.url('/'), {retry: 0}));
	t.true(isForceRetryError(error));
	t.true(error instanceof ForceRetryError);
	t.is(server.count, 1);
});

test('beforeRequest runs once per call, not on retries (ky #500 fixed in 2.0)', async t => {
	const server = await api(t);
	server.handle((_request, index) => index === 0 ? {status: 503} : undefined);
	const order: string[] = [];

	await ky(server.url('/'), {
		retry: {limit: 1, delay: noDelay},
		hooks: {
			beforeRequest: [() => {
				order.push('beforeRequest');
			}],
			beforeRetry: [() => {
				order.push('beforeRetry');
			}],
		},
	});

	t.deepEqual(order, ['beforeRequest', 'beforeRetry']);
});

test('a Request returned by beforeRetry is sent as is, to whatever origin it names', async t => {
	const a = await api(t);
	const b = await api(t);
	a.handle(() => ({status: 503}));

	await ky(a.url('/'), {
		headers: {'x-caller': 'kept'},
		retry: {limit: 1, delay: noDelay},
		hooks: {beforeRetry: [({request}) => new Request(b.url('/moved'), request)]},
	});

	t.is(b.count, 1);
	t.is(b.requests[0]!.headers['x-caller'], 'kept');
});

test('per request, an own undefined hook list empties that list only; replaceOption and create drop every earlier hook', async t => {
	const server = await api(t);
	const ran: string[] = [];
	const instance = ky.extend({
		hooks: {
			init: [() => {
				ran.push('init');
			}],
			beforeRequest: [() => {
				ran.push('beforeRequest');
			}],
		},
	});

	await instance(server.url('/'), {hooks: {beforeRequest: undefined}});
	t.deepEqual(ran.splice(0), ['init']);
	await instance(server.url('/'), {hooks: {init: undefined}});
	t.deepEqual(ran.splice(0), ['beforeRequest']);
	await instance(server.url('/'), {hooks: replaceOption({})});
	await instance.create({})(server.url('/'));
	t.deepEqual(ran, []);
});

test('hooks given to extend run after the instance\'s own', async t => {
	const server = await api(t);
	const order: string[] = [];
	const hook = (name: string) => ({hooks: {init: [() => {
		order.push(name);
	}]}});

	await ky.extend(hook('first')).extend(hook('second'))(server.url('/'), hook('request'));

	t.deepEqual(order, ['first', 'second', 'request']);
});

test('the prefix is joined to string inputs only; a URL input goes where it says', async t => {
	const a = await api(t);
	const b = await api(t);
	const instance = ky.create({prefix: a.url('/api/')});

	await instance('items');
	await instance(new URL(b.url('/direct')));

	t.deepEqual(a.requests.map(request => request.path), ['/api/items']);
	t.deepEqual(b.requests.map(request => request.path), ['/direct']);
});

test('ky\'s error classes and guards are the ones the adapter and its docs name', t => {
	for (const [guard, name] of [[isKyError, 'KyError'], [isHTTPError, 'HTTPError'], [isNetworkError, 'NetworkError'], [isTimeoutError, 'TimeoutError'], [isForceRetryError, 'ForceRetryError']] as const) {
		t.is(typeof guard, 'function', `${name} guard`);
	}

	for (const errorClass of [HTTPError, NetworkError, TimeoutError, ForceRetryError]) {
		t.true(errorClass.prototype instanceof KyError, errorClass.name);
	}
});
