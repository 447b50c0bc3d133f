import {decodeJwt} from 'jose';
import pMemoize from 'p-memoize';
import {coolDownAfter, fullJitter} from '../backoff.js';
import type {DpopKey} from '../dpop/key.js';
import {isNonNegativeSeconds} from '../checks.js';
import {
	publishCacheHit,
	publishCacheMiss,
	publishCoolDownOpen,
	publishCoolDownProbe,
	publishCoolDownReject,
	publishRefreshAheadFailure,
	publishRefreshAheadStart,
	publishTokenHeld,
	storeEventPublisher,
} from '../diagnostics/channels.js';
import {ConfigurationError, TokenError, cleanCause, describeValue} from '../errors.js';
import {createSharedCache, type StoreOptions} from '../stores/options.js';
import type {SharedToken, SharedTokenCache} from '../stores/shared-token-cache.js';
import {checkCacheOptions, type CacheOptions, type CacheSettings} from './cache-options.js';

/**
An access token and what came with it: a token endpoint's successful response (RFC 6749 §5.1), as a token source keeps it.
*/
export type TokenSet = {
	accessToken: string;
	/**
	`token_type` as sent; `Bearer` when absent.
	*/
	tokenType: string;
	/**
	Seconds, from `expires_in`.
	*/
	expiresIn?: number;
	/**
	Granted scope, when the server says (RFC 6749 §5.1).
	*/
	scope?: string;
	/**
	A refresh token, when the server issued one (RFC 6749 §5.1); a rotating server sends a new one each time.
	*/
	refreshToken?: string;
	/**
	The response's other members, as sent: RFC 8693's `issued_token_type`, an `id_token`, a provider's own.
	*/
	extra?: Readonly<Record<string, unknown>>;
	/**
	For a DPoP-bound token (RFC 9449), the key it is bound to: every request with the token carries a proof signed by it. Set by the token endpoint with the `dpop` option, or by the store for a token another process fetched. Shows no key material.
	*/
	dpopKey?: DpopKey;
};

export type TokenSourceOptions = CacheOptions & StoreOptions & {
	/**
	Fetch a new token. Called by one caller at a time; its failure reaches every waiter.
	*/
	fetchToken: () => Promise<TokenSet>;

	/**
	With `store`: the name of the token in the store, equal only for sources whose tokens are interchangeable. `createTokenSource()` makes it from the configuration (its `cacheKey`).
	*/
	cacheKey?: string;
};

type CachedToken = {
	readonly tokenSet: TokenSet;
	readonly accessToken: string;
	/**
	It was fetched to replace a token the API rejected, and the API has not accepted it yet.
	*/
	isUnprovenReplacement: boolean;
	/**
	On the clock's scale: from here on, one background refresh is started.
	*/
	readonly refreshFrom: number;
	/**
	On the clock's scale: the first instant the token is no longer handed out.
	*/
	readonly usableUntil: number;
	/**
	Wall-clock milliseconds when the token expires, by its own account.
	*/
	readonly expiresAt: number;
};

type Failure = {
	readonly error: TokenError;
	/**
	On the clock's scale: until then, callers get `error` without a new token request.
	*/
	readonly until: number;
};

/**
A token set as a token source holds it: what the token endpoint said, and when the token expires.
*/
export type TokenDetails = TokenSet & {
	/**
	When the token expires, by its lifetime (`expires_in`, a JWT's `exp`, or `defaultLifetime`), on the wall clock.
	*/
	expiresAt: Date;
};

export type GetTokenOptions = {
	/**
	Stops this caller's wait; the shared token request goes on for the others.
	*/
	signal?: AbortSignal;
};

/**
Background refresh retries: first wait up to 1 s, at most 30 s, never past the token's usable time.
*/
const backgroundRetryBase = 1000;
const backgroundRetryCap = 30_000;

/**
The shortest time a token is used, in seconds. A server that issues tokens with `expires_in: 0`, or JWTs whose `exp` looks past under clock skew, then costs a token request a second (two with refresh-ahead), not one for every wave of requests.
*/
const minimumUsableLifetime = 1;

/**
Seconds until a JWT's `exp`, read without verifying it: only the server that issued it can, and it does.
*/
function jwtLifetime(accessToken: string): number | undefined {
	try {
		const {exp} = decodeJwt(accessToken);
		return typeof exp === 'number' ? Math.max(0, exp - (Date.now() / 1000)) : undefined;
	} catch {
		return undefined;
	}
}

async function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
	const {promise: aborted, reject} = Promise.withResolvers<never>();
	const onAbort = () => {
		reject(signal.reason as Error);
	};

	signal.addEventListener('abort', onAbort, {once: true});
	try {
		return await Promise.race([promise, aborted]);
	} finally {
		signal.removeEventListener('abort', onAbort);
	}
}

/**
RFC 6749 §A.12: an access token is printable ASCII, which is also what an HTTP header can carry.
*/
const accessTokenSyntax = /^[\u{20}-\u{7E}]+$/v;

function checkTokenSet(tokenSet: TokenSet | undefined): asserts tokenSet is TokenSet {
	if (typeof tokenSet?.accessToken !== 'string' || tokenSet.accessToken.length === 0) {
		throw new TokenError('The token has no `accessToken` string (RFC 6749 §5.1)');
	}

	if (!accessTokenSyntax.test(tokenSet.accessToken)) {
		throw new TokenError('The access token has characters outside printable ASCII (RFC 6749 §A.12)');
	}

	if (tokenSet.expiresIn !== undefined && !isNonNegativeSeconds(tokenSet.expiresIn)) {
		throw new TokenError('The token\'s `expiresIn` is not a non-negative number of seconds (RFC 6749 §5.1)');
	}
}

function toTokenError(error: unknown): TokenError {
	if (error instanceof TokenError) {
		return error;
	}

	const cause = cleanCause(error);
	return new TokenError(`Token source failed: ${cause.message}`, {cause});
}

/**
A cached access token: fetched on first use, refreshed in the background before it expires, reused until it expires less a safety margin, fetched once for all concurrent callers, and not asked for again at once after a failure.

It never sends a request itself: `fetchToken` does, so it serves got, a WebSocket handshake or any other client alike. Its failures are `TokenError`s, which extend got's `RequestError` so that got hands them to its callers as they are.
*/
export class TokenSource {
	readonly #fetchToken: () => Promise<TokenSet>;
	readonly #settings: CacheSettings;
	#cached: CachedToken | undefined;
	#failure: Failure | undefined;
	#failuresInARow = 0;
	#isFetching = false;
	#backgroundFailures = 0;
	#backgroundRetryAt = 0;
	/**
	The next token fetched replaces one the API rejected.
	*/
	#isReplacing = false;
	#rejectionsInARow = 0;
	/**
	A rejected replacement, kept until `#holdUntil` (on the clock's scale) rather than replaced again.
	*/
	#heldToken: string | undefined;
	#holdUntil = 0;
	/**
	The last token this source held, forgotten or not: a store may not hand it back.
	*/
	#lastToken: string | undefined;
	readonly #shared: SharedTokenCache | undefined;
	/**
	A rejected token being deleted from the store: the next fetch waits for it, so it does not read the token back.
	*/
	#storeInvalidation: Promise<unknown> = Promise.resolve();

	// One token request for every caller that finds no valid token; p-memoize forgets it once settled, so the next call after the cool-down asks again.
	readonly #refresh = pMemoize(async () => this.#fetch(), {cache: false});

	constructor(options: TokenSourceOptions) {
		if (typeof options?.fetchToken !== 'function') {
			throw new ConfigurationError('fetchToken', `must be a function returning a token, got ${describeValue(options?.fetchToken)}`);
		}

		this.#fetchToken = options.fetchToken;
		this.#settings = checkCacheOptions(options);
		this.#shared = createSharedCache({store: options.store, encryptionKey: options.encryptionKey, cacheKey: options.cacheKey, onEvent: storeEventPublisher(this)});
	}

	async #fetch(): Promise<CachedToken> {
		const {clock, coolDown, maxCoolDown} = this.#settings;
		const isReplacement = this.#isReplacing;
		let cached: CachedToken;
		this.#isFetching = true;
		// The first token request after a failure: callers that come meanwhile fail fast.
		if (this.#failure !== undefined) {
			publishCoolDownProbe(this, this.#failuresInARow);
		}

		try {
			cached = await this.#fetchOwnOrShared(isReplacement);
		} catch (error) {
			const tokenError = toTokenError(error);
			const wait = coolDownAfter(++this.#failuresInARow, coolDown, maxCoolDown);
			this.#failure = {error: tokenError, until: clock() + wait};
			publishCoolDownOpen(this, tokenError, this.#failuresInARow, wait);
			throw tokenError;
		} finally {
			this.#isFetching = false;
		}

		this.#failure = undefined;
		this.#failuresInARow = 0;
		this.#isReplacing = false;
		// A token fetched for its own sake, not to replace a rejected one: whatever the API rejected before is behind us.
		if (!isReplacement) {
			this.#rejectionsInARow = 0;
		}

		this.#cached = cached;
		this.#lastToken = cached.accessToken;
		return cached;
	}

	/**
	A token from `fetchToken`, or with a store, the one the store holds or the one a process fetches for all.
	*/
	async #fetchOwnOrShared(isReplacement: boolean): Promise<CachedToken> {
		const shared = this.#shared;
		if (shared === undefined) {
			const {cached} = await this.#fetchOwn(isReplacement);
			return cached;
		}

		let own: CachedToken | undefined;
		await this.#storeInvalidation;
		const token = await shared.fetchShared(async () => {
			const fetched = await this.#fetchOwn(isReplacement);
			own = fetched.cached;
			return fetched.shared;
		}, {replacing: this.#lastToken});
		return own?.accessToken === token.tokenSet.accessToken ? own : this.#adopted(token, isReplacement);
	}

	async #fetchOwn(isReplacement: boolean): Promise<{cached: CachedToken; shared: SharedToken}> {
		const {clock, expiryMargin, defaultLifetime, refreshAhead} = this.#settings;
		// Timed from the request, not the response: the server's clock for `expires_in` started before we heard of it.
		const requestedAt = clock();
		const requestedAtWall = Date.now();
		const tokenSet = await this.#fetchToken();
		checkTokenSet(tokenSet);
		const {accessToken, expiresIn} = tokenSet;
		const lifetime = expiresIn ?? jwtLifetime(accessToken) ?? defaultLifetime;
		// Half the lifetime at most, so a 60 s token is still used for 30 s instead of never.
		const usable = Math.max(minimumUsableLifetime, lifetime - Math.min(expiryMargin, lifetime / 2));
		const usableUntil = requestedAt + (usable * 1000);
		const expiresAt = requestedAtWall + (lifetime * 1000);
		return {
			cached: {
				tokenSet,
				accessToken,
				isUnprovenReplacement: isReplacement,
				refreshFrom: usableUntil - (Math.min(refreshAhead, usable / 2) * 1000),
				usableUntil,
				expiresAt,
			},
			shared: {tokenSet, expiresAt, usableUntil: requestedAtWall + (usable * 1000)},
		};
	}

	/**
	A token another process fetched: its times come as wall-clock instants, and are put on this process's clock.
	*/
	#adopted({tokenSet, expiresAt, usableUntil}: SharedToken, isReplacement: boolean): CachedToken {
		const {clock, refreshAhead} = this.#settings;
		const usable = Math.max(0, usableUntil - Date.now());
		const usableUntilHere = clock() + usable;
		return {
			tokenSet,
			accessToken: tokenSet.accessToken,
			isUnprovenReplacement: isReplacement,
			refreshFrom: usableUntilHere - Math.min(refreshAhead * 1000, usable / 2),
			usableUntil: usableUntilHere,
			expiresAt,
		};
	}

	#refreshInBackground(cached: CachedToken): void {
		// Set before the request, so the requests that follow this one do not each start one.
		this.#backgroundRetryAt = Number.POSITIVE_INFINITY;
		publishRefreshAheadStart(this, cached, this.#backgroundFailures + 1);
		this.#refresh().then(() => {
			this.#backgroundFailures = 0;
			this.#backgroundRetryAt = 0;
		}).catch((error: unknown) => {
			// The current token is still good: no caller sees this failure. Try again later, but not in lockstep with other processes.
			const wait = Math.max(1, fullJitter(this.#backgroundFailures++, backgroundRetryBase, backgroundRetryCap));
			this.#backgroundRetryAt = this.#settings.clock() + wait;
			publishRefreshAheadFailure(this, error, this.#backgroundFailures, wait);
		});
	}

	#usable(): CachedToken | undefined {
		const cached = this.#cached;
		if (cached === undefined) {
			return undefined;
		}

		const now = this.#settings.clock();
		if (now < cached.refreshFrom) {
			publishCacheHit(this, cached);
			return cached;
		}

		if (now >= cached.usableUntil) {
			return undefined;
		}

		if (now >= this.#backgroundRetryAt) {
			this.#refreshInBackground(cached);
		}

		publishCacheHit(this, cached);
		return cached;
	}

	/**
	The failure callers get at once during the cool-down, or while one caller probes the token endpoint after it, saying so.
	*/
	#fastFailure(): TokenError | undefined {
		const failure = this.#failure;
		if (failure === undefined) {
			return undefined;
		}

		const wait = failure.until - this.#settings.clock();
		if (!this.#isFetching && wait <= 0) {
			return undefined;
		}

		const {error} = failure;
		const when = this.#isFetching ? 'another caller is asking the token endpoint again now' : `the token endpoint is asked again in ${Math.ceil(wait / 100) / 10} s`;
		return error.repeated(`${error.message} [failing fast after that failure: ${when}]`, this.#isFetching ? 0 : wait);
	}

	async #acquire(options: GetTokenOptions): Promise<CachedToken> {
		const cached = this.#usable();
		if (cached !== undefined) {
			return cached;
		}

		publishCacheMiss(this, this.#cached === undefined ? 'none' : 'expired');
		const {signal} = options;
		// An aborted caller must not start a token request for nobody.
		signal?.throwIfAborted();
		const failure = this.#fastFailure();
		// After a failure, one request probes the token endpoint at a time; the rest fail fast instead of queueing behind it.
		if (failure !== undefined) {
			publishCoolDownReject(this, failure);
			throw failure;
		}

		return signal === undefined ? this.#refresh() : abortable(this.#refresh(), signal);
	}

	/**
	The cached token if it is still usable, synchronously; `undefined` otherwise. Starts nothing.
	*/
	peek(): string | undefined {
		const cached = this.#cached;
		return cached !== undefined && this.#settings.clock() < cached.usableUntil ? cached.accessToken : undefined;
	}

	/**
	`getToken()` without the wait: the cached token while it is usable, else `undefined` where `getToken()` would have to wait for a token request. Like `getToken()`, it starts the one background refresh when the token is near its end. What the hooks call on every request: no promise while a token is cached.
	*/
	getTokenSync(): string | undefined {
		return this.#usable()?.accessToken;
	}

	/**
	`getTokenSync()` with everything the token endpoint said of the token: for a DPoP-bound token, its `dpopKey` too. What the hooks call on every request when DPoP is on.
	*/
	getTokenSetSync(): Readonly<TokenSet> | undefined {
		return this.#usable()?.tokenSet;
	}

	/**
	A usable access token: the cached one, or a new one shared with every concurrent caller. During the cool-down after a failure, and while one caller probes the token endpoint after it, that failure at once, saying so.
	*/
	async getToken(options: GetTokenOptions = {}): Promise<string> {
		const {accessToken} = await this.#acquire(options);
		return accessToken;
	}

	/**
	Like `getToken()`, with everything the token endpoint said of the token (`scope`, `tokenType`, the response's other members) and when it expires.
	*/
	async getTokenDetails(options: GetTokenOptions = {}): Promise<TokenDetails> {
		const {tokenSet, expiresAt} = await this.#acquire(options);
		return {...tokenSet, expiresAt: new Date(expiresAt)};
	}

	/**
	Forget `accessToken` if it is still the cached one; the next caller gets a new one. A token already replaced is left alone. Returns whether the token was forgotten.
	*/
	invalidate(accessToken: string): boolean {
		if (this.#cached?.accessToken !== accessToken) {
			return false;
		}

		this.#cached = undefined;
		return true;
	}

	/**
	The API rejected `accessToken` (a 401): forget it if it is still the cached one, so many requests failing with the same stale token cause one new token request, not many. Returns whether a retry can expect another token: `true` when it was forgotten or already replaced.

	A token that was itself fetched to replace a rejected one, and is rejected before the API ever accepted it, is kept for a back-off (`coolDown`, doubling with each such rejection in a row, up to `maxCoolDown`) and `false` is returned: an API that rejects every token (a wrong `audience`) then costs a few token requests, not one per call.
	*/
	rejected(accessToken: string): boolean {
		const cached = this.#cached;
		if (cached?.accessToken !== accessToken) {
			return true;
		}

		if (cached.isUnprovenReplacement) {
			const {clock, coolDown, maxCoolDown} = this.#settings;
			const now = clock();
			// The first rejection of a replacement starts its back-off; one after the back-off replaces it.
			if (this.#heldToken !== accessToken) {
				this.#heldToken = accessToken;
				this.#holdUntil = now + coolDownAfter(++this.#rejectionsInARow, coolDown, maxCoolDown);
			}

			if (now < this.#holdUntil) {
				publishTokenHeld(this, accessToken, this.#holdUntil - now, this.#rejectionsInARow);
				return false;
			}
		}

		this.#cached = undefined;
		this.#isReplacing = true;
		// Every process sharing the store stops using it; the next fetch waits for the delete.
		this.#storeInvalidation = this.#shared?.invalidate(accessToken) ?? this.#storeInvalidation;
		return true;
	}

	/**
	Whether the cached token is a replacement the API has not yet accepted: only then does `accepted()` need calling. Cheap, for every response.
	*/
	get isAwaitingAcceptance(): boolean {
		return this.#cached?.isUnprovenReplacement === true;
	}

	/**
	The API accepted `accessToken` (any answer but 401): a replacement that works is an ordinary token again.
	*/
	accepted(accessToken: string): void {
		const cached = this.#cached;
		if (cached?.accessToken !== accessToken || !cached.isUnprovenReplacement) {
			return;
		}

		cached.isUnprovenReplacement = false;
		this.#rejectionsInARow = 0;
	}
}
