/*
What got's own diagnostics channels and Node's HTTP client channels show of the access token and the client's credentials, during real requests to oidc-provider and an API. The readme's security section says the same. Channels are process-wide, so the tests run one at a time.
*/
import {subscribe, unsubscribe} from 'node:diagnostics_channel';
import type {ClientRequest} from 'node:http';
import {PerformanceObserver, type PerformanceEntry} from 'node:perf_hooks';
import test, {type ExecutionContext} from 'ava';
import got from 'got';
import {createTokenSource, oauthHooks, TokenError, type OAuthConfig} from '../source/index.js';
import {secrets, startWithApi} from './helpers/authorization-server.js';
import {forbiddenForms, reachableText} from './helpers/channels.js';

const gotChannels = ['got:request:create', 'got:request:start', 'got:response:start', 'got:response:end', 'got:request:retry', 'got:request:error', 'got:response:redirect'];

type Seen = {readonly channel: string; readonly url: string; readonly texts: string[]; readonly headers?: Record<string, unknown>};

/** What each message reaches when it is published: the objects it refers to change later. */
function watch(t: ExecutionContext, channels: readonly string[]): Seen[] {
	const seen: Seen[] = [];
	for (const channel of channels) {
		const handler = (message: unknown) => {
			const {url, headers} = message as {url?: unknown; headers?: Record<string, unknown>};
			seen.push({channel, url: String(url), texts: reachableText(message, 20_000), headers: headers === undefined ? undefined : {...headers}});
		};

		subscribe(channel, handler);
		t.teardown(() => {
			unsubscribe(channel, handler);
		});
	}

	return seen;
}

const leaksOf = (seen: readonly Seen[], forbidden: readonly string[]): string[] =>
	seen.filter(({texts}) => texts.some(text => forbidden.some(value => text.includes(value)))).map(({channel, url}) => `${channel} ${url}`);

/** client_secret_basic's header value, with id and secret form-urlencoded (RFC 6749 §2.3.1). */
const form = (value: string) => new URLSearchParams([['', value]]).toString().slice(1);
const basicCredentials = Buffer.from(`basic:${form(secrets.basic)}`).toString('base64');
const clientSecretForms = [secrets.basic, form(secrets.basic), basicCredentials];

async function setup(t: ExecutionContext, extra: Partial<OAuthConfig> = {}) {
	const {server, api} = await startWithApi(t);
	const source = createTokenSource({tokenEndpoint: server.tokenEndpoint, clientId: 'basic', clientSecret: secrets.basic, ...extra});
	const client = got.extend({prefixUrl: api.url}, oauthHooks(source));
	return {server, api, source, client};
}

test.serial('got\'s channels carry no access token: not in got:request:start\'s headers, nor anywhere its messages reach, through a fetch, a reuse and a 401 retry', async t => {
	const {api, source, client} = await setup(t);
	const seen = watch(t, gotChannels);
	const tokens: string[] = [];
	await client.get('first');
	tokens.push(source.peek()!);
	await client.get('second');
	api.revokeAll();
	await client.get('after-revocation');
	tokens.push(source.peek()!);

	t.is(new Set(tokens).size, 2);
	const apiStarts = seen.filter(({channel, url}) => channel === 'got:request:start' && url.startsWith(api.url));
	t.is(apiStarts.length, 4, 'three calls, one retried');
	for (const {headers} of apiStarts) {
		t.false('authorization' in headers!);
	}

	t.true(seen.some(({channel}) => channel === 'got:request:retry'), 'the 401 retry is one of got\'s retries');
	t.deepEqual(leaksOf(seen, forbiddenForms(tokens)), []);
});

test.serial('got\'s channels carry no client credentials for the token request: the Basic header is not in got:request:start', async t => {
	const {server, client} = await setup(t);
	const seen = watch(t, gotChannels);
	await client.get('first');

	const tokenStarts = seen.filter(({channel, url}) => channel === 'got:request:start' && url === server.tokenEndpoint);
	t.is(tokenStarts.length, 1);
	t.false('authorization' in tokenStarts[0]!.headers!);
	t.deepEqual(leaksOf(seen, clientSecretForms), []);
	// It was sent all the same.
	t.is(server.tokenRequests[0]!.headers.authorization, `Basic ${basicCredentials}`);
});

test.serial('got:request:retry for a failed token request carries the request\'s options, and with client_secret_post the form with the secret', async t => {
	const {server, client} = await setup(t, {clientAuthentication: 'client_secret_post', clientId: 'post', clientSecret: secrets.post, tokenRequest: {retry: {limit: 1, backoffLimit: 1}}});
	const seen = watch(t, gotChannels);
	server.failNextTokenResponses(2);
	await t.throwsAsync(client.get('first'), {instanceOf: TokenError});

	const retries = seen.filter(({channel}) => channel === 'got:request:retry');
	t.is(retries.length, 1);
	t.true(retries[0]!.texts.some(text => text.includes(form(secrets.post))), 'documented in the readme: got keeps the body in the error\'s options');
	// The final error goes to got:request:error, and the caller gets a TokenError without it.
	t.true(seen.some(({channel, texts}) => channel === 'got:request:error' && texts.some(text => text.includes(form(secrets.post)))));
});

test.serial('Node\'s http.client.request.start carries the ClientRequest with the token set; by http.client.response.finish it is wiped', async t => {
	const {api, source, client} = await setup(t);
	await client.get('warm-up');
	const token = source.peek()!;
	const atStart: Array<string | undefined> = [];
	const atFinish: Array<{header: unknown; head: unknown; texts: string[]}> = [];
	const onStart = ({request}: {request: ClientRequest}) => {
		if (request.path === '/watched') {
			atStart.push(request.getHeader('authorization') as string | undefined);
		}
	};

	const onFinish = (message: {request: ClientRequest & {_header?: unknown}}) => {
		if (message.request.path === '/watched') {
			atFinish.push({header: message.request.getHeader('authorization'), head: message.request._header, texts: reachableText(message, 20_000)});
		}
	};

	subscribe('http.client.request.start', onStart as (message: unknown) => void);
	subscribe('http.client.response.finish', onFinish as (message: unknown) => void);
	try {
		await client.get('watched');
	} finally {
		unsubscribe('http.client.request.start', onStart as (message: unknown) => void);
		unsubscribe('http.client.response.finish', onFinish as (message: unknown) => void);
	}

	// Unavoidable: Node publishes the request as it is sent, with the header it sends.
	t.deepEqual(atStart, [`Bearer ${token}`]);
	t.is(atFinish.length, 1);
	t.is(atFinish[0]!.header, undefined);
	t.regex(String(atFinish[0]!.head), /authorization: bearer \[redacted\]/iv);
	t.false(atFinish[0]!.texts.some(text => text.includes(token)));
	t.truthy(api);
});

test.serial('a perf_hooks observer of `http` entries gets a copy of each request\'s headers, the token included', async t => {
	const {source, client} = await setup(t);
	await client.get('warm-up');
	const token = source.peek()!;
	const entries: PerformanceEntry[] = [];
	const {promise, resolve} = Promise.withResolvers<void>();
	const observer = new PerformanceObserver(list => {
		entries.push(...list.getEntries());
		if (entries.some(entry => String((entry as {detail?: {req?: {url?: string}}}).detail?.req?.url).endsWith('/watched'))) {
			resolve();
		}
	});
	observer.observe({entryTypes: ['http']});
	try {
		await client.get('watched');
		await promise;
	} finally {
		observer.disconnect();
	}

	const watched = entries.find(entry => String((entry as {detail?: {req?: {url?: string}}}).detail?.req?.url).endsWith('/watched')) as unknown as {detail: {req: {headers: Record<string, unknown>}}};
	t.is(watched.detail.req.headers.authorization, `Bearer ${token}`);
});
