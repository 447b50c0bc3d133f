import {performance} from 'node:perf_hooks';
import {decodeJwt} from 'jose';
import pMemoize from 'p-memoize';
import {coolDownAfter, fullJitter} from './backoff.js';
import {TokenError, cleanCause} from './errors.js';
import {type CacheOptions, type Clock, seconds} from './options.js';
import type {TokenSet} from './token-response.js';

export type TokenSourceOptions = CacheOptions & {
	/** Fetch a new token. Called by one caller at a time; its failure reaches every waiter. */
	fetchToken: () => Promise<TokenSet>;
};

type CachedToken = {
	readonly accessToken: string;
	/** On the clock's scale: from here on, one background refresh is started. */
	readonly refreshFrom: number;
	/** On the clock's scale: the first instant the token is no longer handed out. */
	readonly usableUntil: number;
};

type Failure = {
	readonly error: TokenError;
	/** On the clock's scale: until then, callers get `error` without a new token request. */
	readonly until: number;
};

export type GetTokenOptions = {
	/** Stops this caller's wait; the shared token request goes on for the others. */
	signal?: AbortSignal;
};

const defaultClock: Clock = () => performance.now();

/** Background refresh retries: first wait up to 1 s, at most 30 s, never past the token's usable time. */
const backgroundRetryBase = 1000;
const backgroundRetryCap = 30_000;

/** Seconds until a JWT's `exp`, read without verifying it: only the server that issued it can, and it does. */
function jwtLifetime(accessToken: string): number | undefined {
	try {
		const {exp} = decodeJwt(accessToken);
		return typeof exp === 'number' ? Math.max(0, exp - (Date.now() / 1000)) : undefined;
	} catch {
		return undefined;
	}
}

async function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
	let onAbort!: () => void;
	const aborted = new Promise<never>((_resolve, reject) => {
		onAbort = () => {
			reject(signal.reason as Error);
		};

		signal.addEventListener('abort', onAbort, {once: true});
	});
	try {
		return await Promise.race([promise, aborted]);
	} finally {
		signal.removeEventListener('abort', onAbort);
	}
}

/** RFC 6749 §A.12: an access token is printable ASCII, which is also what an HTTP header can carry. */
const accessTokenSyntax = /^[\u{20}-\u{7E}]+$/v;

function checkTokenSet(tokenSet: TokenSet | undefined): asserts tokenSet is TokenSet {
	if (typeof tokenSet?.accessToken !== 'string' || tokenSet.accessToken.length === 0) {
		throw new TokenError('The token has no `accessToken` string (RFC 6749 §5.1)');
	}

	if (!accessTokenSyntax.test(tokenSet.accessToken)) {
		throw new TokenError('The access token has characters outside printable ASCII (RFC 6749 §A.12)');
	}

	const {expiresIn} = tokenSet;
	if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < 0)) {
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
A cached access token: fetched on first use, refreshed in the background before it expires, reused until it expires less a safety margin, fetched once for all concurrent callers, and not asked for again at once after a failure. Transport-free: it knows nothing of got, so it also serves a WebSocket handshake or any other client.
*/
export class TokenSource {
	readonly #fetchToken: () => Promise<TokenSet>;
	readonly #expiryMargin: number;
	readonly #defaultLifetime: number;
	readonly #refreshAhead: number;
	readonly #coolDown: number;
	readonly #maxCoolDown: number;
	readonly #clock: Clock;
	#cached: CachedToken | undefined;
	#failure: Failure | undefined;
	#failuresInARow = 0;
	#isFetching = false;
	#backgroundFailures = 0;
	#backgroundRetryAt = 0;

	// One token request for every caller that finds no valid token; p-memoize forgets it once settled, so the next call after the cool-down asks again.
	readonly #refresh = pMemoize(async () => this.#fetch(), {cache: false});

	constructor(options: TokenSourceOptions) {
		if (typeof options?.fetchToken !== 'function') {
			throw new TypeError('got-oauth: `fetchToken` must be a function returning a token');
		}

		this.#fetchToken = options.fetchToken;
		this.#expiryMargin = seconds('expiryMargin', options.expiryMargin, 60);
		this.#defaultLifetime = seconds('defaultLifetime', options.defaultLifetime, 300);
		this.#refreshAhead = seconds('refreshAhead', options.refreshAhead, 300);
		this.#coolDown = seconds('coolDown', options.coolDown, 1);
		this.#maxCoolDown = seconds('maxCoolDown', options.maxCoolDown, 30);
		this.#clock = options.clock ?? defaultClock;
	}

	async #fetch(): Promise<string> {
		// Timed from the request, not the response: the server's clock for `expires_in` started before we heard of it.
		const requestedAt = this.#clock();
		let tokenSet: TokenSet;
		this.#isFetching = true;
		try {
			tokenSet = await this.#fetchToken();
			checkTokenSet(tokenSet);
		} catch (error) {
			const tokenError = toTokenError(error);
			this.#failure = {error: tokenError, until: this.#clock() + coolDownAfter(++this.#failuresInARow, this.#coolDown, this.#maxCoolDown)};
			throw tokenError;
		} finally {
			this.#isFetching = false;
		}

		this.#failure = undefined;
		this.#failuresInARow = 0;
		const lifetime = tokenSet.expiresIn ?? jwtLifetime(tokenSet.accessToken) ?? this.#defaultLifetime;
		// Half the lifetime at most, so a 60 s token is still used for 30 s instead of never.
		const usable = lifetime - Math.min(this.#expiryMargin, lifetime / 2);
		const usableUntil = requestedAt + (usable * 1000);
		this.#cached = {
			accessToken: tokenSet.accessToken,
			refreshFrom: usableUntil - (Math.min(this.#refreshAhead, usable / 2) * 1000),
			usableUntil,
		};
		return tokenSet.accessToken;
	}

	#refreshInBackground(): void {
		// Set before the request, so the requests that follow this one do not each start one.
		this.#backgroundRetryAt = Number.POSITIVE_INFINITY;
		this.#refresh().then(() => {
			this.#backgroundFailures = 0;
			this.#backgroundRetryAt = 0;
		}).catch(() => {
			// The current token is still good: no caller sees this failure. Try again later, but not in lockstep with other processes.
			this.#backgroundRetryAt = this.#clock() + Math.max(1, fullJitter(this.#backgroundFailures++, backgroundRetryBase, backgroundRetryCap));
		});
	}

	/**
	The cached token if it is still usable, synchronously; `undefined` otherwise. Starts nothing.
	*/
	peek(): string | undefined {
		const cached = this.#cached;
		return cached !== undefined && this.#clock() < cached.usableUntil ? cached.accessToken : undefined;
	}

	/**
	The cached token if it is still usable, synchronously, starting one background refresh when it is near expiry; `undefined` otherwise. The per-request path: no promise while a token is cached.
	*/
	usableToken(): string | undefined {
		const cached = this.#cached;
		if (cached === undefined) {
			return undefined;
		}

		const now = this.#clock();
		if (now < cached.refreshFrom) {
			return cached.accessToken;
		}

		if (now >= cached.usableUntil) {
			return undefined;
		}

		if (now >= this.#backgroundRetryAt) {
			this.#refreshInBackground();
		}

		return cached.accessToken;
	}

	/**
	A usable access token: the cached one, or a new one shared with every concurrent caller. During the cool-down after a failure, and while one caller probes the token endpoint after it, that failure at once.
	*/
	async getToken(options: GetTokenOptions = {}): Promise<string> {
		const cached = this.usableToken();
		if (cached !== undefined) {
			return cached;
		}

		const {signal} = options;
		// An aborted caller must not start a token request for nobody.
		signal?.throwIfAborted();
		const failure = this.#failure;
		// After a failure, one request probes the token endpoint at a time; the rest fail fast instead of queueing behind it.
		if (failure !== undefined && (this.#isFetching || this.#clock() < failure.until)) {
			throw failure.error;
		}

		return signal === undefined ? this.#refresh() : abortable(this.#refresh(), signal);
	}

	/**
	Forget `accessToken` if it is still the cached one (the API rejected it). A token already replaced is left alone, so many requests failing with the same stale token cause one new token request, not many.
	*/
	invalidate(accessToken: string): boolean {
		if (this.#cached?.accessToken !== accessToken) {
			return false;
		}

		this.#cached = undefined;
		return true;
	}
}
