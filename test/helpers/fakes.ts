import type {Clock} from '../../source/index.js';

export type FakeClock = Clock & {advance(milliseconds: number): void};

/** A clock that moves only when told, so expiry is tested without sleeping. */
export function fakeClock(start = 1_000_000): FakeClock {
	let now = start;
	const clock = (() => now) as FakeClock;
	clock.advance = milliseconds => {
		now += milliseconds;
	};

	return clock;
}

export type Deferred<T> = {
	promise: Promise<T>;
	resolve(value: T): void;
	reject(reason: unknown): void;
};

export function deferred<T>(): Deferred<T> {
	const {promise, resolve, reject} = Promise.withResolvers<T>();
	return {promise, resolve, reject};
}

/** A JWT-shaped token; the library reads its claims without verifying, as a client must. */
export function unsignedJwt(claims: Record<string, unknown>): string {
	const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
	return `${encode({alg: 'none', typ: 'at+jwt'})}.${encode(claims)}.`;
}

/** Let every pending promise callback and I/O callback run. */
export async function settle(): Promise<void> {
	await new Promise(resolve => {
		setImmediate(resolve);
	});
}
