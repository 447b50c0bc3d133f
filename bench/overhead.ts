import {execFileSync} from 'node:child_process';
import {subscribe, unsubscribe} from 'node:diagnostics_channel';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {performance} from 'node:perf_hooks';
import got, {type Got, type Response} from 'got';
import {MeterProvider, MetricReader} from '@opentelemetry/sdk-metrics';
import {TracerProvider} from '@opentelemetry/sdk-trace';
import {channelNames, oauthHooks} from '../source/index.js';
import {instrumentOAuth} from '../source/opentelemetry/index.js';
import {median, printResult, printTable, round, runConcurrently, type Servers} from './harness.js';
import type {Variant} from './token-sync-cost.js';

const rounds = 60;
const requestsPerRound = 2000;
const concurrency = 16;

type Sample = {requestsPerSecond: number; cpuMicrosecondsPerRequest: number};

/** Subscribes while a client's rounds run; returns the unsubscribe. */
type During = () => () => void;

async function measure(client: Got, during?: During): Promise<Sample> {
	const stop = during?.();
	// Start each round with an empty young generation, so one client does not pay for the other's garbage.
	(globalThis as {gc?: () => void}).gc?.();
	const cpuBefore = process.cpuUsage();
	const started = performance.now();
	await runConcurrently(requestsPerRound, concurrency, async () => client('resource'));
	const elapsed = performance.now() - started;
	const cpu = process.cpuUsage(cpuBefore);
	stop?.();
	return {
		requestsPerSecond: requestsPerRound / (elapsed / 1000),
		cpuMicrosecondsPerRequest: (cpu.user + cpu.system) / requestsPerRound,
	};
}

/** Every got-oauth channel, the token request's five tracing events included. */
const everyChannel = [
	...['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map(event => `tracing:${channelNames.tokenRequest}:${event}`),
	...Object.values(channelNames).filter(name => name !== channelNames.tokenRequest),
];

/** The cheapest real subscriber: one counter for every got-oauth event. */
const countingSubscriber: During = () => {
	const counter = {events: 0};
	const count = () => {
		counter.events++;
	};

	for (const name of everyChannel) {
		subscribe(name, count);
	}

	return () => {
		for (const name of everyChannel) {
			unsubscribe(name, count);
		}
	};
};

/** A reader nobody collects from: the meter still records into it. */
class IdleReader extends MetricReader {
	protected override async onShutdown(): Promise<void> {
		return undefined;
	}

	protected override async onForceFlush(): Promise<void> {
		return undefined;
	}
}

const meterProvider = new MeterProvider({readers: [new IdleReader()]});
const tracerProvider = new TracerProvider();
const withOpenTelemetry: During = () => instrumentOAuth({meterProvider, tracerProvider});

type PerCall = {nanoseconds: number; bytes: number};

/** See token-sync-cost.ts. */
function getTokenSyncCost(variant: Variant): PerCall {
	const script = fileURLToPath(new URL('token-sync-cost.ts', import.meta.url));
	return JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import=tsx', script, variant], {encoding: 'utf8'})) as PerCall;
}

/**
got with got-oauth and a cached token, against got with a fixed authorization header: the price of the plugin on every request. A second client, the fixed header plus a no-op beforeRequest and afterResponse hook, shows what got itself charges for hooks, which no hook-based plugin avoids. The plugin client is measured three ways: nobody subscribed to got-oauth's diagnostics channels, a counting subscriber on every channel, and `instrumentOAuth()` with the OpenTelemetry SDK. Rounds are interleaved in rotating order, so drift in the machine's speed falls on all alike.
*/
export async function overhead(servers: Servers) {
	await servers.configure({tokenDelay: 0, expiresIn: 3600, acceptAnyToken: true});
	const options = {prefixUrl: servers.apiUrl, retry: {limit: 0}};
	const headers = {authorization: 'Bearer a-fixed-token-of-typical-length-0123456789abcdef'};
	const plugin = got.extend(options, oauthHooks({tokenEndpoint: servers.tokenEndpoint, clientId: 'bench', clientSecret: 'bench-secret'}));
	const variants = {
		fixed: {client: got.extend(options, {headers})},
		hooks: {client: got.extend(options, {headers, hooks: {beforeRequest: [() => undefined], afterResponse: [(response: Response) => response]}})},
		plugin: {client: plugin},
		subscribed: {client: plugin, during: countingSubscriber},
		opentelemetry: {client: plugin, during: withOpenTelemetry},
	} satisfies Record<string, {client: Got; during?: During}>;
	type Name = keyof typeof variants;
	const names = Object.keys(variants) as Name[];
	const run = async (name: Name) => measure(variants[name].client, (variants[name] as {during?: During}).during);

	// Warm up every path (JIT, sockets, the token).
	for (const name of names) {
		await run(name);
	}

	const samples = Object.fromEntries(names.map(name => [name, [] as Sample[]])) as Record<Name, Sample[]>;
	for (let index = 0; index < rounds; index++) {
		for (let position = 0; position < names.length; position++) {
			const name = names[(index + position) % names.length]!;
			samples[name].push(await run(name));
		}
	}

	const paired = (name: Name, against: Name, value: (sample: Sample, base: Sample) => number) => median(samples[name].map((sample, index) => value(sample, samples[against][index]!)));
	const throughputRatio = paired('plugin', 'fixed', (sample, base) => sample.requestsPerSecond / base.requestsPerSecond);
	const cpuRatio = paired('plugin', 'fixed', (sample, base) => base.cpuMicrosecondsPerRequest / sample.cpuMicrosecondsPerRequest);
	const added = (name: Name, against: Name) => paired(name, against, (sample, base) => sample.cpuMicrosecondsPerRequest - base.cpuMicrosecondsPerRequest);
	const addedCpu = added('plugin', 'fixed');
	const hooksFloor = added('hooks', 'fixed');
	const cpu = (name: Name) => median(samples[name].map(sample => sample.cpuMicrosecondsPerRequest));
	const rps = (name: Name) => median(samples[name].map(sample => sample.requestsPerSecond));

	printTable(`Overhead: ${rounds} rounds of ${requestsPerRound} requests per client, ${concurrency} in flight (medians)`, ['client', 'requests/s', 'CPU µs/request', 'added µs/request'], [
		['got, fixed authorization header', round(rps('fixed'), 0), round(cpu('fixed'), 1), 0],
		['got, fixed header + 2 no-op hooks', round(rps('hooks'), 0), round(cpu('hooks'), 1), round(hooksFloor, 2)],
		['got + got-oauth, cached token, without a subscriber', round(rps('plugin'), 0), round(cpu('plugin'), 1), round(addedCpu, 2)],
		['  … with a subscriber on every channel', round(rps('subscribed'), 0), round(cpu('subscribed'), 1), round(added('subscribed', 'fixed'), 2)],
		['  … with instrumentOAuth() (OpenTelemetry SDK)', round(rps('opentelemetry'), 0), round(cpu('opentelemetry'), 1), round(added('opentelemetry', 'fixed'), 2)],
	]);
	console.log(`  throughput ratio ${round(throughputRatio, 3)} (target >= 0.97), CPU ratio ${round(cpuRatio, 3)} (target >= 0.98); got's own charge for two hooks ${round(hooksFloor, 2)} µs, got-oauth beyond it ${round(added('plugin', 'hooks'), 2)} µs`);
	const bySubscriber = round(added('subscribed', 'plugin'), 2);
	console.log(`  a subscriber adds ${bySubscriber} µs, instrumentOAuth() ${round(added('opentelemetry', 'plugin'), 2)} µs (paired medians against the plugin without one)`);

	const sync = {
		without: getTokenSyncCost('without'),
		subscribed: getTokenSyncCost('subscribed'),
		opentelemetry: getTokenSyncCost('opentelemetry'),
	};
	printTable('getTokenSync() with a cached token, the per-request path, each way in a process of its own (medians of 30 batches of 100 000 calls)', ['', 'ns/call', 'heap bytes/call'], [
		['without a subscriber', round(sync.without.nanoseconds, 1), round(sync.without.bytes, 2)],
		['with a subscriber on every channel', round(sync.subscribed.nanoseconds, 1), round(sync.subscribed.bytes, 2)],
		['with instrumentOAuth()', round(sync.opentelemetry.nanoseconds, 1), round(sync.opentelemetry.bytes, 2)],
	]);

	const result = {
		throughputRatio: round(throughputRatio, 3),
		cpuRatio: round(cpuRatio, 3),
		addedCpuMicroseconds: round(addedCpu, 2),
		noOpHooksAddedCpuMicroseconds: round(hooksFloor, 2),
		beyondNoOpHooksCpuMicroseconds: round(added('plugin', 'hooks'), 2),
		subscriberAddedCpuMicroseconds: bySubscriber,
		openTelemetryAddedCpuMicroseconds: round(added('opentelemetry', 'plugin'), 2),
		getTokenSyncBytesWithoutSubscriber: round(sync.without.bytes, 2),
		getTokenSyncBytesWithSubscriber: round(sync.subscribed.bytes, 2),
		fixedCpuMicroseconds: round(cpu('fixed'), 1),
		pluginCpuMicroseconds: round(cpu('plugin'), 1),
		fixedRequestsPerSecond: round(rps('fixed'), 0),
		pluginRequestsPerSecond: round(rps('plugin'), 0),
		pass: throughputRatio >= 0.97 && cpuRatio >= 0.98,
	};
	printResult('overhead', result);
	return result;
}
