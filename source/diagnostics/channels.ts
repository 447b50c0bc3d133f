import {channel, tracingChannel} from 'node:diagnostics_channel';
import {performance} from 'node:perf_hooks';
import type {TokenError} from '../errors.js';
import type {StoreEvent} from '../stores/shared-token-cache.js';
import type {TokenSet} from '../token-source/token-source.js';
import {labelsOf, tokenFingerprint, withoutQuery, type SourceLabels} from './identify.js';

/*
What the token layer does, published on `node:diagnostics_channel`. Every message is built only when the channel has a subscriber, and none carries a secret or a token: a token is named by its fingerprint (see `tokenFingerprint`). The names and message shapes are public API.
*/

/**
The channel names. `tokenRequest` is a tracing channel: subscribe with `diagnostics_channel.tracingChannel(channelNames.tokenRequest).subscribe({start, end, asyncStart, asyncEnd, error})`, or to `tracing:got-oauth:token-request:start` and its siblings one by one.
*/
export const channelNames = {
	tokenRequest: 'got-oauth:token-request',
	cacheHit: 'got-oauth:cache:hit',
	cacheMiss: 'got-oauth:cache:miss',
	refreshAheadStart: 'got-oauth:refresh-ahead:start',
	refreshAheadFailure: 'got-oauth:refresh-ahead:failure',
	coolDownOpen: 'got-oauth:cool-down:open',
	coolDownReject: 'got-oauth:cool-down:reject',
	coolDownProbe: 'got-oauth:cool-down:probe',
	apiRetry: 'got-oauth:api:retry',
	tokenHeld: 'got-oauth:api:token-held',
	discoverySuccess: 'got-oauth:discovery:success',
	discoveryFailure: 'got-oauth:discovery:failure',
	store: 'got-oauth:store',
	dpopNonceRetry: 'got-oauth:dpop:nonce-retry',
} as const;

export type {SourceLabels} from './identify.js';

/**
One token request: the grant's request to the token endpoint, got's retries of it included, and the reading of the answer. The context object of the `got-oauth:token-request` tracing channel. The fields below `grantType` are set as it goes and when it settles, before `asyncStart`; `error` is set by `diagnostics_channel` on failure.
*/
export type TokenRequestMessage = {
	/**
	Origin and path, never the query.
	*/
	readonly tokenEndpoint: string;
	readonly clientId: string;
	/**
	`grant_type` as configured, or `custom` for a function.
	*/
	readonly grantType: string;
	/**
	HTTP attempts made: 1, plus got's retries.
	*/
	attempts: number;
	/**
	The status of the response got returned, after its retries; absent when none arrived.
	*/
	statusCode?: number;
	/**
	Milliseconds from the start to the answer or the failure.
	*/
	duration?: number;
	/**
	Seconds, the response's `expires_in`, when it has one.
	*/
	expiresIn?: number;
	/**
	The new access token's fingerprint.
	*/
	token?: string;
	error?: unknown;
};

/**
A caller was served the cached token. One frozen object per token, the same for each of its hits.
*/
export type CacheHitMessage = SourceLabels & {
	/**
	The token's fingerprint.
	*/
	readonly token: string;
	/**
	When it expires: wall-clock epoch milliseconds.
	*/
	readonly expiresAt: number;
};

/**
A caller of `getToken()` found no usable token and waits for one: `none` (none yet, or it was rejected or invalidated), `expired` (past its usable time).
*/
export type CacheMissMessage = SourceLabels & {readonly reason: 'none' | 'expired'};

/**
The token is near its end: one background token request starts while callers go on with it.
*/
export type RefreshAheadStartMessage = SourceLabels & {
	/**
	The current token's fingerprint.
	*/
	readonly token: string;
	readonly expiresAt: number;
	/**
	1 for the first background request for this token, then one more for each that failed.
	*/
	readonly attempt: number;
};

/**
A background token request failed; callers still have the current token.
*/
export type RefreshAheadFailureMessage = SourceLabels & {
	readonly error: TokenError;
	/**
	Background failures in a row.
	*/
	readonly failures: number;
	/**
	Milliseconds until the next background attempt.
	*/
	readonly nextAttemptIn: number;
};

/**
A token request failed: for `nextAttemptIn` milliseconds callers without a usable token get this failure at once (0: `coolDown` is off).
*/
export type CoolDownOpenMessage = SourceLabels & {
	readonly error: TokenError;
	/**
	Failures in a row.
	*/
	readonly failures: number;
	readonly nextAttemptIn: number;
};

/**
A caller got the last failure at once instead of a token request: during the cool-down, or while another caller probes.
*/
export type CoolDownRejectMessage = SourceLabels & {
	/**
	Milliseconds until the token endpoint is asked again; 0 while the probe is under way.
	*/
	readonly nextAttemptIn: number;
	readonly isProbing: boolean;
};

/**
The cool-down is over: this caller's token request probes the token endpoint while the others fail fast.
*/
export type CoolDownProbeMessage = SourceLabels & {readonly failures: number};

/**
The API rejected the token (`isTokenRejected`, a 401 by default): the request is sent once more with a new token.
*/
export type ApiRetryMessage = SourceLabels & {
	/**
	The API's origin.
	*/
	readonly origin: string;
	readonly method: string;
	readonly statusCode: number;
	/**
	The rejected token's fingerprint.
	*/
	readonly token: string;
};

/**
The API rejected a token fetched to replace a rejected one before it ever accepted it: no new token for `heldFor` milliseconds, and the request fails with the API's answer (usually a token for the wrong API).
*/
export type TokenHeldMessage = SourceLabels & {
	readonly token: string;
	readonly heldFor: number;
	/**
	Replacements rejected in a row.
	*/
	readonly rejections: number;
};

/**
The issuer's metadata was read: the token endpoint is known.
*/
export type DiscoverySuccessMessage = {
	readonly issuer: string;
	/**
	Origin and path.
	*/
	readonly tokenEndpoint: string;
	/**
	Milliseconds.
	*/
	readonly duration: number;
};

/**
No usable metadata; the next token request asks again.
*/
export type DiscoveryFailureMessage = {
	readonly issuer: string;
	readonly error: TokenError;
	readonly duration: number;
};

/**
What the shared store did (`store` option): the `StoreEvent` as the shared cache reports it, with the source's labels.
*/
export type StoreMessage = SourceLabels & StoreEvent;

/**
A DPoP proof was refused for want of the server's nonce (RFC 9449 §8, §9) and the request is sent again with it.
*/
export type DpopNonceRetryMessage = SourceLabels & {
	readonly server: 'authorization-server' | 'resource-server';
	/**
	The server's origin.
	*/
	readonly origin: string;
};

/**
Each channel's message type, by name.
*/
export type ChannelMessages = {
	[channelNames.tokenRequest]: TokenRequestMessage;
	[channelNames.cacheHit]: CacheHitMessage;
	[channelNames.cacheMiss]: CacheMissMessage;
	[channelNames.refreshAheadStart]: RefreshAheadStartMessage;
	[channelNames.refreshAheadFailure]: RefreshAheadFailureMessage;
	[channelNames.coolDownOpen]: CoolDownOpenMessage;
	[channelNames.coolDownReject]: CoolDownRejectMessage;
	[channelNames.coolDownProbe]: CoolDownProbeMessage;
	[channelNames.apiRetry]: ApiRetryMessage;
	[channelNames.tokenHeld]: TokenHeldMessage;
	[channelNames.discoverySuccess]: DiscoverySuccessMessage;
	[channelNames.discoveryFailure]: DiscoveryFailureMessage;
	[channelNames.store]: StoreMessage;
	[channelNames.dpopNonceRetry]: DpopNonceRetryMessage;
};

const tokenRequest = tracingChannel<unknown, TokenRequestMessage>(channelNames.tokenRequest);
const cacheHit = channel(channelNames.cacheHit);
const cacheMiss = channel(channelNames.cacheMiss);
const refreshAheadStart = channel(channelNames.refreshAheadStart);
const refreshAheadFailure = channel(channelNames.refreshAheadFailure);
const coolDownOpen = channel(channelNames.coolDownOpen);
const coolDownReject = channel(channelNames.coolDownReject);
const coolDownProbe = channel(channelNames.coolDownProbe);
const apiRetry = channel(channelNames.apiRetry);
const tokenHeld = channel(channelNames.tokenHeld);
const discoverySuccess = channel(channelNames.discoverySuccess);
const discoveryFailure = channel(channelNames.discoveryFailure);
const store = channel(channelNames.store);
const dpopNonceRetry = channel(channelNames.dpopNonceRetry);

/**
A token as the token source holds it; only its fingerprint and expiry are published.
*/
type HeldToken = {readonly accessToken: string; readonly expiresAt: number};

/**
The context for a traced token request, or `undefined` when nobody listens: then nothing is built or timed.
*/
export function tokenRequestMessage(labels: {readonly clientId: string; readonly grantType: string}, tokenEndpoint: URL): TokenRequestMessage | undefined {
	return tokenRequest.hasSubscribers
		? {tokenEndpoint: withoutQuery(tokenEndpoint), clientId: labels.clientId, grantType: labels.grantType, attempts: 0}
		: undefined;
}

/**
Runs one token request inside the tracing channel. The channel's `result` stays `undefined`: the token set holds the token.
*/
export async function traceTokenRequest(message: TokenRequestMessage, request: () => Promise<TokenSet>): Promise<TokenSet> {
	const started = performance.now();
	let tokenSet: TokenSet | undefined;
	await tokenRequest.tracePromise(async () => {
		try {
			tokenSet = await request();
			message.expiresIn = tokenSet.expiresIn;
			message.token = tokenFingerprint(tokenSet.accessToken);
		} finally {
			message.duration = performance.now() - started;
		}
	}, message);
	return tokenSet!;
}

/**
A token's hit message, built on its first hit with a subscriber and reused for every hit after.
*/
const hitMessages = new WeakMap<HeldToken, CacheHitMessage>();

/**
On every request served from the cache: with no subscriber, one property read; with one, no allocation after the token's first hit.
*/
export function publishCacheHit(source: WeakKey, token: HeldToken): void {
	if (!cacheHit.hasSubscribers) {
		return;
	}

	let message = hitMessages.get(token);
	if (message === undefined) {
		message = Object.freeze({...labelsOf(source), token: tokenFingerprint(token.accessToken), expiresAt: token.expiresAt});
		hitMessages.set(token, message);
	}

	cacheHit.publish(message);
}

export function publishCacheMiss(source: WeakKey, reason: CacheMissMessage['reason']): void {
	if (cacheMiss.hasSubscribers) {
		cacheMiss.publish({...labelsOf(source), reason} satisfies CacheMissMessage);
	}
}

export function publishRefreshAheadStart(source: WeakKey, token: HeldToken, attempt: number): void {
	if (refreshAheadStart.hasSubscribers) {
		refreshAheadStart.publish({...labelsOf(source), token: tokenFingerprint(token.accessToken), expiresAt: token.expiresAt, attempt} satisfies RefreshAheadStartMessage);
	}
}

export function publishRefreshAheadFailure(source: WeakKey, error: unknown, failures: number, nextAttemptIn: number): void {
	if (refreshAheadFailure.hasSubscribers) {
		refreshAheadFailure.publish({...labelsOf(source), error: error as TokenError, failures, nextAttemptIn} satisfies RefreshAheadFailureMessage);
	}
}

export function publishCoolDownOpen(source: WeakKey, error: TokenError, failures: number, nextAttemptIn: number): void {
	if (coolDownOpen.hasSubscribers) {
		coolDownOpen.publish({...labelsOf(source), error, failures, nextAttemptIn} satisfies CoolDownOpenMessage);
	}
}

export function publishCoolDownReject(source: WeakKey, failure: TokenError): void {
	if (!coolDownReject.hasSubscribers) {
		return;
	}

	// Set on every failure repeated during the cool-down.
	const nextAttemptIn = failure.nextAttemptIn!;
	coolDownReject.publish({...labelsOf(source), nextAttemptIn, isProbing: nextAttemptIn === 0} satisfies CoolDownRejectMessage);
}

export function publishCoolDownProbe(source: WeakKey, failures: number): void {
	if (coolDownProbe.hasSubscribers) {
		coolDownProbe.publish({...labelsOf(source), failures} satisfies CoolDownProbeMessage);
	}
}

/**
`request`: the options of the rejected attempt, as got has them.
*/
export function publishApiRetry(source: WeakKey, request: {readonly url?: URL | string; readonly method: string}, statusCode: number, token: string): void {
	if (apiRetry.hasSubscribers) {
		apiRetry.publish({...labelsOf(source), origin: new URL(request.url!).origin, method: request.method, statusCode, token: tokenFingerprint(token)} satisfies ApiRetryMessage);
	}
}

export function publishTokenHeld(source: WeakKey, token: string, heldFor: number, rejections: number): void {
	if (tokenHeld.hasSubscribers) {
		tokenHeld.publish({...labelsOf(source), token: tokenFingerprint(token), heldFor, rejections} satisfies TokenHeldMessage);
	}
}

/**
`started`: `performance.now()` when discovery began.
*/
export function publishDiscoverySuccess(issuer: string, tokenEndpoint: URL, started: number): void {
	if (discoverySuccess.hasSubscribers) {
		discoverySuccess.publish({issuer, tokenEndpoint: withoutQuery(tokenEndpoint), duration: performance.now() - started} satisfies DiscoverySuccessMessage);
	}
}

export function publishDiscoveryFailure(issuer: string, error: unknown, started: number): void {
	if (discoveryFailure.hasSubscribers) {
		discoveryFailure.publish({issuer, error: error as TokenError, duration: performance.now() - started} satisfies DiscoveryFailureMessage);
	}
}

/**
The shared cache's `onEvent` for a token source: its events, on the store channel.
*/
export function storeEventPublisher(source: WeakKey): (event: StoreEvent) => void {
	return event => {
		if (store.hasSubscribers) {
			store.publish({...labelsOf(source), ...event} satisfies StoreMessage);
		}
	};
}

/**
For DPoP (RFC 9449): a retry with the server's nonce. Pass the source's labels (`labelsOf(source)`), or the configuration's client id and grant at the token endpoint.
*/
export function publishDpopNonceRetry(labels: SourceLabels, server: DpopNonceRetryMessage['server'], url: URL): void {
	if (dpopNonceRetry.hasSubscribers) {
		dpopNonceRetry.publish({clientId: labels.clientId, grantType: labels.grantType, server, origin: url.origin} satisfies DpopNonceRetryMessage);
	}
}
