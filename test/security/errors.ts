/*
Issue 12, items 1, 2 and 10: no error a caller can get from an instance with the hooks shows the bearer token, however it is printed, whichever hook made it and in whatever order the hooks were registered. Each case first proves that the token did go out (so that a clean error means something), then looks at String(), util.inspect at any depth with and without hidden properties, and JSON.
*/
import {randomBytes} from 'node:crypto';
import {Readable} from 'node:stream';
import test, {type ExecutionContext} from 'ava';
import got, {HTTPError, RequestError, type BeforeErrorHook, type ExtendOptions, type Got} from 'got';
import {createTokenSource, oauthHooks} from '../../source/index.js';
import {basicForm, closedPort, startTokenEndpoint, type LocalServer} from '../helpers/local-servers.js';
import {assertClean, assertNoLeak, caught, renderings, startRouteServer, streamError, testCa, untilSeen, watchOutgoing, type Protocol, type RouteServer} from '../helpers/security.js';

const clientId = 'errors-client';
// One secret per test: a concurrent test's token request, still connecting, is reachable from any error through Node's shared agent (see the readme), so only this test's own secret is sought.
const newSecret = (): string => `SeCrEt-${randomBytes(6).toString('hex')}`;

type Context = {
	client: Got;
	api: RouteServer;
	token: LocalServer;
	/** Every token this test's endpoint issues starts with it. */
	prefix: string;
	/** What no rendering may show: the tokens, the client secret and its Basic form. */
	forbidden: string[];
};

type Setup = {
	protocol?: Protocol;
	/** Where the instance sends requests, instead of the API: a closed port, a host name resolved slowly. */
	prefixUrl?: (api: RouteServer) => Promise<string> | string;
	options?: ExtendOptions;
	/** Have the token before the request: a timer that starts with the request then runs out on the wire, not while the token is fetched. */
	warm?: boolean;
};

async function setup(t: ExecutionContext, {protocol = 'http', prefixUrl, options = {}, warm = false}: Setup = {}): Promise<Context> {
	const prefix = `AcCeSs-${randomBytes(6).toString('hex')}`;
	const [token, api] = await Promise.all([startTokenEndpoint({prefix}), startRouteServer(protocol)]);
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	const tls: ExtendOptions = protocol === 'http' ? {} : {https: {certificateAuthority: testCa()}, http2: protocol === 'http2'};
	const clientSecret = newSecret();
	const source = createTokenSource({tokenEndpoint: token.url('/token'), clientId, clientSecret});
	if (warm) {
		await source.getToken();
	}

	const client = got.extend({prefixUrl: await prefixUrl?.(api) ?? api.origin, retry: {limit: 0}, ...tls, ...options}, oauthHooks(source));
	return {client, api, token, prefix, forbidden: [prefix, clientSecret, basicForm(clientId, clientSecret)]};
}

type Case = {
	title: string;
	setup?: Setup;
	run(context: Context): Promise<Error>;
	/** What the caller gets. */
	expected: (error: Error) => boolean;
	/** How many requests reached the API with the token; `'outgoing'`: none could, so the token is seen leaving Node instead. */
	sent: number | 'outgoing';
};

/** A host name, so that the request looks it up: an IP address needs no lookup. */
const viaLocalhost = (api: RouteServer): string => api.origin.replace('127.0.0.1', 'localhost');
const refused = async (): Promise<string> => `http://127.0.0.1:${await closedPort()}`;
/** A DNS lookup that never answers: the request waits in it, created but not connected, its head not yet sent. */
const neverAnswers = (): void => undefined;

/** The request to `/hang`, aborted once the API has it. */
async function abortedOnArrival({client, api}: Context): Promise<Error> {
	const controller = new AbortController();
	const request = caught(client('hang', {signal: controller.signal}));
	await untilSeen(api);
	controller.abort();
	return request;
}

const named = (name: string) => (error: Error): boolean => error.name === name;
const withStatus = (status: number) => (error: Error): boolean => error instanceof HTTPError && error.response.statusCode === status;
const fastRetry = {limit: 1, calculateDelay: ({computedValue}: {computedValue: number}) => computedValue === 0 ? 0 : 1};

const cases: Case[] = [
	{
		title: 'ParseError from .json() on a 200 that is not JSON',
		run: async ({client}) => caught(client('text').json()),
		expected: named('ParseError'),
		sent: 1,
	},
	{
		title: 'AbortError: controller.abort() while the response is awaited',
		run: abortedOnArrival,
		expected: named('AbortError'),
		sent: 1,
	},
	{
		title: 'TimeoutError from signal: AbortSignal.timeout()',
		setup: {warm: true},
		run: async ({client}) => caught(client('hang', {signal: AbortSignal.timeout(500)})),
		expected: named('TimeoutError'),
		sent: 1,
	},
	{
		title: 'TimeoutError from got\'s own timeout.request',
		setup: {warm: true},
		run: async ({client}) => caught(client('hang', {timeout: {request: 500}})),
		expected: error => error instanceof RequestError && error.name === 'TimeoutError',
		sent: 1,
	},
	{
		title: 'got.stream aborted mid-body',
		async run({client}) {
			const controller = new AbortController();
			return streamError(client.stream('drip', {signal: controller.signal}), () => {
				controller.abort();
			});
		},
		expected: named('AbortError'),
		sent: 1,
	},
	{
		title: 'got.stream 401: HTTPError',
		run: async ({client}) => streamError(client.stream('401')),
		expected: withStatus(401),
		sent: 1,
	},
	{
		title: 'HTTPError 404',
		run: async ({client}) => caught(client('404')),
		expected: withStatus(404),
		sent: 1,
	},
	{
		title: 'HTTPError 401 after the retry with a fresh token',
		run: async ({client}) => caught(client('401')),
		expected: withStatus(401),
		sent: 2,
	},
	{
		title: 'HTTPError 500 after got\'s own retry',
		run: async ({client}) => caught(client('500', {retry: fastRetry})),
		expected: withStatus(500),
		sent: 2,
	},
	{
		title: 'HTTPError 404 for a POST with a JSON body',
		run: async ({client}) => caught(client.post('404', {json: {a: 1}})),
		expected: withStatus(404),
		sent: 1,
	},
	{
		title: 'HTTPError 404 for a POST with a stream body',
		run: async ({client}) => caught(client.post('404', {body: Readable.from(['a', 'b'])})),
		expected: withStatus(404),
		sent: 1,
	},
	{
		title: 'HTTPError 404 while another request of the instance is in flight',
		async run({client, api}) {
			const controller = new AbortController();
			const other = client('hang', {signal: controller.signal}).catch(() => undefined);
			// The other request is on the wire, its ClientRequest reachable through the shared agent.
			await untilSeen(api);

			const error = await caught(client('404'));
			// Read before the other request ends: assertNoLeak runs on the returned error, so render now.
			const rendered = renderings(error);
			controller.abort();
			await other;
			return Object.assign(new Error('rendered while another request was in flight'), {rendered});
		},
		expected: error => (error as Error & {rendered?: unknown}).rendered !== undefined,
		sent: 2,
	},
	{
		title: 'RequestError ECONNREFUSED',
		setup: {prefixUrl: refused},
		run: async ({client}) => caught(client('x')),
		expected: error => error instanceof RequestError && error.code === 'ECONNREFUSED',
		sent: 'outgoing',
	},
	{
		title: 'RequestError: the connection reset mid-body',
		run: async ({client}) => caught(client('reset')),
		expected: error => error instanceof RequestError && !(error instanceof HTTPError),
		sent: 1,
	},
	{
		title: 'MaxRedirectsError',
		run: async ({client}) => caught(client('loop', {maxRedirects: 3})),
		expected: named('MaxRedirectsError'),
		sent: 4,
	},
	{
		title: 'an error thrown by another beforeRequest hook after ours (on the retry, after the token went out)',
		async run({client}) {
			let calls = 0;
			const withHook = client.extend({retry: fastRetry, hooks: {beforeRequest: [() => {
				calls++;
				if (calls === 2) {
					throw new Error('user beforeRequest hook failed');
				}
			}]}});
			return caught(withHook('500'));
		},
		expected: error => error instanceof RequestError && error.message === 'user beforeRequest hook failed',
		sent: 1,
	},
	{
		title: 'an error thrown by another afterResponse hook',
		async run({client}) {
			const withHook = client.extend({hooks: {afterResponse: [() => {
				throw new Error('user afterResponse hook failed');
			}]}});
			return caught(withHook('ok'));
		},
		expected: error => error instanceof RequestError && error.message === 'user afterResponse hook failed',
		sent: 1,
	},
	{
		title: 'got.paginate: the second page fails',
		run: async ({client}) => caught(client.paginate.all('page')),
		expected: withStatus(500),
		sent: 2,
	},
	{
		title: 'AbortError while connecting (in the DNS lookup)',
		setup: {prefixUrl: viaLocalhost},
		async run({client}) {
			const controller = new AbortController();
			// Once the request waits in its lookup, created with its head but not connected.
			const lookup = (): void => {
				setImmediate(() => {
					controller.abort();
				});
			};

			return caught(client('ok', {signal: controller.signal, dnsLookup: lookup}));
		},
		expected: named('AbortError'),
		sent: 'outgoing',
	},
	{
		title: 'TimeoutError from timeout.lookup',
		setup: {prefixUrl: viaLocalhost, warm: true},
		run: async ({client}) => caught(client('ok', {timeout: {lookup: 200}, dnsLookup: neverAnswers})),
		expected: named('TimeoutError'),
		sent: 'outgoing',
	},
	{
		title: 'HTTPError 404 with got\'s cache option',
		run: async ({client}) => caught(client('404', {cache: new Map()})),
		expected: withStatus(404),
		sent: 1,
	},
	{
		title: 'ParseError with got\'s cache option',
		run: async ({client}) => caught(client('text', {cache: new Map()}).json()),
		expected: named('ParseError'),
		sent: 1,
	},
	{
		title: 'HTTPS: HTTPError 404',
		setup: {protocol: 'https'},
		run: async ({client}) => caught(client('404')),
		expected: withStatus(404),
		sent: 1,
	},
	{
		title: 'HTTPS: HTTPError 404 on a reused connection',
		setup: {protocol: 'https'},
		async run({client}) {
			await client('ok');
			return caught(client('404'));
		},
		expected: withStatus(404),
		sent: 2,
	},
	{
		title: 'HTTPS: ParseError',
		setup: {protocol: 'https'},
		run: async ({client}) => caught(client('text').json()),
		expected: named('ParseError'),
		sent: 1,
	},
	{
		title: 'HTTP/2: HTTPError 404',
		setup: {protocol: 'http2'},
		run: async ({client}) => caught(client('404')),
		expected: withStatus(404),
		sent: 1,
	},
	{
		title: 'HTTP/2: ParseError',
		setup: {protocol: 'http2'},
		run: async ({client}) => caught(client('text').json()),
		expected: named('ParseError'),
		sent: 1,
	},
	{
		title: 'HTTP/2: AbortError while the response is awaited',
		setup: {protocol: 'http2'},
		run: abortedOnArrival,
		expected: named('AbortError'),
		sent: 1,
	},
	{
		title: 'HTTP/2: got.stream aborted mid-body',
		setup: {protocol: 'http2'},
		async run({client}) {
			const controller = new AbortController();
			return streamError(client.stream('drip', {signal: controller.signal}), () => {
				controller.abort();
			});
		},
		expected: named('AbortError'),
		sent: 1,
	},
];

// One at a time: showHidden at any depth renders every socket of the shared agent, so concurrent tests would print each other's requests and stall each other's timers.
test.before(() => {
	// Made at once, not inside a test: it blocks the event loop, and the timers of concurrent tests would fire late.
	testCa();
});

for (const {title, setup: options, run, expected, sent} of cases) {
	test.serial(`${title}: the token went out, and no rendering of the error shows it`, async t => {
		const outgoing = watchOutgoing(t);
		const context = await setup(t, options);

		const error = await run(context);

		t.true(expected(error), `${error.name}: ${error.message}`);
		const {rendered} = error as Error & {rendered?: Record<string, string>};
		assertClean(t, rendered ?? renderings(error), context.forbidden);
		// The proof that the token went out: the API got it, or (where no request could reach it) Node created the request with it.
		const createdWithToken = outgoing.filter(header => header?.startsWith(`Bearer ${context.prefix}`) === true).length;
		t.is(context.api.received(context.prefix), sent === 'outgoing' ? 0 : sent);
		t.true(sent !== 'outgoing' || createdWithToken === 1, `${createdWithToken} requests created with the token`);
	});
}

/*
Item 2: a logging beforeError hook on a base instance, extended with the hooks later (a common setup), sees the error before any hook of ours could clean it. It must find nothing either way round, and so must a hook that wraps the error.
*/
for (const order of ['before', 'after'] as const) {
	test.serial(`a logging beforeError hook registered ${order} ours logs no token, for every error that reaches it`, async t => {
		const prefix = `AcCeSs-${randomBytes(6).toString('hex')}`;
		const [token, api] = await Promise.all([startTokenEndpoint({prefix}), startRouteServer()]);
		t.teardown(async () => Promise.all([token.close(), api.close()]));
		const logged: string[] = [];
		const logging: BeforeErrorHook = error => {
			logged.push(...Object.values(renderings(error)));
			return error;
		};

		const wrapping: BeforeErrorHook = error => new RequestError(`wrapped: ${error.message}`, error, error.request ?? error.options);
		const logger = {hooks: {beforeError: [logging, wrapping]}};
		const clientSecret = newSecret();
		const hooks = oauthHooks({tokenEndpoint: token.url('/token'), clientId, clientSecret});
		const base = {prefixUrl: api.origin, retry: {limit: 0}};
		const client = order === 'before' ? got.extend(base, logger).extend(hooks) : got.extend(base, hooks).extend(logger);

		const errors = [
			await caught(client('404')),
			await caught(client('401')),
			await caught(client('hang', {timeout: {request: 500}})),
			await caught(client.paginate.all('page')),
		];

		// 404, 401 and its retry, slow, two pages.
		t.is(api.received(prefix), 6);
		t.is(logged.length, errors.length * 4);
		for (const text of logged) {
			t.false(text.includes(prefix), text.slice(0, 200));
		}

		for (const error of errors) {
			t.true(error.message.startsWith('wrapped: '));
			assertNoLeak(t, error, [prefix, clientSecret, basicForm(clientId, clientSecret)]);
		}
	});
}

/*
Node's shared agent links every in-flight request in the process, so `showHidden` at any depth reaches them all from any got error. A token request's head holds the client's Basic credentials: they go once sent.
*/
test.serial('an API error printed with showHidden while a token request is in flight shows not that request\'s client credentials', async t => {
	const [hanging, token, api] = await Promise.all([startTokenEndpoint(), startTokenEndpoint(), startRouteServer()]);
	t.teardown(async () => Promise.all([hanging.close(), token.close(), api.close()]));
	hanging.handle(() => 'hang');
	const clientSecret = newSecret();
	const waiting = got.extend({prefixUrl: api.origin}, oauthHooks({tokenEndpoint: hanging.url('/token'), clientId, clientSecret, tokenRequest: {retry: {limit: 0}}}));
	const other = got.extend({prefixUrl: api.origin, retry: {limit: 0}}, oauthHooks({tokenEndpoint: token.url('/token'), clientId: 'other-client', clientSecret: 'other-secret'}));
	const pending = caught(waiting('ok', {timeout: {request: 5000}}));
	while (hanging.count === 0) {
		await new Promise(resolve => {
			setTimeout(resolve, 5);
		});
	}

	const error = await caught(other('404'));

	t.true(withStatus(404)(error));
	assertNoLeak(t, error, [clientSecret, basicForm(clientId, clientSecret)]);
	await hanging.close();
	t.true((await pending) instanceof RequestError);
});
