/*
The multi-process tests of the `store` option: 8 worker processes (fixtures/fleet-worker.ts, forked), each an application calling an API through got-oauth, sharing one redis-server; a real authorization server (oidc-provider) issues JWT access tokens, and a real API verifies them and can revoke them. Every Redis test runs with node-redis and with ioredis in the workers; one fleet serves them all, one test at a time, so that the file loads the machine with 8 processes, not 16.

The assertions are on counts (token requests, failed calls, calls that waited for a token), never on how long something took, except the bound on waiting for a token during a Redis outage, which is loose (see there). Waits are for a count to be reached, with generous deadlines: the machine may be busy with other tests.
*/
import {setTimeout as delay} from 'node:timers/promises';
import test, {type ExecutionContext} from 'ava';
import {startFleet, tokenId, totals, type Fleet, type WorkerOptions, type WorkerStore} from '../../fixtures/fleet.js';
import {startRedisServer, type RedisServer} from '../../fixtures/redis-server.js';
import {startAuthorizationServer, startResourceServer, type AuthorizationServer, type ResourceServer} from '../../fixtures/servers.js';
import {createTokenSource, type OAuthConfig} from '../../source/index.js';
import {deriveStoreKeys, keyFromCredential, openEntry} from '../../source/stores/sealed-entry.js';
import {clientKinds, connectClient} from '../helpers/redis-server.js';

const fleetSize = 8;

/**
Short tokens: a 6 s token is used for 5 s (a 1 s margin, for the whole seconds of a JWT's `exp`) and refreshed in the background 2.5 s before that, so each token serves 2.5 s, and every call after the first finds a usable token.
*/
const shortTokens = {accessTokenTtl: 6, expiryMargin: 1, refreshAhead: 2.5} as const;

/**
Store calls fail after this long in the tests that are not about the timeout. The default, 250 ms, is meant for a healthy machine; on a loaded one a store call that took longer would count as a failure and make a process fetch its own token, which is what these tests count.
*/
const patientTimeout = 2000;

/** Each process calls the API one call at a time, 20 ms apart: a steady load that leaves the machine room for the token requests. */
const steadyCalls = {concurrency: 1, gap: 20};

type Scene = {
	readonly auth: AuthorizationServer;
	readonly api: ResourceServer;
	readonly redis: RedisServer;
	readonly config: OAuthConfig;
	/** Worker options for this scene: `store` as the file's client, or as given. */
	options(overrides?: Partial<WorkerOptions> & {store?: WorkerStore}): WorkerOptions;
};

type SceneOptions = {accessTokenTtl?: number; expiryMargin?: number; refreshAhead?: number};

/** Servers of the test's own: counts start at zero, and breaking Redis breaks nothing else. */
async function scene(t: ExecutionContext, store: WorkerStore, {accessTokenTtl = 60, ...cache}: SceneOptions = {}): Promise<Scene> {
	const [auth, redis] = await Promise.all([startAuthorizationServer({accessTokenTtl}), startRedisServer()]);
	t.teardown(async () => auth.close());
	t.teardown(async () => redis.stop());
	const api = await startResourceServer({issuer: auth.issuer, audience: auth.defaultResource});
	t.teardown(async () => api.close());
	const config: OAuthConfig = {tokenEndpoint: auth.tokenEndpoint, ...auth.clients.basic, ...cache};
	return {
		auth,
		api,
		redis,
		config,
		options: overrides => ({store, redisUrl: redis.url, storeOptions: {timeout: patientTimeout}, config, apiUrl: api.url, ...overrides}),
	};
}

/** Resolves with what `check` answers once it is not `undefined`; rejects after `timeout` milliseconds, saying what was awaited. */
async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeout = 60_000): Promise<T> {
	const deadline = performance.now() + timeout;
	for (;;) {
		const value = await check();
		if (value !== undefined) {
			return value;
		}

		if (performance.now() > deadline) {
			throw new Error(`Gave up waiting for ${what}`);
		}

		await delay(50);
	}
}

/** The one token every worker holds, or `undefined` while they differ. */
async function sharedToken(fleet: Fleet): Promise<string | undefined> {
	const tokens = await fleet.tokens();
	return tokens[0] !== undefined && tokens.every(token => token === tokens[0]) ? tokens[0] : undefined;
}

let theFleet: Fleet | undefined;
const fleet = (): Fleet => theFleet!;

test.before(async () => {
	theFleet = await startFleet(fleetSize);
});

test.after.always(async () => {
	await theFleet?.close();
});

for (const kind of clientKinds) {
	test.serial(`8 processes × 100 concurrent calls, cold: one token request in all, and every call succeeds (${kind})`, async t => {
		const {auth, options} = await scene(t, kind);
		await fleet().configure(options());

		const reports = await fleet().burst(100);
		const {calls, ok, tokens} = totals(reports);
		t.is(calls, fleetSize * 100);
		t.is(ok, calls);
		t.is(auth.tokenRequests, 1);
		t.is(tokens.size, 1);
	});

	test.serial(`8 processes over three token lifetimes: one token request per lifetime for the fleet, and no call waits for one (${kind})`, async t => {
		const {auth, options} = await scene(t, kind, shortTokens);
		await fleet().configure(options());
		await fleet().burst(5);
		t.is(auth.tokenRequests, 1);

		// Run until the fleet has asked for a token once per lifetime for three lifetimes: 4 requests with the first.
		await fleet().start(steadyCalls);
		await until('four token requests', () => auth.tokenRequests >= 4 || undefined);
		const reports = await fleet().stop();

		// The next lifetime starts 2.5 s after the fourth request: the count cannot have moved on.
		t.is(auth.tokenRequests, 4);
		const {calls, ok, waited, tokens, p99, max} = totals(reports);
		t.log(`${calls} calls, p99 ${p99.toFixed(1)} ms, slowest ${max.toFixed(1)} ms; tokens used per process: ${reports.map(report => report.tokens.length).join(' ')}`);
		t.is(ok, calls);
		t.is(waited, 0, 'calls that waited for a token after the warm-up');
		t.true(tokens.size <= 4);
		for (const [index, report] of reports.entries()) {
			// Each process used the first token and the two after it, at least: it followed every refresh, none its own.
			t.true(report.tokens.length >= 3, `process ${index} used ${report.tokens.length} tokens`);
		}
	});

	test.serial(`revocation: every process's calls get 401 at once, and the fleet makes one new token request (${kind})`, async t => {
		const {auth, api, options} = await scene(t, kind);
		await fleet().configure(options());
		await fleet().burst(5);
		t.is(auth.tokenRequests, 1);

		api.revokeAll();
		const rejectedBefore = api.unauthorized;
		const reports = await fleet().burst(20);

		const {calls, ok, tokens} = totals(reports);
		t.is(ok, calls);
		// Every call was sent with the revoked token, got its 401, and went through on its one retry.
		t.is(api.unauthorized - rejectedBefore, fleetSize * 20);
		t.is(auth.tokenRequests, 2);
		t.is(tokens.size, 2);
	});

	test.serial(`revocation learnt late: a 401 for a token already replaced deletes nothing, and those processes adopt the new one (${kind})`, async t => {
		const {auth, api, options} = await scene(t, kind);
		await fleet().configure(options());
		await fleet().burst(5);
		api.revokeAll();

		const first = await fleet().burst(20, [0, 1, 2, 3]);
		t.is(auth.tokenRequests, 2);
		// These still hold the revoked token: their 401s come after the new token is stored, which only a compare-and-delete leaves alone.
		const late = await fleet().burst(20, [4, 5, 6, 7]);
		const {calls, ok, tokens} = totals([...first, ...late]);
		t.is(ok, calls);
		t.is(auth.tokenRequests, 2);
		t.is(tokens.size, 2);
	});

	for (const outage of ['killed', 'paused'] as const) {
		test.serial(`Redis ${outage} mid-run: no call fails, latency stays bounded by the store timeout, and the fleet converges back to one token (${kind})`, async t => {
			const timeout = 500;
			const {auth, redis, options} = await scene(t, kind, shortTokens);
			await fleet().configure(options({storeOptions: {timeout}}));
			await fleet().burst(5);
			await fleet().start(steadyCalls);
			await delay(1000);

			const beforeOutage = auth.tokenRequests;
			if (outage === 'killed') {
				await redis.kill();
			} else {
				redis.pause();
			}

			// Well past the token's usable time (5 s, 4 s left when Redis goes): every process needs a new token while Redis is gone, and without the timeout its calls would wait seconds for it.
			await delay(9000);
			const duringOutage = auth.tokenRequests - beforeOutage;
			if (outage === 'killed') {
				await redis.restart();
			} else {
				redis.resume();
			}

			// Each process comes back to the store at its next refresh after its back-off, and adopts the token there.
			const converged = await until('one token in every process', async () => sharedToken(fleet()));
			const beforeRefresh = auth.tokenRequests;
			await until('the next shared token', async () => {
				const token = await sharedToken(fleet());
				return token === converged ? undefined : token;
			});
			const refreshCost = auth.tokenRequests - beforeRefresh;
			const {calls, ok, failures, waited, p99, max, maxTokenWait} = totals(await fleet().stop());
			t.log(`${calls} calls, p99 ${p99.toFixed(1)} ms, slowest ${max.toFixed(1)} ms; ${waited} waited for a token, the longest ${maxTokenWait.toFixed(1)} ms`);
			t.log(`${duringOutage} token requests during the outage, ${refreshCost} for the first refresh after it`);

			t.is(ok, calls, `failed calls: ${JSON.stringify(failures)}`);
			// Every process fetched its own token while Redis was gone.
			t.true(duringOutage >= fleetSize, `${duringOutage} token requests during the outage`);
			t.is(refreshCost, 1);
			// With refresh-ahead, calls rarely wait for a token at all. One that does waits at most for four store calls (read, lock, read again, write), each cut short at the timeout, and one token request: 1 s is allowed for that on a loaded machine. Without the timeout, calls wait until Redis is back: seconds. The API call's own time is not the store's doing, and is only logged.
			t.true(maxTokenWait < (4 * timeout) + 1000, `longest wait for a token: ${Math.round(maxTokenWait)} ms`);
		});
	}

	test.serial(`the lock holder killed while fetching: another process takes over after the lease, and calls succeed (${kind})`, async t => {
		const lockLease = 2000;
		const {auth, options} = await scene(t, kind);
		await fleet().configure(options({storeOptions: {timeout: patientTimeout, lockLease}}));
		auth.delayNextTokenRequests(1, 60_000);

		const holder = fleet().getToken(0).catch(() => 'killed');
		await until('the holder\'s token request', () => auth.tokenRequests === 1 || undefined);
		const others = Array.from({length: fleetSize - 1}, (_, index) => index + 1);
		const waiting = fleet().burst(20, others);
		await fleet().kill(0);
		t.is(await holder, 'killed');

		const {calls, ok, tokens} = totals(await waiting);
		t.is(calls, (fleetSize - 1) * 20);
		t.is(ok, calls);
		// The holder's request, never answered, and the one that took over.
		t.is(auth.tokenRequests, 2);
		t.is(tokens.size, 1);
	});

	test.serial(`entries: no Redis value shows the access token, the client secret or the client id; a flipped byte is a miss and is overwritten (${kind})`, async t => {
		const {auth, redis, config, options} = await scene(t, kind);
		await fleet().configure(options());
		await fleet().burst(10);
		const [accessToken] = await fleet().tokens();
		t.truthy(accessToken);

		const admin = await connectClient(kind, redis);
		t.teardown(() => {
			admin.close();
		});
		const keys = await admin.command('KEYS', '*') as string[];
		t.is(keys.length, 1);
		const [key] = keys as [string];
		const value = String(await admin.command('GET', key));
		const {clientId, clientSecret} = auth.clients.basic;
		// The value, and each of its fields as the bytes it may encode.
		const texts = [key, value, ...value.split('.').flatMap(field => [Buffer.from(field, 'base64url').toString('latin1'), Buffer.from(field, 'base64').toString('latin1')])];
		for (const secret of [accessToken!, clientSecret, clientId, encodeURIComponent(clientId)]) {
			t.false(texts.some(text => text.includes(secret)));
		}

		const at = Math.floor(value.length * 0.75);
		const flipped = value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1);
		await admin.command('SET', key, flipped, 'KEEPTTL');
		// New processes, with nothing in memory: they find the entry, cannot open it, fetch, and overwrite it.
		await fleet().configure(options(), [0, 1]);
		const {ok, calls} = totals(await fleet().burst(10, [0, 1]));
		t.is(ok, calls);
		t.is(auth.tokenRequests, 2);
		const overwritten = String(await admin.command('GET', key));
		t.not(overwritten, flipped);
		const storeKeys = deriveStoreKeys(keyFromCredential(clientSecret));
		t.is(key, `got-oauth:{${createTokenSource(config).cacheKey}.${storeKeys.keyId}}:token`);
		const [newToken] = await fleet().tokens();
		t.is(openEntry(storeKeys, key.slice('got-oauth:{'.length, -'}:token'.length), overwritten)?.accessToken, newToken);
		t.not(newToken, accessToken);

		// And the next new process adopts it.
		await fleet().configure(options(), [2]);
		const [report] = await fleet().burst(10, [2]);
		t.is(report!.ok, 10);
		t.deepEqual(report!.tokens, [tokenId(newToken!)]);
		t.is(auth.tokenRequests, 2);
	});
}

test.serial('a Keyv store (keyv + @keyv/redis) shares one token across two processes, without a lock', async t => {
	const {auth, options} = await scene(t, 'keyv');
	await fleet().configure(options(), [0, 1]);

	const [first] = await fleet().burst(20, [0]);
	const [second] = await fleet().burst(20, [1]);
	t.is(first!.ok, 20);
	t.is(second!.ok, 20);
	t.is(auth.tokenRequests, 1);
	t.deepEqual(second!.tokens, first!.tokens);
});
