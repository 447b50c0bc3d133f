import {execFileSync} from 'node:child_process';
import {subscribe, unsubscribe} from 'node:diagnostics_channel';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {MeterProvider, MetricReader} from '@opentelemetry/sdk-metrics';
import {TracerProvider} from '@opentelemetry/sdk-trace';
import got from 'got';
import {channelNames, oauthHooks} from '../source/index.js';
import {instrumentOAuth} from '../source/opentelemetry/index.js';
import {printResult, printTable, round, type Servers} from './harness.js';
import {fixedHeaders} from './overhead.js';
import {measurePaired, type During} from './paired-rounds.js';
import type {Variant} from './token-sync-cost.js';

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
What observing the token layer costs: the plugin with nobody subscribed to its diagnostics channels, with a counting subscriber on every channel, and with `instrumentOAuth()` and the OpenTelemetry SDK, each against got with a fixed header; then `getTokenSync()`, the per-request path, each way in a process of its own.
*/
export async function observabilityOverhead(servers: Servers) {
	await servers.configure({tokenDelay: 0, expiresIn: 3600, acceptAnyToken: true});
	const options = {prefixUrl: servers.apiUrl, retry: {limit: 0}};
	const fixed = got.extend(options, {headers: fixedHeaders});
	const plugin = got.extend(options, oauthHooks({tokenEndpoint: servers.tokenEndpoint, clientId: 'bench', clientSecret: 'bench-secret'}));
	const measured = await measurePaired({
		fixed: {call: async () => fixed('resource')},
		plugin: {call: async () => plugin('resource')},
		subscribed: {call: async () => plugin('resource'), during: countingSubscriber},
		opentelemetry: {call: async () => plugin('resource'), during: withOpenTelemetry},
	});

	printTable(`Observability: ${measured.rounds} rounds of 2000 requests per client, 16 in flight (medians)`, ['client', 'CPU µs/request', 'added µs/request'], [
		['got, fixed authorization header', round(measured.cpu('fixed'), 1), 0],
		['got + got-oauth, without a subscriber', round(measured.cpu('plugin'), 1), round(measured.added('plugin', 'fixed'), 2)],
		['  … with a subscriber on every channel', round(measured.cpu('subscribed'), 1), round(measured.added('subscribed', 'fixed'), 2)],
		['  … with instrumentOAuth() (OpenTelemetry SDK)', round(measured.cpu('opentelemetry'), 1), round(measured.added('opentelemetry', 'fixed'), 2)],
	]);

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
		subscriberAddedCpuMicroseconds: round(measured.added('subscribed', 'plugin'), 2),
		openTelemetryAddedCpuMicroseconds: round(measured.added('opentelemetry', 'plugin'), 2),
		getTokenSyncNanosecondsWithoutSubscriber: round(sync.without.nanoseconds, 1),
		getTokenSyncBytesWithoutSubscriber: round(sync.without.bytes, 2),
		getTokenSyncBytesWithSubscriber: round(sync.subscribed.bytes, 2),
		// Without a subscriber, the per-request path allocates nothing.
		pass: sync.without.bytes < 1,
	};
	printResult('observability-overhead', result);
	return result;
}
