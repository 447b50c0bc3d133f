import {ConfigurationError, describeValue} from '../errors.js';
import {encryptionKeyProblem, type EncryptionKey} from './configuration.js';
import {setStoreEncryptionKey, type TokenStore} from './store.js';

/*
Neither Redis client is a dependency: the store speaks to the client it is given, through the few commands both have, typed by their shape.
*/

/** A node-redis client (`redis` 5 or later, `createClient()` or `createCluster()`), connected. */
export type NodeRedisClient = {
	readonly isOpen: boolean;
	get(key: string): Promise<unknown>;
	set(key: string, value: string, options: {expiration: {type: 'PX'; value: number}; condition?: 'NX'}): Promise<unknown>;
	eval(script: string, options: {keys: string[]; arguments: string[]}): Promise<unknown>;
};

/** An ioredis client (`ioredis` 5 or later, `Redis` or `Cluster`), connected. */
export type IoRedisClient = {
	readonly status: string;
	call(...arguments_: never[]): unknown;
	get(key: string): Promise<unknown>;
	set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number, condition?: 'NX'): Promise<unknown>;
	eval(script: string, numberOfKeys: number, ...keysAndArguments: string[]): Promise<unknown>;
};

export type RedisClient = NodeRedisClient | IoRedisClient;

export type RedisTokenStoreOptions = {
	/**
	Prepended to every key.
	@default 'got-oauth:'
	*/
	prefix?: string;
	/**
	Encrypts the stored tokens: 32 random bytes or more, or a string of 32 characters or more. Required for a client with no client secret or private key; otherwise the key is derived from them.
	*/
	encryptionKey?: EncryptionKey;
	/**
	How long one Redis command may take, in milliseconds, before the token source goes on without Redis.
	@default 250
	*/
	timeout?: number;
	/**
	How long the lock of one token request lasts, in milliseconds. A process that dies while fetching holds up the others this long; a token request that takes longer lets one more process fetch.
	@default 10_000
	*/
	lockLease?: number;
};

/** One script per compare-and-delete; each touches `KEYS[1]` only, so it runs on Redis Cluster. */
const releaseScript = 'if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0';
// The fingerprint is the second dot-separated field of a value.
const compareAndDeleteScript = 'local value = redis.call("get", KEYS[1]) if value and string.match(value, "^[^.]*%.([^.]*)%.") == ARGV[1] then return redis.call("del", KEYS[1]) end return 0';

type Commands = {
	get(key: string): Promise<unknown>;
	set(key: string, value: string, ttl: number, isExclusive: boolean): Promise<unknown>;
	eval(script: string, key: string, argument: string): Promise<unknown>;
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const hasFunctions = (value: Record<string, unknown>, ...names: string[]): boolean => names.every(name => typeof value[name] === 'function');

function commandsOf(client: unknown): Commands {
	if (isObject(client) && hasFunctions(client, 'get', 'set', 'eval')) {
		if (typeof client.status === 'string' && typeof client.call === 'function') {
			const redis = client as IoRedisClient;
			return {
				get: async key => redis.get(key),
				set: async (key, value, ttl, isExclusive) => isExclusive ? redis.set(key, value, 'PX', ttl, 'NX') : redis.set(key, value, 'PX', ttl),
				eval: async (script, key, argument) => redis.eval(script, 1, key, argument),
			};
		}

		if (typeof client.isOpen === 'boolean') {
			const redis = client as NodeRedisClient;
			return {
				get: async key => redis.get(key),
				set: async (key, value, ttl, isExclusive) => redis.set(key, value, {expiration: {type: 'PX', value: ttl}, ...(isExclusive && {condition: 'NX' as const})}),
				eval: async (script, key, argument) => redis.eval(script, {keys: [key], arguments: [argument]}),
			};
		}
	}

	throw new ConfigurationError('redisTokenStore(client)', `must be a node-redis (\`redis\`) or ioredis client, got ${describeValue(client)}`);
}

function milliseconds(option: string, value: unknown, fallback: number): number {
	if (value === undefined) {
		return fallback;
	}

	if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
		throw new ConfigurationError(option, 'must be a positive number of milliseconds');
	}

	return value;
}

/** GET answers a string, or a Buffer when the client maps strings to buffers. */
function asString(reply: unknown): string | undefined {
	if (typeof reply === 'string') {
		return reply;
	}

	return reply instanceof Uint8Array ? Buffer.from(reply).toString('utf8') : undefined;
}

function isOk(reply: unknown): boolean {
	return reply === 'OK' || (reply instanceof Uint8Array && Buffer.from(reply).toString() === 'OK');
}

/**
A token store on Redis, for the `store` option: every process with the same configuration shares one token, and one process at a time fetches a new one. Takes a connected client of node-redis (`redis`) or ioredis, standalone or cluster; give it an `error` listener, as both libraries require.

Keys are `<prefix>{<cache key>.<key id>}:token` and `…:lock`: the braces put a token and its lock in one Redis Cluster slot.
*/
export function redisTokenStore(client: RedisClient, options: RedisTokenStoreOptions = {}): TokenStore {
	const commands = commandsOf(client);
	const {prefix = 'got-oauth:', encryptionKey} = options;
	if (typeof prefix !== 'string') {
		throw new ConfigurationError('prefix', `must be a string, got ${describeValue(prefix)}`);
	}

	const problem = encryptionKey === undefined ? undefined : encryptionKeyProblem(encryptionKey);
	if (problem !== undefined) {
		throw new ConfigurationError('encryptionKey', problem);
	}

	const tokenKey = (key: string): string => `${prefix}{${key}}:token`;
	const lockKey = (key: string): string => `${prefix}{${key}}:lock`;
	// PX takes a positive integer.
	const whole = (ttl: number): number => Math.max(1, Math.ceil(ttl));

	const store: TokenStore = {
		lockLease: milliseconds('lockLease', options.lockLease, 10_000),
		timeout: milliseconds('timeout', options.timeout, 250),
		async get(key) {
			return asString(await commands.get(tokenKey(key)));
		},
		async set(key, value, ttl) {
			const reply = await commands.set(tokenKey(key), value, whole(ttl), false);
			if (!isOk(reply)) {
				throw new Error('Redis SET did not answer OK');
			}
		},
		async deleteIfFingerprint(key, fingerprint) {
			return await commands.eval(compareAndDeleteScript, tokenKey(key), fingerprint) === 1;
		},
		async acquireLock(key, owner, lease) {
			return isOk(await commands.set(lockKey(key), owner, whole(lease), true));
		},
		async releaseLock(key, owner) {
			return await commands.eval(releaseScript, lockKey(key), owner) === 1;
		},
	};
	if (encryptionKey !== undefined) {
		setStoreEncryptionKey(store, encryptionKey);
	}

	return store;
}
