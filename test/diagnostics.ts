/*
got-oauth's diagnostics_channel events, against oidc-provider and an API that verifies its tokens. Channels are process-wide, so the tests run one at a time.
*/
import {createHash} from 'node:crypto';
import {subscribe, unsubscribe} from 'node:diagnostics_channel';
import test, {type ExecutionContext} from 'ava';
import got from 'got';
import Keyv from 'keyv';
import {
	channelNames,
	createTokenSource,
	oauthHooks,
	TokenError,
	type ApiRetryMessage,
	type CacheHitMessage,
	type CacheMissMessage,
	type CoolDownOpenMessage,
	type CoolDownProbeMessage,
	type CoolDownRejectMessage,
	type DiscoveryFailureMessage,
	type DiscoverySuccessMessage,
	type DpopNonceRetryMessage,
	type OAuthConfig,
	type RefreshAheadFailureMessage,
	type RefreshAheadStartMessage,
	type StoreMessage,
	type TokenHeldMessage,
	type TokenRequestMessage,
} from '../source/index.js';
import {publishDpopNonceRetry, tokenRequestMessage} from '../source/diagnostics/channels.js';
import {otherApiResource, secrets, startWithApi} from './helpers/authorization-server.js';
import {findLeak, forbiddenForms, recordChannels, tokenRequestChannels as tr, type Recorder} from './helpers/channels.js';
import {fakeClock, settle} from './helpers/fakes.js';
import {startApiServer} from './helpers/local-servers.js';

const fingerprint = (token: string): string => createHash('sha256').update(token).digest('hex').slice(0, 8);
const labels = {clientId: 'basic', grantType: 'client_credentials'};
/** A traced token request that succeeded, event by event. */
const tracedSuccess = [tr.start, tr.end, tr.asyncStart, tr.asyncEnd];
const tracedFailure = [tr.start, tr.end, tr.error, tr.asyncStart, tr.asyncEnd];

async function setup(t: ExecutionContext, extra: Partial<OAuthConfig> = {}, audience?: string) {
	const {server, api} = await startWithApi(t, undefined, audience);
	const clock = fakeClock();
	const source = createTokenSource({tokenEndpoint: server.tokenEndpoint, clientId: 'basic', clientSecret: secrets.basic, clock, tokenRequest: {retry: {limit: 0}}, ...extra});
	const client = got.extend({prefixUrl: api.url, retry: {limit: 0}, throwHttpErrors: false}, oauthHooks(source));
	return {server, api, clock, source, client, events: recordChannels(t)};
}

/** The channels published while `step` ran. */
async function during(events: Recorder, step: () => Promise<unknown>): Promise<string[]> {
	const mark = events.events.length;
	await step();
	return events.since(mark);
}

const last = <T>(events: Recorder, channel: string): T => events.messages<T>(channel).at(-1)!;

test.serial('the first call: one cache miss, then one token request traced start to end, with its outcome and no token', async t => {
	const {server, source, client, events} = await setup(t);
	t.deepEqual(await during(events, async () => client.get('first')), [channelNames.cacheMiss, ...tracedSuccess]);
	t.deepEqual(last<CacheMissMessage>(events, channelNames.cacheMiss), {...labels, reason: 'none'});

	const token = source.peek()!;
	const started = events.events.find(event => event.channel === tr.start);
	// At the start: where and for whom, nothing of the outcome yet.
	t.deepEqual(started!.snapshot, {tokenEndpoint: server.tokenEndpoint, ...labels, attempts: 0});
	const settled = last<TokenRequestMessage>(events, tr.asyncEnd);
	t.is(settled, started!.message as TokenRequestMessage, 'one context object from start to asyncEnd');
	t.like(settled, {tokenEndpoint: server.tokenEndpoint, ...labels, attempts: 1, statusCode: 200, expiresIn: 60, token: fingerprint(token)});
	t.true(settled.duration! > 0);
	t.false('error' in settled);
	// diagnostics_channel puts the traced function's result here: it must not be the token response.
	t.is((settled as {result?: unknown}).result, undefined);
});

test.serial('a cached token: one hit per call, the same frozen message for every hit of a token', async t => {
	const {source, client, events} = await setup(t);
	await client.get('first');
	t.deepEqual(await during(events, async () => client.get('second')), [channelNames.cacheHit]);
	t.deepEqual(await during(events, async () => client.get('third')), [channelNames.cacheHit]);
	const [first, second] = events.messages<CacheHitMessage>(channelNames.cacheHit);
	t.is(first, second);
	t.true(Object.isFrozen(first));
	t.like(first, {...labels, token: fingerprint(source.peek()!)});
	const {expiresAt} = await source.getTokenDetails();
	t.is(first!.expiresAt, expiresAt.getTime());
});

test.serial('refresh-ahead: one start with the current token, a hit, then the background token request', async t => {
	const {source, clock, client, events} = await setup(t);
	await client.get('first');
	const old = source.peek()!;
	// A 60 s token is used for 30 s and refreshed from 15 s.
	clock.advance(16_000);
	const published = await during(events, async () => client.get('inside-the-window'));
	t.deepEqual(published.slice(0, 2), [channelNames.refreshAheadStart, channelNames.cacheHit]);
	await events.waitFor(tr.asyncEnd, 2);
	await settle();
	const {expiresAt} = events.messages<CacheHitMessage>(channelNames.cacheHit)[0]!;
	t.deepEqual(events.messages<RefreshAheadStartMessage>(channelNames.refreshAheadStart), [{...labels, token: fingerprint(old), expiresAt, attempt: 1}]);
	t.is(last<TokenRequestMessage>(events, tr.asyncEnd).token, fingerprint(source.peek()!));
	t.not(source.peek(), old);
	// One background request, not one per caller.
	await client.get('after');
	t.is(events.messages(channelNames.refreshAheadStart).length, 1);
});

test.serial('a failed background refresh: its failure, with the wait before the next attempt', async t => {
	const {server, clock, client, events} = await setup(t);
	await client.get('first');
	clock.advance(16_000);
	server.failNextTokenResponses(1);
	const response = await client.get('inside-the-window');
	t.is(response.statusCode, 200);
	await events.waitFor(channelNames.refreshAheadFailure, 1);
	const [failure] = events.messages<RefreshAheadFailureMessage>(channelNames.refreshAheadFailure);
	t.like(failure, {...labels, failures: 1});
	t.true(failure!.error instanceof TokenError);
	t.is(failure!.error.statusCode, 503);
	t.true(failure!.nextAttemptIn >= 1 && failure!.nextAttemptIn <= 1000, String(failure!.nextAttemptIn));
	t.deepEqual(events.messages<TokenRequestMessage>(tr.error).map(message => message.statusCode), [503]);
});

test.serial('a token past its usable time: a miss that says expired', async t => {
	const {clock, client, events} = await setup(t);
	await client.get('first');
	clock.advance(30_000);
	t.deepEqual(await during(events, async () => client.get('expired')), [channelNames.cacheMiss, ...tracedSuccess]);
	t.deepEqual(last<CacheMissMessage>(events, channelNames.cacheMiss), {...labels, reason: 'expired'});
});

test.serial('a 401: one retry event naming the API and the rejected token, then a miss and a new token', async t => {
	const {api, source, client, events} = await setup(t);
	await client.get('first');
	const rejected = source.peek()!;
	api.revokeAll();
	const published = await during(events, async () => {
		const response = await client.get('revoked');
		t.is(response.statusCode, 200);
	});
	t.deepEqual(published, [channelNames.cacheHit, channelNames.apiRetry, channelNames.cacheMiss, ...tracedSuccess]);
	t.deepEqual(events.messages<ApiRetryMessage>(channelNames.apiRetry), [{...labels, origin: api.url, method: 'GET', statusCode: 401, token: fingerprint(rejected)}]);
});

test.serial('a replacement the API rejects too is held back: an event each time, and no second retry', async t => {
	// The API takes tokens for another resource: every token is rejected.
	const {client, source, events} = await setup(t, {}, otherApiResource);
	const first = await client.get('first');
	t.is(first.statusCode, 401);
	t.is(events.messages(channelNames.apiRetry).length, 1);
	const replacement = source.peek()!;
	const published = await during(events, async () => {
		const second = await client.get('second');
		t.is(second.statusCode, 401);
	});
	t.deepEqual(published, [channelNames.cacheHit, channelNames.tokenHeld]);
	// Held when the first call's retry was rejected too, and again for the second call: one back-off, no new token.
	const held = events.messages<TokenHeldMessage>(channelNames.tokenHeld);
	t.is(held.length, 2);
	t.deepEqual(held.at(-1), {...labels, token: fingerprint(replacement), heldFor: 1000, rejections: 1});
});

test.serial('a failed token request opens the cool-down; callers during it are rejected at once; after it one caller probes while the others fail fast', async t => {
	const {server, clock, source, client, events} = await setup(t);
	server.failNextTokenResponses(1);
	await t.throwsAsync(client.get('fails'), {instanceOf: TokenError});
	t.deepEqual(events.since(0), [channelNames.cacheMiss, ...tracedFailure, channelNames.coolDownOpen]);
	const failed = last<TokenRequestMessage>(events, tr.asyncEnd);
	t.like(failed, {...labels, attempts: 1, statusCode: 503});
	t.true(failed.error instanceof TokenError);
	t.is(failed.token, undefined);
	const [open] = events.messages<CoolDownOpenMessage>(channelNames.coolDownOpen);
	t.like(open, {...labels, failures: 1, nextAttemptIn: 1000});
	t.is(open!.error, failed.error as TokenError, 'the failure the callers get');

	const duringCoolDown = await during(events, async () => client.get('during').catch((error: unknown) => error));
	t.deepEqual(duringCoolDown, [channelNames.cacheMiss, channelNames.coolDownReject]);
	t.deepEqual(last<CoolDownRejectMessage>(events, channelNames.coolDownReject), {...labels, nextAttemptIn: 1000, isProbing: false});

	clock.advance(1000);
	// A caller that comes while the probe is under way: from inside its start event, so surely meanwhile.
	let meanwhile: Promise<unknown> | undefined;
	const onStart = () => {
		meanwhile ??= source.getToken().catch((error: unknown) => error);
	};

	subscribe(tr.start, onStart);
	const published = await during(events, async () => {
		try {
			const response = await client.get('probe');
			t.is(response.statusCode, 200);
		} finally {
			unsubscribe(tr.start, onStart);
		}
	});
	t.true(await meanwhile instanceof TokenError);
	t.deepEqual(published, [channelNames.cacheMiss, channelNames.coolDownProbe, tr.start, channelNames.cacheMiss, channelNames.coolDownReject, tr.end, tr.asyncStart, tr.asyncEnd]);
	t.deepEqual(events.messages<CoolDownProbeMessage>(channelNames.coolDownProbe), [{...labels, failures: 1}]);
	t.deepEqual(last<CoolDownRejectMessage>(events, channelNames.coolDownReject), {...labels, nextAttemptIn: 0, isProbing: true});
});

test.serial('got\'s retries of one token request are one traced request with its attempts', async t => {
	const {server, client, events} = await setup(t, {tokenRequest: {retry: {limit: 2, backoffLimit: 1}}});
	server.failNextTokenResponses(2);
	const response = await client.get('first');
	t.is(response.statusCode, 200);
	t.is(events.messages(tr.start).length, 1);
	t.like(last<TokenRequestMessage>(events, tr.asyncEnd), {attempts: 3, statusCode: 200});
});

test.serial('an answer the grant refuses is a failed token request, with the status the server sent; expires_in as a string is read', async t => {
	const events = recordChannels(t);
	let body: Record<string, unknown> = {token_type: 'Bearer', expires_in: 60};
	const endpoint = await startApiServer(() => ({status: 200, body}));
	t.teardown(async () => endpoint.close());
	const source = createTokenSource({tokenEndpoint: endpoint.url('/token'), clientId: 'local', clientSecret: 'local-secret', allowInsecureRequests: true, coolDown: 0});
	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError});
	const failed = last<TokenRequestMessage>(events, tr.asyncEnd);
	t.like(failed, {statusCode: 200, attempts: 1, token: undefined, expiresIn: undefined});
	t.is(failed.error, error);
	t.deepEqual(events.messages(tr.error), [failed]);

	body = {access_token: 'local-token', token_type: 'Bearer', expires_in: '60'};
	await source.getToken();
	t.like(last<TokenRequestMessage>(events, tr.asyncEnd), {statusCode: 200, expiresIn: 60, token: fingerprint('local-token')});
});

test.serial('discovery: one success event with the token endpoint; a failure event when the issuer has no metadata', async t => {
	const {server, api} = await startWithApi(t);
	const events = recordChannels(t);
	const source = createTokenSource({issuer: server.issuer, clientId: 'basic', clientSecret: secrets.basic, allowInsecureRequests: true});
	await source.getToken();
	await source.getToken();
	const [found, ...more] = events.messages<DiscoverySuccessMessage>(channelNames.discoverySuccess);
	t.is(more.length, 0);
	t.like(found, {issuer: server.issuer, tokenEndpoint: server.tokenEndpoint});
	t.true(found!.duration > 0);
	t.true(events.events.findIndex(event => event.channel === channelNames.discoverySuccess) < events.events.findIndex(event => event.channel === tr.start));

	// The API answers 401 to both metadata URLs.
	const wrong = createTokenSource({issuer: api.url, clientId: 'basic', clientSecret: secrets.basic, allowInsecureRequests: true});
	await t.throwsAsync(wrong.getToken(), {instanceOf: TokenError});
	const [failure] = events.messages<DiscoveryFailureMessage>(channelNames.discoveryFailure);
	t.is(failure!.issuer, api.url);
	t.true(failure!.error instanceof TokenError);
	t.regex(failure!.error.message, /No authorization server metadata/v);
	t.is(events.messages(tr.start).length, 1, 'no token request without an endpoint');
});

test.serial('store events reach the store channel with the source\'s labels', async t => {
	const {server} = await startWithApi(t);
	const events = recordChannels(t);
	const store = new Keyv();
	const config: OAuthConfig = {tokenEndpoint: server.tokenEndpoint, clientId: 'basic', clientSecret: secrets.basic, store};
	await createTokenSource(config).getToken();
	await createTokenSource(config).getToken();
	t.deepEqual(events.messages<StoreMessage>(channelNames.store), [
		{...labels, type: 'store-miss', reason: 'absent'},
		{...labels, type: 'store-write'},
		{...labels, type: 'store-hit'},
	]);
	t.is(events.messages(tr.start).length, 1, 'the second process adopted the stored token');

	// A store that fails: the source fetches its own token, and says why the store was skipped.
	const failing = {
		async get() {
			throw Object.assign(new Error('connection reset, key got-oauth:secret-key'), {code: 'ECONNRESET'});
		},
		async set() {
			return true;
		},
		async delete() {
			return true;
		},
	};
	await createTokenSource({...config, store: failing}).getToken();
	t.like(events.messages<StoreMessage>(channelNames.store).slice(3), [{...labels, type: 'store-failure', operation: 'get', reason: 'ECONNRESET'}]);
});

test.serial('the DPoP nonce retry channel: published with labels and origin, nothing without a subscriber', t => {
	const url = new URL('https://as.example/token?x=1');
	const received: unknown[] = [];
	const handler = (message: unknown) => {
		received.push(message);
	};

	publishDpopNonceRetry(labels, 'authorization-server', url);
	subscribe(channelNames.dpopNonceRetry, handler);
	try {
		publishDpopNonceRetry(labels, 'authorization-server', url);
	} finally {
		unsubscribe(channelNames.dpopNonceRetry, handler);
	}

	t.deepEqual(received, [{...labels, server: 'authorization-server', origin: 'https://as.example'} satisfies DpopNonceRetryMessage]);
});

test.serial('with no subscriber, no token request message is made', t => {
	const url = new URL('https://as.example/token');
	t.is(tokenRequestMessage(labels, url), undefined);
	const handler = () => undefined;
	subscribe(tr.asyncEnd, handler);
	try {
		t.deepEqual(tokenRequestMessage(labels, url), {tokenEndpoint: 'https://as.example/token', ...labels, attempts: 0});
	} finally {
		unsubscribe(tr.asyncEnd, handler);
	}
});

test.serial('a token source without a configuration publishes without labels', async t => {
	const events = recordChannels(t);
	const {TokenSource} = await import('../source/index.js');
	const source = new TokenSource({fetchToken: async () => ({accessToken: 'own-token', tokenType: 'Bearer', expiresIn: 60})});
	await source.getToken();
	t.deepEqual(events.messages(channelNames.cacheMiss), [{clientId: undefined, grantType: undefined, reason: 'none'}]);
	t.is(events.messages(tr.start).length, 0, 'a fetchToken of its own is not traced');
});

test.serial('a whole scenario: no message shows the client secret or any token', async t => {
	const {server, api, clock, source, client, events} = await setup(t);
	const tokens = new Set<string>();
	const keep = () => {
		const token = source.peek();
		if (token !== undefined) {
			tokens.add(token);
		}
	};

	await client.get('fetch');
	keep();
	await client.get('reuse');
	clock.advance(16_000);
	await client.get('refresh-ahead');
	await events.waitFor(tr.asyncEnd, 2);
	await settle();
	keep();
	// The API can only revoke what it has seen.
	await client.get('with-the-new-token');
	api.revokeAll();
	await client.get('retry');
	keep();
	api.revokeAll();
	server.failNextTokenResponses(1);
	await t.throwsAsync(client.get('token-endpoint-failure'));
	await t.throwsAsync(client.get('cool-down'));
	clock.advance(1000);
	await client.get('probe');
	keep();

	const form = (value: string) => new URLSearchParams([['', value]]).toString().slice(1);
	const forbidden = forbiddenForms([secrets.basic, form(secrets.basic), Buffer.from(`basic:${form(secrets.basic)}`).toString('base64'), ...tokens]);
	t.is(tokens.size, 4);
	const seen = new Set(events.events.map(event => event.channel));
	const {cacheMiss, cacheHit, refreshAheadStart, apiRetry, coolDownOpen, coolDownReject, coolDownProbe} = channelNames;
	for (const channel of [cacheMiss, cacheHit, refreshAheadStart, apiRetry, coolDownOpen, coolDownReject, coolDownProbe, tr.asyncEnd, tr.error]) {
		t.true(seen.has(channel), `no ${channel} event`);
	}

	for (const {channel, message} of events.events) {
		t.is(findLeak(message, forbidden), undefined, channel);
	}

	// The scan finds what it looks for.
	t.truthy(findLeak({deep: new Map([['key', {nested: [`Bearer ${[...tokens][0]!}`]}]])}, forbidden));
	const hidden = Object.defineProperty({}, Symbol('hidden'), {value: Buffer.from(secrets.basic), enumerable: false});
	t.truthy(findLeak(hidden, forbidden));
});
