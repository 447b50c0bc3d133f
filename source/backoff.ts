import type {RetryObject} from 'got';

export type Random = () => number;

/**
Exponential backoff with full jitter: a uniformly random wait up to `base * 2^attempt`, capped. Randomness spreads the retries of many clients that failed together, so they do not return together.
*/
export function fullJitter(attempt: number, base: number, cap: number, random: Random = Math.random): number {
	return random() * Math.min(cap, base * (2 ** attempt));
}

/** First wait between token request retries, in milliseconds. */
export const tokenRetryBase = 250;

/**
got's `retry.calculateDelay` for the token request. got has already applied its rules (limit, methods, status codes, error codes) and any `Retry-After` (seconds or HTTP-date) in `computedValue`: 0 means no retry.
*/
export function tokenRetryDelay({attemptCount, retryAfter, computedValue, retryOptions}: RetryObject): number {
	// got treats 0 as "do not retry", so the smallest jittered wait is 1 ms.
	return computedValue === 0 || retryAfter !== undefined
		? computedValue
		: Math.max(1, fullJitter(attemptCount - 1, tokenRetryBase, retryOptions.backoffLimit));
}

/**
How long callers are answered with the last failure before the token endpoint is asked again: `initial` seconds after one failure, doubling with each failure in a row, at most `max`. In milliseconds.
*/
export function coolDownAfter(failures: number, initial: number, max: number): number {
	return failures === 0 ? 0 : Math.min(max, initial * (2 ** (failures - 1))) * 1000;
}
