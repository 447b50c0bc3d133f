import test from 'ava';
import {RequestError} from 'got';
import {TokenSource, TokenError, ConfigurationError, type TokenSet} from '../source/index.js';
import {fakeClock, deferred, unsignedJwt, settle} from './helpers/fakes.js';

type Fetcher = (() => Promise<TokenSet>) & {calls: number};

function counting(answer: (call: number) => TokenSet | Promise<TokenSet>): Fetcher {
	const fetcher = (async () => {
		fetcher.calls++;
		return answer(fetcher.calls);
	}) as Fetcher;
	fetcher.calls = 0;
	return fetcher;
}

const token = (call: number, expiresIn?: number): TokenSet => ({accessToken: `token-${call}`, tokenType: 'Bearer', expiresIn});

test('fetches on first use and reuses the token while it is valid', async t => {
	const clock = fakeClock();
	const fetchToken = counting(call => token(call, 3600));
	const source = new TokenSource({fetchToken, clock});

	t.is(source.peek(), undefined);
	t.is(await source.getToken(), 'token-1');
	clock.advance(1000 * 1000);
	t.is(await source.getToken(), 'token-1');
	t.is(source.peek(), 'token-1');
	t.is(fetchToken.calls, 1);
});

test('a token stops being used 60 s before expiry by default', async t => {
	const clock = fakeClock();
	const fetchToken = counting(call => token(call, 3600));
	// Without refresh-ahead, so no background request replaces the token before the margin is reached.
	const source = new TokenSource({fetchToken, clock, refreshAhead: 0});

	await source.getToken();
	clock.advance((3540 * 1000) - 1);
	t.is(await source.getToken(), 'token-1');
	clock.advance(1);
	t.is(source.peek(), undefined);
	t.is(await source.getToken(), 'token-2');
	t.is(fetchToken.calls, 2);
});

test('the margin is capped at half the lifetime, so short tokens are still used', async t => {
	const clock = fakeClock();
	const fetchToken = counting(call => token(call, 60));
	const source = new TokenSource({fetchToken, clock});

	await source.getToken();
	clock.advance(29_999);
	t.is(source.peek(), 'token-1');
	clock.advance(1);
	t.is(source.peek(), undefined);
});

test('the margin is configurable', async t => {
	const clock = fakeClock();
	const source = new TokenSource({fetchToken: counting(call => token(call, 3600)), clock, expiryMargin: 600});

	await source.getToken();
	clock.advance((3000 * 1000) - 1);
	t.is(source.peek(), 'token-1');
	clock.advance(1);
	t.is(source.peek(), undefined);
});

test('expiry counts from when the token was requested, not when it arrived', async t => {
	const clock = fakeClock();
	const source = new TokenSource({
		async fetchToken() {
			clock.advance(5000);
			return token(1, 100);
		},
		clock,
		expiryMargin: 0,
	});

	await source.getToken();
	clock.advance(94_999);
	t.is(source.peek(), 'token-1');
	clock.advance(1);
	t.is(source.peek(), undefined);
});

test('without expires_in, a JWT access token expires at its exp claim', async t => {
	const clock = fakeClock();
	const jwt = unsignedJwt({exp: Math.floor(Date.now() / 1000) + 600});
	const source = new TokenSource({fetchToken: async () => ({accessToken: jwt, tokenType: 'Bearer'}), clock});

	await source.getToken();
	clock.advance(530 * 1000);
	t.is(source.peek(), jwt);
	clock.advance(15 * 1000);
	t.is(source.peek(), undefined);
});

test('expires_in wins over a JWT exp claim', async t => {
	const clock = fakeClock();
	const jwt = unsignedJwt({exp: Math.floor(Date.now() / 1000) + 7200});
	const source = new TokenSource({fetchToken: async () => ({accessToken: jwt, tokenType: 'Bearer', expiresIn: 120}), clock});

	await source.getToken();
	clock.advance(60 * 1000);
	t.is(source.peek(), undefined);
});

test('an opaque token without expires_in lives for the default lifetime, 300 s', async t => {
	const clock = fakeClock();
	const source = new TokenSource({fetchToken: counting(call => token(call)), clock});

	await source.getToken();
	clock.advance((240 * 1000) - 1);
	t.is(source.peek(), 'token-1');
	clock.advance(1);
	t.is(source.peek(), undefined);
});

test('the default lifetime is configurable', async t => {
	const clock = fakeClock();
	const source = new TokenSource({fetchToken: counting(call => token(call)), clock, defaultLifetime: 3600});

	await source.getToken();
	clock.advance((3540 * 1000) - 1);
	t.is(source.peek(), 'token-1');
	clock.advance(1);
	t.is(source.peek(), undefined);
});

test('a JWT without exp falls back to the default lifetime', async t => {
	const clock = fakeClock();
	const jwt = unsignedJwt({sub: 'client'});
	const source = new TokenSource({fetchToken: async () => ({accessToken: jwt, tokenType: 'Bearer'}), clock, defaultLifetime: 100});

	await source.getToken();
	clock.advance(49_999);
	t.is(source.peek(), jwt);
	clock.advance(1);
	t.is(source.peek(), undefined);
});

test('concurrent callers share one token request', async t => {
	const answer = deferred<TokenSet>();
	const fetchToken = counting(async () => answer.promise);
	const source = new TokenSource({fetchToken, clock: fakeClock()});

	const tokens = Promise.all(Array.from({length: 25}, async () => source.getToken()));
	answer.resolve(token(1, 3600));
	t.deepEqual(new Set(await tokens), new Set(['token-1']));
	t.is(fetchToken.calls, 1);
});

test('a failed token request reaches every waiter; after the cool-down the next call tries again', async t => {
	const clock = fakeClock();
	const failure = new TokenError('Token request failed with HTTP 400: invalid_client', {error: 'invalid_client', statusCode: 400});
	const fetchToken = counting(async call => {
		if (call === 1) {
			throw failure;
		}

		return token(call, 3600);
	});
	const source = new TokenSource({fetchToken, clock});

	const results = await Promise.allSettled([source.getToken(), source.getToken(), source.getToken()]);
	t.deepEqual(results.map(result => result.status), ['rejected', 'rejected', 'rejected']);
	for (const result of results) {
		t.is((result as PromiseRejectedResult).reason, failure);
	}

	t.is(fetchToken.calls, 1);
	// Inside the default 1 s cool-down, the failure is answered without asking, and says so.
	clock.advance(900);
	const repeated = await t.throwsAsync(source.getToken(), {
		instanceOf: TokenError,
		message: 'Token request failed with HTTP 400: invalid_client [failing fast after that failure: the token endpoint is asked again in 0.1 s]',
	});
	t.like(repeated, {error: 'invalid_client', statusCode: 400, nextAttemptIn: 100});
	clock.advance(99);
	await t.throwsAsync(source.getToken(), {instanceOf: TokenError, message: /asked again in 0\.1 s\]$/v});
	t.is(fetchToken.calls, 1);
	clock.advance(1);
	t.is(await source.getToken(), 'token-2');
	t.is(fetchToken.calls, 2);
});

test('the cool-down doubles with each failure in a row, up to maxCoolDown, and resets on success', async t => {
	const clock = fakeClock();
	let isFailing = true;
	const fetchToken = counting(async call => {
		if (isFailing) {
			throw new TokenError(`failure ${call}`);
		}

		return token(call, 3600);
	});
	const source = new TokenSource({fetchToken, clock, coolDown: 2, maxCoolDown: 5});

	/** How long callers are answered without a token request, in 500 ms steps; ends with the request that follows. */
	async function coolDownLength(): Promise<number> {
		const before = fetchToken.calls;
		let waited = 0;
		await t.throwsAsync(source.getToken());
		while (fetchToken.calls === before) {
			clock.advance(500);
			waited += 500;
			await t.throwsAsync(source.getToken());
		}

		return waited;
	}

	await t.throwsAsync(source.getToken());
	t.deepEqual([await coolDownLength(), await coolDownLength(), await coolDownLength(), await coolDownLength()], [2000, 4000, 5000, 5000]);

	isFailing = false;
	clock.advance(5000);
	t.is(await source.getToken(), `token-${fetchToken.calls}`);
	source.invalidate(source.peek()!);
	isFailing = true;
	await t.throwsAsync(source.getToken());
	t.is(await coolDownLength(), 2000);
});

test('after the cool-down, one caller probes the token endpoint while the others get the last failure at once', async t => {
	const clock = fakeClock();
	const probe = deferred<TokenSet>();
	const fetchToken = counting(async call => {
		if (call === 1) {
			throw new TokenError('down');
		}

		return probe.promise;
	});
	const source = new TokenSource({fetchToken, clock});

	await t.throwsAsync(source.getToken(), {message: 'down'});
	clock.advance(1000);
	const prober = source.getToken();
	await settle();
	for (let index = 0; index < 2; index++) {
		const repeated = await t.throwsAsync(source.getToken(), {instanceOf: TokenError, message: 'down [failing fast after that failure: another caller is asking the token endpoint again now]'});
		t.is(repeated.nextAttemptIn, 0);
	}

	t.is(fetchToken.calls, 2);

	probe.resolve(token(2, 3600));
	t.is(await prober, 'token-2');
	t.is(await source.getToken(), 'token-2');
	t.is(fetchToken.calls, 2);
});

test('coolDown 0 asks again at once', async t => {
	const fetchToken = counting(async () => {
		throw new TokenError('down');
	});
	const source = new TokenSource({fetchToken, clock: fakeClock(), coolDown: 0});
	await t.throwsAsync(source.getToken());
	await t.throwsAsync(source.getToken());
	t.is(fetchToken.calls, 2);
});

test('invalidate forgets the token only while it is the cached one', async t => {
	const fetchToken = counting(call => token(call, 3600));
	const source = new TokenSource({fetchToken, clock: fakeClock()});

	await source.getToken();
	t.true(source.invalidate('token-1'));
	t.is(source.peek(), undefined);
	t.is(await source.getToken(), 'token-2');
	t.false(source.invalidate('token-1'));
	t.is(source.peek(), 'token-2');
	t.is(fetchToken.calls, 2);
});

test('an aborted caller stops waiting; the shared request goes on for the others', async t => {
	const answer = deferred<TokenSet>();
	const fetchToken = counting(async () => answer.promise);
	const source = new TokenSource({fetchToken, clock: fakeClock()});
	const controller = new AbortController();

	const aborted = source.getToken({signal: controller.signal});
	const patient = source.getToken();
	controller.abort(new Error('caller gave up'));
	await t.throwsAsync(aborted, {message: 'caller gave up'});

	answer.resolve(token(1, 3600));
	t.is(await patient, 'token-1');
	t.is(fetchToken.calls, 1);
	t.is(source.peek(), 'token-1');
});

test('an already aborted signal makes no token request', async t => {
	const fetchToken = counting(call => token(call, 3600));
	const source = new TokenSource({fetchToken, clock: fakeClock()});

	await t.throwsAsync(source.getToken({signal: AbortSignal.abort()}), {name: 'AbortError'});
	t.is(fetchToken.calls, 0);
});

test('a signal does not hold a listener once the token arrives', async t => {
	const source = new TokenSource({fetchToken: counting(call => token(call, 3600)), clock: fakeClock()});
	const controller = new AbortController();
	let listeners = 0;
	const {addEventListener, removeEventListener} = controller.signal;
	controller.signal.addEventListener = (...arguments_: Parameters<typeof addEventListener>) => {
		listeners++;
		addEventListener.apply(controller.signal, arguments_);
	};

	controller.signal.removeEventListener = (...arguments_: Parameters<typeof removeEventListener>) => {
		listeners--;
		removeEventListener.apply(controller.signal, arguments_);
	};

	await source.getToken({signal: controller.signal});
	t.is(listeners, 0);
});

test('a fetcher that throws something else becomes a TokenError with the cause kept', async t => {
	const cause = new Error('socket hang up');
	const source = new TokenSource({
		async fetchToken() {
			throw cause;
		},
	});

	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError});
	t.true(error instanceof RequestError);
	t.is(error.cause, cause);
	t.regex(error.message, /socket hang up/v);
});

test('a fetcher that resolves without an access token is a TokenError', async t => {
	const source = new TokenSource({fetchToken: async () => ({accessToken: '', tokenType: 'Bearer'})});
	await t.throwsAsync(source.getToken(), {instanceOf: TokenError, message: /accessToken/v});
});

test('an access token outside printable ASCII is a TokenError and is not cached', async t => {
	const fetchToken = counting(() => ({accessToken: 'line\nbreak', tokenType: 'Bearer', expiresIn: 3600}));
	const source = new TokenSource({fetchToken, coolDown: 0});
	await t.throwsAsync(source.getToken(), {instanceOf: TokenError, message: /RFC 6749 §A\.12/v});
	t.is(source.peek(), undefined);
	await t.throwsAsync(source.getToken(), {instanceOf: TokenError});
	t.is(fetchToken.calls, 2);
});

test('an expiresIn that is not a non-negative number is a TokenError', async t => {
	for (const expiresIn of [Number.NaN, -1, Number.POSITIVE_INFINITY, '60' as unknown as number]) {
		const source = new TokenSource({fetchToken: async () => ({accessToken: 'at', tokenType: 'Bearer', expiresIn})});

		await t.throwsAsync(source.getToken(), {instanceOf: TokenError, message: /`expiresIn`/v});
	}
});

test('a rejection with a value that has no text is still a TokenError', async t => {
	const source = new TokenSource({
		async fetchToken() {
			// eslint-disable-next-line @typescript-eslint/only-throw-error
			throw Object.create(null);
		},
	});
	await t.throwsAsync(source.getToken(), {instanceOf: TokenError, message: /a thrown object/v});
});

test('bad options are named', t => {
	const fetchToken = async () => token(1, 1);
	t.throws(() => new TokenSource({fetchToken, expiryMargin: -1}), {instanceOf: ConfigurationError, message: /`expiryMargin`/v});
	t.throws(() => new TokenSource({fetchToken, defaultLifetime: Number.NaN}), {instanceOf: ConfigurationError, message: /`defaultLifetime`/v});
	t.throws(() => new TokenSource({} as never), {instanceOf: TypeError, message: /`fetchToken`/v});
});

test('the default clock is monotonic: a wall-clock jump does not expire the token', async t => {
	const fetchToken = counting(call => token(call, 3600));
	const source = new TokenSource({fetchToken});
	await source.getToken();

	const realNow = Date.now;
	Date.now = () => realNow() + (24 * 3600 * 1000);
	try {
		t.is(source.peek(), 'token-1');
	} finally {
		Date.now = realNow;
	}

	t.is(fetchToken.calls, 1);
});

test('inside the refresh-ahead window, the current token is used at once while one background refresh runs', async t => {
	const clock = fakeClock();
	const answer = deferred<TokenSet>();
	const fetchToken = counting(async call => call === 1 ? token(1, 3600) : answer.promise);
	const source = new TokenSource({fetchToken, clock});

	await source.getToken();
	// Usable until 3540 s (60 s margin); refresh-ahead starts 300 s before that.
	clock.advance((3240 * 1000) - 1);
	t.is(source.getTokenSync(), 'token-1');
	t.is(fetchToken.calls, 1);

	clock.advance(1);
	t.is(source.getTokenSync(), 'token-1');
	t.is(await source.getToken(), 'token-1');
	t.is(source.getTokenSync(), 'token-1');
	await settle();
	t.is(fetchToken.calls, 2);

	answer.resolve(token(2, 3600));
	await settle();
	t.is(source.getTokenSync(), 'token-2');
	t.is(fetchToken.calls, 2);
});

test('peek never starts a background refresh', async t => {
	const clock = fakeClock();
	const fetchToken = counting(call => token(call, 3600));
	const source = new TokenSource({fetchToken, clock});

	await source.getToken();
	clock.advance(3300 * 1000);
	t.is(source.peek(), 'token-1');
	t.is(fetchToken.calls, 1);
});

test('a failed background refresh fails no caller and is retried with backoff until the token expires', async t => {
	const clock = fakeClock();
	let isFailing = false;
	const fetchToken = counting(async call => {
		if (isFailing) {
			throw new TokenError(`down ${call}`);
		}

		return token(call, 3600);
	});
	const source = new TokenSource({fetchToken, clock});
	await source.getToken();

	isFailing = true;
	clock.advance(3240 * 1000);
	t.is(await source.getToken(), 'token-1');
	await settle();
	t.is(fetchToken.calls, 2);

	// The first retry waits a random time up to 1 s: never at once.
	t.is(await source.getToken(), 'token-1');
	await settle();
	t.is(fetchToken.calls, 2);
	clock.advance(1000);
	t.is(await source.getToken(), 'token-1');
	await settle();
	t.is(fetchToken.calls, 3);

	// Past the usable time, callers wait for a token request of their own.
	clock.advance(300 * 1000);
	isFailing = false;
	t.is(await source.getToken(), 'token-4');
	t.is(fetchToken.calls, 4);
});

test('a short token gets a refresh-ahead window of half its usable life', async t => {
	const clock = fakeClock();
	const fetchToken = counting(call => token(call, 2));
	const source = new TokenSource({fetchToken, clock});

	await source.getToken();
	// 2 s token: 1 s margin, usable 1 s, background refresh from 0.5 s.
	clock.advance(499);
	t.is(source.getTokenSync(), 'token-1');
	// A refresh started here calls fetchToken asynchronously: let it run before counting.
	await settle();
	t.is(fetchToken.calls, 1);
	clock.advance(1);
	t.is(source.getTokenSync(), 'token-1');
	await settle();
	t.is(fetchToken.calls, 2);
});

test('refreshAhead 0 turns the background refresh off', async t => {
	const clock = fakeClock();
	const fetchToken = counting(call => token(call, 3600));
	const source = new TokenSource({fetchToken, clock, refreshAhead: 0});

	await source.getToken();
	clock.advance((3540 * 1000) - 1);
	t.is(source.getTokenSync(), 'token-1');
	t.is(fetchToken.calls, 1);
	clock.advance(1);
	t.is(source.getTokenSync(), undefined);
	t.is(await source.getToken(), 'token-2');
});

/** Waves of concurrent callers every 10 ms for 10 s of the fake clock; resolves with the number of waves. */
async function waves(source: TokenSource, clock: ReturnType<typeof fakeClock>): Promise<number> {
	let count = 0;
	for (let elapsed = 0; elapsed < 10_000; elapsed += 10) {
		await Promise.all(Array.from({length: 20}, async () => source.getToken()));
		await settle();
		clock.advance(10);
		count++;
	}

	return count;
}

test('a token that arrives with no lifetime left (expires_in 0) is still used for 1 s: a token request a second, not one per wave of callers', async t => {
	const clock = fakeClock();
	const fetchToken = counting(call => token(call, 0));
	const source = new TokenSource({fetchToken, clock, refreshAhead: 0});

	t.is(await waves(source, clock), 1000);
	// One per second of the 10: the floor, not a request per wave.
	t.true(fetchToken.calls >= 10 && fetchToken.calls <= 11, `${fetchToken.calls} token requests`);
});

test('with refresh-ahead, a token with no lifetime left costs at most two token requests a second: the background refresh starts half-way', async t => {
	const clock = fakeClock();
	const fetchToken = counting(call => token(call, 0));
	const source = new TokenSource({fetchToken, clock});

	await waves(source, clock);
	t.true(fetchToken.calls >= 10 && fetchToken.calls <= 21, `${fetchToken.calls} token requests`);
});

test('a JWT whose exp looks past under clock skew is still used for 1 s', async t => {
	const clock = fakeClock();
	const fetchToken = counting(call => ({accessToken: unsignedJwt({sub: `call-${call}`, exp: Math.floor(Date.now() / 1000) - 30}), tokenType: 'Bearer'}));
	const source = new TokenSource({fetchToken, clock, refreshAhead: 0});

	await waves(source, clock);
	t.true(fetchToken.calls >= 10 && fetchToken.calls <= 11, `${fetchToken.calls} token requests`);
});
