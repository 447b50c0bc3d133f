import process from 'node:process';
import {performance} from 'node:perf_hooks';
import {setTimeout as delay} from 'node:timers/promises';
import got, {type Got} from 'got';
import {createClient} from 'redis';
import {startFleet, totals, type Fleet, type WorkerOptions, type WorkerStore} from '../fixtures/fleet.js';
import {hasRedisServer, redisServerNotFound, startRedisServer, type RedisServer} from '../fixtures/redis-server.js';
import {oauthHooks, redisTokenStore, type TokenStore} from '../source/index.js';
import {median, printResult, printTable, round, runConcurrently, type Servers} from './harness.js';

const processes = 8;
const credentials = {clientId: 'bench', clientSecret: 'bench-secret'};

/**
A 4 s token is used for 3 s (1 s margin) and refreshed 1.5 s before that: each token serves 1.5 s, its lifetime here.
*/
const shortTokens = {expiresIn: 4, expiryMargin: 1, refreshAhead: 1.5};
const lifetime = 1500;
const lifetimes = 6;
/** Redis stays killed, or paused, this long: past a token's usable time, so every process needs a token meanwhile. */
const outage = 5000;
const storeTimeout = 250;

const hotRounds = 20;
const hotRequests = 2000;
const hotConcurrency = 16;

/** The store, with every call counted. */
function counted(store: TokenStore): TokenStore & {calls: number} {
	const wrapped = {...store, calls: 0};
	for (const name of ['get', 'set', 'deleteIfFingerprint', 'acquireLock', 'releaseLock'] as const) {
		const method = store[name] as (...arguments_: unknown[]) => Promise<unknown>;
		(wrapped as Record<string, unknown>)[name] = async (...arguments_: unknown[]) => {
			wrapped.calls++;
			return method(...arguments_);
		};
	}

	return wrapped;
}

async function cpuPerRequest(client: Got): Promise<number> {
	(globalThis as {gc?: () => void}).gc?.();
	const before = process.cpuUsage();
	await runConcurrently(hotRequests, hotConcurrency, async () => client('resource'));
	const {user, system} = process.cpuUsage(before);
	return (user + system) / hotRequests;
}

/** The per-request path, in this process: got-oauth with a cached token, with and without a store, in alternating rounds. */
async function hotPath(servers: Servers, redis: RedisServer) {
	await servers.configure({tokenDelay: 0, expiresIn: 3600, acceptAnyToken: true});
	const client = createClient({url: redis.url});
	client.on('error', () => undefined);
	await client.connect();
	try {
		const store = counted(redisTokenStore(client));
		const options = {prefixUrl: servers.apiUrl, retry: {limit: 0}};
		const config = {tokenEndpoint: servers.tokenEndpoint, ...credentials};
		const clients = {memory: got.extend(options, oauthHooks(config)), store: got.extend(options, oauthHooks({...config, store}))};
		// Warm up: JIT, sockets, and each client's token (the store's is fetched through Redis).
		await cpuPerRequest(clients.memory);
		await cpuPerRequest(clients.store);
		const storeCallsBefore = store.calls;
		const samples = {memory: [] as number[], store: [] as number[]};
		for (let index = 0; index < hotRounds; index++) {
			const order = index % 2 === 0 ? (['memory', 'store'] as const) : (['store', 'memory'] as const);
			for (const name of order) {
				samples[name].push(await cpuPerRequest(clients[name]));
			}
		}

		const ratio = median(samples.store.map((sample, index) => sample / samples.memory[index]!));
		return {memory: median(samples.memory), store: median(samples.store), ratio, storeCalls: store.calls - storeCallsBefore};
	} finally {
		client.destroy();
	}
}

/** What a fleet run needs: the bench servers, our redis-server, the worker processes. */
type Setup = {readonly servers: Servers; readonly redis: RedisServer; readonly workers: Fleet};

function workerOptions({servers, redis}: Setup, store: WorkerStore): WorkerOptions {
	const {expiresIn: _, ...cache} = shortTokens;
	return {
		store,
		redisUrl: redis.url,
		// A prefix of its own: each run starts with nothing stored.
		storeOptions: {timeout: storeTimeout, prefix: `bench-${store}-${Date.now()}:`},
		config: {tokenEndpoint: servers.tokenEndpoint, ...credentials, ...cache},
		apiUrl: servers.apiUrl,
	};
}

async function tokenRequests(servers: Servers): Promise<number> {
	const {tokenRequests: count} = await servers.stats();
	return count;
}

const steadyCalls = {concurrency: 1, gap: 10};

/** Token requests per lifetime, steady, after a warm-up burst. */
async function perLifetime(setup: Setup, store: WorkerStore) {
	const {servers, workers} = setup;
	await workers.configure(workerOptions(setup, store));
	await workers.burst(5);
	const before = await tokenRequests(servers);
	await workers.start(steadyCalls);
	await delay(lifetimes * lifetime);
	const reports = await workers.stop();
	const requests = await tokenRequests(servers) - before;
	return {requests, perLifetime: requests / lifetimes, ...totals(reports)};
}

/** Calls made while Redis is killed (then restarted) or paused (then resumed), by a fleet that shares a token; and the second before, for comparison. */
async function duringOutage(setup: Setup, store: WorkerStore, kind: 'killed' | 'paused') {
	const {redis, workers} = setup;
	await workers.configure(workerOptions(setup, store));
	await workers.burst(5);
	await workers.start(steadyCalls);
	await delay(1000);
	const steady = totals(await workers.stop());
	await workers.start(steadyCalls);
	if (kind === 'killed') {
		await redis.kill();
	} else {
		redis.pause();
	}

	await delay(outage);
	const during = totals(await workers.stop());
	// Back for whatever runs next.
	if (kind === 'killed') {
		await redis.restart();
	} else {
		redis.resume();
	}

	return {...during, steadyP99: steady.p99};
}

type Outage = Awaited<ReturnType<typeof duringOutage>>;

const outageRow = (name: string, {calls, failed, waited, p99, max, steadyP99}: Outage) => [name, calls, failed, waited, round(p99, 1), round(max, 1), round(steadyP99, 1)];

/**
Eight processes sharing a token through Redis: token requests per token lifetime against eight processes without a store; the per-request CPU with a store against memory only, in this process (the store is not on that path); and calls through a Redis outage, killed and paused: none may fail.
*/
export async function fleet(servers: Servers) {
	if (!await hasRedisServer()) {
		console.log(`\nFleet: not run. ${redisServerNotFound}`);
		printResult('fleet', {skipped: 'redis-server not found', pass: false});
		return {pass: false};
	}

	const redis = await startRedisServer();
	let workers: Fleet | undefined;
	try {
		const hot = await hotPath(servers, redis);
		await servers.configure({tokenDelay: 20, expiresIn: shortTokens.expiresIn, acceptAnyToken: true});
		workers = await startFleet(processes);
		const setup = {servers, redis, workers};
		const shared = await perLifetime(setup, 'node-redis');
		const alone = await perLifetime(setup, 'none');
		const outages = {
			killed: await duringOutage(setup, 'node-redis', 'killed'),
			paused: await duringOutage(setup, 'ioredis', 'paused'),
		};

		const lifetimeRow = (name: string, {requests, perLifetime: perOne, calls, failed, waited}: typeof shared) => [name, requests, round(perOne, 2), calls, failed, waited];
		printTable(
			`Fleet: ${processes} processes, ${shortTokens.expiresIn} s tokens each serving ${lifetime / 1000} s (refresh-ahead), ${lifetimes} lifetimes`,
			['', 'token requests', 'per lifetime', 'calls', 'failed', 'waited for a token'],
			[lifetimeRow('redisTokenStore (node-redis)', shared), lifetimeRow('no store', alone)],
		);
		printTable(
			`Per-request CPU in one process, cached token: ${hotRounds} alternating rounds of ${hotRequests} requests, ${hotConcurrency} in flight (medians)`,
			['client', 'CPU µs/request', 'store calls'],
			[['memory only', round(hot.memory, 1), 0], ['with redisTokenStore', round(hot.store, 1), hot.storeCalls]],
		);
		console.log(`  ratio with store / memory only: ${round(hot.ratio, 3)}`);
		printTable(
			`Redis outage of ${outage / 1000} s under ${processes} processes calling steadily (store timeout ${storeTimeout} ms)`,
			['outage', 'calls', 'failed', 'waited for a token', 'p99 ms', 'max ms', 'steady p99 ms'],
			[outageRow('killed (node-redis)', outages.killed), outageRow('paused (ioredis)', outages.paused)],
		);

		const failed = outages.killed.failed + outages.paused.failed;
		const result = {
			sharedTokenRequestsPerLifetime: round(shared.perLifetime, 2),
			unsharedTokenRequestsPerLifetime: round(alone.perLifetime, 2),
			hotPathCpuMicroseconds: {memory: round(hot.memory, 1), store: round(hot.store, 1), ratio: round(hot.ratio, 3)},
			hotPathStoreCalls: hot.storeCalls,
			outageFailedCalls: {killed: outages.killed.failed, paused: outages.paused.failed},
			outageP99Milliseconds: {killed: round(outages.killed.p99, 1), paused: round(outages.paused.p99, 1)},
			// One request per lifetime, and one more for a refresh that falls at the edge of the run.
			pass: shared.requests <= lifetimes + 1 && shared.waited === 0 && hot.storeCalls === 0 && Math.abs(hot.ratio - 1) < 0.05 && failed === 0,
		};
		printResult('fleet', result);
		return result;
	} finally {
		await workers?.close();
		await redis.stop();
	}
}
