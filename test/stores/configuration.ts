/*
What may be passed as a store, which keys seal its entries, and which configurations must not share a token: problems named, values never shown. The configuration errors are spelled out in full, through the public API, as in test/configuration.ts.
*/
import {generateKeyPairSync, randomBytes} from 'node:crypto';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {ConfigurationError, createTokenSource, oauthHooks, pemFromFile, redisTokenStore, TokenSource, type OAuthConfig, type RedisClient, type Store} from '../../source/index.js';
import {encryptionKeyProblem, resolveStoreKeys, type ConfigurationProblem} from '../../source/stores/configuration.js';
import {storeEncryptionKeyFor} from '../../source/stores/options.js';
import {deriveStoreKeys, keyFromCredential, type StoreKeys} from '../../source/stores/sealed-entry.js';
import {SharedTokenCache} from '../../source/stores/shared-token-cache.js';
import {isTokenStore, storeEncryptionKey, storeProblem, type TokenStore} from '../../source/stores/store.js';

const secrets = mkdtempSync(path.join(tmpdir(), 'got-oauth-store-'));
const certificateFile = path.join(secrets, 'client.crt');
const keyFile = path.join(secrets, 'client.key');
writeFileSync(certificateFile, 'certificate');
writeFileSync(keyFile, 'key');
test.after.always(() => {
	rmSync(secrets, {recursive: true, force: true});
});

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

const fakeIoRedis = {status: 'ready', call: noop, get: noop, set: noop, eval: noop} as unknown as RedisClient;

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

test('an explicit key gives the store keys; none, or a bad one, is a problem named for `encryptionKey`', t => {
	const encryptionKey = randomBytes(32);
	const keys = resolveStoreKeys(encryptionKey);
	t.false(isProblem(keys));
	t.is((keys as StoreKeys).keyId, deriveStoreKeys(encryptionKey).keyId);

	const missing = resolveStoreKeys(undefined) as ConfigurationProblem;
	t.is(missing.option, 'encryptionKey');
	t.regex(missing.problem, /public client/v);
	t.deepEqual(resolveStoreKeys('short'), {option: 'encryptionKey', problem: 'must be at least 32 characters of random text'});
});

test('a configured source\'s key: the store\'s, the configuration\'s, else one derived from the client secret or private key', t => {
	const store = redisTokenStore(fakeIoRedis);
	const configured = 'c'.repeat(32);
	const given = 'g'.repeat(32);
	t.deepEqual(storeEncryptionKeyFor({store}, 'client-secret'), keyFromCredential('client-secret'));
	const {privateKey} = generateKeyPairSync('ed25519');
	t.deepEqual(storeEncryptionKeyFor({store}, privateKey), keyFromCredential(privateKey));
	t.notDeepEqual(keyFromCredential('client-secret'), keyFromCredential('another-secret'));
	t.is(storeEncryptionKeyFor({store, encryptionKey: configured}, 'client-secret'), configured);
	t.is(storeEncryptionKeyFor({store: redisTokenStore(fakeIoRedis, {encryptionKey: given})}, 'client-secret'), given);
	t.is(storeEncryptionKeyFor({store}, undefined), undefined);
	// Without a store there is nothing to derive: `createSharedCache()` says what a lone key is for.
	t.is(storeEncryptionKeyFor({encryptionKey: configured}, 'client-secret'), configured);
	t.is(storeEncryptionKeyFor({}, 'client-secret'), undefined);
});

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

const secret = 'TOP-SECRET-9f2c';
const base: OAuthConfig = {tokenEndpoint: 'https://auth.example/token', clientId: 'client', clientSecret: secret, store: redisTokenStore(fakeIoRedis)};
const publicClient: Partial<OAuthConfig> = {clientSecret: undefined, clientAuthentication: 'none'};
const key = 'k'.repeat(32);
const processLocal = 'cannot be a function with `store`: a function is known only within its process, so processes cannot tell whether their tokens are interchangeable';

const bad: Array<[string, Partial<OAuthConfig> & Record<string, unknown>, string]> = [
	[
		'a refresh_token grant with a store',
		{grant: 'refresh_token', refreshToken: 'rt'},
		'`store` cannot share a refresh_token grant\'s token: every process would redeem the one refresh token, and a rotated one works once (RFC 6749 §6)',
	],
	['a custom grant function with a store', {grant: async () => ({access_token: 'token', token_type: 'Bearer'})}, `\`grant\` ${processLocal}`],
	['a JWT bearer assertion function with a store', {grant: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: () => 'jwt'}, `\`assertion\` ${processLocal}`],
	['a subject token function with a store', {grant: 'urn:ietf:params:oauth:grant-type:token-exchange', subjectToken: () => 'token'}, `\`subjectToken\` ${processLocal}`],
	[
		'an actor token function with a store',
		{grant: 'urn:ietf:params:oauth:grant-type:token-exchange', subjectToken: 'token', actorToken: () => 'actor'},
		`\`actorToken\` ${processLocal}`,
	],
	[
		'a client certificate read by a function with a store',
		{clientCertificate: {certificate: () => 'certificate', key: () => 'key'}},
		`\`clientCertificate.certificate\` ${processLocal}`,
	],
	[
		'a public client with a store and no encryptionKey',
		publicClient,
		'`encryptionKey` is required with `store` for a client without a client secret or private key (a public client, or one that sends a `clientAssertion`): '
		+ 'tokens are encrypted at rest, with a key derived from one of them by default',
	],
	[
		'encryptionKey given to the store and in the configuration',
		{store: redisTokenStore(fakeIoRedis, {encryptionKey: key}), encryptionKey: key},
		'`encryptionKey` is given both to the store and in the configuration; give it once',
	],
	['encryptionKey without a store', {store: undefined, encryptionKey: key}, '`encryptionKey` is only used with `store`'],
	['a short encryptionKey', {encryptionKey: 'short'}, '`encryptionKey` must be at least 32 characters of random text'],
	['a short encryptionKey in bytes', {encryptionKey: randomBytes(16)}, '`encryptionKey` must be at least 32 bytes, got 16'],
	['a store that is a URL', {store: 'redis://user:TOP-SECRET-9f2c@host' as unknown as Store}, '`store` must be a token store (such as `redisTokenStore(client)`) or a Keyv store, got string'],
	[
		'a store without delete()',
		{store: {get: noop, set: noop} as unknown as Store},
		'`store` must be a token store (such as `redisTokenStore(client)`) or a Keyv store with `get()`, `set()` and `delete()`; it has no `delete()`',
	],
	['a token store without releaseLock()', {store: {...tokenStore, releaseLock: undefined} as unknown as Store}, '`store` looks like a token store but has no `releaseLock()` method'],
	['a token store with a lease of 0', {store: {...tokenStore, lockLease: 0}}, '`store` has a `lockLease` that is not a positive number of milliseconds'],
];

for (const [name, change, message] of bad) {
	test(`${name}: ConfigurationError from createTokenSource() and oauthHooks()`, t => {
		for (const make of [createTokenSource, oauthHooks]) {
			const error = t.throws(() => make({...base, ...change}), {instanceOf: ConfigurationError});
			t.is(error.message, `got-oauth: ${message}`);
			t.false(error.message.includes(secret));
		}
	});
}

const good: Array<[string, Partial<OAuthConfig>]> = [
	['a store with a client secret', {}],
	['a store with a private key', {clientSecret: undefined, clientAuthentication: 'private_key_jwt', privateKey: generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey}],
	['a store for a public client with an encryptionKey', {...publicClient, encryptionKey: randomBytes(32)}],
	['a store that has the encryptionKey, for a public client', {...publicClient, store: redisTokenStore(fakeIoRedis, {encryptionKey: key})}],
	['a Keyv store', {store: keyvStore}],
	['a Map', {store: new Map()}],
	['a store with a JWT bearer grant whose assertion is a string', {grant: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: 'jwt'}],
	['a store with a client certificate read from files by pemFromFile', {clientCertificate: {certificate: pemFromFile(certificateFile), key: pemFromFile(keyFile)}}],
	['a store with a token exchange whose tokens are strings', {grant: 'urn:ietf:params:oauth:grant-type:token-exchange', subjectToken: 'token', actorToken: 'actor'}],
];

for (const [name, change] of good) {
	test(`${name} is accepted`, t => {
		t.is(typeof createTokenSource({...base, ...change}).cacheKey, 'string');
	});
}

test('a TokenSource with a store needs a cacheKey and an encryptionKey: it has no configuration to take them from', t => {
	const fetchToken = async () => ({accessToken: 'token', tokenType: 'Bearer'});
	const store = redisTokenStore(fakeIoRedis);
	t.throws(() => new TokenSource({fetchToken, store}), {
		instanceOf: ConfigurationError,
		message: 'got-oauth: `cacheKey` is required with `store`: it names the token that processes share; createTokenSource() makes one from the configuration',
	});
	t.throws(() => new TokenSource({fetchToken, store, cacheKey: 'token-name'}), {instanceOf: ConfigurationError, message: /^got-oauth: `encryptionKey` is required with `store`/v});
	t.notThrows(() => new TokenSource({fetchToken, store, cacheKey: 'token-name', encryptionKey: key}));
	t.notThrows(() => new TokenSource({fetchToken, store: redisTokenStore(fakeIoRedis, {encryptionKey: key}), cacheKey: 'token-name'}));
	t.throws(() => new TokenSource({fetchToken, encryptionKey: key}), {instanceOf: ConfigurationError, message: 'got-oauth: `encryptionKey` is only used with `store`'});
});
