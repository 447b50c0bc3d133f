import {subscribe, unsubscribe} from 'node:diagnostics_channel';
import {inspect} from 'node:util';
import type {ExecutionContext} from 'ava';
import {channelNames} from '../../source/index.js';

export type Recorded = {
	readonly channel: string;
	readonly message: unknown;
	/** A shallow copy of the message as it was when published: the tracing channel's context changes later. */
	readonly snapshot: unknown;
};

export type Recorder = {
	/** Every message, in publishing order. */
	readonly events: Recorded[];
	/** The channels of the events recorded since `mark()`. */
	since(mark: number): string[];
	/** The messages of `channel`, in order. */
	messages<T>(channel: string): T[];
	/** Resolves once `channel` has had `count` messages in all. */
	waitFor(channel: string, count: number): Promise<void>;
};

const tracingEvents = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;

/** The token request's tracing channel, one name per event. */
export const tokenRequestChannels = Object.fromEntries(tracingEvents.map(event => [event, `tracing:${channelNames.tokenRequest}:${event}`])) as Record<(typeof tracingEvents)[number], string>;

/** Every got-oauth channel, the tracing channel's five included. */
export const allChannels = [...Object.values(tokenRequestChannels), ...Object.values(channelNames).filter(name => name !== channelNames.tokenRequest)];

/** Subscribe to `names` for the rest of the test. */
export function recordChannels(t: ExecutionContext, names: readonly string[] = allChannels): Recorder {
	const events: Recorded[] = [];
	const waiters: Array<{channel: string; count: number; resolve: () => void}> = [];
	const count = (channel: string) => events.filter(event => event.channel === channel).length;
	const handlers = names.map(channel => {
		const handler = (message: unknown) => {
			events.push({channel, message, snapshot: typeof message === 'object' && message !== null ? {...message} : message});
			const done = waiters.filter(waiter => waiter.channel === channel && count(channel) >= waiter.count);
			for (const waiter of done) {
				waiters.splice(waiters.indexOf(waiter), 1);
				waiter.resolve();
			}
		};

		subscribe(channel, handler);
		return [channel, handler] as const;
	});
	t.teardown(() => {
		for (const [channel, handler] of handlers) {
			unsubscribe(channel, handler);
		}
	});

	return {
		events,
		since: mark => events.slice(mark).map(event => event.channel),
		messages: <T>(channel: string) => events.filter(event => event.channel === channel).map(event => event.message as T),
		async waitFor(channel, wanted) {
			if (count(channel) >= wanted) {
				return;
			}

			const {promise, resolve} = Promise.withResolvers<void>();
			waiters.push({channel, count: wanted, resolve});
			await promise;
		},
	};
}

/**
Every string reachable from `root` through own properties (string and symbol keys, enumerable or not, data properties only: a getter is not run), Map and Set entries and byte arrays, and what `util.inspect` with `showHidden` prints. Objects beyond `limit` are not visited.
*/
export function reachableText(root: unknown, limit = 100_000): string[] {
	const texts: string[] = [inspect(root, {depth: 8, showHidden: true})];
	const seen = new Set<unknown>();
	const queue: unknown[] = [root];
	while (queue.length > 0 && seen.size < limit) {
		const value = queue.shift();
		if (typeof value === 'string') {
			texts.push(value);
			continue;
		}

		if (value === null || typeof value !== 'object' || seen.has(value)) {
			continue;
		}

		seen.add(value);
		if (value instanceof Uint8Array) {
			texts.push(Buffer.from(value).toString('latin1'));
			continue;
		}

		if (value instanceof Map) {
			queue.push(...value.keys(), ...value.values());
		} else if (value instanceof Set) {
			queue.push(...value);
		}

		for (const key of Reflect.ownKeys(value)) {
			const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
			if ('value' in descriptor) {
				queue.push(descriptor.value);
			}
		}
	}

	return texts;
}

/** The forms a secret or token could be found in: itself and, for a JWT, each of its parts. */
export function forbiddenForms(values: Iterable<string>): string[] {
	return [...values].flatMap(value => [value, ...value.split('.').filter(part => part.length >= 16)]);
}

/** The first forbidden value found in what `root` reaches, as `channel: value…`, or undefined. */
export function findLeak(root: unknown, forbidden: readonly string[]): string | undefined {
	for (const text of reachableText(root)) {
		const leaked = forbidden.find(value => text.includes(value));
		if (leaked !== undefined) {
			return `${leaked.slice(0, 12)}…`;
		}
	}

	return undefined;
}
