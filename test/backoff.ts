import test from 'ava';
import type {RetryObject, RetryOptions} from 'got';
import {coolDownAfter, fullJitter} from '../source/backoff.js';
import {tokenRetryDelay, tokenRetryBase} from '../source/token-endpoint/client.js';

test('full jitter spreads over [0, base * 2^attempt), capped', t => {
	t.is(fullJitter(0, 100, 10_000, () => 0), 0);
	t.is(fullJitter(0, 100, 10_000, () => 0.5), 50);
	t.is(fullJitter(3, 100, 10_000, () => 0.5), 400);
	t.is(fullJitter(20, 100, 10_000, () => 0.5), 5000);
	for (let attempt = 0; attempt < 10; attempt++) {
		const delay = fullJitter(attempt, 100, 10_000);
		t.true(delay >= 0 && delay < Math.min(10_000, 100 * (2 ** attempt)));
	}
});

function retry(overrides: Partial<RetryObject>): RetryObject {
	const retryOptions: RetryOptions = {limit: 2, methods: ['POST'], statusCodes: [503], errorCodes: [], calculateDelay: tokenRetryDelay, backoffLimit: 5000, noise: 0};
	return {attemptCount: 1, retryOptions, error: undefined as never, computedValue: 1000, ...overrides};
}

test('a token request retry waits a jittered time that grows with each attempt', t => {
	for (let attemptCount = 1; attemptCount <= 6; attemptCount++) {
		const cap = Math.min(5000, tokenRetryBase * (2 ** (attemptCount - 1)));
		for (let sample = 0; sample < 50; sample++) {
			const delay = tokenRetryDelay(retry({attemptCount}));
			t.true(delay >= 1 && delay <= cap, `attempt ${attemptCount}: ${delay}`);
		}
	}
});

test('a Retry-After, as got computed it, is waited exactly', t => {
	t.is(tokenRetryDelay(retry({retryAfter: 3000, computedValue: 3000})), 3000);
});

test('no retry stays no retry', t => {
	t.is(tokenRetryDelay(retry({computedValue: 0})), 0);
	t.is(tokenRetryDelay(retry({computedValue: 0, retryAfter: 99_999})), 0);
});

test('the cool-down doubles per failure in a row, capped', t => {
	t.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map(failures => coolDownAfter(failures, 1, 30)), [0, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
	t.is(coolDownAfter(3, 0, 30), 0);
});
