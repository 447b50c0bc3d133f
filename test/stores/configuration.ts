/*
What may be passed as a store, which keys seal its entries, and which grants must not share a token: problems named, values never shown.
*/
import {generateKeyPairSync, randomBytes} from 'node:crypto';
import test from 'ava';
import {ConfigurationError} from '../../source/errors.js';
import {
	encryptionKeyProblem,
	resolveStoreKeys,
	sharingProblem,
	type ConfigurationProblem,
} from '../../source/stores/configuration.js';
import {redisTokenStore, type RedisClient} from '../../source/stores/redis.js';
import {deriveStoreKeys, type StoreKeys} from '../../source/stores/sealed-entry.js';
import {SharedTokenCache} from '../../source/stores/shared-token-cache.js';
import {isTokenStore, storeEncryptionKey, storeProblem, type TokenStore} from '../../source/stores/store.js';

const tokenStore: TokenStore = {
	async get() {
		return undefined;
	},
	async set() {
		return undefined;
	},
	async deleteIfFingerprint() {
		return false;
	},
	async acquireLock() {
		return false;
	},
	async releaseLock() {
		return false;
	},
};
const keyvStore = {
	async get() {
		return undefined;
	},
	async set() {
		return true;
	},
	async delete() {
		return true;
	},
};

const noop = (): undefined => undefined;

const isProblem = (value: StoreKeys | ConfigurationProblem): value is ConfigurationProblem => 'problem' in value;

test('a token store and a Keyv store are accepted, and told apart by their lock', t => {
	t.is(storeProblem(tokenStore), undefined);
	t.is(storeProblem(keyvStore), undefined);
	t.is(storeProblem(new Map()), undefined);
	t.is(storeProblem({...tokenStore, lockLease: 5000, timeout: 100}), undefined);
	t.true(isTokenStore(tokenStore));
	t.false(isTokenStore(keyvStore));
});

test('anything else is a problem that names what is missing', t => {
	t.regex(storeProblem(undefined)!, /must be a token store .* got undefined/v);
	t.regex(storeProblem(null)!, /got null/v);
	t.regex(storeProblem('redis://secret@host')!, /got string$/v);
	t.false(storeProblem('redis://secret@host')!.includes('secret'));
	t.regex(storeProblem({get: noop, set: noop})!, /Keyv store .* has no `delete\(\)`$/v);
	const {releaseLock: _releaseLock, ...withoutRelease} = tokenStore;
	t.is(storeProblem(withoutRelease), 'looks like a token store but has no `releaseLock()` method');
	t.is(storeProblem({releaseLock: noop}), 'looks like a token store but has no `get()`, `set()`, `deleteIfFingerprint()`, `acquireLock()` method');
	t.is(storeProblem({...tokenStore, lockLease: 0}), 'has a `lockLease` that is not a positive number of milliseconds');
	t.is(storeProblem({...tokenStore, timeout: Number.NaN}), 'has a `timeout` that is not a positive number of milliseconds');
});

test('a shared cache refuses a store that is not one', t => {
	const notAStore = {} as unknown as TokenStore;
	const error = t.throws(() => new SharedTokenCache({store: notAStore, cacheKey: 'k', keys: deriveStoreKeys('secret')}), {instanceOf: ConfigurationError});
	t.regex(error.message, /^got-oauth: `store` must be a token store/v);
});

test('an encryption key is 32 bytes or 32 characters or more', t => {
	t.is(encryptionKeyProblem(randomBytes(32)), undefined);
	t.is(encryptionKeyProblem(new Uint8Array(64)), undefined);
	t.is(encryptionKeyProblem('x'.repeat(32)), undefined);
	t.is(encryptionKeyProblem(randomBytes(16)), 'must be at least 32 bytes, got 16');
	t.is(encryptionKeyProblem('short'), 'must be at least 32 characters of random text');
	t.regex(encryptionKeyProblem(32)!, /got number$/v);
});

test('an explicit key wins over the credential', t => {
	const encryptionKey = randomBytes(32);
	const keys = resolveStoreKeys({encryptionKey, credential: 'client-secret'});
	t.false(isProblem(keys));
	t.is((keys as StoreKeys).keyId, deriveStoreKeys(encryptionKey).keyId);
});

test('without one, keys come from the client secret or the private key', t => {
	t.is((resolveStoreKeys({credential: 'client-secret'}) as StoreKeys).keyId, deriveStoreKeys('client-secret').keyId);
	const {privateKey} = generateKeyPairSync('ed25519');
	t.is((resolveStoreKeys({credential: privateKey}) as StoreKeys).keyId, deriveStoreKeys(privateKey).keyId);
});

test('a client with nothing secret needs an encryption key', t => {
	const {publicKey} = generateKeyPairSync('ed25519');
	for (const input of [{}, {credential: ''}, {credential: publicKey}]) {
		const problem = resolveStoreKeys(input);
		t.true(isProblem(problem));
		t.is((problem as ConfigurationProblem).option, 'encryptionKey');
		t.regex((problem as ConfigurationProblem).problem, /public client/v);
	}
});

test('a bad explicit key is a problem even when a credential would do', t => {
	t.deepEqual(resolveStoreKeys({encryptionKey: 'short', credential: 'client-secret'}), {option: 'encryptionKey', problem: 'must be at least 32 characters of random text'});
});

test('a refresh token grant, a custom grant and grant values given as functions do not share', t => {
	t.is(sharingProblem({type: 'refresh_token'})?.option, 'store');
	t.regex(sharingProblem({type: 'refresh_token'})!.problem, /RFC 6749 §6/v);
	t.is(sharingProblem({type: 'custom'})?.option, 'store');
	const callback = () => 'value';
	t.is(sharingProblem({type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: callback})?.option, 'assertion');
	t.is(sharingProblem({type: 'urn:ietf:params:oauth:grant-type:token-exchange', subjectToken: callback})?.option, 'subjectToken');
	t.is(sharingProblem({type: 'urn:ietf:params:oauth:grant-type:token-exchange', subjectToken: 'token', actorToken: callback})?.option, 'actorToken');
});

test('client credentials, and grants with their values as strings, share', t => {
	t.is(sharingProblem({type: 'client_credentials'}), undefined);
	t.is(sharingProblem({type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: 'jwt'}), undefined);
	t.is(sharingProblem({type: 'urn:ietf:params:oauth:grant-type:token-exchange', subjectToken: 'token', actorToken: 'actor'}), undefined);
});

const fakeIoRedis = {status: 'ready', call: noop, get: noop, set: noop, eval: noop} as unknown as RedisClient;

test('redisTokenStore takes a node-redis or ioredis client and nothing else', t => {
	const commands = {get: noop, set: noop, eval: noop};
	for (const client of [undefined, {}, commands, {...commands, isOpen: 'yes'}, {...commands, status: 'ready'}]) {
		const error = t.throws(() => redisTokenStore(client as unknown as RedisClient), {instanceOf: ConfigurationError});
		t.regex(error.message, /^got-oauth: `redisTokenStore\(client\)` must be a node-redis \(`redis`\) or ioredis client/v);
	}

	t.true(isTokenStore(redisTokenStore(fakeIoRedis)));
	t.true(isTokenStore(redisTokenStore({...commands, isOpen: true} as unknown as RedisClient)));
});

test('redisTokenStore options: defaults, and each checked', t => {
	const store = redisTokenStore(fakeIoRedis);
	t.is(store.lockLease, 10_000);
	t.is(store.timeout, 250);
	t.is(storeEncryptionKey(store), undefined);
	const custom = redisTokenStore(fakeIoRedis, {lockLease: 2000, timeout: 50});
	t.is(custom.lockLease, 2000);
	t.is(custom.timeout, 50);
	t.throws(() => redisTokenStore(fakeIoRedis, {prefix: 1 as unknown as string}), {message: 'got-oauth: `prefix` must be a string, got number'});
	t.throws(() => redisTokenStore(fakeIoRedis, {timeout: 0}), {message: 'got-oauth: `timeout` must be a positive number of milliseconds'});
	t.throws(() => redisTokenStore(fakeIoRedis, {lockLease: Number.POSITIVE_INFINITY}), {message: 'got-oauth: `lockLease` must be a positive number of milliseconds'});
	t.throws(() => redisTokenStore(fakeIoRedis, {encryptionKey: 'short'}), {message: 'got-oauth: `encryptionKey` must be at least 32 characters of random text'});
});

test('redisTokenStore keeps its encryption key out of sight', t => {
	const encryptionKey = 'k'.repeat(40);
	const store = redisTokenStore(fakeIoRedis, {encryptionKey});
	t.is(storeEncryptionKey(store), encryptionKey);
	t.false(JSON.stringify(store).includes(encryptionKey));
	t.false((Object.values(store) as unknown[]).includes(encryptionKey));
	t.is(storeEncryptionKey(keyvStore), undefined);
});
