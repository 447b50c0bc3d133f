import {performance} from 'node:perf_hooks';
import {checkFunction, checkSeconds, optionNames} from '../checks.js';

/**
Milliseconds on a monotonic scale.
*/
export type Clock = () => number;

/**
How a token source keeps its token. Times in seconds.
*/
export type CacheOptions = {
	/**
	Stop using a token this long before it expires, so a request never leaves with a token that expires on the way. Capped at half the token's lifetime, so a 60-second token is still used for 30 seconds; a token is used for at least 1 second, whatever its lifetime.

	@default 60
	*/
	expiryMargin?: number;

	/**
	How long to use a token whose response has no `expires_in`, when the token is not a JWT with an `exp` claim either.

	@default 300
	*/
	defaultLifetime?: number;

	/**
	Start one background refresh this long before the token stops being used; requests meanwhile go out at once with the current token. Capped at half the token's usable life. `0` turns it off.

	@default 300
	*/
	refreshAhead?: number;

	/**
	After a failed token request, answer callers with that failure for this long instead of each sending another token request; doubles with each failure in a row, up to `maxCoolDown`, and resets on success. `0` turns it off.

	@default 1
	*/
	coolDown?: number;

	/**
	The longest cool-down.

	@default 30
	*/
	maxCoolDown?: number;

	/**
	Where expiry arithmetic gets the time, in milliseconds. Monotonic by default, so a wall-clock jump neither keeps an expired token nor throws away a good one; tests pass a fake clock to move time without waiting.

	@default performance.now
	*/
	clock?: Clock;
};

export const cacheOptionNames = optionNames<CacheOptions>()(['expiryMargin', 'defaultLifetime', 'refreshAhead', 'coolDown', 'maxCoolDown', 'clock']);

export type CacheSettings = Readonly<Record<Exclude<keyof CacheOptions, 'clock'>, number>> & {readonly clock: Clock};

const defaultClock: Clock = () => performance.now();

export function checkCacheOptions(options: CacheOptions): CacheSettings {
	return {
		expiryMargin: checkSeconds('expiryMargin', options.expiryMargin, 60),
		defaultLifetime: checkSeconds('defaultLifetime', options.defaultLifetime, 300),
		refreshAhead: checkSeconds('refreshAhead', options.refreshAhead, 300),
		coolDown: checkSeconds('coolDown', options.coolDown, 1),
		maxCoolDown: checkSeconds('maxCoolDown', options.maxCoolDown, 30),
		clock: checkFunction<Clock>('clock', options.clock) ?? defaultClock,
	};
}
