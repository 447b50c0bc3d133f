type Random = () => number;

/**
Exponential backoff with full jitter: a uniformly random wait up to `base * 2^attempt`, capped. Randomness spreads the retries of many clients that failed together, so they do not return together.
*/
export function fullJitter(attempt: number, base: number, cap: number, random: Random = Math.random): number {
	return random() * Math.min(cap, base * (2 ** attempt));
}

/**
How long callers are answered with the last failure before the token endpoint is asked again: `initial` seconds after one failure, doubling with each failure in a row, at most `max`. In milliseconds.
*/
export function coolDownAfter(failures: number, initial: number, max: number): number {
	return failures === 0 ? 0 : Math.min(max, initial * (2 ** (failures - 1))) * 1000;
}
